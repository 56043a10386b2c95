package member

import (
	"fmt"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ob "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/etcdraft"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/smartbft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/configblock"
)

// consensusOf reads the orderer group's consensus type of a block.
func consensusOf(t *testing.T, cfg *cb.Config) *ob.ConsensusType {
	t.Helper()
	var ct ob.ConsensusType
	require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Groups["Orderer"].Values["ConsensusType"].Value, &ct))
	return &ct
}

func TestGenesisSettingsAreTheChannelPackages(t *testing.T) {
	orgs, _ := consortium(t, founders...)
	b, err := Genesis("circular", cardsOf(orgs, founders...))
	require.NoError(t, err)
	cfg, err := configblock.Config(b)
	require.NoError(t, err)
	ct := consensusOf(t, cfg)
	assert.Equal(t, "BFT", ct.Type)
	var opts smartbft.Options
	require.NoError(t, proto.Unmarshal(ct.Metadata, &opts))
	assert.True(t, proto.Equal(channel.SmartBFTOptions(), &opts), "a new channel gets the options a migrated one gets: %v", &opts)
	assert.True(t, opts.SyncOnStart)
	assert.Equal(t, "5s", opts.ViewChangeTimeout)

	// Each member's orderer-group entry is channel.OrdererOrg's: its
	// orderer alone writes (SmartBFT checks the consenters' votes against
	// /Channel/Orderer/Writers), as an organisation added later gets it.
	og := cfg.ChannelGroup.Groups["Orderer"]
	require.Len(t, og.Groups, 4)
	for _, g := range og.Groups {
		var env cb.SignaturePolicyEnvelope
		require.NoError(t, proto.Unmarshal(g.Policies["Writers"].Policy.Value, &env))
		require.Len(t, env.Identities, 1)
		var role mb.MSPRole
		require.NoError(t, proto.Unmarshal(env.Identities[0].Principal, &role))
		assert.Equal(t, mb.MSPRole_ORDERER, role.Role)
		require.NoError(t, proto.Unmarshal(g.Policies["Readers"].Policy.Value, &env))
		assert.Len(t, env.Identities, 4, "admin, peer, client and orderer read")
	}
	assert.Contains(t, og.Policies, "BlockValidation")
	assert.Equal(t, int32(cb.Policy_SIGNATURE), og.Policies["BlockValidation"].Policy.Type, "BFT: a quorum of the consenters signs every block")
}

func TestRaftGenesisHasTheSameOrderersAsRaftConsenters(t *testing.T) {
	orgs, _ := consortium(t, founders...)
	cards := cardsOf(orgs, founders...)
	bb, err := Genesis("circular", cards)
	require.NoError(t, err)
	rb, err := RaftGenesis("circular", cards)
	require.NoError(t, err)
	again, err := RaftGenesis("circular", cardsOf(orgs, "maker", "certifier", "recycler", "istanbul"))
	require.NoError(t, err)
	assert.True(t, proto.Equal(rb, again), "the same cards make the same block, in any order")
	bft, err := configblock.Config(bb)
	require.NoError(t, err)
	raft, err := configblock.Config(rb)
	require.NoError(t, err)

	ct := consensusOf(t, raft)
	assert.Equal(t, "etcdraft", ct.Type)
	var md etcdraft.ConfigMetadata
	require.NoError(t, proto.Unmarshal(ct.Metadata, &md))
	require.Len(t, md.Consenters, 4, "one Raft consenter per member")
	byAddr := map[string]*Card{}
	for _, c := range cards {
		byAddr[c.Orderer.String()] = c
	}
	for _, c := range md.Consenters {
		card := byAddr[fmt.Sprintf("%s:%d", c.Host, c.Port)]
		require.NotNil(t, card, "consenter %s:%d", c.Host, c.Port)
		// The same orderer as under BFT: its host, port and TLS certificate.
		assert.Equal(t, card.Orderer.Host, c.Host)
		assert.Equal(t, card.Orderer.TLSCert, string(c.ClientTlsCert))
		assert.Equal(t, card.Orderer.TLSCert, string(c.ServerTlsCert))
	}
	assert.Equal(t, "500ms", md.Options.TickInterval)
	assert.Equal(t, uint32(10), md.Options.ElectionTick)

	rog, bog := raft.ChannelGroup.Groups["Orderer"], bft.ChannelGroup.Groups["Orderer"]
	assert.NotContains(t, rog.Values, "Orderers", "no SmartBFT consenter mapping")
	assert.Equal(t, int32(cb.Policy_IMPLICIT_META), rog.Policies["BlockValidation"].Policy.Type, "one orderer's signature on a Raft block")
	// Everything else is the BFT channel's: the organisations, the
	// application group, block cutting, the channel's policies.
	for name, g := range bog.Groups {
		assert.True(t, proto.Equal(g, rog.Groups[name]), "orderer organisation %s", name)
	}
	assert.True(t, proto.Equal(bft.ChannelGroup.Groups["Application"], raft.ChannelGroup.Groups["Application"]))
	assert.True(t, proto.Equal(bog.Values["BatchSize"], rog.Values["BatchSize"]))
	assert.True(t, proto.Equal(bog.Values["BatchTimeout"], rog.Values["BatchTimeout"]))
	for _, p := range []string{"Readers", "Writers", "Admins"} {
		assert.True(t, proto.Equal(bog.Policies[p], rog.Policies[p]), p)
		assert.True(t, proto.Equal(bft.ChannelGroup.Policies[p], raft.ChannelGroup.Policies[p]), p)
	}

	s, err := InspectBlock(rb)
	require.NoError(t, err)
	assert.Equal(t, "etcdraft", s.Consensus)
}
