//go:build e2e

// Package consortium is the end-to-end test of a consortium of equals
// (issue 19): every member on its own host (a network namespace of the
// netns lab, with its own address and home folder), running its own CA,
// orderer and peer with mtrace-org, holding only its own keys, and
// handing the others files only through the lab's mailbox. It brings its
// own network up and removes it (harness.Suite.Own).
package consortium

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/netns"
)

func TestMain(m *testing.M) { harness.Main(m, "consortium", nil) }

// tools are what every member runs: the repository's bin/ (mtrace-org,
// mtrace, mtrace-cc and the Fabric binaries), Fabric's sample
// configuration and mtrace's external chaincode builder.
type tools struct{ bin, sample, builder string }

func findTools(t *testing.T) tools {
	root, err := harness.Root()
	require.NoError(t, err)
	bin := os.Getenv("MTRACE_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin")
	}
	for _, b := range []string{"mtrace-org", "mtrace", "mtrace-cc", "orderer", "peer", "fabric-ca-server"} {
		require.FileExists(t, filepath.Join(bin, b), "make build and the Fabric binaries (make deps)")
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hyperledger/fabric")
	cmd.Dir = filepath.Join(root, "network", "tools")
	out, err := cmd.Output()
	require.NoError(t, err, "Fabric's sample configuration, from the module network/tools pins")
	return tools{bin: bin, sample: filepath.Join(strings.TrimSpace(string(out)), "sampleconfig"),
		builder: filepath.Join(root, "network", "builder")}
}

// org is one member: its host and its folder there.
type org struct {
	node, msp, role, name string
	host                  *netns.Host
	tools                 tools
}

// home is the organisation's folder, inside the host's home.
func (o *org) home() string { return filepath.Join(o.host.Home(), "org") }

// card is the member card's name in the mailbox and in every home.
func (o *org) card() string { return o.node + ".member.json" }

// run runs mtrace-org inside the host on the organisation's folder.
func (o *org) run(ctx context.Context, args ...string) (string, error) {
	out, err := o.host.Run(ctx, nil, filepath.Join(o.tools.bin, "mtrace-org"),
		append([]string{"--home", o.home(), "--bin", o.tools.bin}, args...)...)
	return string(out), err
}

func (o *org) must(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := o.run(ctx, args...)
	require.NoError(t, err, "%s: mtrace-org %s", o.msp, strings.Join(args, " "))
	t.Logf("%s$ mtrace-org %s\n%s", o.node, strings.Join(args, " "), strings.TrimSpace(out))
	return out
}

// mtrace runs the mtrace CLI inside the host with the profile mtrace-org
// wrote, as profile (the node's: User1; node-admin: the admin), with JSON
// output.
func (o *org) mtrace(ctx context.Context, profile string, args ...string) ([]byte, error) {
	return o.host.Run(ctx, []string{"MTRACE_CONFIG=" + filepath.Join(o.home(), "client", "config.yaml")},
		filepath.Join(o.tools.bin, "mtrace"), append([]string{"-p", profile, "-o", "json"}, args...)...)
}

func (o *org) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	return o.cliAs(t, o.node, args...)
}

// cliAs runs the mtrace CLI with one of the organisation's profiles.
func (o *org) cliAs(t *testing.T, profile string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := o.mtrace(ctx, profile, args...)
	require.NoError(t, err, "%s: mtrace -p %s %s: %s", o.msp, profile, strings.Join(args, " "), out)
	return out
}

// send puts a file of the organisation's folder into the mailbox; take
// copies a letter into the folder.
func (o *org) send(t *testing.T, mail *netns.Mailbox, file, letter string) {
	t.Helper()
	require.NoError(t, mail.Put(o.host, filepath.Join("org", file), letter))
}

func (o *org) take(t *testing.T, mail *netns.Mailbox, letter string) {
	t.Helper()
	require.NoError(t, mail.Take(o.host, letter, filepath.Join("org", letter)))
}

// settings reads the organisation's own settings.
func (o *org) settings(t *testing.T) *member.Home {
	h, err := member.Open(o.home())
	require.NoError(t, err)
	return h
}

// metric reads one gauge of the organisation's orderer's operations
// endpoint, which listens on the host's loopback: the test asks from
// inside the host.
func (o *org) metric(name string) (float64, error) {
	h, err := member.Open(o.home())
	if err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: o.host.DialContext, DisableKeepAlives: true}}
	res, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", h.Ports.OrdererOps))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			f := strings.Fields(l)
			return strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	return 0, fmt.Errorf("%s: no metric %s", o.msp, name)
}

// ordererPID is the organisation's orderer's process, from its PID file.
func (o *org) ordererPID(t *testing.T) int {
	raw, err := os.ReadFile(filepath.Join(o.home(), "pids", "orderer.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.Fields(string(raw))[0])
	require.NoError(t, err)
	return pid
}

const channel = "circular"

func TestConsortiumOfEquals(t *testing.T) {
	tl := findTools(t)
	lab := netns.New(t, "consortium")
	mail := lab.Mailbox("mail")
	founders := []*org{
		{node: "istanbul", msp: "IstanbulMSP", role: "collector", name: "Istanbul municipal waste services"},
		{node: "recycler", msp: "RecyclerMSP", role: "recycler", name: "Marmara Polymer Recycling"},
		{node: "maker", msp: "MakerMSP", role: "maker", name: "Kadikoy Makerspace"},
		{node: "certifier", msp: "CertifierMSP", role: "auditor", name: "Circular Materials Certification"},
	}
	kaunas := &org{node: "kaunas", msp: "KaunasMSP", role: "collector", name: "Kaunas waste services"}
	for _, o := range append(founders, kaunas) {
		o.host, o.tools = lab.AddHost(o.node), tl
	}
	all := append(founders, kaunas)
	// Every member's nodes are stopped by their PID files when the test
	// ends (the lab then removes whatever is left in its namespaces).
	t.Cleanup(func() {
		for _, o := range all {
			if _, err := os.Stat(filepath.Join(o.home(), member.SettingsFile)); err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := o.run(ctx, "node", "stop")
			cancel()
			if err != nil {
				t.Logf("%s: node stop: %v\n%s", o.msp, err, out)
			}
			if t.Failed() {
				keepLogs(t, o)
			}
		}
	})

	// 1. Each member makes its folder on its own host and mails its card.
	t0 := time.Now()
	for _, o := range all {
		o.must(t, "init", "--msp", o.msp, "--node", o.node, "--role", o.role, "--name", o.name, "--host", o.host.Addr().String())
		o.must(t, "export", "--out", filepath.Join(o.home(), o.card()))
		o.send(t, mail, o.card(), o.card())
	}
	t.Logf("five folders and cards in %s", time.Since(t0).Round(time.Millisecond))

	// 2. Each founder takes the founders' cards and checks them; one
	// builds the genesis block and mails it; each other founder builds
	// its own from the cards, compares, and inspects the mailed one.
	var cardArgs []string
	for _, f := range founders {
		cardArgs = append(cardArgs, "--member", f.card())
	}
	for _, o := range founders {
		for _, f := range founders {
			if f != o {
				o.take(t, mail, f.card())
			}
		}
		var files []string
		for _, f := range founders {
			files = append(files, filepath.Join(o.home(), f.card()))
		}
		o.must(t, append([]string{"check"}, files...)...)
	}
	ist := founders[0]
	ist.must(t, append(append([]string{"channel", "genesis", "--channel", channel}, abs(ist, cardArgs)...), "--out", filepath.Join(ist.home(), "genesis.block"))...)
	ist.send(t, mail, "genesis.block", "genesis.block")
	for _, o := range founders[1:] {
		o.take(t, mail, "genesis.block")
		// Building it from the same cards gives the same bytes.
		o.must(t, append(append([]string{"channel", "genesis", "--channel", channel}, abs(o, cardArgs)...), "--out", filepath.Join(o.home(), "own-genesis.block"))...)
		mine, err := os.ReadFile(filepath.Join(o.home(), "own-genesis.block"))
		require.NoError(t, err)
		mailed, err := os.ReadFile(filepath.Join(o.home(), "genesis.block"))
		require.NoError(t, err)
		assert.Equal(t, mailed, mine, "%s builds the same genesis block from the cards", o.msp)
		o.must(t, append([]string{"channel", "inspect", filepath.Join(o.home(), "genesis.block")}, abs(o, cardArgs)...)...)
	}

	// 3. Each founder starts its own nodes and joins them.
	t0 = time.Now()
	for _, o := range founders {
		out := o.must(t, append([]string{"node", "start", "--sample", tl.sample, "--builder", tl.builder}, abs(o, cardArgs)...)...)
		assert.Contains(t, out, "orderer: started")
		out = o.must(t, "node", "start")
		assert.Contains(t, out, "running already", "a second start is a no-op")
	}
	// The orderers join close together (a consenter that joins long
	// after the others meets a view change in progress), then the peers.
	for _, o := range founders {
		o.must(t, "channel", "join", filepath.Join(o.home(), "genesis.block"))
	}
	for _, o := range founders {
		out := o.must(t, "channel", "join", filepath.Join(o.home(), "genesis.block"), "--peer")
		assert.Contains(t, out, "orderer0."+o.node+".mtrace.example has circular", "a second join leaves the orderer as it is")
	}
	for _, o := range founders {
		require.Eventually(t, func() bool {
			out, err := o.run(context.Background(), "channel", "join", filepath.Join(o.home(), "genesis.block"))
			return err == nil && strings.Contains(out, "consenter, active")
		}, 60*time.Second, 500*time.Millisecond, "%s's orderer becomes an active consenter", o.msp)
	}
	waitLeader(t, founders)
	t.Logf("four founders' nodes up and joined, one leader, in %s", time.Since(t0).Round(time.Millisecond))

	// 4. The chaincode: every founder packages the same binary (the same
	// package ID), one mails the definition, each installs and approves,
	// one commits; then the registry from the cards.
	t0 = time.Now()
	var policy []string
	for _, f := range founders {
		policy = append(policy, "'"+f.msp+".peer'")
	}
	for _, o := range founders {
		o.must(t, "chaincode", "package", "--binary", filepath.Join(tl.bin, "mtrace-cc"), "--out", filepath.Join(o.home(), "mtrace.tar.gz"))
	}
	ist.must(t, "chaincode", "define", "--channel", channel, "--name", "mtrace", "--version", "1", "--sequence", "1",
		"--package", filepath.Join(ist.home(), "mtrace.tar.gz"), "--signature-policy", "OutOf(2,"+strings.Join(policy, ",")+")",
		"--out", filepath.Join(ist.home(), "mtrace-1.chaincode"))
	ist.send(t, mail, "mtrace-1.chaincode", "mtrace-1.chaincode")
	for _, o := range founders {
		if o != ist {
			o.take(t, mail, "mtrace-1.chaincode")
		}
		o.must(t, "chaincode", "install", filepath.Join(o.home(), "mtrace.tar.gz"))
		out := o.must(t, "chaincode", "install", filepath.Join(o.home(), "mtrace.tar.gz"))
		assert.Contains(t, out, "installed already")
		// The definition names the package by its ID: each founder's own
		// package must have it.
		o.must(t, "chaincode", "define", "--channel", channel, "--name", "mtrace", "--version", "1", "--sequence", "1",
			"--package", filepath.Join(o.home(), "mtrace.tar.gz"), "--signature-policy", "OutOf(2,"+strings.Join(policy, ",")+")",
			"--out", filepath.Join(o.home(), "mtrace-1.chaincode"))
	}
	for _, o := range founders[:2] {
		o.must(t, "chaincode", "approve", filepath.Join(o.home(), "mtrace-1.chaincode"))
	}
	_, err := ist.run(context.Background(), "chaincode", "commit", filepath.Join(ist.home(), "mtrace-1.chaincode"))
	require.ErrorContains(t, err, "1 more needed", "two approvals of four are not a majority")
	for _, o := range founders[2:] {
		o.must(t, "chaincode", "approve", filepath.Join(o.home(), "mtrace-1.chaincode"))
	}
	ist.must(t, "chaincode", "commit", filepath.Join(ist.home(), "mtrace-1.chaincode"))
	ist.must(t, append([]string{"registry", "bootstrap"}, abs(ist, cardArgs)...)...)
	out := ist.must(t, append([]string{"registry", "bootstrap"}, abs(ist, cardArgs)...)...)
	assert.Contains(t, out, "exists already")
	for _, o := range founders {
		o.must(t, "profile", "--genesis", filepath.Join(o.home(), "genesis.block"))
	}
	t.Logf("chaincode committed and registry bootstrapped in %s", time.Since(t0).Round(time.Millisecond))

	// 5. The story, each member with the mtrace CLI on its own host.
	t0 = time.Now()
	rec, mk, cert := founders[1], founders[2], founders[3]
	var seen []string // every batch a client saw committed
	register := func(o *org, id string) {
		t.Helper()
		o.cli(t, "batch", "register", id, "--material", "PET", "--mass", "1200kg", "--location", "Kadikoy, Istanbul",
			"--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
		seen = append(seen, id)
	}
	register(ist, "col-1")
	ist.cli(t, "batch", "transfer", "col-1", "--to", rec.msp)
	rec.cli(t, "batch", "accept", "col-1", "--received-mass", "1190kg")
	rec.cli(t, "batch", "process", "--step", "extrusion", "--in", "col-1:1190kg", "--out", "spool-1:PET:filament:1000g")
	seen = append(seen, "spool-1")
	rec.cli(t, "batch", "transfer", "spool-1", "--to", mk.msp)
	mk.cli(t, "batch", "accept", "spool-1")
	mk.cli(t, "batch", "process", "--step", "printing", "--in", "spool-1:350g", "--out", "vase-1:PET:product:310g")
	seen = append(seen, "vase-1")
	for _, o := range []*org{mk, cert} {
		raw := o.cli(t, "verify", "vase-1")
		var v struct {
			OK     bool `json:"ok"`
			Checks []struct {
				Name string `json:"name"`
				OK   bool   `json:"ok"`
			} `json:"checks"`
		}
		require.NoError(t, json.Unmarshal(raw, &v), "%s", raw)
		assert.True(t, v.OK, "%s: verify vase-1: %s", o.msp, raw)
		passed := map[string]bool{}
		for _, c := range v.Checks {
			passed[c.Name] = c.OK
		}
		for _, c := range []string{"signatures", "genesis", "orderer-signature", "custody", "mass-balance"} {
			assert.True(t, passed[c], "%s: verify's %s check passes", o.msp, c)
		}
	}
	t.Logf("the story played in %s", time.Since(t0).Round(time.Millisecond))

	// 6. Faults. One orderer killed: commits go on.
	victim := mk
	pid := victim.ordererPID(t)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	t0 = time.Now()
	register(ist, "col-2")
	t.Logf("with %s's orderer killed, a commit in %s", victim.msp, time.Since(t0).Round(time.Millisecond))
	out = victim.must(t, "node", "start", "--orderer")
	assert.Contains(t, out, "orderer: started", "the killed orderer's stale PID file is replaced")

	// The BFT leader frozen: a new leader, commits resume. The killed
	// orderer has caught up first: all four follow one leader.
	leader := waitLeader(t, founders)
	t.Logf("leader: %s's orderer", leader.msp)
	lpid := leader.ordererPID(t)
	require.NoError(t, syscall.Kill(lpid, syscall.SIGSTOP))
	frozen := true
	defer func() {
		if frozen {
			_ = syscall.Kill(lpid, syscall.SIGCONT)
		}
	}()
	// Istanbul, the only collector, registers: its peer's gateway sends
	// to every orderer, so even with its own orderer frozen it commits.
	client := ist
	t0 = time.Now()
	register(client, "col-3")
	t.Logf("with the leader (%s) frozen, a commit in %s", leader.msp, time.Since(t0).Round(time.Millisecond))
	require.NoError(t, syscall.Kill(lpid, syscall.SIGCONT))
	frozen = false
	register(client, "col-4")
	var others []*org
	for _, o := range founders {
		if o != leader {
			others = append(others, o)
		}
	}
	newLeader := waitLeader(t, others)
	assert.NotEqual(t, leader.msp, newLeader.msp, "another orderer leads after the freeze")
	t.Logf("new leader: %s's orderer", newLeader.msp)
	waitHeight(t, founders)

	// One member's host cut off and reconnected: it catches up.
	cut := cert
	require.NoError(t, cut.host.Cut())
	register(ist, "col-5")
	register(ist, "col-6")
	require.NoError(t, cut.host.Reconnect())
	waitHeight(t, founders)

	// 7. The fifth member, Kaunas, by update and signature files.
	t0 = time.Now()
	ist.take(t, mail, kaunas.card())
	ist.must(t, "check", filepath.Join(ist.home(), kaunas.card()))
	ist.must(t, "channel", "fetch-config", "--out", filepath.Join(ist.home(), "latest.block"))
	ist.must(t, "update", "add-member", filepath.Join(ist.home(), kaunas.card()), "--config", filepath.Join(ist.home(), "latest.block"),
		"--out", filepath.Join(ist.home(), "add-kaunas.update"))
	ist.send(t, mail, "add-kaunas.update", "add-kaunas.update")
	var sigs []string
	for _, o := range []*org{rec, mk} {
		o.take(t, mail, "add-kaunas.update")
		o.must(t, "sign", filepath.Join(o.home(), "add-kaunas.update"), "--out", filepath.Join(o.home(), "add-kaunas."+o.msp+".sig"))
		o.send(t, mail, "add-kaunas."+o.msp+".sig", "add-kaunas."+o.msp+".sig")
		ist.take(t, mail, "add-kaunas."+o.msp+".sig")
		sigs = append(sigs, filepath.Join(ist.home(), "add-kaunas."+o.msp+".sig"))
	}
	ist.must(t, append([]string{"submit", filepath.Join(ist.home(), "add-kaunas.update")}, sigs...)...)
	ist.must(t, "channel", "fetch-config", "--out", filepath.Join(ist.home(), "latest.block"))
	ist.send(t, mail, "latest.block", "latest.block")
	kaunas.take(t, mail, "latest.block")
	kaunas.take(t, mail, "genesis.block")
	kaunas.must(t, "channel", "inspect", filepath.Join(kaunas.home(), "latest.block"), "--member", filepath.Join(kaunas.home(), kaunas.card()))
	// Kaunas's orderer trusts the founders' TLS roots from the start (the
	// founders' consenters dial it as soon as the update applies).
	for _, f := range founders {
		kaunas.take(t, mail, f.card())
	}
	kaunas.must(t, append([]string{"node", "start", "--sample", tl.sample, "--builder", tl.builder}, abs(kaunas, cardArgs)...)...)
	kaunas.must(t, "channel", "join", filepath.Join(kaunas.home(), "latest.block"), "--peer", "--peer-block", filepath.Join(kaunas.home(), "genesis.block"))
	require.Eventually(t, func() bool {
		out, err := kaunas.run(context.Background(), "channel", "join", filepath.Join(kaunas.home(), "latest.block"))
		return err == nil && strings.Contains(out, "consenter, active")
	}, 120*time.Second, time.Second, "Kaunas's orderer becomes an active consenter")
	t.Logf("Kaunas joined as the fifth consenter in %s", time.Since(t0).Round(time.Millisecond))
	register(ist, "col-7")

	// Kaunas transacts: a new chaincode definition (sequence 2) whose
	// policy names its peer too, mailed, approved by each of the five
	// (a majority of five is three: two do not do), committed; then the
	// registry admits Kaunas by the members' vote (three approvals of
	// four members; a proposal is not an approval).
	t0 = time.Now()
	def2 := []string{"chaincode", "define", "--channel", channel, "--name", "mtrace", "--version", "1", "--sequence", "2",
		"--signature-policy", "OutOf(2," + strings.Join(append(policy, "'"+kaunas.msp+".peer'"), ",") + ")"}
	kaunas.must(t, "chaincode", "package", "--binary", filepath.Join(tl.bin, "mtrace-cc"), "--out", filepath.Join(kaunas.home(), "mtrace.tar.gz"))
	kaunas.must(t, "chaincode", "install", filepath.Join(kaunas.home(), "mtrace.tar.gz"))
	ist.must(t, append(def2, "--package", filepath.Join(ist.home(), "mtrace.tar.gz"), "--out", filepath.Join(ist.home(), "mtrace-2.chaincode"))...)
	ist.send(t, mail, "mtrace-2.chaincode", "mtrace-2.chaincode")
	for _, o := range all[1:] {
		o.take(t, mail, "mtrace-2.chaincode")
	}
	for _, o := range []*org{kaunas, ist} {
		o.must(t, "chaincode", "approve", filepath.Join(o.home(), "mtrace-2.chaincode"))
	}
	_, err = ist.run(context.Background(), "chaincode", "commit", filepath.Join(ist.home(), "mtrace-2.chaincode"))
	require.ErrorContains(t, err, "1 more needed", "two approvals of five are not a majority")
	for _, o := range founders[1:] {
		o.must(t, "chaincode", "approve", filepath.Join(o.home(), "mtrace-2.chaincode"))
	}
	ist.must(t, "chaincode", "commit", filepath.Join(ist.home(), "mtrace-2.chaincode"))
	kaunas.must(t, "profile", "--genesis", filepath.Join(kaunas.home(), "genesis.block"))
	var prop struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(ist.cliAs(t, "istanbul-admin", "registry", "propose", "--msp", kaunas.msp, "--role", kaunas.role, "--name", kaunas.name), &prop))
	var vote struct {
		Votes   int  `json:"votes"`
		Needed  int  `json:"needed"`
		Applied bool `json:"applied"`
	}
	for _, o := range []*org{rec, mk, cert} {
		require.NoError(t, json.Unmarshal(o.cliAs(t, o.node+"-admin", "registry", "approve", prop.ID), &vote))
		require.Equal(t, o == cert, vote.Applied, "%s's approval: %+v (three of four admit Kaunas)", o.msp, vote)
	}
	// Kaunas's own peer has the entry once it has the vote's block.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		raw, err := kaunas.mtrace(ctx, kaunas.node, "registry", "show")
		return err == nil && strings.Contains(string(raw), `"`+kaunas.msp+`"`)
	}, 30*time.Second, 500*time.Millisecond, "Kaunas's peer sees its registry entry")
	register(kaunas, "kau-1")
	t.Logf("Kaunas's chaincode definition and registry entry in %s; it registered kau-1", time.Since(t0).Round(time.Millisecond))

	waitHeight(t, all)

	// Every commit a client saw is on every peer, Kaunas's too (it
	// caught up from block 0): each member asks through its own peer.
	for _, o := range all {
		for _, id := range seen {
			require.Eventually(t, func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				raw, err := o.mtrace(ctx, o.node, "batch", "get", id)
				var b struct {
					ID string `json:"id"`
				}
				return err == nil && json.Unmarshal(raw, &b) == nil && b.ID == id
			}, 90*time.Second, time.Second, "%s's peer has %s", o.msp, id)
		}
	}

	// 8. No member's folder holds another member's private key.
	for _, o := range all {
		o.must(t, "keys")
	}
	for _, o := range all {
		h := o.settings(t)
		var cards []*member.Card
		for _, x := range all {
			c, err := member.ReadCard(filepath.Join(mail.Dir(), x.card()))
			require.NoError(t, err)
			cards = append(cards, c)
		}
		found, err := member.ForeignKeys(h.Dir, h.MSPID, cards...)
		require.NoError(t, err)
		assert.Empty(t, found, "%s's folder holds no other member's private key", o.msp)
	}
}

// waitLeader waits until every orderer of orgs follows the same SmartBFT
// leader (its consenter ID, from the orderers' metrics) and that leader
// reports itself leader: the consenters talk to each other.
func waitLeader(t *testing.T, orgs []*org) *org {
	t.Helper()
	var leader *org
	var last string
	ok := assert.Eventually(t, func() bool {
		ids := map[float64]int{}
		var views []string
		leader = nil
		for _, o := range orgs {
			id, err := o.metric("consensus_BFT_leader_id")
			if err != nil {
				views = append(views, fmt.Sprintf("%s: %v", o.msp, err))
				continue
			}
			ids[id]++
			views = append(views, fmt.Sprintf("%s follows %v", o.msp, id))
			if v, err := o.metric("consensus_BFT_is_leader"); err == nil && v == 1 {
				leader = o
			}
		}
		last = strings.Join(views, "; ")
		return len(ids) == 1 && ids[0] == 0 && leader != nil
	}, 90*time.Second, 500*time.Millisecond)
	require.True(t, ok, "the orderers agree on one leader: %s", last)
	return leader
}

// waitHeight waits until every orderer and peer of orgs has the same
// ledger height, as each reports it to its organisation's admin (a join
// of the channel a node has is a no-op that prints it): one that was
// frozen or cut off has caught up. It logs how long that took.
func waitHeight(t *testing.T, orgs []*org) {
	t.Helper()
	t0 := time.Now()
	var last string
	ok := assert.Eventually(t, func() bool {
		hs := map[string]bool{}
		var views []string
		for _, o := range orgs {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			out, err := o.run(ctx, "channel", "join", filepath.Join(o.home(), "genesis.block"), "--peer")
			cancel()
			m := heightRE.FindAllStringSubmatch(out, -1)
			if err != nil || len(m) != 2 {
				views = append(views, fmt.Sprintf("%s: %v %s", o.msp, err, out))
				hs["?"+o.msp] = true
				continue
			}
			for _, x := range m {
				hs[x[1]] = true
			}
			views = append(views, fmt.Sprintf("%s: orderer %s, peer %s", o.msp, m[0][1], m[1][1]))
		}
		last = strings.Join(views, "; ")
		return len(hs) == 1
	}, 3*time.Minute, time.Second)
	require.True(t, ok, "the orderers and peers reach the same height: %s", last)
	t.Logf("heights, level after %s: %s", time.Since(t0).Round(time.Millisecond), last)
}

var heightRE = regexp.MustCompile(`height (\d+)\)`)

// keepLogs copies the member's node logs out of the lab (which is
// removed) into .mtrace-test-logs/consortium/<node> of the repository.
func keepLogs(t *testing.T, o *org) {
	root, err := harness.Root()
	if err != nil {
		return
	}
	dst := filepath.Join(root, ".mtrace-test-logs", "consortium", o.node)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(o.home(), "logs", "*.log"))
	logs = append(logs, filepath.Join(o.home(), "ca", o.node, "server.log"))
	for _, f := range logs {
		if raw, err := os.ReadFile(f); err == nil {
			_ = os.WriteFile(filepath.Join(dst, filepath.Base(f)), raw, 0o644)
		}
	}
	t.Logf("%s: node logs kept in %s", o.msp, dst)
}

// abs turns the card arguments into paths in the organisation's folder.
func abs(o *org, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasSuffix(a, ".member.json") {
			a = filepath.Join(o.home(), a)
		}
		out[i] = a
	}
	return out
}
