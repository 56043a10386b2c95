package member

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/channel"
)

// fakePeer is a peer CLI written into a folder of the test's: each run
// records its arguments (calls/<n>.args, one a line), its CORE_PEER_*
// and FABRIC_* environment (calls/<n>.env) and a copy of every .pem file
// it is given (calls/<n>.<file name>), and answers the subcommand X of
// "lifecycle chaincode X", "channel X" or "chaincode X" from answers/:
// X.out on stdout, X.err on stderr, exit status X.rc (0 when none), or
// from X@ADDR.* when sent to the orderer at ADDR (-o ADDR) and those are
// set.
type fakePeer struct {
	bin, dir string
}

const fakePeerScript = `#!/bin/sh
dir='@DIR@'
n=$(($(cat "$dir/count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$dir/count"
printf '%s\n' "$@" >"$dir/calls/$n.args"
env | grep -E '^(CORE_PEER_|FABRIC_)' | sort >"$dir/calls/$n.env"
for a in "$@"; do
	case $a in *.pem) cp "$a" "$dir/calls/$n.$(basename "$a")" ;; esac
done
if [ "$1" = lifecycle ]; then key=$3; else key=$2; fi
o=
prev=
for x in "$@"; do
	[ "$prev" = -o ] && o=$x
	prev=$x
done
a="$dir/answers/$key"
[ -n "$o" ] && [ -f "$dir/answers/$key@$o.rc" ] && a="$dir/answers/$key@$o"
[ -f "$a.out" ] && cat "$a.out"
[ -f "$a.err" ] && cat "$a.err" >&2
[ -f "$a.rc" ] && exit "$(cat "$a.rc")"
exit 0
`

func newFakePeer(t *testing.T) *fakePeer {
	t.Helper()
	p := &fakePeer{dir: t.TempDir()}
	p.bin = filepath.Join(p.dir, "peer")
	for _, d := range []string{"calls", "answers"} {
		require.NoError(t, os.Mkdir(filepath.Join(p.dir, d), 0o755))
	}
	require.NoError(t, os.WriteFile(p.bin, []byte(strings.ReplaceAll(fakePeerScript, "@DIR@", p.dir)), 0o755))
	return p
}

// answer sets how the peer answers subcommand sub.
func (p *fakePeer) answer(t *testing.T, sub, stdout, stderr string, rc int) {
	t.Helper()
	a := filepath.Join(p.dir, "answers", sub)
	require.NoError(t, os.WriteFile(a+".out", []byte(stdout), 0o644))
	require.NoError(t, os.WriteFile(a+".err", []byte(stderr), 0o644))
	require.NoError(t, os.WriteFile(a+".rc", []byte(strconv.Itoa(rc)), 0o644))
}

// answerAt sets how the peer answers subcommand sub sent through the
// orderer at addr.
func (p *fakePeer) answerAt(t *testing.T, sub, addr, stdout, stderr string, rc int) {
	t.Helper()
	p.answer(t, sub+"@"+addr, stdout, stderr, rc)
}

// peerRun is one recorded run of the fake peer.
type peerRun struct {
	args  []string
	env   map[string]string
	files map[string]string // .pem file name -> content
}

// runs are the runs so far, in order.
func (p *fakePeer) runs(t *testing.T) []peerRun {
	t.Helper()
	var out []peerRun
	for n := 1; ; n++ {
		pre := filepath.Join(p.dir, "calls", strconv.Itoa(n))
		raw, err := os.ReadFile(pre + ".args")
		if os.IsNotExist(err) {
			return out
		}
		require.NoError(t, err)
		r := peerRun{args: strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n"), env: map[string]string{}, files: map[string]string{}}
		env, err := os.ReadFile(pre + ".env")
		require.NoError(t, err)
		for _, l := range strings.Split(strings.TrimSpace(string(env)), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				r.env[k] = v
			}
		}
		files, err := filepath.Glob(pre + ".*.pem")
		require.NoError(t, err)
		for _, f := range files {
			c, err := os.ReadFile(f)
			require.NoError(t, err)
			r.files[strings.TrimPrefix(filepath.Base(f), strconv.Itoa(n)+".")] = string(c)
		}
		out = append(out, r)
	}
}

// subcommands are the runs' first three arguments, joined.
func subcommands(runs []peerRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, strings.Join(r.args[:min(3, len(r.args))], " "))
	}
	return out
}

// wantEnv is the environment the peer CLI runs with for h: as h's admin,
// against h's own peer, over mutual TLS (and the caller's
// FABRIC_CFG_PATH, if any).
func wantEnv(h *Home) map[string]string {
	tls := filepath.Join(h.AdminDir(), "tls")
	env := map[string]string{
		"FABRIC_LOGGING_SPEC":              "warning",
		"CORE_PEER_LOCALMSPID":             h.MSPID,
		"CORE_PEER_MSPCONFIGPATH":          filepath.Join(h.AdminDir(), "msp"),
		"CORE_PEER_ADDRESS":                net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Peer)),
		"CORE_PEER_TLS_ENABLED":            "true",
		"CORE_PEER_TLS_ROOTCERT_FILE":      filepath.Join(tls, "ca.crt"),
		"CORE_PEER_TLS_CLIENTAUTHREQUIRED": "true",
		"CORE_PEER_TLS_CLIENTCERT_FILE":    filepath.Join(tls, "client.crt"),
		"CORE_PEER_TLS_CLIENTKEY_FILE":     filepath.Join(tls, "client.key"),
	}
	if v := os.Getenv("FABRIC_CFG_PATH"); v != "" {
		env["FABRIC_CFG_PATH"] = v
	}
	return env
}

// wantOrdererArgs are the flags that point the peer CLI at h's orderer.
func wantOrdererArgs(h *Home) []string {
	tls := filepath.Join(h.AdminDir(), "tls")
	return []string{"-o", net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Orderer)), "--ordererTLSHostnameOverride", h.OrdererHost(),
		"--tls", "--cafile", filepath.Join(tls, "ca.crt"), "--clientauth",
		"--certfile", filepath.Join(tls, "client.crt"), "--keyfile", filepath.Join(tls, "client.key")}
}

// testHome is an organisation's folder on 127.0.0.1, with no process of
// its own; the peer CLI's environment is the test's.
func testHome(t *testing.T) *Home {
	t.Helper()
	s := Settings{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: "Kaunas", Host: "127.0.0.1"}
	s.Normalize()
	require.NoError(t, s.Validate())
	t.Setenv("FABRIC_LOGGING_SPEC", "")
	t.Setenv("FABRIC_CFG_PATH", "/etc/hyperledger/fabric")
	return &Home{Dir: t.TempDir(), Settings: s}
}

func definition() *Definition {
	return &Definition{Format: DefinitionFormat, Channel: "circular", Name: "mtrace", Version: "3f2a", Sequence: 2,
		PackageID: "mtrace:" + hex.EncodeToString(make([]byte, 32))}
}

// Install asks the peer what it has installed and installs the package
// only when the peer lacks it.
func TestInstallInstallsOnlyWhatThePeerLacks(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	ctx := context.Background()
	pkg := writePackage(t, map[string]string{"metadata.json": `{"type":"mtrace-binary","label":"mtrace"}`, "code.tar.gz": "x"})
	want, err := PackageID(pkg)
	require.NoError(t, err)

	p.answer(t, "queryinstalled", `{"installed_chaincodes":[{"package_id":"other:`+strings.Repeat("0", 64)+`","label":"other"}]}`, "", 0)
	id, already, err := h.Install(ctx, p.bin, pkg)
	require.NoError(t, err)
	assert.Equal(t, want, id)
	assert.False(t, already)
	runs := p.runs(t)
	require.Len(t, runs, 2)
	assert.Equal(t, []string{"lifecycle", "chaincode", "queryinstalled", "-O", "json"}, runs[0].args)
	assert.Equal(t, []string{"lifecycle", "chaincode", "install", pkg}, runs[1].args)
	assert.Equal(t, wantEnv(h), runs[1].env)
	assert.Equal(t, "/etc/hyperledger/fabric", runs[1].env["FABRIC_CFG_PATH"], "the caller's is kept")

	p.answer(t, "queryinstalled", `{"installed_chaincodes":[{"package_id":"`+want+`","label":"mtrace"}]}`, "", 0)
	id, already, err = h.Install(ctx, p.bin, pkg)
	require.NoError(t, err)
	assert.Equal(t, want, id)
	assert.True(t, already)
	assert.Len(t, p.runs(t), 3, "nothing installed twice")
}

func TestInstallFailures(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	ctx := context.Background()
	pkg := writePackage(t, map[string]string{"metadata.json": `{"type":"mtrace-binary","label":"mtrace"}`, "code.tar.gz": "x"})

	_, _, err := h.Install(ctx, p.bin, filepath.Join(t.TempDir(), "none.tar.gz"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Empty(t, p.runs(t), "a package that cannot be read is not offered to the peer")

	p.answer(t, "queryinstalled", "", "Error: failed to retrieve installed chaincodes: connection refused\n", 1)
	_, _, err = h.Install(ctx, p.bin, pkg)
	assert.EqualError(t, err, "peer [lifecycle chaincode queryinstalled -O json]: exit status 1: Error: failed to retrieve installed chaincodes: connection refused")

	p.answer(t, "queryinstalled", "Installed chaincodes on peer:\n", "", 0)
	_, _, err = h.Install(ctx, p.bin, pkg)
	assert.ErrorContains(t, err, "queryinstalled: invalid character")

	p.answer(t, "queryinstalled", `{}`, "", 0)
	p.answer(t, "install", "", "Error: chaincode install failed with status: 500 - access denied\n", 1)
	id, already, err := h.Install(ctx, p.bin, pkg)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode install "+pkg+"]: exit status 1: Error: chaincode install failed with status: 500 - access denied")
	assert.NotEmpty(t, id)
	assert.False(t, already)

	_, _, err = h.Install(ctx, filepath.Join(t.TempDir(), "no-peer"), pkg)
	assert.ErrorContains(t, err, "no such file")
}

// Without FABRIC_CFG_PATH, the peer CLI reads the organisation's own
// core.yaml when it has one.
func TestThePeerCLIReadsTheOrganisationsCoreYAML(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	require.NoError(t, os.Unsetenv("FABRIC_CFG_PATH"))
	p.answer(t, "list", "", "", 0)
	p.answer(t, "join", "", "", 0)
	genesis := oneOrgGenesis(t)

	_, err := h.JoinPeer(context.Background(), p.bin, genesis)
	require.NoError(t, err)
	_, ok := p.runs(t)[0].env["FABRIC_CFG_PATH"]
	assert.False(t, ok, "no core.yaml, no FABRIC_CFG_PATH")

	require.NoError(t, writeFile(filepath.Join(h.ConfigDir(NodePeer), "core.yaml"), []byte("peer: {}\n"), 0o644))
	_, err = h.JoinPeer(context.Background(), p.bin, genesis)
	require.NoError(t, err)
	assert.Equal(t, h.ConfigDir(NodePeer), p.runs(t)[2].env["FABRIC_CFG_PATH"])
}

// oneOrgGenesis writes the genesis block of channel circular of one
// organisation and returns its file.
func oneOrgGenesis(t *testing.T) string {
	t.Helper()
	orgs, mail := consortium(t, "kaunas")
	b, err := Genesis("circular", []*Card{orgs["kaunas"].Card})
	require.NoError(t, err)
	f := filepath.Join(mail, "genesis.block")
	require.NoError(t, WriteBlock(f, b))
	return f
}

// JoinPeer joins the peer to the block's channel unless the peer lists
// the channel already.
func TestJoinPeerJoinsOnce(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	ctx := context.Background()
	genesis := oneOrgGenesis(t)

	p.answer(t, "list", "Channels peers has joined: \nother\n", "", 0)
	p.answer(t, "join", "", "", 0)
	joined, err := h.JoinPeer(ctx, p.bin, genesis)
	require.NoError(t, err)
	assert.True(t, joined)
	runs := p.runs(t)
	require.Len(t, runs, 2)
	assert.Equal(t, []string{"channel", "list"}, runs[0].args)
	assert.Equal(t, []string{"channel", "join", "-b", genesis}, runs[1].args)
	assert.Equal(t, wantEnv(h), runs[1].env)

	p.answer(t, "list", "Channels peers has joined: \nother\ncircular\n", "", 0)
	joined, err = h.JoinPeer(ctx, p.bin, genesis)
	require.NoError(t, err)
	assert.False(t, joined)
	assert.Equal(t, []string{"channel list", "channel join -b", "channel list"}, subcommands(p.runs(t)))

	p.answer(t, "list", "", "", 0)
	p.answer(t, "join", "", "Error: proposal failed (err: bad proposal response 500: cannot create ledger from genesis block: ledger [circular] already exists)\n", 1)
	joined, err = h.JoinPeer(ctx, p.bin, genesis)
	assert.False(t, joined)
	assert.ErrorContains(t, err, "peer [channel join -b "+genesis+"]: exit status 1: Error: proposal failed")

	p.answer(t, "list", "", "Error: error getting endorser client for channel: connection refused\n", 1)
	_, err = h.JoinPeer(ctx, p.bin, genesis)
	assert.ErrorContains(t, err, "peer [channel list]: exit status 1: Error: error getting endorser client")

	notBlock := filepath.Join(t.TempDir(), "x.block")
	require.NoError(t, os.WriteFile(notBlock, []byte("not a block"), 0o644))
	n := len(p.runs(t))
	_, err = h.JoinPeer(ctx, p.bin, notBlock)
	assert.ErrorContains(t, err, notBlock)
	_, err = h.JoinPeer(ctx, p.bin, filepath.Join(t.TempDir(), "none.block"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Len(t, p.runs(t), n, "a bad block file is not given to the peer")
}

// Approve approves the definition for the organisation through its peer
// and orderer, once, and refuses a sequence already committed.
func TestApprove(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()
	d.SignaturePolicy = "OR('KaunasMSP.peer')"
	notDefined := "Error: query failed with status: 404 - namespace mtrace is not defined\n"

	p.answer(t, "querycommitted", "", notDefined, 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"KaunasMSP":false,"LeuvenMSP":true}}`, "", 0)
	already, err := h.Approve(ctx, p.bin, d)
	require.NoError(t, err)
	assert.False(t, already)
	runs := p.runs(t)
	require.Len(t, runs, 3)
	assert.Equal(t, []string{"lifecycle", "chaincode", "querycommitted", "-C", "circular", "-n", "mtrace", "-O", "json"}, runs[0].args)
	def := []string{"-C", "circular", "-n", "mtrace", "--version", "3f2a", "--sequence", "2", "--signature-policy", "OR('KaunasMSP.peer')"}
	assert.Equal(t, slices.Concat([]string{"lifecycle", "chaincode", "checkcommitreadiness", "-O", "json"}, def), runs[1].args)
	assert.Equal(t, slices.Concat([]string{"lifecycle", "chaincode", "approveformyorg"}, wantOrdererArgs(h), def,
		[]string{"--package-id", d.PackageID, "--waitForEventTimeout", "30s"}), runs[2].args)
	assert.Equal(t, wantEnv(h), runs[2].env)

	// Approved already: nothing more.
	p.answer(t, "checkcommitreadiness", `{"approvals":{"KaunasMSP":true,"LeuvenMSP":true}}`, "", 0)
	already, err = h.Approve(ctx, p.bin, d)
	require.NoError(t, err)
	assert.True(t, already)
	assert.Equal(t, "lifecycle chaincode checkcommitreadiness", subcommands(p.runs(t))[4])
	assert.Len(t, p.runs(t), 5)

	// Committed already, as defined (and approved by this organisation,
	// should the peer be asked): nothing to do.
	p.answer(t, "querycommitted", `{"sequence":2,"version":"3f2a","endorsement_plugin":"escc"}`, "", 0)
	p.answer(t, "queryapproved", `{"sequence":2,"version":"3f2a","source":{"Type":{"LocalPackage":{"package_id":"`+d.PackageID+`"}}}}`, "", 0)
	already, err = h.Approve(ctx, p.bin, d)
	require.NoError(t, err)
	assert.True(t, already)

	// The sequence is taken by another version: define the next one.
	p.answer(t, "querycommitted", `{"sequence":2,"version":"9e1b"}`, "", 0)
	_, err = h.Approve(ctx, p.bin, d)
	assert.EqualError(t, err, "sequence 2 of mtrace is committed already (version 9e1b): define sequence 3")
	p.answer(t, "querycommitted", `{"sequence":3,"version":"9e1b"}`, "", 0)
	_, err = h.Approve(ctx, p.bin, d)
	assert.EqualError(t, err, "sequence 3 of mtrace is committed already (version 9e1b): define sequence 4")
	approvals := 0
	for _, sub := range subcommands(p.runs(t)) {
		if sub == "lifecycle chaincode approveformyorg" {
			approvals++
		}
	}
	assert.Equal(t, 1, approvals, "approved once, the first time only")
}

// Under SmartBFT an orderer may take a transaction and never order it:
// when the peer does not see it in time, it goes through each other
// consenter in turn until it is in force.
func TestApproveGoesThroughAnotherConsenterWhenItsOwnOrdererHoldsIt(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()
	own := net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Orderer))
	cs, err := channel.Consenters(n.cfg)
	require.NoError(t, err)
	var others []string // in the configuration's order
	msp := map[string]string{}
	for _, c := range cs {
		if a := net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))); a != own {
			others = append(others, a)
			msp[a] = c.MspId
		}
	}
	require.Len(t, others, 3)
	stuck := "Error: timed out waiting for txid on all peers\n"
	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"RecyclerMSP":false}}`, "", 0)
	p.answer(t, "queryapproved", "", "Error: could not fetch approved chaincode definition (name: 'mtrace', sequence: '2') on channel 'circular'\n", 1)
	p.answer(t, "approveformyorg", "", "", 0)
	p.answerAt(t, "approveformyorg", own, "", stuck, 1)
	p.answerAt(t, "approveformyorg", others[0], "", stuck, 1)

	already, err := h.Approve(ctx, p.bin, d)
	require.NoError(t, err)
	assert.False(t, already)
	runs := p.runs(t)
	assert.Equal(t, []string{"lifecycle chaincode querycommitted", "lifecycle chaincode checkcommitreadiness",
		"lifecycle chaincode approveformyorg", "lifecycle chaincode queryapproved", "lifecycle chaincode approveformyorg",
		"lifecycle chaincode queryapproved", "lifecycle chaincode approveformyorg"}, subcommands(runs))
	for i, want := range map[int]string{2: own, 4: others[0], 6: others[1]} {
		assert.Equal(t, []string{"-o", want}, runs[i].args[3:5], "run %d", i)
	}
	tls := filepath.Join(h.AdminDir(), "tls")
	for _, i := range []int{4, 6} {
		r := runs[i]
		a := r.args[4]
		f := msp[a] + ".pem"
		assert.Equal(t, slices.Concat([]string{"--tls", "--cafile"}, []string{r.args[7]}, []string{"--clientauth",
			"--certfile", filepath.Join(tls, "client.crt"), "--keyfile", filepath.Join(tls, "client.key")}), r.args[5:13])
		assert.Equal(t, f, filepath.Base(r.args[7]))
		for _, o := range n.orgs {
			if o.MSPID == msp[a] {
				assert.Equal(t, o.Card.TLSRootCert, r.files[f], "the other orderer is trusted by its organisation's TLS roots")
			}
		}
	}

	// In force after the first try went nowhere visible: no second send.
	p = newFakePeer(t)
	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"RecyclerMSP":false}}`, "", 0)
	p.answer(t, "queryapproved", `{"source":{"Type":{"LocalPackage":{"package_id":"`+d.PackageID+`"}}}}`, "", 0)
	p.answerAt(t, "approveformyorg", own, "", stuck, 1)
	_, err = h.Approve(ctx, p.bin, d)
	require.NoError(t, err)
	assert.Equal(t, []string{"lifecycle chaincode querycommitted", "lifecycle chaincode checkcommitreadiness",
		"lifecycle chaincode approveformyorg", "lifecycle chaincode queryapproved"}, subcommands(p.runs(t)))

	// Stuck everywhere: the first error.
	p = newFakePeer(t)
	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"RecyclerMSP":false}}`, "", 0)
	p.answer(t, "queryapproved", "", "Error: could not fetch approved chaincode definition\n", 1)
	p.answer(t, "approveformyorg", "", stuck, 1)
	_, err = h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "-o "+own)
	assert.ErrorContains(t, err, "timed out waiting for txid")
	assert.Len(t, p.runs(t), 2+4+3, "its own orderer and the three others, each checked first")

	// A refusal is not retried.
	p = newFakePeer(t)
	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"RecyclerMSP":false}}`, "", 0)
	p.answer(t, "approveformyorg", "", "Error: proposal failed with status: 500 - access denied\n", 1)
	_, err = h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "access denied")
	assert.Len(t, p.runs(t), 3)
}

func TestApproveFailures(t *testing.T) {
	h := testHome(t)
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()

	p.answer(t, "querycommitted", "", "Error: failed to create deliver client: connection refused\n", 1)
	_, err := h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode querycommitted -C circular -n mtrace -O json]: exit status 1: Error: failed to create deliver client")

	p.answer(t, "querycommitted", "Committed chaincode definition for chaincode 'mtrace'", "", 0)
	_, err = h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "querycommitted: invalid character")

	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", "", "Error: access denied\n", 1)
	_, err = h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode checkcommitreadiness -O json -C circular")
	assert.ErrorContains(t, err, "Error: access denied")

	p.answer(t, "checkcommitreadiness", "Chaincode definition for chaincode 'mtrace'", "", 0)
	_, err = h.Approve(ctx, p.bin, d)
	assert.ErrorContains(t, err, "checkcommitreadiness: invalid character")

	p.answer(t, "checkcommitreadiness", `{"approvals":{}}`, "", 0)
	p.answer(t, "approveformyorg", "", "Error: proposal failed with status: 500 - failed to invoke backing implementation of 'ApproveChaincodeDefinitionForMyOrg': attempted to redefine uncommitted sequence\n", 1)
	already, err := h.Approve(ctx, p.bin, d)
	assert.False(t, already)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode approveformyorg")
	assert.ErrorContains(t, err, "attempted to redefine uncommitted sequence")
}

// Commit commits once a majority of the channel's organisations (from
// the configuration in force, read from the organisation's orderer)
// approved, endorsed by the approvers' anchor peers with their TLS roots.
func TestCommitIsEndorsedByTheApproversAnchorPeers(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()
	p.answer(t, "querycommitted", "", "Error: query failed with status: 404 - namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"CertifierMSP":false,"IstanbulMSP":true,"MakerMSP":true,"RecyclerMSP":true,"ZetaMSP":true}}`, "", 0)

	already, err := h.Commit(ctx, p.bin, d)
	require.NoError(t, err)
	assert.False(t, already)
	runs := p.runs(t)
	require.Len(t, runs, 3)
	assert.Equal(t, []string{"lifecycle chaincode querycommitted", "lifecycle chaincode checkcommitreadiness", "lifecycle chaincode commit"}, subcommands(runs))
	c := runs[2]
	want := slices.Concat([]string{"lifecycle", "chaincode", "commit"}, wantOrdererArgs(h),
		[]string{"-C", "circular", "-n", "mtrace", "--version", "3f2a", "--sequence", "2"})
	require.Greater(t, len(c.args), len(want))
	assert.Equal(t, want, c.args[:len(want)])
	rest := c.args[len(want):]
	var peers, roots []string
	for i := 0; i+1 < len(rest); i += 2 {
		switch rest[i] {
		case "--peerAddresses":
			peers = append(peers, rest[i+1])
		case "--tlsRootCertFiles":
			roots = append(roots, filepath.Base(rest[i+1]))
			_, err := os.Stat(rest[i+1])
			assert.ErrorIs(t, err, os.ErrNotExist, "the TLS root files are removed after the commit")
		default:
			assert.Equal(t, []string{"--waitForEventTimeout", "30s"}, rest[i:])
		}
	}
	addr := func(node string) string { return n.orgs[node].Card.Peer.String() }
	assert.Equal(t, []string{addr("istanbul"), addr("maker"), addr("recycler")}, peers,
		"the approvers' anchor peers, in MSP ID order; an approval by an organisation outside the channel does not count")
	assert.Equal(t, []string{"IstanbulMSP.pem", "MakerMSP.pem", "RecyclerMSP.pem"}, roots)
	for _, node := range []string{"istanbul", "maker", "recycler"} {
		assert.Equal(t, n.orgs[node].Card.TLSRootCert, c.files[n.orgs[node].MSPID+".pem"], "%s's TLS roots from the channel", node)
	}
	assert.Equal(t, wantEnv(h), c.env)
	assert.NotEmpty(t, n.orderers["recycler"].Seeks(), "the configuration is read from the organisation's own orderer")
}

func TestCommitNeedsAMajorityAndNamesTheMissing(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()
	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"CertifierMSP":false,"IstanbulMSP":true,"MakerMSP":false,"RecyclerMSP":true}}`, "", 0)

	already, err := h.Commit(ctx, p.bin, d)
	assert.False(t, already)
	var na *NotApprovedError
	require.ErrorAs(t, err, &na)
	assert.Equal(t, 3, na.Need)
	assert.Equal(t, []string{"IstanbulMSP", "RecyclerMSP"}, na.Approved)
	assert.Equal(t, []string{"CertifierMSP", "MakerMSP"}, na.Missing)
	assert.EqualError(t, err, "the definition needs the approval of 3 organisations (MAJORITY of the channel's); approved by IstanbulMSP, RecyclerMSP; 1 more needed from: CertifierMSP, MakerMSP")
	assert.NotContains(t, subcommands(p.runs(t)), "lifecycle chaincode commit")

	p.answer(t, "checkcommitreadiness", `{"approvals":{}}`, "", 0)
	_, err = h.Commit(ctx, p.bin, d)
	assert.ErrorContains(t, err, "approved by none; 3 more needed from: CertifierMSP, IstanbulMSP, MakerMSP, RecyclerMSP")
	assert.NotContains(t, subcommands(p.runs(t)), "lifecycle chaincode commit")
}

func TestCommitOnceAndFailures(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()
	d := definition()

	p.answer(t, "querycommitted", `{"sequence":2,"version":"3f2a"}`, "", 0)
	already, err := h.Commit(ctx, p.bin, d)
	require.NoError(t, err)
	assert.True(t, already)
	assert.Len(t, p.runs(t), 1, "a committed definition is not committed again")
	assert.Empty(t, n.orderers["recycler"].Seeks())

	p.answer(t, "querycommitted", `{"sequence":2,"version":"0000"}`, "", 0)
	_, err = h.Commit(ctx, p.bin, d)
	assert.EqualError(t, err, "sequence 2 of mtrace is committed already (version 0000)")

	p.answer(t, "querycommitted", "", "Error: connection refused\n", 1)
	_, err = h.Commit(ctx, p.bin, d)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode querycommitted")

	p.answer(t, "querycommitted", "", "Error: namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"CertifierMSP":true,"IstanbulMSP":true,"MakerMSP":true,"RecyclerMSP":true}}`, "", 0)
	p.answer(t, "commit", "", "Error: transaction invalidated with status (ENDORSEMENT_POLICY_FAILURE)\n", 1)
	already, err = h.Commit(ctx, p.bin, d)
	assert.False(t, already)
	assert.ErrorContains(t, err, "peer [lifecycle chaincode commit")
	assert.ErrorContains(t, err, "ENDORSEMENT_POLICY_FAILURE")

	p.answer(t, "checkcommitreadiness", "", "Error: access denied\n", 1)
	_, err = h.Commit(ctx, p.bin, d)
	assert.ErrorContains(t, err, "Error: access denied")

	// The orderer does not serve the channel.
	other := *d
	other.Channel = "elsewhere"
	before := len(p.runs(t))
	_, err = h.Commit(ctx, p.bin, &other)
	assert.Error(t, err)
	assert.NotContains(t, subcommands(p.runs(t)[before:]), "lifecycle chaincode commit")
}

// Bootstrap writes the first participant registry through BootstrapRegistry,
// endorsed by every member's anchor peer, and takes the chaincode's
// refusal of a second bootstrap as done.
func TestBootstrapInvokesTheRegistryWithEveryMembersPeer(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()
	cards := cardsOf(n.orgs, founders...)
	cards[0].Role, cards[1].Role, cards[2].Role, cards[3].Role = "collector", "recycler", "maker", "auditor"

	p.answer(t, "invoke", "", "2026-12-06 07:00:00.000 UTC 0001 INFO [chaincodeCmd] chaincodeInvokeOrQuery -> Chaincode invoke successful. result: status:200\n", 0)
	already, err := h.Bootstrap(ctx, p.bin, "circular", "mtrace", cards)
	require.NoError(t, err)
	assert.False(t, already)
	runs := p.runs(t)
	require.Len(t, runs, 1)
	r := runs[0]
	want := slices.Concat([]string{"chaincode", "invoke"}, wantOrdererArgs(h), []string{"-C", "circular", "-n", "mtrace", "-c"})
	require.Greater(t, len(r.args), len(want)+2)
	assert.Equal(t, want, r.args[:len(want)])
	var call struct {
		Function string   `json:"function"`
		Args     []string `json:"Args"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.args[len(want)]), &call))
	assert.Equal(t, api.BootstrapRegistry, call.Function)
	require.Len(t, call.Args, 1)
	var ps []model.Participant
	require.NoError(t, json.Unmarshal([]byte(call.Args[0]), &ps))
	assert.Equal(t, []model.Participant{
		{MSP: "IstanbulMSP", Role: "collector", Name: "istanbul recyclers"},
		{MSP: "RecyclerMSP", Role: "recycler", Name: "recycler recyclers"},
		{MSP: "MakerMSP", Role: "maker", Name: "maker recyclers"},
		{MSP: "CertifierMSP", Role: "auditor", Name: "certifier recyclers"},
	}, ps)
	rest := r.args[len(want)+1:]
	assert.Equal(t, []string{"--waitForEvent", "--waitForEventTimeout", "30s"}, rest[:3])
	var peers, roots []string
	for i := 3; i+1 < len(rest); i += 2 {
		switch rest[i] {
		case "--peerAddresses":
			peers = append(peers, rest[i+1])
		case "--tlsRootCertFiles":
			roots = append(roots, filepath.Base(rest[i+1]))
		default:
			t.Errorf("unexpected argument %q", rest[i])
		}
	}
	assert.Equal(t, []string{n.orgs["certifier"].Card.Peer.String(), n.orgs["istanbul"].Card.Peer.String(),
		n.orgs["maker"].Card.Peer.String(), n.orgs["recycler"].Card.Peer.String()}, peers, "every member's anchor peer, in MSP ID order")
	assert.Equal(t, []string{"CertifierMSP.pem", "IstanbulMSP.pem", "MakerMSP.pem", "RecyclerMSP.pem"}, roots)
	assert.Equal(t, n.orgs["maker"].Card.TLSRootCert, r.files["MakerMSP.pem"])

	p.answer(t, "invoke", "", "Error: endorsement failure during invoke. response: status:500 message:\"registry already bootstrapped\"\n", 1)
	already, err = h.Bootstrap(ctx, p.bin, "circular", "mtrace", cards)
	require.NoError(t, err)
	assert.True(t, already)

	p.answer(t, "invoke", "", "Error: endorsement failure during invoke. response: status:500 message:\"caller is not an admin\"\n", 1)
	_, err = h.Bootstrap(ctx, p.bin, "circular", "mtrace", cards)
	assert.ErrorContains(t, err, "peer [chaincode invoke")
	assert.ErrorContains(t, err, "caller is not an admin")
}

func TestBootstrapRefusesBadCardsBeforeAnything(t *testing.T) {
	n := newFakeNet(t)
	h := n.orgs["recycler"].Home
	p := newFakePeer(t)
	ctx := context.Background()

	_, err := h.Bootstrap(ctx, p.bin, "circular", "mtrace", nil)
	assert.EqualError(t, err, "the registry needs the members' cards")
	bad := *n.orgs["maker"].Card
	bad.Role = "banker"
	_, err = h.Bootstrap(ctx, p.bin, "circular", "mtrace", []*Card{n.orgs["recycler"].Card, &bad})
	assert.ErrorContains(t, err, "banker")
	_, err = h.Bootstrap(ctx, p.bin, "circular", "mtrace", []*Card{n.orgs["recycler"].Card, n.orgs["recycler"].Card})
	assert.ErrorContains(t, err, "RecyclerMSP")
	assert.Empty(t, p.runs(t))
	assert.Empty(t, n.orderers["recycler"].Seeks())

	_, err = h.Bootstrap(ctx, p.bin, "elsewhere", "mtrace", cardsOf(n.orgs, founders...))
	assert.Error(t, err, "a channel the orderer does not serve")
	assert.Empty(t, p.runs(t))
}
