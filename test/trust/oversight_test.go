//go:build e2e

package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// The attacks of issue 18 on oversight, captures and governance, mounted
// as a hostile member would: the owner's peer down, the owner's peer
// running a chaincode that refuses holds on its own batches, a member
// capturing under another member's event ID, an admin filling the
// registry with proposals.

// stopPeer stops org's peer by its recorded PID (network.sh stop) and
// waits until the process is gone; the peer is started again when the
// test ends, whatever happens to it.
func stopPeer(t *testing.T, org string) {
	t.Helper()
	pid, err := env.PID(org)
	if err != nil {
		t.Fatalf("PID of %s's peer: %v", org, err)
	}
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmd), "peer") {
		t.Fatalf("PID %d of %s is not a running peer (%q, %v)", pid, org, cmd, err)
	}
	t.Cleanup(func() {
		if p, err := env.PID(org); err != nil || !testnet.Alive(p) {
			if out, err := env.Network("up"); err != nil {
				t.Errorf("restart %s after the test: %v\n%s", org, err, out)
			}
		}
	})
	if out, err := env.Network("stop", org); err != nil {
		t.Fatalf("stop %s: %v\n%s", org, err, out)
	}
	if err := testnet.Eventually(15*time.Second, 100*time.Millisecond, func() error {
		if testnet.Alive(pid) {
			return fmt.Errorf("%s's peer (PID %d) still runs", org, pid)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s's peer (PID %d) is down", org, pid)
}

// startPeers starts every stopped node again and waits until every peer is
// level.
func startPeers(t *testing.T) {
	t.Helper()
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("network.sh up: %v\n%s", err, out)
	}
	if _, err := env.Agreed(90*time.Second, 0); err != nil {
		t.Fatal(err)
	}
}

// mustFail runs the CLI as profile and requires a non-zero exit whose
// output says want.
func mustFail(t *testing.T, want, profile string, args ...string) {
	t.Helper()
	r := env.Run(t, profile, args...)
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, want) {
		t.Errorf("mtrace %s as %s: exit %d; want a failure saying %q\n%s", strings.Join(args, " "), profile, r.Code, want, r)
	}
}

// labReport writes a file standing for a failing lab report and returns
// its path and SHA-256.
func labReport(t *testing.T, name string) (string, string) {
	t.Helper()
	body := []byte("lab report " + name + ": PVC 3.1% (limit 0.5%)\n")
	f := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return f, hex.EncodeToString(sum[:])
}

// TestAuditorHoldsWithOwnersPeerDown: the recycler's peer is down; the
// auditor's hold and lab report commit all the same. With the peer back,
// the recycler can neither process, offer nor release the held batch, the
// maker cannot accept a held batch offered to it, verify fails naming the
// hold; once the auditor releases, all of it works.
func TestAuditorHoldsWithOwnersPeerDown(t *testing.T) {
	held, moving, out := id("held"), id("moving"), id("heldout")
	for _, b := range []string{held, moving} {
		env.MustRun(t, "municipality", "batch", "register", b, "--material", "PET", "--mass", "100kg",
			"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
		env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
		env.MustRun(t, "recycler", "batch", "accept", b)
	}
	env.MustRun(t, "recycler", "batch", "transfer", moving, "--to", "MakerMSP")
	settle(t)

	stopPeer(t, "recycler")
	file, sha := labReport(t, held)
	env.MustRun(t, "auditor", "batch", "quarantine", held, "--reason", "lab: PVC above limit")
	env.MustRun(t, "auditor", "batch", "attach", held, file, "--name", "failing lab report")
	env.MustRun(t, "auditor", "batch", "quarantine", moving, "--reason", "lab: PVC above limit")
	t.Log("the auditor's holds and lab report committed with the recycler's peer down")
	startPeers(t)

	var b model.Batch
	env.JSON(t, &b, "recycler", "batch", "get", held)
	if len(b.Holds) != 1 || b.Holds[0].By.MSP != "AuditorMSP" || b.EffectiveStatus() != model.StatusQuarantined {
		t.Fatalf("the recycler's own peer does not show the auditor's hold: %+v", b.Holds)
	}
	if len(b.AuditorDocuments) != 1 || b.AuditorDocuments[0].SHA256 != sha {
		t.Errorf("the recycler's own peer does not show the lab report: %+v", b.AuditorDocuments)
	}
	if r := env.MustRun(t, "recycler", "batch", "get", held); !strings.Contains(r.Stdout, "held by auditor AuditorMSP") {
		t.Errorf("batch get does not show the hold:\n%s", r.Stdout)
	}
	if r := env.MustRun(t, "auditor", "history", held); !strings.Contains(r.Stdout, "held by auditor AuditorMSP: lab: PVC above limit") ||
		!strings.Contains(r.Stdout, "auditor's document failing lab report") {
		t.Errorf("history does not show the hold and the document:\n%s", r.Stdout)
	}

	// The owner, with its honest peer back, can do nothing with it.
	mustFail(t, "is held by auditor AuditorMSP", "recycler", "batch", "process", "--step", "extrusion",
		"--in", held+":20kg", "--out", out+":PET:filament:19kg")
	mustFail(t, "is held by auditor AuditorMSP", "recycler", "batch", "transfer", held, "--to", "MakerMSP")
	mustFail(t, "only AuditorMSP may release it", "recycler", "batch", "release", held)
	mustFail(t, "is held by auditor AuditorMSP", "maker", "batch", "accept", moving)

	// Verify fails, naming the hold; the hold and the document pass the
	// signatures check (created and endorsed by the auditor).
	r := env.Run(t, "auditor", "verify", held, "--document", file)
	t.Logf("mtrace verify %s while held:\n%s", held, r.Stdout)
	if r.Code != 1 || !strings.Contains(r.Stdout, `batch "`+held+`" is held by auditor AuditorMSP`) {
		t.Errorf("verify of the held batch: exit %d; want 1 naming the hold\n%s", r.Code, r)
	}
	if strings.Contains(r.Stdout, "FAIL  signatures") || !strings.Contains(r.Stdout, "anchored on batch") {
		t.Errorf("verify: the hold's and the document's records should pass and the document count\n%s", r.Stdout)
	}

	env.MustRun(t, "auditor", "batch", "release", held)
	env.MustRun(t, "auditor", "batch", "release", moving)
	settle(t)
	env.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--in", held+":20kg", "--out", out+":PET:filament:19kg")
	env.MustRun(t, "maker", "batch", "accept", moving)
	settle(t)
	if r := env.Run(t, "auditor", "verify", out, "--document", file); r.Code != 0 {
		t.Errorf("verify after the release: exit %d\n%s", r.Code, r)
	}
}

// TestAuditorHoldsDespiteOwnersChaincode: the recycler's peer runs
// forgecc, which refuses every auditor's hold and document. The auditor's
// hold and document still commit (any other member witnesses), and the
// recycler's forged release and process end ENDORSEMENT_POLICY_FAILURE or
// are refused by the honest peers.
func TestAuditorHoldsDespiteOwnersChaincode(t *testing.T) {
	b, b2, out := id("vetoed"), id("vetoed2"), id("vetoedout")
	for _, x := range []string{b, b2} {
		env.MustRun(t, "municipality", "batch", "register", x, "--material", "PET", "--mass", "100kg",
			"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
		env.MustRun(t, "municipality", "batch", "transfer", x, "--to", "RecyclerMSP")
		env.MustRun(t, "recycler", "batch", "accept", x)
	}
	settle(t)
	swap(t, "recycler", forger(t))

	tb := &table{t: t}
	aud := contract(t, "auditor")
	got := attempt(aud, "Quarantine", []string{b, "lab: PVC"}, "AuditorMSP", "RecyclerMSP")
	tb.add("auditor's hold, the owner's peer asked", "forgecc on recycler's peer", got)
	if !strings.Contains(got, "forge: this peer endorses no auditor's hold") {
		t.Errorf("the owner's forged chaincode should refuse the hold: %s", got)
	}
	_, sha := labReport(t, b)
	got = attempt(aud, "Quarantine", []string{b, "lab: PVC"}, "AuditorMSP", "MakerMSP")
	tb.add("auditor's hold, a witness asked", "auditor and maker endorse", got)
	if got != peer.TxValidationCode_VALID.String() {
		t.Errorf("the auditor's hold with a witness: %s; want VALID", got)
	}
	got = attempt(aud, "AttachDocument", []string{b, "failing lab report", sha, ""}, "AuditorMSP", "MunicipalityMSP")
	tb.add("auditor's document, a witness asked", "auditor and municipality endorse", got)
	if got != peer.TxValidationCode_VALID.String() {
		t.Errorf("the auditor's document with a witness: %s; want VALID", got)
	}
	// Through the CLI, the gateway choosing the endorsers: the hold and a
	// document commit on another batch of the recycler's too.
	file2, _ := labReport(t, b2)
	env.MustRun(t, "auditor", "batch", "quarantine", b2, "--reason", "lab: PVC")
	env.MustRun(t, "auditor", "batch", "attach", b2, file2, "--name", "failing lab report")
	settle(t)

	rec := contract(t, "recycler")
	proc := arg(model.ProcessRequest{Step: model.StepExtrusion, Inputs: []model.ProcessInput{{ID: b, Mass: 20 * model.Kilogram}},
		Outputs: []model.ProcessOutput{{ID: out, Material: "PET", Form: model.FormFilament, Mass: 19 * model.Kilogram}}})
	tb.mount([]string{"RecyclerMSP"}, "forgecc on recycler's peer, recycler endorses alone", []attack{
		{"lifting the auditor's hold (hold key deleted)", "Release", []string{b}, rec},
		{"processing the held batch", "Process", []string{proc}, rec},
	})
	for _, orgs := range [][]string{{"RecyclerMSP", "MakerMSP"}, nil} {
		how := "recycler and maker endorse"
		if orgs == nil {
			how = "gateway picks the endorsers"
		}
		got := attempt(rec, "Release", []string{b}, orgs...)
		tb.add("lifting the auditor's hold", how, got)
		if !strings.HasPrefix(got, "refused") && got != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE.String() {
			t.Errorf("lifting the auditor's hold (%s): %s; want a refusal or ENDORSEMENT_POLICY_FAILURE", how, got)
		}
	}
	tb.print()
	settle(t)

	var after model.Batch
	env.JSON(t, &after, "auditor", "batch", "get", b)
	if len(after.Holds) != 1 || after.Holds[0].By.MSP != "AuditorMSP" || len(after.AuditorDocuments) != 1 {
		t.Errorf("the hold and the document must stand: holds %+v, documents %+v", after.Holds, after.AuditorDocuments)
	}
	env.JSON(t, &after, "auditor", "batch", "get", b2)
	if len(after.Holds) != 1 || len(after.AuditorDocuments) != 1 {
		t.Errorf("the hold and the document placed through the CLI: holds %+v, documents %+v", after.Holds, after.AuditorDocuments)
	}
	env.MustRun(t, "auditor", "batch", "release", b2)
	if r := env.Run(t, "auditor", "batch", "get", out); r.Code == 0 {
		t.Errorf("the forged process's output is on the ledger:\n%s", r.Stdout)
	}
	env.MustRun(t, "auditor", "batch", "release", b)
}

// TestCaptureCannotBeSquatted: the recycler captures an event of its own
// under the event ID the municipality's plant sends next. The
// municipality's capture is recorded, a rerun skips it, and a different
// event under the same ID from the municipality is refused, naming the
// transaction.
func TestCaptureCannotBeSquatted(t *testing.T) {
	own, collected := id("squatter"), id("collected")
	env.MustRun(t, "municipality", "batch", "register", own, "--material", "PET", "--mass", "10kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", own, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", own)
	settle(t)
	eventID := "urn:uuid:" + id("plant-collection")

	// The squat, straight through the gateway.
	squat := arg(model.CaptureRequest{EventID: eventID, Kind: model.CaptureQuarantine, Batch: own, Reason: "squatting an event ID"})
	if got := attempt(contract(t, "recycler"), "Capture", []string{squat}); got != peer.TxValidationCode_VALID.String() {
		t.Fatalf("the recycler's capture under the municipality's event ID: %s", got)
	}
	settle(t)

	doc := func(mass string) string {
		return `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"mt":"urn:mtrace:vocab:"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-25T16:00:00+03:00",
"epcisBody":{"eventList":[
{"type":"ObjectEvent","eventID":"` + eventID + `","eventTime":"2026-11-25T08:10:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"ADD","bizStep":"collecting","disposition":"active","bizLocation":{"id":"urn:mtrace:id:place/kadikoy-depot"},
 "quantityList":[{"epcClass":"urn:mtrace:id:batch/` + collected + `","quantity":` + mass + `,"uom":"KGM"}],
 "ilmd":{"mt:material":"PET","mt:wasteCode":"15 01 02"}}]}}`
	}
	var r captureReport
	env.JSON(t, &r, "municipality", "epcis", "capture", writeFile(t, doc("640.5")))
	if r.Captured != 1 || r.Skipped != 0 || r.Refused != 0 {
		t.Fatalf("the municipality's capture after the squat: %+v", r)
	}
	var got model.Batch
	env.JSON(t, &got, "auditor", "batch", "get", collected)
	if got.InitialMass != 640_500 || got.Owner != "MunicipalityMSP" {
		t.Errorf("the captured collection: %+v", got)
	}

	// A rerun of the same event is skipped; another event under the ID is
	// refused loudly, naming the transaction of the first.
	env.JSON(t, &r, "municipality", "epcis", "capture", writeFile(t, doc("640.5")))
	if r.Skipped != 1 || r.Captured != 0 {
		t.Errorf("rerun: %+v; want it skipped", r)
	}
	res := env.Run(t, "municipality", "epcis", "capture", writeFile(t, doc("12")))
	if res.Code == 0 || !strings.Contains(res.Stdout, "was already captured by MunicipalityMSP in tx") || !strings.Contains(res.Stdout, "with different content") {
		t.Errorf("a different event under the same ID: exit %d; want a refusal naming the transaction\n%s", res.Code, res)
	}
	env.MustRun(t, "recycler", "batch", "release", own)
}

// captureReport is what `mtrace epcis capture -o json` reports.
type captureReport struct {
	Captured int `json:"captured"`
	Skipped  int `json:"skipped"`
	Refused  int `json:"refused"`
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.jsonld")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRegistryCannotBeFrozen: the maker's admin fills its organisation's
// proposal slots; every other member can still propose, and a majority
// rejects one of the maker's proposals.
func TestRegistryCannotBeFrozen(t *testing.T) {
	var mine []model.Proposal
	t.Cleanup(func() {
		for _, p := range mine {
			env.Run(t, "maker-admin", "registry", "withdraw", p.ID)
		}
	})
	for i := range model.MaxOpenPerOrg {
		var p model.Proposal
		env.JSON(t, &p, "maker-admin", "registry", "propose", "--msp", "MakerMSP", "--role", "maker",
			"--name", fmt.Sprintf("Squat %s %d", run, i), "--ttl", "720h")
		mine = append(mine, p)
	}
	mustFail(t, "MakerMSP has 4 registry proposals open already (at most 4 per organisation)", "maker-admin",
		"registry", "propose", "--msp", "MakerMSP", "--role", "maker", "--name", "one too many", "--ttl", "720h")

	var removal model.Proposal
	env.JSON(t, &removal, "municipality-admin", "registry", "propose", "--msp", "MakerMSP", "--remove")
	t.Cleanup(func() { env.Run(t, "municipality-admin", "registry", "withdraw", removal.ID) })

	target := mine[0]
	var v model.Vote
	for i, admin := range []string{"municipality-admin", "recycler-admin", "auditor-admin"} {
		env.JSON(t, &v, admin, "registry", "reject", target.ID)
		if v.Votes != i+1 || v.Needed != 3 || v.Dropped != (i == 2) {
			t.Errorf("rejection %d by %s: %+v", i+1, admin, v)
		}
	}
	mine = mine[1:]
	var reg model.Registry
	env.JSON(t, &reg, "auditor", "registry", "show")
	if _, open := reg.Proposal(target.ID); open {
		t.Errorf("proposal %s is still open after a majority rejected it", target.ID)
	}
	if p, ok := reg.Lookup("MakerMSP"); !ok || p.Name == target.Change.Participant.Name {
		t.Errorf("the rejected change applied: %+v", p)
	}
	// The slot is free again.
	var p model.Proposal
	env.JSON(t, &p, "maker-admin", "registry", "propose", "--msp", "MakerMSP", "--role", "maker", "--name", "Squat again "+run)
	mine = append(mine, p)
}

// TestOwnerAndWitnessUseAHeldBatch: the owner (the recycler) and one
// colluding witness (the maker) both run forgecc and process a batch an
// auditor holds. The batch key's policy is met, so Fabric commits it; what
// stops it reaching a buyer unnoticed is verify, which names the hold in
// the output's ancestry, and audit, which reports the process after the
// hold.
func TestOwnerAndWitnessUseAHeldBatch(t *testing.T) {
	b, out := id("heldc"), id("heldc-out")
	env.MustRun(t, "municipality", "batch", "register", b, "--material", "PET", "--mass", "100kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", b)
	env.MustRun(t, "auditor", "batch", "quarantine", b, "--reason", "lab: PVC above limit")
	settle(t)
	bin := forger(t)
	swap(t, "recycler", bin)
	swap(t, "maker", bin)

	proc := arg(model.ProcessRequest{Step: model.StepExtrusion, Inputs: []model.ProcessInput{{ID: b, Mass: 20 * model.Kilogram}},
		Outputs: []model.ProcessOutput{{ID: out, Material: "PET", Form: model.FormFilament, Mass: 20 * model.Kilogram}}})
	got := attempt(contract(t, "recycler"), "Process", []string{proc}, "RecyclerMSP", "MakerMSP")
	t.Logf("processing the held batch, endorsed by RecyclerMSP and MakerMSP: %s", got)
	if got != peer.TxValidationCode_VALID.String() {
		t.Fatalf("the colluding process ended %s; this test needs it on the ledger to check verify and audit", got)
	}
	settle(t)
	r := env.Run(t, "auditor", "verify", out)
	t.Logf("mtrace verify %s:\n%s", out, r.Stdout)
	if r.Code != 1 || !strings.Contains(r.Stdout, `batch "`+b+`" is held by auditor AuditorMSP`) {
		t.Errorf("verify of what the held batch became: exit %d; want 1 naming the hold\n%s", r.Code, r)
	}
	a := env.Run(t, "auditor", "audit")
	if a.Code != 1 || !strings.Contains(a.Stdout, `batch "`+b+`": process `) || !strings.Contains(a.Stdout, "while auditor AuditorMSP's hold") {
		t.Errorf("audit after the colluding process: exit %d; want 1 and the process after the hold\n%s", a.Code, a)
	}
	if !strings.Contains(a.Stdout, "Auditors' holds in force") {
		t.Errorf("audit does not list the holds in force:\n%s", a.Stdout)
	}
}
