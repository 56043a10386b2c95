//go:build e2e

// Package trust attacks the live network as a dishonest member would: one
// organisation (the maker) replaces the chaincode binary on its own peer
// with forgecc, a copy of the real contract whose rules are removed and
// whose claims are rewritten, and its client submits with only its own
// peer endorsing. Every attempt must end invalid at commit. Where two
// organisations collude, Fabric's validation cannot stop a forged record
// their policies allow, and verify's signatures check must name it.
//
// The tests leave a forged record on the ledger (the collusion case): the
// suite leaves harness.Forged, so every suite that audits the whole ledger
// runs before it, and the suite avoids it: its first test checkpoints a
// clean ledger for audit --since (test/internal/harness/suites.go).
package trust

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

var run = fmt.Sprintf("t%d", time.Now().Unix()%1_000_000)

func id(name string) string { return run + "-" + name }

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "trust", &env) }

// forger builds forgecc once per test binary.
func forger(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "forgecc")
	cmd := exec.Command("go", "build", "-tags", "e2e", "-o", out, "./test/trust/forgecc")
	cmd.Dir = env.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build forgecc: %v\n%s", err, b)
	}
	return out
}

// swap makes org's peer run binary instead of its chaincode, as a member
// that controls its own peer can: it replaces the executable the peer's
// external builder launches and stops the running chaincode process by its
// recorded PID; the peer launches the replacement at the next call. The
// original is put back when the test ends.
func swap(t *testing.T, org, binary string) {
	t.Helper()
	node := "cc-" + org
	// The chaincode may be relaunching (an earlier test restarted it): its
	// run script records the PID once it starts.
	var pid int
	err := testnet.Eventually(30*time.Second, 100*time.Millisecond, func() error {
		var err error
		if pid, err = env.PID(node); err == nil && !testnet.Alive(pid) {
			err = fmt.Errorf("%s (PID %d) is not running", node, pid)
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s PID: %v", node, err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatalf("%s executable: %v", node, err)
	}
	honest := exe + ".honest"
	if err := os.Link(exe, honest); err != nil {
		t.Fatalf("keep the honest binary: %v", err)
	}
	install(t, binary, exe)
	restart(t, org, true)
	t.Logf("%s's peer now runs forgecc (%s)", org, exe)
	t.Cleanup(func() {
		if err := os.Rename(honest, exe); err != nil {
			t.Errorf("restore %s: %v", exe, err)
			return
		}
		restart(t, org, false)
		t.Logf("%s's peer runs the real chaincode again", org)
	})
}

// install copies src over dst without touching the running executable:
// a new file renamed into place.
func install(t *testing.T, src, dst string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// restart stops org's chaincode process by PID and waits until its peer
// runs the forged (forged true) or the real chaincode: only forgecc has
// InflateBatch.
func restart(t *testing.T, org string, forged bool) {
	t.Helper()
	if _, err := env.Network("stop", "cc-"+org); err != nil {
		t.Fatal(err)
	}
	c := contract(t, org)
	err := testnet.Eventually(60*time.Second, 250*time.Millisecond, func() error {
		_, err := c.EvaluateTransaction("InflateBatch", "nothing-"+run)
		msg := testnet.Message(err)
		switch {
		case forged && strings.Contains(msg, "forge: read"):
			return nil
		case !forged && strings.Contains(msg, "Function InflateBatch not found"):
			return nil
		}
		return fmt.Errorf("not yet: %s", msg)
	})
	if err != nil {
		t.Fatalf("%s's chaincode after restart: %v", org, err)
	}
}

func contract(t *testing.T, profile string) *client.Contract {
	t.Helper()
	gw, done, err := env.Gateway(profile)
	if err != nil {
		t.Fatalf("connect as %s: %v", profile, err)
	}
	t.Cleanup(done)
	p := env.Profiles[profile]
	return gw.GetNetwork(p.Channel).GetContract(p.Chaincode)
}

// outcome is how an attempt ended: "VALID", a validation code such as
// "ENDORSEMENT_POLICY_FAILURE", or "refused at endorsement: ...".
func attempt(c *client.Contract, fn string, args []string, orgs ...string) string {
	opts := []client.ProposalOption{client.WithArguments(args...)}
	if len(orgs) > 0 {
		opts = append(opts, client.WithEndorsingOrganizations(orgs...))
	}
	p, err := c.NewProposal(fn, opts...)
	if err != nil {
		return "refused: " + err.Error()
	}
	endorsed, err := p.Endorse()
	if err != nil {
		return "refused at endorsement: " + testnet.OneLine(testnet.Message(err), 220)
	}
	commit, err := endorsed.Submit()
	if err != nil {
		return "refused by the orderers: " + testnet.OneLine(testnet.Message(err), 220)
	}
	st, err := commit.Status()
	if err != nil {
		return "commit status unknown: " + testnet.OneLine(testnet.Message(err), 220)
	}
	return st.Code.String()
}

func arg(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func register(batchID string, grams model.Grams) string {
	return arg(model.RegisterRequest{ID: batchID, Material: "PET", WasteCode: "15 01 02", Mass: grams,
		Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T09:30:00+03:00"})
}

// attack is one forged transaction and the client that submits it.
type attack struct {
	name, fn string
	args     []string
	client   *client.Contract
}

// mount submits every attack endorsed by orgs only; each must end
// ENDORSEMENT_POLICY_FAILURE at commit. how says who endorses, for the table.
func (tb *table) mount(orgs []string, how string, attacks []attack) {
	tb.t.Helper()
	for _, a := range attacks {
		got := attempt(a.client, a.fn, a.args, orgs...)
		tb.add(a.name, how, got)
		if got != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE.String() {
			tb.t.Errorf("%s (%s): %s; want ENDORSEMENT_POLICY_FAILURE at commit", a.name, how, got)
		}
	}
}

// table prints the attempts and their outcomes.
type table struct {
	t    *testing.T
	rows [][3]string
}

func (tb *table) add(attack, how, outcome string) {
	tb.rows = append(tb.rows, [3]string{attack, how, outcome})
}

func (tb *table) print() {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-58s | %-44s | %s\n", "ATTACK", "HOW", "OUTCOME")
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "%-58s | %-44s | %s\n", r[0], r[1], r[2])
	}
	tb.t.Log(b.String())
}

// settle waits until every peer has the same height, so that the next
// client, of whichever organisation, acts on the same state.
func settle(t *testing.T) {
	t.Helper()
	if _, err := env.Agreed(30*time.Second, 0); err != nil {
		t.Fatal(err)
	}
}

func batch(t *testing.T, batchID string) model.Batch {
	t.Helper()
	var b model.Batch
	env.JSON(t, &b, "auditor", "batch", "get", batchID)
	return b
}

// TestOneDishonestMember mounts every attack of one organisation that
// runs forgecc on its own peer and endorses alone.
func TestOneDishonestMember(t *testing.T) {
	flakes, spool, vase := id("flakes"), id("spool"), id("vase")

	// Honest history: the recycler holds flakes; the maker holds a spool,
	// printed a vase from it (a process record of its own), and an auditor
	// holds the spool in quarantine; an open registry proposal.
	env.MustRun(t, "municipality", "batch", "register", flakes, "--material", "PET", "--mass", "100kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", flakes, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", flakes)
	env.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--in", flakes+":20kg", "--out", spool+":PET:filament:19kg")
	env.MustRun(t, "recycler", "batch", "transfer", spool, "--to", "MakerMSP")
	env.MustRun(t, "maker", "batch", "accept", spool)
	env.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", spool+":1kg", "--out", vase+":PET:product:900g")
	printing := batch(t, vase).Origin.Process.Tx
	var rec model.Process
	env.JSON(t, &rec, "auditor", "process", printing)
	env.MustRun(t, "auditor", "batch", "quarantine", spool, "--reason", "lab sample")
	var prop model.Proposal
	env.JSON(t, &prop, "recycler-admin", "registry", "propose", "--msp", "AuditorMSP", "--role", "auditor", "--name", "Renamed by trust test")
	settle(t)
	before := map[string]model.Batch{flakes: batch(t, flakes), spool: batch(t, spool), vase: batch(t, vase)}
	var regBefore model.Registry
	env.JSON(t, &regBefore, "auditor", "registry", "show")

	tb := &table{t: t}
	maker, makerAdmin := contract(t, "maker"), contract(t, "maker-admin")

	// The first attack of the issue, as described: the maker's client asks
	// the gateway to run SetParticipant, which the other peers' honest
	// chaincode no longer has.
	self := arg(model.Participant{MSP: "MakerMSP", Role: model.RoleCollector, Name: "Kadikoy Makerspace"})
	got := attempt(maker, "SetParticipant", []string{self})
	tb.add("self-promotion to collector (honest peers)", "maker's client, gateway picks endorsers", got)
	mustRefuse(t, got, "SetParticipant")

	swap(t, "maker", forger(t))
	alone := []string{"MakerMSP"}
	tb.mount(alone, "forgecc on maker's peer, maker endorses alone", []attack{
		{"self-promotion to collector in the registry", "SetParticipant", []string{self}, makerAdmin},
		{"approving a proposal in every member's name", "ApproveChange", []string{prop.ID}, makerAdmin},
		{"7 t registered as collected by MunicipalityMSP", "RegisterBatch", []string{register(id("forged"), 7*model.Tonne)}, maker},
		{"accepting the recycler's batch, never offered", "AcceptTransfer", []string{flakes, "0"}, maker},
		{"processing the recycler's batch", "Process", []string{arg(model.ProcessRequest{Step: model.StepExtrusion,
			Inputs:  []model.ProcessInput{{ID: flakes, Mass: 10 * model.Kilogram}},
			Outputs: []model.ProcessOutput{{ID: id("stolen"), Material: "PET", Form: model.FormFilament, Mass: 10 * model.Kilogram}}})}, maker},
		{"releasing the auditor's quarantine", "Release", []string{spool}, maker},
		{"rewriting its own process record (outputs doubled)", "RewriteProcess", []string{printing}, maker},
		{"inflating its own batch (mass doubled)", "InflateBatch", []string{vase}, maker},
		{"deleting the take of its own printing (hiding the vase from a recall)", "DeleteTake", []string{spool, printing}, maker},
	})
	tb.print()

	// Nothing changed.
	settle(t)
	for bid, b := range before {
		mustSame(t, batch(t, bid), b, bid)
	}
	if r := env.Run(t, "auditor", "batch", "get", id("forged")); r.Code == 0 {
		t.Errorf("the forged registration is on the ledger:\n%s", r.Stdout)
	}
	if r := env.Run(t, "auditor", "batch", "get", id("stolen")); r.Code == 0 {
		t.Errorf("the stolen output is on the ledger:\n%s", r.Stdout)
	}
	var regAfter model.Registry
	env.JSON(t, &regAfter, "auditor", "registry", "show")
	mustSame(t, regAfter, regBefore, "the registry")
	var recAfter model.Process
	env.JSON(t, &recAfter, "auditor", "process", printing)
	mustSame(t, recAfter, rec, "the printing record")
	env.MustRun(t, "recycler-admin", "registry", "withdraw", prop.ID)
}

// TestSitesAndDeclarationsCannotBeForged: a member running forgecc on its
// own peer and endorsing alone cannot put a site into another
// organisation's list, claim a declaration before its batch arrived, or
// rewrite a declaration's shares: each key's policy needs the
// organisations it belongs to and a witness.
func TestSitesAndDeclarationsCannotBeForged(t *testing.T) {
	const plant, annex = "8690000000029", "8690000000036"
	lot, decl := id("declared"), id("decl")
	env.MustRun(t, "recycler-admin", "site", "add", plant, "--name", "Gebze plant", "--default")
	env.MustRun(t, "municipality", "batch", "register", lot, "--material", "PET", "--mass", "50kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", lot, "--to", "MakerMSP")
	env.MustRun(t, "municipality", "declaration", "issue", decl, "--batch", lot, "--model", "segregated")
	settle(t)
	var sitesBefore model.SiteList
	env.JSON(t, &sitesBefore, "auditor", "site", "list", "--org", "RecyclerMSP")
	var declBefore model.Declaration
	env.JSON(t, &declBefore, "auditor", "declaration", "get", decl)

	tb := &table{t: t}
	maker, makerAdmin := contract(t, "maker"), contract(t, "maker-admin")
	swap(t, "maker", forger(t))
	tb.mount([]string{"MakerMSP"}, "forgecc on maker's peer, maker endorses alone", []attack{
		{"a site put into the recycler's list", "ForgeSites", []string{"RecyclerMSP", annex}, makerAdmin},
		{"a declaration claimed before its batch arrived", "ClaimDeclaration", []string{decl}, maker},
		{"a declaration rewritten as all post-consumer", "InflateDeclaration", []string{decl}, maker},
	})
	tb.print()

	settle(t)
	var sitesAfter model.SiteList
	env.JSON(t, &sitesAfter, "auditor", "site", "list", "--org", "RecyclerMSP")
	mustSame(t, sitesAfter, sitesBefore, "the recycler's sites")
	var declAfter model.Declaration
	env.JSON(t, &declAfter, "auditor", "declaration", "get", decl)
	mustSame(t, declAfter, declBefore, "the declaration")
}

// TestTwoColludingMembers: the maker and the recycler both run forgecc and
// endorse a registration in the municipality's name together. The
// chaincode-level policy (any two organisations) is met, so Fabric commits
// it; the signatures check of verify and audit must name it.
func TestTwoColludingMembers(t *testing.T) {
	citys := id("citys")
	env.MustRun(t, "municipality", "batch", "register", citys, "--material", "PET", "--mass", "50kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	settle(t)
	before := batch(t, citys)
	bin := forger(t)
	swap(t, "maker", bin)
	swap(t, "recycler", bin)
	pair := []string{"MakerMSP", "RecyclerMSP"}

	// What the pair cannot do even together: the registry needs a majority
	// (three of four), a third organisation's batch needs its owner.
	tb := &table{t: t}
	self := arg(model.Participant{MSP: "MakerMSP", Role: model.RoleCollector, Name: "Kadikoy Makerspace"})
	tb.mount(pair, "forgecc on maker's and recycler's peers", []attack{
		{"self-promotion to collector in the registry", "SetParticipant", []string{self}, contract(t, "maker-admin")},
		{"accepting the municipality's batch, never offered", "AcceptTransfer", []string{citys, "0"}, contract(t, "maker")},
	})
	tb.print()
	settle(t)
	mustSame(t, batch(t, citys), before, citys)

	forged := id("colluded")
	got := attempt(contract(t, "maker"), "RegisterBatch", []string{register(forged, 7*model.Tonne)}, "MakerMSP", "RecyclerMSP")
	t.Logf("7 t registered in MunicipalityMSP's name, endorsed by MakerMSP and RecyclerMSP: %s", got)
	if got != peer.TxValidationCode_VALID.String() {
		t.Fatalf("the colluding registration ended %s; this test needs it on the ledger to check verify", got)
	}
	settle(t)
	r := env.Run(t, "auditor", "verify", forged)
	t.Logf("mtrace verify %s:\n%s", forged, r.Stdout)
	want := regexp.MustCompile(`FAIL\s+signatures\s+batch "` + regexp.QuoteMeta(forged) +
		`" claims collector MunicipalityMSP but tx \S+ was created by MakerMSP and endorsed by MakerMSP, RecyclerMSP`)
	if r.Code != 1 || !want.MatchString(r.Stdout) {
		t.Errorf("verify of the colluded batch: exit %d; want 1 and a line matching %s\n%s", r.Code, want, r)
	}
	a := env.Run(t, "auditor", "audit")
	if a.Code != 1 || !strings.Contains(a.Stdout, "signatures: ") || !strings.Contains(a.Stdout, forged) {
		t.Errorf("audit after the colluded registration: exit %d; want 1 and a signatures violation naming %s\n%s", a.Code, forged, a)
	}

	// A take has no key-level policy of its own: the pair can delete or
	// rewrite the municipality's, and the recall and verify must say so.
	src, hidden, src2, out2 := id("src"), id("hidden"), id("src2"), id("out2")
	for _, b := range [][2]string{{src, hidden}, {src2, out2}} {
		env.MustRun(t, "municipality", "batch", "register", b[0], "--material", "PET", "--mass", "20kg",
			"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
		env.MustRun(t, "municipality", "batch", "process", "--step", "sorting", "--in", b[0]+":20kg", "--out", b[1]+":PET:sorted:19kg")
	}
	settle(t)
	for _, f := range []struct{ fn, parent, output string }{{"DeleteTake", src, hidden}, {"RewriteTake", src2, out2}} {
		tx := batch(t, f.output).Origin.Process.Tx
		got := attempt(contract(t, "maker"), f.fn, []string{f.parent, tx}, pair...)
		t.Logf("%s of the municipality's take of %s, endorsed by MakerMSP and RecyclerMSP: %s", f.fn, f.parent, got)
		if got != peer.TxValidationCode_VALID.String() {
			t.Fatalf("%s ended %s; this test needs it on the ledger", f.fn, got)
		}
	}
	settle(t)
	r = env.Run(t, "auditor", "trace", src, "--down")
	wantLost := `incomplete: batch "` + src + `" records 1 takes but the ledger holds 0`
	if r.Code != 1 || !strings.Contains(r.Stderr, wantLost) {
		t.Errorf("recall after the take was deleted: exit %d; want 1 and %q\n%s", r.Code, wantLost, r)
	}
	r = env.Run(t, "auditor", "verify", hidden)
	if wantMissing := `batch "` + src + `" does not record process`; r.Code != 1 || !strings.Contains(r.Stdout, wantMissing) {
		t.Errorf("verify of what the deleted take made: exit %d; want 1 and %q\n%s", r.Code, wantMissing, r)
	}
	r = env.Run(t, "auditor", "verify", out2)
	t.Logf("mtrace verify %s:\n%s", out2, r.Stdout)
	wantTake := regexp.MustCompile(`FAIL\s+signatures\s+take of batch "` + regexp.QuoteMeta(src2) +
		`" by process \S+ claims processor MunicipalityMSP but tx \S+ wrote a different take`)
	if r.Code != 1 || !wantTake.MatchString(r.Stdout) {
		t.Errorf("verify after the take was rewritten: exit %d; want 1 and a line matching %s\n%s", r.Code, wantTake, r)
	}
}

func mustRefuse(t *testing.T, got, what string) {
	t.Helper()
	if !strings.HasPrefix(got, "refused") || !strings.Contains(got, what) {
		t.Errorf("%s: %s; want a refusal at endorsement naming %s", what, got, what)
	}
}

func mustSame[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s changed:\n got %s\nwant %s", what, g, w)
	}
}
