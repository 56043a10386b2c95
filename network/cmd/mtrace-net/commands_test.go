package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/pki"
	"github.com/mtrace/mtrace/network/topology"
)

var consortiumFile = filepath.Join("..", "..", "consortium.yaml")

// network is an empty MTRACE_HOME holding a copy of the default
// consortium file, on base port 27000.
func network(t *testing.T) *env {
	home := t.TempDir()
	raw, err := os.ReadFile(consortiumFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "consortium.yaml"), raw, 0o644))
	return &env{home: home, base: 27000, topoPath: filepath.Join(home, "consortium.yaml")}
}

// run executes mtrace-net with args on e and returns what it printed.
func run(t *testing.T, e *env, args ...string) (string, error) {
	t.Helper()
	root := newRoot(e)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestValidate(t *testing.T) {
	e := network(t)
	out, err := run(t, e, "validate")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(e.home, "consortium.yaml")+": channel circular, 4 organisations, each with a peer and an orderer (4 BFT consenters, quorum 3, tolerating 1 faulty), ports 27000-27129\n", out)

	out, err = run(t, e, "validate", consortiumFile)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, consortiumFile+": channel circular"))

	_, err = run(t, e, "--base", "32700", "validate")
	assert.ErrorContains(t, err, "on base port 32700: ")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("channel: circular\nsurprise: 1\n"), 0o644))
	_, err = run(t, e, "validate", bad)
	assert.Error(t, err)
	_, err = run(t, e, "validate", "a", "b")
	assert.Error(t, err, "one file at most")
}

func TestNodes(t *testing.T) {
	e := network(t)
	out, err := run(t, e, "nodes")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 4+4+4, "four orderers, four peers, four CA servers: one of each per member")
	assert.Contains(t, lines, "orderer maker-orderer MakerMSP orderer0.maker.mtrace.local 27002 27012 27022")
	assert.Contains(t, lines, "ca ca-maker MakerMSP ca.maker.mtrace.local 27042 0 27052")
	for _, l := range lines {
		assert.Len(t, strings.Fields(l), 7, l)
	}
}

func TestInitProfilesPolicyParticipants(t *testing.T) {
	e := &env{home: t.TempDir(), base: 27000}
	_, err := run(t, e, "init", "--from", consortiumFile, "--channel", "recall")
	require.NoError(t, err)
	top, err := topology.Load(filepath.Join(e.home, "consortium.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "recall", top.Channel, "the channel flag wins")
	_, err = run(t, &env{home: t.TempDir(), base: 27000}, "init", "--from", consortiumFile, "--channel", "Not A Name")
	assert.ErrorContains(t, err, "--channel: ")
	_, err = run(t, &env{home: t.TempDir(), base: 27000}, "init")
	assert.ErrorContains(t, err, `required flag(s) "from" not set`)

	_, err = run(t, e, "profiles")
	require.NoError(t, err)
	path := filepath.Join(e.home, "config.yaml")
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(first), "recycler-admin:")
	assert.Contains(t, string(first), "chaincode: mtrace")
	// Written again, the file is the same.
	_, err = run(t, e, "profiles")
	require.NoError(t, err)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again))
	require.NoError(t, os.WriteFile(path, []byte("profiles: [not a map"), 0o600))
	_, err = run(t, e, "profiles")
	assert.ErrorContains(t, err, path+": ")

	out, err := run(t, e, "policy")
	require.NoError(t, err)
	assert.Equal(t, top.Policy()+"\n", out)
	assert.Contains(t, out, "OutOf(2")

	out, err = run(t, e, "participants")
	require.NoError(t, err)
	var ps []model.Participant
	require.NoError(t, json.Unmarshal([]byte(out), &ps))
	assert.Equal(t, top.Participants(), ps)
	require.NoError(t, model.ValidateParticipants(ps))
}

func TestCommandsNeedTheConsortiumFile(t *testing.T) {
	e := &env{home: t.TempDir(), base: 27000}
	for _, args := range [][]string{{"nodes"}, {"genesis"}, {"join", "orderer"}, {"join", "peer"}, {"bootstrap"},
		{"fetch-config", "--out", "x.block"}, {"deploy", "--binary", "x"}, {"profiles"}, {"policy"}, {"participants"}, {"ca-config"}, {"enroll"}, {"crls"},
		{"org", "add", "--msp", "KaunasMSP", "--role", "collector", "--name", "K", "--out", "x.yaml"}, {"org", "remove", "maker", "--out", "x.yaml"}} {
		_, err := run(t, e, args...)
		require.Error(t, err, "%v", args)
		assert.ErrorIs(t, err, os.ErrNotExist, "%v", args)
	}
}

func TestOrgAddAndRemove(t *testing.T) {
	e := network(t)
	next := filepath.Join(t.TempDir(), "next.yaml")
	out, err := run(t, e, "org", "add", "--msp", "KaunasMSP", "--role", "collector", "--name", "Kaunas waste services", "--out", next)
	require.NoError(t, err)
	assert.Equal(t, "kaunas added\n", out)
	top, err := topology.Load(next)
	require.NoError(t, err)
	k, ok := top.Org("KaunasMSP")
	require.True(t, ok)
	assert.Equal(t, "kaunas", k.Node)
	assert.Equal(t, 4, k.Slot, "the first free slot")
	assert.Equal(t, model.RoleCollector, k.Role)

	// The same organisation again is present, not added twice.
	out, err = run(t, e, "-t", next, "org", "add", "--msp", "KaunasMSP", "--role", "collector", "--name", "Kaunas waste services", "--out", next)
	require.NoError(t, err)
	assert.Equal(t, "kaunas present\n", out)

	_, err = run(t, e, "org", "add", "--msp", "RigaMSP", "--role", "king", "--name", "R", "--out", next)
	assert.Error(t, err)
	_, err = run(t, e, "org", "add", "--msp", "RigaMSP", "--role", "maker", "--name", "R", "--slot", "1", "--out", next)
	assert.ErrorContains(t, err, "slot")

	smaller := filepath.Join(t.TempDir(), "smaller.yaml")
	_, err = run(t, e, "-t", next, "org", "remove", "kaunas", "--out", smaller)
	require.NoError(t, err)
	top, err = topology.Load(smaller)
	require.NoError(t, err)
	_, ok = top.Org("KaunasMSP")
	assert.False(t, ok)
	assert.Len(t, top.Organisations, 4)
	_, err = run(t, e, "org", "remove", "nobody", "--out", smaller)
	assert.Error(t, err)
	_, err = run(t, e, "org", "remove", "maker")
	assert.ErrorContains(t, err, `required flag(s) "out" not set`)
}

func TestNodeName(t *testing.T) {
	for msp, want := range map[string]string{"KaunasMSP": "kaunas", "North-City2MSP": "northcity2", "MSP": "msp", "Riga": "riga", "ÅboMSP": "bo"} {
		assert.Equal(t, want, nodeName(msp), msp)
	}
}

func TestCAConfig(t *testing.T) {
	e := network(t)
	_, err := run(t, e, "ca-config", "maker", "auditor")
	require.NoError(t, err)
	for _, org := range []string{"maker", "auditor"} {
		_, err := os.Stat(filepath.Join(e.home, "ca", org, "fabric-ca-server-config.yaml"))
		assert.NoError(t, err, org)
	}
	_, err = os.Stat(filepath.Join(e.home, "ca", "recycler"))
	assert.ErrorIs(t, err, os.ErrNotExist, "only the organisations named")
	_, err = run(t, e, "ca-config")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(e.home, "ca", "recycler", "tlsca", "fabric-ca-server-config.yaml"))
	assert.NoError(t, err)
}

// enroll and crls talk to the organisations' CA servers; here the maker's
// is a fake on a loopback port, which the base port is chosen to name.
func TestEnrollAndCRLs(t *testing.T) {
	e := network(t)
	top, err := e.topology()
	require.NoError(t, err)
	maker, ok := top.Org("MakerMSP")
	require.True(t, ok)
	s := fabcatest.New(t, "ca-maker", "tlsca-maker")
	e.base = s.Port() - 40 - maker.Slot
	_, err = run(t, e, "ca-config", "maker")
	require.NoError(t, err)
	ca, ok := top.CA(e.base, "maker")
	require.True(t, ok)
	require.Equal(t, s.Port(), ca.Port)
	raw, err := os.ReadFile(filepath.Join(pki.ServerDir(e.home, ca), "registrar.secret"))
	require.NoError(t, err)
	s.AddUser("ca-maker", pki.Registrar, strings.TrimSpace(string(raw)), "client")
	s.AddUser("tlsca-maker", pki.Registrar, strings.TrimSpace(string(raw)), "client")
	require.NoError(t, os.WriteFile(pki.TLSRoot(e.home, ca), s.TLSRootPEM, 0o644))

	out, err := run(t, e, "enroll", "maker")
	require.NoError(t, err)
	assert.Regexp(t, `^enrolled 4 identities \(a signing and a TLS certificate each\) from the organisations' CAs in [0-9.]+ s\n$`, out)
	out, err = run(t, e, "enroll", "maker")
	require.NoError(t, err)
	assert.Empty(t, out, "nothing left to enrol: nothing said")

	// The other organisations' CA servers are not running.
	_, err = run(t, e, "enroll")
	assert.ErrorContains(t, err, "enrolment: ")
	err = func() error { _, err := run(t, e, "crls"); return err }()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CRL of ca-recycler: ")
	assert.NotContains(t, err.Error(), "CRL of ca-maker", "the maker's CA answered")
	_, err = os.Stat(filepath.Join(e.home, "crypto", "peerOrganizations", "maker.mtrace.local", "msp", pki.CRLFile))
	assert.NoError(t, err)

	out, err = run(t, e, "certs")
	require.NoError(t, err)
	assert.Contains(t, out, "WARNING ", "the fake CA's certificates last a day")
	assert.Contains(t, out, "expire within 30 days; the first to expire:")
	out, err = run(t, e, "certs", "--within", "1h", "--all")
	require.NoError(t, err)
	assert.NotContains(t, out, "WARNING")
	assert.GreaterOrEqual(t, strings.Count(out, "\n"), 6, "every certificate is listed")
}

func TestPrintCerts(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cs := []pki.Cert{
		{Path: "crypto/a/tls/server.crt", Subject: "peer0", Kind: "TLS", NotAfter: now.Add(-day)},
		{Path: "crypto/b/msp/signcerts/u.pem", Subject: "User1", Kind: "user", NotAfter: now.Add(10 * day)},
		{Path: "crypto/c/ca/ca.pem", Subject: "ca", Kind: "CA", NotAfter: now.Add(400 * day)},
	}
	root := newRoot(&env{})
	var out bytes.Buffer
	root.SetOut(&out)
	require.NoError(t, printCerts(root, cs, now, 30*day, false))
	assert.Equal(t, "WARNING TLS            peer0                                    expires 2026-12-05 (expired)  crypto/a/tls/server.crt\n"+
		"WARNING user           User1                                    expires 2026-12-16 (10 days)  crypto/b/msp/signcerts/u.pem\n"+
		"certificates: 3, 2 expire within 30 days; the first to expire:\n"+
		"  TLS            peer0                                    expires 2026-12-05 (expired)  crypto/a/tls/server.crt\n", out.String())
	out.Reset()
	require.NoError(t, printCerts(root, nil, now, 30*day, false))
	assert.Equal(t, "certificates: none found\n", out.String())
	out.Reset()
	require.NoError(t, printCerts(root, cs, now, day, true))
	assert.Equal(t, 4, strings.Count(out.String(), "\n"), "one warning, then all three")
}

func TestFabricConfigNeedsTheToolsModule(t *testing.T) {
	e := network(t)
	_, err := run(t, e, "fabric-config", "--tools", filepath.Join(t.TempDir(), "none"), "--builder", "/b")
	assert.ErrorContains(t, err, "locating the Fabric module (sampleconfig) from ")
	_, err = run(t, e, "fabric-config", "--builder", "/b")
	assert.ErrorContains(t, err, `required flag(s) "tools" not set`)
}

// The single-machine network's genesis block is network/member's,
// built from every organisation's card as the members on their own
// hosts build it.
func TestGenesisFromEveryOrganisationsCard(t *testing.T) {
	e := network(t)
	_, err := run(t, e, "genesis")
	assert.ErrorContains(t, err, "not enrolled yet", "no identities, no cards")
	_, err = os.Stat(filepath.Join(e.home, "artifacts", "circular.block"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written")

	e = enrolled(t)
	_, err = run(t, e, "genesis")
	require.NoError(t, err)
	top, err := e.topology()
	require.NoError(t, err)
	var cards []*member.Card
	for _, o := range top.Organisations {
		c, err := member.ReadCard(filepath.Join(e.home, "artifacts", "cards", o.Node+".member.json"))
		require.NoError(t, err, "each organisation's card is kept, as founders mail them")
		assert.Equal(t, o.MSP, c.MSPID)
		assert.Equal(t, member.Endpoint{Host: "127.0.0.1", Port: 27100 + o.Slot}, c.Peer)
		assert.Equal(t, member.Endpoint{Host: "127.0.0.1", Port: 27000 + o.Slot}, c.Orderer.Endpoint)
		cards = append(cards, c)
	}
	b, err := member.ReadBlock(filepath.Join(e.home, "artifacts", "circular.block"))
	require.NoError(t, err)
	want, err := member.Genesis("circular", cards)
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, b), "the block is Genesis of the cards")
	s, err := member.InspectBlock(b)
	require.NoError(t, err)
	assert.Equal(t, "BFT", s.Consensus)
	assert.Len(t, s.Consenters, 4)
	assert.Empty(t, s.CompareCards(cards))

	// The profiles pin that block's hash.
	_, err = run(t, e, "profiles")
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(e.home, "artifacts", "circular.block"))
	require.NoError(t, err)
	hash, err := configblock.GenesisHash(raw)
	require.NoError(t, err)
	prof, err := os.ReadFile(filepath.Join(e.home, "config.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(prof), "genesis: "+hash)

	// A benchmark's Raft network: the same cards, etcdraft consenters.
	top.Consensus = topology.ConsensusRaft
	require.NoError(t, top.Save(e.topoPath))
	_, err = run(t, e, "genesis")
	require.NoError(t, err)
	b, err = member.ReadBlock(filepath.Join(e.home, "artifacts", "circular.block"))
	require.NoError(t, err)
	s, err = member.InspectBlock(b)
	require.NoError(t, err)
	assert.Equal(t, "etcdraft", s.Consensus)
}
