package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-config/configtx/orderer"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ob "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/configblock"
)

// Config keys of the BFT orderer section that fabric-config v0.3 does not
// know.
const (
	consensusTypeKey   = "ConsensusType"
	orderersKey        = "Orderers"
	blockValidationKey = "BlockValidation"
	consensusBFT       = "BFT"
)

// consenter is c's orderer in the BFT consenter mapping.
func consenter(c *Card, id uint32) *cb.Consenter {
	return &cb.Consenter{Id: id, Host: c.Orderer.Host, Port: uint32(c.Orderer.Port), MspId: c.MSPID,
		Identity: []byte(c.Orderer.Identity), ClientTlsCert: []byte(c.Orderer.TLSCert), ServerTlsCert: []byte(c.Orderer.TLSCert)}
}

// checkCards refuses a set of cards that repeat an MSP ID, node name or
// endpoint.
func checkCards(cards []*Card) error {
	seen := map[string]string{}
	for _, c := range cards {
		for _, k := range []string{"msp " + c.MSPID, "node " + c.Node, "peer " + c.Peer.String(), "orderer " + c.Orderer.String()} {
			if other, dup := seen[k]; dup {
				return fmt.Errorf("%s and %s share the %s", other, c.MSPID, k)
			}
			seen[k] = c.MSPID
		}
	}
	return nil
}

// applicationPolicies are the channel's application policies, as the
// single-machine network's configtx.yaml sets them.
func applicationPolicies() map[string]configtx.Policy {
	meta := func(rule string) configtx.Policy {
		return configtx.Policy{Type: configtx.ImplicitMetaPolicyType, Rule: rule}
	}
	return map[string]configtx.Policy{
		configtx.ReadersPolicyKey:              meta("ANY Readers"),
		configtx.WritersPolicyKey:              meta("ANY Writers"),
		configtx.AdminsPolicyKey:               meta("MAJORITY Admins"),
		configtx.LifecycleEndorsementPolicyKey: meta("MAJORITY Endorsement"),
		configtx.EndorsementPolicyKey:          meta("MAJORITY Endorsement"),
	}
}

// Genesis builds the first block of a BFT application channel whose
// members are the cards' organisations: each in the Application group
// (with its anchor peer) and in the Orderer group (with its orderer's
// endpoint), each orderer a SmartBFT consenter (channel.SmartBFTOptions),
// channel capability V3_0. The cards are taken in MSP ID order and the
// block is the same bytes from the same cards, so founders who build it
// apart can compare its hash. It is the one genesis of both ways to run
// the consortium: members on their own hosts (mtrace-org) and the
// single-machine network (mtrace-net genesis).
func Genesis(channelID string, cards []*Card) (*cb.Block, error) {
	return genesis(channelID, cards, true)
}

// RaftGenesis is Genesis with the same orderers as etcdraft consenters
// instead (identified by their TLS certificates), Raft's options and the
// BlockValidation policy of one orderer's signature: a benchmark's
// comparison network only (MTRACE_CONSENSUS=raft).
func RaftGenesis(channelID string, cards []*Card) (*cb.Block, error) {
	return genesis(channelID, cards, false)
}

func genesis(channelID string, cards []*Card, bft bool) (*cb.Block, error) {
	if len(cards) == 0 {
		return nil, errors.New("a channel needs at least one member card")
	}
	cards = slices.Clone(cards)
	slices.SortFunc(cards, func(a, b *Card) int { return strings.Compare(a.MSPID, b.MSPID) })
	if err := checkCards(cards); err != nil {
		return nil, err
	}
	meta := func(rule string) configtx.Policy {
		return configtx.Policy{Type: configtx.ImplicitMetaPolicyType, Rule: rule}
	}
	ch := configtx.Channel{
		Capabilities: []string{"V3_0"},
		Policies: map[string]configtx.Policy{
			configtx.ReadersPolicyKey: meta("ANY Readers"),
			configtx.WritersPolicyKey: meta("ANY Writers"),
			configtx.AdminsPolicyKey:  meta("MAJORITY Admins"),
		},
		Application: configtx.Application{Capabilities: []string{"V2_5"}, Policies: applicationPolicies()},
		Orderer: configtx.Orderer{
			OrdererType:  orderer.ConsensusTypeEtcdRaft, // replaced by BFT below unless raft: fabric-config has no BFT
			BatchTimeout: 50 * time.Millisecond,
			BatchSize:    orderer.BatchSize{MaxMessageCount: 100, AbsoluteMaxBytes: 10 << 20, PreferredMaxBytes: 2 << 20},
			Capabilities: []string{"V2_0"},
			State:        orderer.ConsensusStateNormal,
			Policies: map[string]configtx.Policy{
				configtx.ReadersPolicyKey:         meta("ANY Readers"),
				configtx.WritersPolicyKey:         meta("ANY Writers"),
				configtx.AdminsPolicyKey:          meta("MAJORITY Admins"),
				configtx.BlockValidationPolicyKey: meta("ANY Writers"),
			},
		},
	}
	var cs []*cb.Consenter
	for i, c := range cards {
		m, err := c.MSP()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.MSPID, err)
		}
		ch.Application.Organizations = append(ch.Application.Organizations, channel.MemberOrg(m, c.Peer.Host, c.Peer.Port))
		ch.Orderer.Organizations = append(ch.Orderer.Organizations, channel.OrdererOrg(m, c.Orderer.String()))
		tlsCert, err := parseCert("orderer.tls_cert", c.Orderer.TLSCert)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.MSPID, err)
		}
		ch.Orderer.EtcdRaft.Consenters = append(ch.Orderer.EtcdRaft.Consenters, orderer.Consenter{
			Address: orderer.EtcdAddress{Host: c.Orderer.Host, Port: c.Orderer.Port}, ClientTLSCert: tlsCert, ServerTLSCert: tlsCert})
		cs = append(cs, consenter(c, uint32(i+1)))
	}
	ch.Orderer.EtcdRaft.Options = orderer.EtcdRaftOptions{TickInterval: "500ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 16 << 20}
	draft, err := configtx.NewApplicationChannelGenesisBlock(ch, channelID)
	if err != nil {
		return nil, err
	}
	cfg, err := configblock.Config(draft)
	if err != nil {
		return nil, err
	}
	if bft {
		og := cfg.ChannelGroup.Groups[configtx.OrdererGroupKey]
		opts, err := proto.Marshal(channel.SmartBFTOptions())
		if err != nil {
			return nil, err
		}
		ct, err := proto.Marshal(&ob.ConsensusType{Type: consensusBFT, Metadata: opts, State: ob.ConsensusType_STATE_NORMAL})
		if err != nil {
			return nil, err
		}
		og.Values[consensusTypeKey].Value = ct
		if err := channel.SetConsenters(og, cs); err != nil {
			return nil, err
		}
	}
	// fabric-config leaves the anchor peers out of a genesis block.
	c := configtx.New(cfg)
	for _, card := range cards {
		if err := c.Application().Organization(card.MSPID).AddAnchorPeer(configtx.Address{Host: card.Peer.Host, Port: card.Peer.Port}); err != nil {
			return nil, fmt.Errorf("%s's anchor peer: %w", card.MSPID, err)
		}
	}
	return genesisBlock(channelID, &cb.Config{ChannelGroup: c.UpdatedConfig().ChannelGroup})
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// genesisBlock wraps a configuration into block 0: one unsigned CONFIG
// envelope, whose nonce is derived from the configuration so that the
// block depends on nothing else.
func genesisBlock(channelID string, cfg *cb.Config) (*cb.Block, error) {
	data, err := deterministic.Marshal(&cb.ConfigEnvelope{Config: cfg})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(channelID+"\x00"), data...))
	nonce := sum[:24]
	txID := sha256.Sum256(nonce)
	chdr, err := deterministic.Marshal(&cb.ChannelHeader{Type: int32(cb.HeaderType_CONFIG), Version: 1, ChannelId: channelID, TxId: hex.EncodeToString(txID[:])})
	if err != nil {
		return nil, err
	}
	shdr, err := deterministic.Marshal(&cb.SignatureHeader{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	payload, err := deterministic.Marshal(&cb.Payload{Header: &cb.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: data})
	if err != nil {
		return nil, err
	}
	env, err := deterministic.Marshal(&cb.Envelope{Payload: payload})
	if err != nil {
		return nil, err
	}
	dataHash := sha256.Sum256(env)
	md := make([][]byte, len(cb.BlockMetadataIndex_name))
	obm, err := deterministic.Marshal(&cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{}})
	if err != nil {
		return nil, err
	}
	if md[cb.BlockMetadataIndex_SIGNATURES], err = deterministic.Marshal(&cb.Metadata{Value: obm}); err != nil {
		return nil, err
	}
	lc, err := deterministic.Marshal(&cb.LastConfig{})
	if err != nil {
		return nil, err
	}
	if md[cb.BlockMetadataIndex_LAST_CONFIG], err = deterministic.Marshal(&cb.Metadata{Value: lc}); err != nil {
		return nil, err
	}
	for i := range md {
		if md[i] == nil {
			md[i] = []byte{}
		}
	}
	return &cb.Block{Header: &cb.BlockHeader{Number: 0, DataHash: dataHash[:]},
		Data: &cb.BlockData{Data: [][]byte{env}}, Metadata: &cb.BlockMetadata{Metadata: md}}, nil
}

// WriteBlock writes a block file.
func WriteBlock(path string, b *cb.Block) error {
	raw, err := deterministic.Marshal(b)
	if err != nil {
		return err
	}
	return writeFile(path, raw, 0o644)
}

// ReadBlock reads a block file.
func ReadBlock(path string) (*cb.Block, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if HoldsPrivateKey(raw) {
		return nil, fmt.Errorf("%s: %w", path, ErrPrivateKey)
	}
	var b cb.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s: not a block: %w", path, err)
	}
	if b.Header == nil || b.Data == nil {
		return nil, fmt.Errorf("%s: not a block", path)
	}
	if !bytes.Equal(b.Header.DataHash, dataHash(b.Data)) {
		return nil, fmt.Errorf("%s: the block's data does not match its header's data hash", path)
	}
	return &b, nil
}

func dataHash(d *cb.BlockData) []byte {
	sum := sha256.Sum256(bytes.Join(d.Data, nil))
	return sum[:]
}

// channelHeader reads the channel header of a marshalled envelope.
func channelHeader(raw []byte) (*cb.ChannelHeader, error) {
	var env cb.Envelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return nil, err
	}
	var p cb.Payload
	if err := proto.Unmarshal(env.Payload, &p); err != nil {
		return nil, err
	}
	var ch cb.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}
