package channel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel/channeltest"
)

func TestQuorum(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 10: 7} {
		assert.Equal(t, want, Quorum(n), "n=%d", n)
	}
}

// bftChannel is a BFT channel configuration whose orderer group has one
// organisation per fake orderer, each naming its orderer's address and
// TLS root, and a consenter for each.
func bftChannel(t *testing.T, fakes ...*channeltest.Orderer) *cb.Config {
	t.Helper()
	c := configtx.New(&cb.Config{ChannelGroup: &cb.ConfigGroup{Groups: map[string]*cb.ConfigGroup{
		"Application": {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey},
		"Orderer": {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey,
			Values:   map[string]*cb.ConfigValue{"Orderers": {ModPolicy: configtx.AdminsPolicyKey}},
			Policies: map[string]*cb.ConfigPolicy{"BlockValidation": {ModPolicy: configtx.AdminsPolicyKey}}},
	}}})
	cfg := c.UpdatedConfig()
	for i, o := range fakes {
		org, _ := loadOrg(t, []string{"MunicipalityMSP", "RecyclerMSP", "MakerMSP", "AuditorMSP"}[i], 25600+i)
		raw, err := os.ReadFile(o.RootFile)
		require.NoError(t, err)
		b, _ := pem.Decode(raw)
		root, err := x509.ParseCertificate(b.Bytes)
		require.NoError(t, err)
		org.MSP.TLSRootCerts = []*x509.Certificate{root}
		require.NoError(t, c.Application().SetOrganization(org))
		require.NoError(t, c.Orderer().SetOrganization(OrdererOrg(org.MSP, o.Addr)))
		require.NoError(t, AddConsenter(cfg, &cb.Consenter{Host: "127.0.0.1", Port: uint32(25500 + i), MspId: org.MSP.Name,
			Identity: raw, ClientTlsCert: raw, ServerTlsCert: raw}))
	}
	c.Application().RemoveOrganization("placeholder")
	c.Orderer().RemoveOrganization("placeholder")
	return cfg
}

func TestConsentersAndBlockValidation(t *testing.T) {
	cfg := bftChannel(t, channeltest.NewNamed(t, "circular", "127.0.0.1"), channeltest.NewNamed(t, "circular", "127.0.0.1"),
		channeltest.NewNamed(t, "circular", "127.0.0.1"), channeltest.NewNamed(t, "circular", "127.0.0.1"))
	cs, err := Consenters(cfg)
	require.NoError(t, err)
	require.Len(t, cs, 4)
	assert.Equal(t, []uint32{1, 2, 3, 4}, []uint32{cs[0].Id, cs[1].Id, cs[2].Id, cs[3].Id})
	policy := func() *cb.SignaturePolicyEnvelope {
		var env cb.SignaturePolicyEnvelope
		require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Groups["Orderer"].Policies["BlockValidation"].Policy.Value, &env))
		return &env
	}
	env := policy()
	assert.Equal(t, int32(3), env.Rule.GetNOutOf().GetN(), "3 of 4 consenters sign each block")
	require.Len(t, env.Identities, 4)
	var id mb.SerializedIdentity
	require.NoError(t, proto.Unmarshal(env.Identities[1].Principal, &id))
	assert.Equal(t, "RecyclerMSP", id.Mspid)
	assert.Equal(t, cs[1].Identity, id.IdBytes, "the policy names the consenters' identities")
	assert.Equal(t, configtx.AdminsPolicyKey, cfg.ChannelGroup.Groups["Orderer"].Policies["BlockValidation"].ModPolicy)

	// The same consenter again keeps its ID; removing one renumbers none
	// and lowers the quorum; a fifth gets the next free ID.
	require.NoError(t, AddConsenter(cfg, cs[2]))
	require.NoError(t, SetConsenters(cfg.ChannelGroup.Groups["Orderer"], slices.Delete(slices.Clone(cs), 1, 2)))
	cs, err = Consenters(cfg)
	require.NoError(t, err)
	assert.Equal(t, []uint32{1, 3, 4}, []uint32{cs[0].Id, cs[1].Id, cs[2].Id})
	assert.Equal(t, int32(2), policy().Rule.GetNOutOf().GetN())
	require.NoError(t, AddConsenter(cfg, &cb.Consenter{Host: "127.0.0.1", Port: 25504, MspId: "KaunasMSP", Identity: []byte("k")}))
	cs, err = Consenters(cfg)
	require.NoError(t, err)
	assert.Equal(t, uint32(5), cs[3].Id)
	assert.Equal(t, int32(3), policy().Rule.GetNOutOf().GetN(), "3 of 4 again")

	_, err = Consenters(channelWith(t))
	assert.ErrorContains(t, err, "no orderer group")
}

// On a BFT channel a config update goes to every orderer the channel
// names, not only to the one connected: a follower that accepts it but
// cannot order would otherwise hold it.
func TestSubmitReachesEveryOrderer(t *testing.T) {
	first, second, third := channeltest.NewNamed(t, "circular", "127.0.0.1"),
		channeltest.NewNamed(t, "circular", "127.0.0.1"), channeltest.NewNamed(t, "circular", "127.0.0.1")
	cfg := bftChannel(t, first, second, third)
	first.AddBlock(cfg)
	_, admin := loadOrg(t, "MunicipalityMSP", 25600)
	conn, err := Dial(first.Addr, first.RootFile, "127.0.0.1", tls.Certificate{}, "circular", admin)
	require.NoError(t, err)
	defer conn.Close()
	u, err := Compute(cfg, "circular", func(c *configtx.ConfigTx) error {
		c.Application().RemoveOrganization("MakerMSP")
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, u.Sign(admin))
	env, err := u.Envelope(admin)
	require.NoError(t, err)
	require.NoError(t, conn.Submit(context.Background(), env))
	for i, o := range []*channeltest.Orderer{first, second, third} {
		got := o.Received()
		require.Len(t, got, 1, "orderer %d", i)
		assert.True(t, proto.Equal(env, got[0]), "orderer %d", i)
	}

	// The first orderer's answer decides, whatever the others say.
	first.Reset()
	first.Answer(&ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"})
	var refused *RefusedError
	require.ErrorAs(t, conn.Submit(context.Background(), env), &refused)
	assert.Equal(t, cb.Status_FORBIDDEN, refused.Status)
}
