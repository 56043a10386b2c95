package main

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/channel/channeltest"
	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/pki"
)

// enrolled is a network whose identities were all enrolled from a fake
// CA server.
func enrolled(t *testing.T) *env {
	e := network(t)
	top, err := e.topology()
	require.NoError(t, err)
	orgs := pki.Orgs(top, e.base, e.crypto())
	var names []string
	for _, o := range orgs {
		names = append(names, o.CA.Name, o.CA.TLSName)
	}
	s := fabcatest.New(t, names...)
	for i := range orgs {
		orgs[i].CA.Port = s.Port()
		ca := orgs[i].CA
		require.NoError(t, pki.WriteServerConfig(e.home, ca))
		raw, err := os.ReadFile(filepath.Join(pki.ServerDir(e.home, ca), "registrar.secret"))
		require.NoError(t, err)
		s.AddUser(ca.Name, pki.Registrar, strings.TrimSpace(string(raw)), "client")
		s.AddUser(ca.TLSName, pki.Registrar, strings.TrimSpace(string(raw)), "client")
		require.NoError(t, os.WriteFile(pki.TLSRoot(e.home, ca), s.TLSRootPEM, 0o644))
	}
	_, err = pki.Enrol(context.Background(), e.home, orgs)
	require.NoError(t, err)
	return e
}

// ordered serves e's channel from a fake orderer whose first block holds
// every member of the topology, in the application and orderer groups and
// as SmartBFT consenters, on the base port that names it as the first
// member's orderer. An accepted update is ordered as edit makes it of the
// newest configuration.
func ordered(t *testing.T, e *env) *channeltest.Orderer {
	top, err := e.topology()
	require.NoError(t, err)
	first := top.Organisations[0]
	n, _ := top.Node(0, first.Orderer())
	o := channeltest.NewNamed(t, top.Channel, n.Host)
	_, port, err := net.SplitHostPort(o.Addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	e.base = p - n.Port
	// The channel as the members' genesis makes it from their cards.
	cards, err := member.LocalCards(top, e.base, e.home)
	require.NoError(t, err)
	b, err := member.Genesis(top.Channel, cards)
	require.NoError(t, err)
	cfg, err := configblock.Config(b)
	require.NoError(t, err)
	// mtrace-net trusts the first member's TLS CA for its orderer: here
	// the fake's root stands in for it.
	root, err := os.ReadFile(o.RootFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(top.TLSCA(e.crypto(), first.Node), root, 0o644))

	o.AddBlock(cfg)
	o.AddBlock(nil)
	return o
}

// consenterMSPs lists the MSP IDs and IDs of cfg's consenters and the N
// of its BlockValidation policy.
func consenterMSPs(t *testing.T, cfg *cb.Config) ([]string, int32) {
	cs, err := channel.Consenters(cfg)
	require.NoError(t, err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.MspId+"#"+strconv.Itoa(int(c.Id)))
	}
	var env cb.SignaturePolicyEnvelope
	require.NoError(t, proto.Unmarshal(cfg.ChannelGroup.Groups["Orderer"].Policies["BlockValidation"].Policy.Value, &env))
	require.Len(t, env.Identities, len(cs))
	return ids, env.Rule.GetNOutOf().GetN()
}

// applyUpdates makes o order each accepted config update on its newest
// configuration.
func applyUpdates(t *testing.T, o *channeltest.Orderer, latest func() *cb.Config) {
	o.OnBroadcast(func(env *cb.Envelope) {
		var p cb.Payload
		require.NoError(t, proto.Unmarshal(env.Payload, &p))
		var ue cb.ConfigUpdateEnvelope
		require.NoError(t, proto.Unmarshal(p.Data, &ue))
		var up cb.ConfigUpdate
		require.NoError(t, proto.Unmarshal(ue.ConfigUpdate, &up))
		cfg := proto.Clone(latest()).(*cb.Config)
		for _, name := range []string{"Application", "Orderer"} {
			g, w := cfg.ChannelGroup.Groups[name], up.WriteSet.Groups[name]
			if w == nil {
				continue
			}
			g.Groups = w.Groups
			for org, og := range g.Groups {
				if len(og.Values) == 0 && len(og.Groups) == 0 {
					// Only read: keep the full group.
					g.Groups[org] = latest().ChannelGroup.Groups[name].Groups[org]
				}
			}
			for k, v := range w.Values {
				if v.Value != nil {
					g.Values[k] = v
				}
			}
			for k, p := range w.Policies {
				if p.Policy != nil {
					g.Policies[k] = p
				}
			}
		}
		o.AddBlock(cfg)
	})
}

func TestChannelCommands(t *testing.T) {
	e := enrolled(t)
	o := ordered(t, e)
	ctx := context.Background()
	latest := func() *cb.Config {
		id, err := channel.LoadSigner(filepath.Join(e.crypto(), "peerOrganizations", "municipality.mtrace.local", "users", "Admin@municipality.mtrace.local", "msp"), "MunicipalityMSP")
		require.NoError(t, err)
		top, _ := e.topology()
		n, _ := top.Node(e.base, top.Organisations[0].Orderer())
		cert, err := tls.LoadX509KeyPair(top.UserTLS(e.crypto(), top.Organisations[0].Node, "Admin"))
		require.NoError(t, err)
		ord, err := channel.Dial(o.Addr, top.TLSCA(e.crypto(), top.Organisations[0].Node), n.Host, cert, top.Channel, id)
		require.NoError(t, err)
		defer ord.Close()
		cfg, err := ord.Config(ctx)
		require.NoError(t, err)
		return cfg.Config
	}
	applyUpdates(t, o, latest)

	out, err := run(t, e, "channel", "show")
	require.NoError(t, err)
	assert.Equal(t, "channel circular: config block 0, members AuditorMSP MakerMSP MunicipalityMSP RecyclerMSP; consenters AuditorMSP MakerMSP MunicipalityMSP RecyclerMSP\n", out)
	out, err = run(t, e, "channel", "show", "-o", "json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"configBlock":0,"members":["AuditorMSP","MakerMSP","MunicipalityMSP","RecyclerMSP"],
		"consenters":["AuditorMSP","MakerMSP","MunicipalityMSP","RecyclerMSP"]}`, out)

	// Removing the maker is signed by as many of the other members as a
	// majority of the four needs: all three.
	o.Reset()
	out, err = run(t, e, "channel", "remove-org", "maker")
	require.NoError(t, err)
	assert.Contains(t, out, "channel: update to remove MakerMSP and its orderer signed by the admins of MunicipalityMSP, RecyclerMSP, AuditorMSP (3 of 4 members; MAJORITY Admins needs 3): "+filepath.Join(e.home, "updates", "circular-0-remove-member-maker.update")+"\n")
	assert.Contains(t, out, "channel: remove MakerMSP and its orderer done (config block 2)\n")
	cons, n := consenterMSPs(t, latest())
	assert.Equal(t, []string{"AuditorMSP#1", "MunicipalityMSP#3", "RecyclerMSP#4"}, cons, "the maker's orderer is no consenter any more")
	assert.Equal(t, int32(2), n, "blocks need 2 of the 3 consenters' signatures")
	assert.NotContains(t, latest().ChannelGroup.Groups["Orderer"].Groups, "MakerMSP")
	got := o.Received()
	require.Len(t, got, 1)
	var p cb.Payload
	require.NoError(t, proto.Unmarshal(got[0].Payload, &p))
	var ue cb.ConfigUpdateEnvelope
	require.NoError(t, proto.Unmarshal(p.Data, &ue))
	assert.Len(t, ue.Signatures, 3)

	out, err = run(t, e, "channel", "remove-org", "maker")
	require.NoError(t, err)
	assert.Equal(t, "channel: MakerMSP is not a member of channel circular (config block 2); nothing to do\n", out)
	before := len(o.Received())

	// Adding it back: one admin's signature of three members is not
	// enough, and the update is not sent.
	_, err = run(t, e, "channel", "add-org", "maker", "--signers", "auditor")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not sent: policy /Channel/Application/Admins")
	assert.Contains(t, err.Error(), "signed by AuditorMSP; missing 1 more admin signature(s) from: MunicipalityMSP, RecyclerMSP")
	assert.Contains(t, err.Error(), "channel circular is unchanged (config block 2)")
	assert.Len(t, o.Received(), before, "nothing sent")
	// Enough signatures, but the orderer refuses.
	o.Answer(&ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"})
	_, err = run(t, e, "channel", "add-org", "maker", "--signers", "auditor,recycler")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the orderer refused the update (FORBIDDEN): implicit policy evaluation failed; channel circular is unchanged (config block 2)")
	o.Answer(nil)
	out, err = run(t, e, "channel", "add-org", "maker", "--signers", "auditor,recycler,municipality")
	require.NoError(t, err)
	assert.Contains(t, out, "channel: update to add MakerMSP with anchor peer 127.0.0.1:")
	assert.Contains(t, out, "signed by the admins of AuditorMSP, RecyclerMSP, MunicipalityMSP (3 of 3 members; MAJORITY Admins needs 2)")
	assert.Contains(t, out, "and its orderer 127.0.0.1:")
	assert.Contains(t, out, "as a BFT consenter")
	assert.Contains(t, out, "done (config block 3)")
	assert.Len(t, o.Received(), before+2, "the refused update and the accepted one")
	// The update and each admin's signature are files, as members on
	// their own hosts exchange them.
	sigs, err := filepath.Glob(filepath.Join(e.home, "updates", "circular-2-add-member-maker.*.sig"))
	require.NoError(t, err)
	assert.Len(t, sigs, 3)
	cons, n = consenterMSPs(t, latest())
	assert.Equal(t, []string{"AuditorMSP#1", "MunicipalityMSP#3", "RecyclerMSP#4", "MakerMSP#5"}, cons,
		"the maker's orderer is a consenter again, under a new ID")
	assert.Equal(t, int32(3), n, "blocks need 3 of the 4 consenters' signatures")
	assert.Contains(t, latest().ChannelGroup.Groups["Orderer"].Groups, "MakerMSP")
	out, err = run(t, e, "channel", "add-org", "maker")
	require.NoError(t, err)
	assert.Contains(t, out, "MakerMSP is already a member of channel circular")
}

func TestChannelCommandErrors(t *testing.T) {
	e := network(t)
	_, err := run(t, e, "channel", "add-org", "kaunas")
	assert.ErrorContains(t, err, "no organisation kaunas in "+e.topoPath)
	_, err = run(t, e, "channel", "remove-org", "maker", "--signers", "kaunas")
	assert.EqualError(t, err, "--signers: no organisation kaunas in the topology")
	_, err = run(t, e, "channel", "remove-org", "maker")
	assert.ErrorContains(t, err, "identity of MunicipalityMSP", "no admin identities enrolled")
	_, err = run(t, e, "channel", "show")
	assert.ErrorContains(t, err, "identity of MunicipalityMSP")
}
