package channel

import (
	"context"
	"errors"
	"fmt"
	"slices"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/etcdraft"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/smartbft"
	"google.golang.org/protobuf/proto"
)

// Fabric's consensus-type migration (Raft to BFT, in place) is a series
// of config updates to the orderer group's ConsensusType value: into
// maintenance, then (still in maintenance, after every orderer restarted)
// the type BFT with its SmartBFT options, the consenters and the BFT
// BlockValidation policy in one update, then back to normal. The BFT
// consenters must be the Raft consenters (same hosts, ports and TLS
// certificates). The functions below make those edits on the protos; they
// check the state they start from, so that a step run twice is refused or
// found already done rather than applied on the wrong state.

const consensusTypeKey = "ConsensusType"

// Consensus types as the ConsensusType value names them.
const (
	Raft = "etcdraft"
	BFT  = "BFT"
)

// Consensus returns the channel's consensus type and whether the ordering
// service is in maintenance mode.
func Consensus(cfg *cb.Config) (typ string, maintenance bool, err error) {
	ct, err := consensusType(cfg)
	if err != nil {
		return "", false, err
	}
	return ct.Type, ct.State == ab.ConsensusType_STATE_MAINTENANCE, nil
}

func consensusType(cfg *cb.Config) (*ab.ConsensusType, error) {
	og, err := ordererGroup(cfg)
	if err != nil {
		return nil, err
	}
	v, ok := og.Values[consensusTypeKey]
	if !ok {
		return nil, errors.New("the orderer group has no ConsensusType value")
	}
	var ct ab.ConsensusType
	if err := proto.Unmarshal(v.Value, &ct); err != nil {
		return nil, fmt.Errorf("the channel's consensus type: %w", err)
	}
	return &ct, nil
}

func setConsensusType(cfg *cb.Config, ct *ab.ConsensusType) error {
	og, err := ordererGroup(cfg)
	if err != nil {
		return err
	}
	raw, err := proto.Marshal(ct)
	if err != nil {
		return err
	}
	og.Values[consensusTypeKey].Value = raw
	return nil
}

// SetMaintenance puts the ordering service into maintenance mode (on) or
// back to normal (off), keeping the consensus type and its metadata.
func SetMaintenance(cfg *cb.Config, on bool) error {
	ct, err := consensusType(cfg)
	if err != nil {
		return err
	}
	ct.State = ab.ConsensusType_STATE_NORMAL
	if on {
		ct.State = ab.ConsensusType_STATE_MAINTENANCE
	}
	return setConsensusType(cfg, ct)
}

// RaftConsenters returns the channel's Raft consenters, or an error when
// the channel does not run Raft.
func RaftConsenters(cfg *cb.Config) ([]*etcdraft.Consenter, error) {
	ct, err := consensusType(cfg)
	if err != nil {
		return nil, err
	}
	if ct.Type != Raft {
		return nil, fmt.Errorf("the channel runs %s, not Raft", ct.Type)
	}
	var md etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.Metadata, &md); err != nil {
		return nil, fmt.Errorf("the channel's Raft metadata: %w", err)
	}
	return md.Consenters, nil
}

// AddRaftConsenter adds c to the Raft consenters of cfg (edited in place);
// a consenter with the same host and port is replaced. Raft takes one new
// consenter per config update.
func AddRaftConsenter(cfg *cb.Config, c *etcdraft.Consenter) error {
	ct, err := consensusType(cfg)
	if err != nil {
		return err
	}
	if ct.Type != Raft {
		return fmt.Errorf("the channel runs %s, not Raft", ct.Type)
	}
	if ct.State != ab.ConsensusType_STATE_NORMAL {
		return errors.New("the ordering service is in maintenance mode: Raft consenters change only in normal mode")
	}
	var md etcdraft.ConfigMetadata
	if err := proto.Unmarshal(ct.Metadata, &md); err != nil {
		return fmt.Errorf("the channel's Raft metadata: %w", err)
	}
	c = proto.CloneOf(c)
	if i := slices.IndexFunc(md.Consenters, func(x *etcdraft.Consenter) bool { return x.Host == c.Host && x.Port == c.Port }); i >= 0 {
		md.Consenters[i] = c
	} else {
		md.Consenters = append(md.Consenters, c)
	}
	if ct.Metadata, err = proto.Marshal(&md); err != nil {
		return err
	}
	return setConsensusType(cfg, ct)
}

// ToBFT switches a Raft channel in maintenance mode to BFT (cfg is edited
// in place): type BFT with opts, one consenter per Raft consenter (same
// host, port and TLS certificates; ids 1..n in Raft order; identity and
// MSP from identity, keyed by "host:port"), and the BlockValidation policy
// of the new set. The ordering service stays in maintenance mode.
func ToBFT(cfg *cb.Config, opts *smartbft.Options, identity map[string]BFTIdentity) error {
	ct, err := consensusType(cfg)
	if err != nil {
		return err
	}
	if ct.Type != Raft {
		return fmt.Errorf("the channel runs %s, not Raft", ct.Type)
	}
	if ct.State != ab.ConsensusType_STATE_MAINTENANCE {
		return errors.New("the ordering service is not in maintenance mode: the consensus type changes only in maintenance")
	}
	raft, err := RaftConsenters(cfg)
	if err != nil {
		return err
	}
	if len(raft) < 4 {
		return fmt.Errorf("the channel has %d Raft consenters: BFT needs at least 4 (3f+1) to tolerate a fault; add Raft consenters first", len(raft))
	}
	cs := make([]*cb.Consenter, len(raft))
	for i, r := range raft {
		key := fmt.Sprintf("%s:%d", r.Host, r.Port)
		id, ok := identity[key]
		if !ok {
			return fmt.Errorf("no enrolment certificate for the Raft consenter %s", key)
		}
		cs[i] = &cb.Consenter{Id: uint32(i + 1), Host: r.Host, Port: r.Port, MspId: id.MSP, Identity: id.Cert,
			ClientTlsCert: r.ClientTlsCert, ServerTlsCert: r.ServerTlsCert}
	}
	og, err := ordererGroup(cfg)
	if err != nil {
		return err
	}
	if err := SetConsenters(og, cs); err != nil {
		return err
	}
	ct.Type = BFT
	if ct.Metadata, err = proto.Marshal(opts); err != nil {
		return err
	}
	return setConsensusType(cfg, ct)
}

// BFTIdentity is an orderer's enrolment certificate (PEM) and MSP ID, the
// identity its consenter entry names.
type BFTIdentity struct {
	MSP  string
	Cert []byte
}

// RemoveConsenterAt takes the BFT consenter at host:port out of cfg
// (edited in place) and sets the BlockValidation policy for the rest. It
// refuses to leave fewer than three.
func RemoveConsenterAt(cfg *cb.Config, host string, port uint32) error {
	cs, err := Consenters(cfg)
	if err != nil {
		return err
	}
	n := len(cs)
	cs = slices.DeleteFunc(cs, func(x *cb.Consenter) bool { return x.Host == host && x.Port == port })
	if len(cs) == n {
		return fmt.Errorf("no consenter at %s:%d", host, port)
	}
	if len(cs) < 3 {
		return fmt.Errorf("removing the consenter at %s:%d would leave %d consenters", host, port, len(cs))
	}
	og, err := ordererGroup(cfg)
	if err != nil {
		return err
	}
	return SetConsenters(og, cs)
}

// ConsenterAt returns the BFT consenter at host:port, if any.
func ConsenterAt(cfg *cb.Config, host string, port uint32) (*cb.Consenter, bool) {
	cs, err := Consenters(cfg)
	if err != nil {
		return nil, false
	}
	i := slices.IndexFunc(cs, func(x *cb.Consenter) bool { return x.Host == host && x.Port == port })
	if i < 0 {
		return nil, false
	}
	return cs[i], true
}

// SmartBFTOptions are the options every mtrace BFT channel gets: a new
// one (network/member's Genesis) and a migrated one. Batches follow the
// channel's BatchSize (100 transactions, 10 MB, 50 ms). The fault
// timeouts are measured on a 2-core machine
// (docs/design/2026-12-06-bft-ordering.md): a request that reaches a
// follower is forwarded to the leader after 500 ms; a leader that orders
// nothing is complained about after 5 s and replaced in about 6 s instead
// of Fabric's 20 s or more. SyncOnStart makes a restarted consenter fetch
// what the others decided meanwhile before it takes part.
func SmartBFTOptions() *smartbft.Options {
	return &smartbft.Options{
		RequestBatchMaxCount: 100, RequestBatchMaxBytes: 10485760, RequestBatchMaxInterval: "50ms",
		IncomingMessageBufferSize: 200, RequestPoolSize: 100000,
		RequestForwardTimeout: "500ms", RequestComplainTimeout: "5s", RequestAutoRemoveTimeout: "3m0s",
		ViewChangeResendInterval: "5s", ViewChangeTimeout: "5s",
		LeaderHeartbeatTimeout: "10s", LeaderHeartbeatCount: 10, CollectTimeout: "1s",
		SyncOnStart: true, LeaderRotation: smartbft.Options_ROTATION_OFF, DecisionsPerLeader: 3,
	}
}

// OrdererOrgs maps each organisation of the orderer group (its group
// name) to its MSP ID.
func OrdererOrgs(cfg *cb.Config) (map[string]string, error) {
	og, err := ordererGroup(cfg)
	if err != nil {
		return nil, err
	}
	orgs := map[string]string{}
	for name, g := range og.Groups {
		var mc mb.MSPConfig
		var fc mb.FabricMSPConfig
		v := g.Values["MSP"]
		if v == nil || proto.Unmarshal(v.Value, &mc) != nil || proto.Unmarshal(mc.Config, &fc) != nil {
			return nil, fmt.Errorf("orderer organisation %s has no readable MSP", name)
		}
		orgs[name] = fc.Name
	}
	return orgs, nil
}

// Height returns the number of blocks the orderer has.
func (o *Orderer) Height(ctx context.Context) (uint64, error) {
	newest, err := o.block(ctx, &ab.SeekPosition{Type: &ab.SeekPosition_Newest{Newest: &ab.SeekNewest{}}})
	if err != nil {
		return 0, err
	}
	return newest.GetHeader().GetNumber() + 1, nil
}
