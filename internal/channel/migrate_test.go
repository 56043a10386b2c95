package channel

import (
	"fmt"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/etcdraft"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/smartbft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// raftChannel is the orderer group of a Raft channel with n consenters
// (127.0.0.1:25000+i), as the previous release made it.
func raftChannel(t *testing.T, n int) *cb.Config {
	t.Helper()
	md := &etcdraft.ConfigMetadata{Options: &etcdraft.Options{TickInterval: "500ms", ElectionTick: 10}}
	for i := range n {
		md.Consenters = append(md.Consenters, raftConsenter(i))
	}
	raw, err := proto.Marshal(md)
	require.NoError(t, err)
	ct, err := proto.Marshal(&ab.ConsensusType{Type: Raft, Metadata: raw})
	require.NoError(t, err)
	return &cb.Config{ChannelGroup: &cb.ConfigGroup{Groups: map[string]*cb.ConfigGroup{
		"Orderer": {ModPolicy: "Admins",
			Values:   map[string]*cb.ConfigValue{consensusTypeKey: {ModPolicy: "Admins", Value: ct}},
			Policies: map[string]*cb.ConfigPolicy{blockValidationKey: {ModPolicy: "Admins"}}},
	}}}
}

func raftConsenter(i int) *etcdraft.Consenter {
	return &etcdraft.Consenter{Host: "127.0.0.1", Port: uint32(25000 + i),
		ClientTlsCert: fmt.Appendf(nil, "tls-%d", i), ServerTlsCert: fmt.Appendf(nil, "tls-%d", i)}
}

func identities(n int) map[string]BFTIdentity {
	ids := map[string]BFTIdentity{}
	for i := range n {
		ids[fmt.Sprintf("127.0.0.1:%d", 25000+i)] = BFTIdentity{MSP: "OrdererMSP", Cert: fmt.Appendf(nil, "enrolment-%d", i)}
	}
	return ids
}

func TestMigrationSteps(t *testing.T) {
	cfg := raftChannel(t, 3)
	typ, maint, err := Consensus(cfg)
	require.NoError(t, err)
	assert.Equal(t, Raft, typ)
	assert.False(t, maint)

	// Three Raft nodes cannot become BFT: grow to four first.
	require.NoError(t, SetMaintenance(cfg, true))
	err = ToBFT(cfg, SmartBFTOptions(), identities(4))
	require.ErrorContains(t, err, "3 Raft consenters")
	require.ErrorContains(t, AddRaftConsenter(cfg, raftConsenter(3)), "maintenance")
	require.NoError(t, SetMaintenance(cfg, false))
	require.NoError(t, AddRaftConsenter(cfg, raftConsenter(3)))
	require.NoError(t, AddRaftConsenter(cfg, raftConsenter(3)), "adding the same node twice replaces it")
	rc, err := RaftConsenters(cfg)
	require.NoError(t, err)
	assert.Len(t, rc, 4)

	// The type changes only in maintenance mode.
	require.ErrorContains(t, ToBFT(cfg, SmartBFTOptions(), identities(4)), "not in maintenance")
	require.NoError(t, SetMaintenance(cfg, true))
	require.ErrorContains(t, ToBFT(cfg, SmartBFTOptions(), identities(3)), "no enrolment certificate for the Raft consenter 127.0.0.1:25003")
	require.NoError(t, ToBFT(cfg, SmartBFTOptions(), identities(4)))
	typ, maint, err = Consensus(cfg)
	require.NoError(t, err)
	assert.Equal(t, BFT, typ)
	assert.True(t, maint, "the switch keeps maintenance mode; a later update returns to normal")
	ct, err := consensusType(cfg)
	require.NoError(t, err)
	var opts smartbft.Options
	require.NoError(t, proto.Unmarshal(ct.Metadata, &opts))
	assert.True(t, proto.Equal(SmartBFTOptions(), &opts))

	// Same nodes, same TLS certificates, ids 1..4, the enrolment identity.
	cs, err := Consenters(cfg)
	require.NoError(t, err)
	require.Len(t, cs, 4)
	for i, c := range cs {
		assert.Equal(t, uint32(i+1), c.Id)
		assert.Equal(t, rc[i].Port, c.Port)
		assert.Equal(t, rc[i].ServerTlsCert, c.ServerTlsCert)
		assert.Equal(t, rc[i].ClientTlsCert, c.ClientTlsCert)
		assert.Equal(t, fmt.Appendf(nil, "enrolment-%d", i), c.Identity)
	}
	assertBlockValidation(t, cfg, 3, 4)
	require.ErrorContains(t, ToBFT(cfg, SmartBFTOptions(), identities(4)), "runs BFT, not Raft")
	require.NoError(t, SetMaintenance(cfg, false))
	typ, maint, _ = Consensus(cfg)
	assert.Equal(t, BFT, typ)
	assert.False(t, maint)

	// Moving a consenter: the old node out (3 left), the member's in.
	require.NoError(t, RemoveConsenterAt(cfg, "127.0.0.1", 25000))
	assertBlockValidation(t, cfg, 2, 3)
	_, ok := ConsenterAt(cfg, "127.0.0.1", 25000)
	assert.False(t, ok)
	require.ErrorContains(t, RemoveConsenterAt(cfg, "127.0.0.1", 25000), "no consenter")
	require.ErrorContains(t, RemoveConsenterAt(cfg, "127.0.0.1", 25001), "would leave 2")
	require.NoError(t, AddConsenter(cfg, &cb.Consenter{Host: "127.0.0.1", Port: 25000, MspId: "MunicipalityMSP", Identity: []byte("m")}))
	c, ok := ConsenterAt(cfg, "127.0.0.1", 25000)
	require.True(t, ok)
	assert.Equal(t, "MunicipalityMSP", c.MspId)
	assert.Equal(t, uint32(5), c.Id, "a new consenter gets a new id, never a departed one's")
	assertBlockValidation(t, cfg, 3, 4)
}

func assertBlockValidation(t *testing.T, cfg *cb.Config, n, of int) {
	t.Helper()
	var env cb.SignaturePolicyEnvelope
	require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Groups["Orderer"].Policies[blockValidationKey].Policy.Value, &env))
	assert.Equal(t, int32(n), env.Rule.GetNOutOf().GetN())
	assert.Len(t, env.Rule.GetNOutOf().GetRules(), of)
	require.Len(t, env.Identities, of)
	var id mb.SerializedIdentity
	require.NoError(t, proto.Unmarshal(env.Identities[0].Principal, &id))
	assert.NotEmpty(t, id.Mspid)
}
