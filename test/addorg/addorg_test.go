//go:build e2e

// Package addorg grows the running test network by a fifth organisation,
// a collector in Kaunas, the way a consortium admits a member: a channel
// config update signed by a majority of the members' admins, the newcomer's
// peer joining, a new chaincode definition, and the governed registry vote.
//
// It changes the consortium the other end-to-end packages assume (four
// organisations): its suite leaves harness.Grown, which they avoid, so it
// runs after them (test/internal/harness/suites.go).
package addorg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

var run = fmt.Sprintf("k%d", time.Now().Unix()%1_000_000)

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "addorg", &env) }

const (
	kaunasMSP  = "KaunasMSP"
	kaunasName = "Kaunas waste services"
)

// joined is set when TestKaunasJoins has played to its end; the removal
// test needs the member it removes and the records it made.
var joined bool

var addKaunas = []string{"add-org", "--msp", kaunasMSP, "--role", "collector", "--name", kaunasName}

// unchanged fails t unless the channel has the config block, members and
// consenters it had before and the peers are still at heights: nothing
// was ordered.
func unchanged(t *testing.T, before testnet.Membership, heights uint64) {
	t.Helper()
	after := membership(t)
	if after.ConfigBlock != before.ConfigBlock || !slices.Equal(after.Members, before.Members) || !slices.Equal(after.Consenters, before.Consenters) {
		t.Fatalf("the channel changed: before %+v, after %+v", before, after)
	}
	now, err := env.Agreed(10*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if now != heights {
		t.Errorf("peer heights went from %d to %d: something was ordered", heights, now)
	}
}

// TestMinorityCannotAdmit: with the admins of two of the four members
// signing, one fewer than MAJORITY Admins needs, the orderers refuse the
// update and the channel is unchanged: same config block, same members,
// and no block was added on any peer.
func TestMinorityCannotAdmit(t *testing.T) {
	before := membership(t)
	if slices.Contains(before.Members, kaunasMSP) {
		t.Fatalf("%s is a member before the test: %+v", kaunasMSP, before)
	}
	heights, err := env.Agreed(30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.Network(append(addKaunas, "--signers", "municipality,recycler")...)
	if err == nil {
		t.Fatalf("add-org with two of four signatures succeeded:\n%s", out)
	}
	for _, want := range []string{"not sent: policy /Channel/Application/Admins", "signed by MunicipalityMSP, RecyclerMSP; missing 1 more admin signature(s) from: ", "step 'channel' failed", "unchanged"} {
		if !strings.Contains(out, want) {
			t.Errorf("add-org output lacks %q:\n%s", want, out)
		}
	}
	unchanged(t, before, heights)
	// Nothing of the attempt is left running or named in the network.
	if pid, err := env.PID("kaunas"); err == nil && testnet.Alive(pid) {
		t.Errorf("the kaunas peer (pid %d) still runs after the refused update", pid)
	}
	if _, err := os.Stat(env.Home + "/joining.yaml"); err == nil {
		t.Errorf("joining.yaml left behind")
	}
	raw, err := os.ReadFile(env.Home + "/consortium.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), kaunasMSP) {
		t.Errorf("the network's consortium file names %s after the refused update", kaunasMSP)
	}
}

// TestMinorityCannotExpel: two colluding members, the municipality and
// the recycler, would silence the auditor. Their admins sign an update
// that removes AuditorMSP and its orderer from the channel, and the
// municipality's admin sends the envelope straight to its own orderer,
// which passes it on to every other: no client-side check stands in the
// way. The orderers refuse it (MAJORITY Admins needs three of four), and
// nothing is ordered.
func TestMinorityCannotExpel(t *testing.T) {
	before := membership(t)
	heights, err := env.Agreed(30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	top, err := topology.Load(env.Home + "/consortium.yaml")
	if err != nil {
		t.Fatal(err)
	}
	home := func(node string) *member.Home {
		h, err := member.Local(top, testnet.BasePort(), env.Home, node)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	municipality, recycler := home("municipality"), home("recycler")
	ord, err := municipality.Orderer(top.Channel)
	if err != nil {
		t.Fatal(err)
	}
	defer ord.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := ord.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := member.NewRemoveMember(cfg.Config, top.Channel, cfg.Block, "AuditorMSP")
	if err != nil {
		t.Fatal(err)
	}
	var sigs []*cb.ConfigSignature
	for _, h := range []*member.Home{municipality, recycler} {
		s, err := h.Sign(u)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, s.ConfigSignature())
	}
	envelope, err := configtx.NewEnvelope(u.ConfigUpdate, sigs...)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := channel.LoadSigner(municipality.AdminDir()+"/msp", municipality.MSPID)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.SignEnvelope(envelope); err != nil {
		t.Fatal(err)
	}
	err = ord.Submit(ctx, envelope)
	var refused *channel.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("the orderer's answer to an expulsion signed by two of four admins: %v, want a refusal", err)
	}
	t.Logf("the orderer's answer: %v", err)
	if !strings.Contains(err.Error(), "requires 3 of the 'Admins' sub-policies") {
		t.Errorf("the refusal does not name the unmet policy: %v", err)
	}
	unchanged(t, before, heights)
}

// TestKaunasJoins admits KaunasMSP with a majority, then plays a blend of
// Kaunas and Istanbul material through verify, and restarts the network.
func TestKaunasJoins(t *testing.T) {
	out, err := env.Network(addKaunas...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("add-org:\n%s", out)
	for _, want := range []string{"signed by the admins of MunicipalityMSP, RecyclerMSP, MakerMSP", "registry: applied (KaunasMSP is in the registry as collector)"} {
		if !strings.Contains(out, want) {
			t.Errorf("add-org output lacks %q", want)
		}
	}
	if m := membership(t); !slices.Contains(m.Members, kaunasMSP) || len(m.Members) != 5 {
		t.Fatalf("channel members after add-org: %+v", m)
	}
	// The newcomer orders too: its orderer is the fifth consenter, and it
	// has every block the others have.
	if m := membership(t); !slices.Contains(m.Consenters, kaunasMSP) || len(m.Consenters) != 5 {
		t.Fatalf("consenters after add-org: %+v", m)
	}
	ordererLevel(t, "kaunas-orderer", 5)
	// Every step is idempotent: a second run changes nothing.
	again, err := env.Network(addKaunas...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"already a member of channel", "up to date", "registry: nothing to do"} {
		if !strings.Contains(again, want) {
			t.Errorf("second add-org output lacks %q:\n%s", want, again)
		}
	}
	if err := env.Reload(); err != nil {
		t.Fatal(err)
	}
	var reg model.Registry
	env.JSON(t, &reg, "kaunas", "registry", "show")
	if p, ok := reg.Lookup(kaunasMSP); !ok || p.Role != model.RoleCollector || p.Name != kaunasName {
		t.Fatalf("registry entry of %s: %+v (found %v)", kaunasMSP, p, ok)
	}

	// Kaunas and Istanbul each collect HDPE; the recycler sorts both in
	// one process.
	kaunas, istanbul, blend := id("kaunas-hdpe"), id("istanbul-hdpe"), id("hdpe-blend")
	var b model.Batch
	env.JSON(t, &b, "kaunas", "batch", "register", kaunas, "--material", "HDPE", "--mass", "800kg",
		"--location", "Šilainiai, Kaunas", "--collected-at", "2026-11-21T08:00:00+02:00", "--waste-code", "15 01 02")
	if b.Owner != kaunasMSP {
		t.Fatalf("owner of %s: %s", kaunas, b.Owner)
	}
	env.MustRun(t, "kaunas", "batch", "transfer", kaunas, "--to", "RecyclerMSP")
	env.MustRun(t, "municipality", "batch", "register", istanbul, "--material", "HDPE", "--mass", "600kg",
		"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-21T09:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", istanbul, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", kaunas)
	env.MustRun(t, "recycler", "batch", "accept", istanbul)
	env.MustRun(t, "recycler", "batch", "process", "--step", "sorting",
		"--in", kaunas+":800kg", "--in", istanbul+":600kg", "--out", blend+":HDPE:sorted:1350kg")

	var v model.Verdict
	env.JSON(t, &v, "recycler", "verify", blend)
	if !v.OK {
		t.Fatalf("verify %s: not ok: %+v", blend, v.Checks)
	}
	signed := false
	for _, c := range v.Checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
		signed = signed || c.Name == model.CheckSignatures
	}
	if !signed {
		t.Errorf("verify ran no %s check: %+v", model.CheckSignatures, v.Checks)
	}
	collectors := map[string]string{}
	for _, s := range v.Sources {
		collectors[s.Collector] = s.Location
	}
	if !strings.Contains(collectors[kaunasMSP], "Kaunas") || !strings.Contains(collectors["MunicipalityMSP"], "Istanbul") || len(v.Sources) != 2 {
		t.Errorf("collection sources of %s: %+v, want Kaunas (KaunasMSP) and Istanbul (MunicipalityMSP)", blend, v.Sources)
	}

	fivePeersLevel(t)

	// A restart keeps all five: every node comes back, the new one too,
	// and the newcomer's transactions still commit.
	if out, err := env.Network("down"); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("up after add-org: %v\n%s", err, out)
	}
	fivePeersLevel(t)
	env.MustRun(t, "kaunas", "batch", "register", id("kaunas-after-restart"), "--material", "HDPE", "--mass", "90kg",
		"--location", "Dainava, Kaunas", "--collected-at", "2026-11-22T08:00:00+02:00", "--waste-code", "15 01 02")
	fivePeersLevel(t)
	joined = true
}

// fivePeersLevel waits until `network.sh status` shows five peers, the
// newcomer among them, at one height.
func fivePeersLevel(t *testing.T) {
	t.Helper()
	var last map[string]uint64
	err := testnet.Eventually(30*time.Second, 300*time.Millisecond, func() error {
		hs, err := env.StatusHeights()
		if err != nil {
			return err
		}
		last = hs
		if len(hs) != 5 {
			return fmt.Errorf("status lists %d peers: %v", len(hs), hs)
		}
		if _, ok := hs["kaunas"]; !ok {
			return fmt.Errorf("status lists no kaunas peer: %v", hs)
		}
		for _, h := range hs {
			if h != hs["kaunas"] {
				return fmt.Errorf("heights differ: %v", hs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("five peers at one height: %v (last %v)", err, last)
	}
}

// ordererLevel waits until node's orderer has the same chain height as
// the municipality's orderer and, when size is above 0, reports a cluster
// of size consenters. (Fabric sets that metric when a consenter's chain
// starts, so it is the newcomer's to check, not that of an orderer that
// saw a member leave.)
func ordererLevel(t *testing.T, node string, size float64) {
	t.Helper()
	var h, ref, got float64
	err := testnet.Eventually(60*time.Second, 250*time.Millisecond, func() error {
		var err error
		if got, err = testnet.Metric(node, "consensus_BFT_cluster_size", env.Channel()); err != nil {
			return err
		}
		if h, err = testnet.Metric(node, "ledger_blockchain_height", env.Channel()); err != nil {
			return err
		}
		if ref, err = testnet.Metric("municipality-orderer", "ledger_blockchain_height", env.Channel()); err != nil {
			return err
		}
		if (size > 0 && got != size) || h != ref {
			return fmt.Errorf("%s: cluster of %v (want %v), height %v (municipality's orderer %v)", node, got, size, h, ref)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if size > 0 {
		t.Logf("%s: a consenter in a cluster of %v, at height %v like the others", node, got, h)
		return
	}
	t.Logf("%s: at height %v like the others", node, h)
}

func membership(t *testing.T) testnet.Membership {
	t.Helper()
	m, err := env.Membership()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m.Members)
	return m
}

func id(name string) string { return run + "-" + name }

// TestKaunasLeaves removes KaunasMSP again: out of the registry by the
// vote, out of the chaincode definition, out of the channel by a
// majority-signed update. Its past records stay verifiable, signatures
// included, and its identities can no longer write.
func TestKaunasLeaves(t *testing.T) {
	if !joined {
		t.Fatal("TestKaunasJoins did not complete, so there is no member and no blend to remove and verify")
	}
	blend := id("hdpe-blend")
	out, err := env.Network("remove-org", "kaunas")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("remove-org:\n%s", out)
	m := membership(t)
	if slices.Contains(m.Members, kaunasMSP) || len(m.Members) != 4 {
		t.Fatalf("channel members after remove-org: %+v", m)
	}
	if slices.Contains(m.Consenters, kaunasMSP) || len(m.Consenters) != 4 {
		t.Fatalf("consenters after remove-org: %+v", m)
	}
	if pid, err := env.PID("kaunas-orderer"); err == nil && testnet.Alive(pid) {
		t.Errorf("the kaunas orderer (pid %d) still runs after remove-org", pid)
	}
	ordererLevel(t, "recycler-orderer", 0)
	var reg model.Registry
	env.JSON(t, &reg, "municipality", "registry", "show")
	if p, ok := reg.Lookup(kaunasMSP); ok {
		t.Fatalf("%s is still in the registry: %+v", kaunasMSP, p)
	}
	var v model.Verdict
	env.JSON(t, &v, "recycler", "verify", blend)
	if !v.OK {
		t.Fatalf("verify %s after %s left: not ok: %+v", blend, kaunasMSP, v.Checks)
	}
	collectors := 0
	for _, s := range v.Sources {
		if s.Collector == kaunasMSP {
			collectors++
		}
	}
	if collectors != 1 {
		t.Errorf("sources of %s after %s left: %+v", blend, kaunasMSP, v.Sources)
	}
	// Its client identity is no member of the channel any more: the
	// profile's peer is stopped, so write through the municipality's
	// gateway with Kaunas's certificate.
	p := env.Profiles["kaunas"]
	if p.Cert == "" {
		t.Fatalf("no kaunas profile was kept for this check")
	}
	p.Endpoint, p.TLSRootCert, p.ServerName = env.Profiles["municipality"].Endpoint, env.Profiles["municipality"].TLSRootCert, env.Profiles["municipality"].ServerName
	gw, done, err := testnet.Connect(p)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	_, err = gw.GetNetwork(p.Channel).GetContract(p.Chaincode).Evaluate("GetRegistry")
	if err == nil {
		t.Fatalf("a %s client could still read through the channel after leaving", kaunasMSP)
	}
	t.Logf("a %s client after leaving: %v", kaunasMSP, err)
	if err := env.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.Profiles["kaunas"]; ok {
		t.Errorf("the CLI profiles still name kaunas")
	}

	// Four consenters tolerate one faulty orderer, and so must the
	// members' gateways. A gateway that still counted the departed
	// member's stopped orderer would see two of five orderers fail and
	// refuse the submission, though the other three order it; and while
	// that orderer ran, it would receive every transaction. The peers
	// restarted in TestKaunasJoins, so this holds only if remove-org made
	// their gateways read the channel's orderers anew.
	if out, err := env.Network("stop", "maker-orderer"); err != nil {
		t.Fatalf("stop maker-orderer: %v\n%s", err, out)
	}
	r := env.Run(t, "municipality", "batch", "register", id("one-orderer-down"), "--material", "PET", "--mass", "50kg",
		"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-23T08:00:00+03:00", "--waste-code", "15 01 02")
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if r.Code != 0 {
		t.Errorf("with one of four orderers down after %s left, a registration failed:\n%s", kaunasMSP, r)
	}
}
