//go:build e2e

// Package upgrade tests in-place upgrades of the live network to the
// current stored format: from contract 0.2.0, whose batches listed their
// takes in a "children" list, from contract 0.4.0, which kept an
// auditor's hold on the batch and capture records under the event ID
// alone, from contract 0.5.0 (no sites, one share) and from contract
// 0.6.0 (no owner-and-status index). The old chaincode is built from the git history and deployed,
// makes batches, the current chaincode is deployed over it and the ledger
// migrated, and verify and audit must hold on every batch, old and new.
package upgrade

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtrace/mtrace/chaincode/contract"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// release020 is the last commit of contract 0.2.0, release040 the last of
// contract 0.4.0 (auditors' holds on the batch, capture records keyed by
// event ID alone), release050 the last of contract 0.5.0 (no sites, one
// recycled share in basis points), release060 the last of contract 0.6.0
// (stored format 2: no owner-and-status index).
const (
	release020 = "94b76b2"
	release040 = "897bf56"
	release050 = "599dc2c"
	release060 = "0bf0774"
)

var env *testnet.Env

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "upgrade", &env) }

// source writes the chaincode of a past contract version (its chaincode/
// folder and the module files) from commit of the git history into a
// temporary folder, and checks that it is that version.
func source(t *testing.T, commit, version string) string {
	t.Helper()
	if out, err := exec.Command("git", "-C", env.Root, "cat-file", "-e", commit+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("the upgrade test builds contract %s from commit %s of the git history, which this checkout lacks (a shallow clone? run `git fetch --unshallow`): %v %s", version, commit, err, out)
	}
	dir := t.TempDir()
	tarball := filepath.Join(t.TempDir(), "cc-"+version+".tar")
	if out, err := exec.Command("git", "-C", env.Root, "archive", "-o", tarball, commit, "chaincode", "go.mod", "go.sum").CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v %s", commit, err, out)
	}
	if out, err := exec.Command("tar", "-xf", tarball, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v %s", tarball, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "chaincode", "contract", "contract.go"))
	if err != nil || !strings.Contains(string(raw), `Version = "`+version+`"`) {
		t.Fatalf("commit %s does not hold contract %s (%v)", commit, version, err)
	}
	return dir
}

// deploy runs `network.sh deploy` building the chaincode from src ("" for
// this checkout) and checks the contract version the peers then run.
func deploy(t *testing.T, src, version string) {
	t.Helper()
	t.Setenv("MTRACE_CC_SRC", src)
	out, err := env.Network("deploy")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deploy %s: %s", version, lastLine(out))
	if got := contractVersion(t); got != version {
		t.Fatalf("after deploy the peers run contract %s, want %s", got, version)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// contractVersion asks the chaincode's metadata for the contract version.
func contractVersion(t *testing.T) string {
	t.Helper()
	gw, done, err := env.Gateway("municipality")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	p := env.Profiles["municipality"]
	var raw []byte
	err = testnet.Eventually(time.Minute, time.Second, func() error {
		raw, err = gw.GetNetwork(p.Channel).GetContract(p.Chaincode).EvaluateTransaction("org.hyperledger.fabric:GetMetadata")
		return err
	})
	if err != nil {
		t.Fatalf("chaincode metadata: %v", err)
	}
	var md struct {
		Contracts map[string]struct {
			Info struct {
				Version string `json:"version"`
			} `json:"info"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		t.Fatalf("chaincode metadata: %v", err)
	}
	return md.Contracts["mtrace"].Info.Version
}

func TestUpgradeFrom020(t *testing.T) {
	run := fmt.Sprintf("u%d", time.Now().Unix()%1_000_000)
	id := func(s string) string { return run + "-" + s }
	silo, pending, held := id("silo"), id("pending"), id("held")
	flakes := []string{id("f1"), id("f2"), id("f3")}
	product := id("cup")

	src := source(t, release020, "0.2.0")
	deploy(t, src, "0.2.0")

	// Contract 0.2.0 makes the batches: a silo taken from three times, a
	// spool printed by the maker, a batch with a transfer pending and one
	// quarantined.
	env.MustRun(t, "municipality", "batch", "register", silo, "--material", "PET", "--mass", "1010kg",
		"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", silo, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", silo, "--received-mass", "1000kg")
	for _, f := range flakes {
		env.MustRun(t, "recycler", "batch", "process", "--step", "shredding", "--in", silo+":1kg", "--out", f+":PET:flakes:1kg")
	}
	env.MustRun(t, "recycler", "batch", "transfer", flakes[0], "--to", "MakerMSP")
	env.MustRun(t, "maker", "batch", "accept", flakes[0])
	env.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", flakes[0]+":500g", "--out", product+":PET:product:450g")
	env.MustRun(t, "municipality", "batch", "register", pending, "--material", "PP", "--mass", "20kg",
		"--location", "Üsküdar, Istanbul", "--collected-at", "2026-11-20T10:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", pending, "--to", "RecyclerMSP")
	env.MustRun(t, "municipality", "batch", "register", held, "--material", "PET", "--mass", "5kg",
		"--location", "Beşiktaş, Istanbul", "--collected-at", "2026-11-20T11:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "auditor", "batch", "quarantine", held, "--reason", "sample sent to the lab")
	old := []string{silo, pending, held, flakes[0], flakes[1], flakes[2], product}
	slices.Sort(old)
	raw := env.MustRun(t, "auditor", "batch", "get", silo, "-o", "json").Stdout
	if !strings.Contains(raw, `"children"`) || strings.Contains(raw, `"format"`) {
		t.Fatalf("contract 0.2.0 did not store its own format:\n%s", raw)
	}
	var upBefore model.Trace
	env.JSON(t, &upBefore, "auditor", "trace", product, "--format", "json")

	// The current contract, deployed in place, refuses the old batches
	// until they are migrated.
	deploy(t, "", contract.Version)
	r := env.Run(t, "auditor", "batch", "get", silo)
	if r.Code == 0 || !strings.Contains(r.Stderr, "stored in the format of contract 0.2.0") {
		t.Fatalf("an unmigrated batch was not refused with the way out:\n%s", r)
	}
	if r := env.Run(t, "municipality", "migrate"); r.Code == 0 || !strings.Contains(r.Stderr, `not an admin identity`) {
		t.Fatalf("a client identity migrated:\n%s", r)
	}

	// Interrupted: one transaction migrates two batches, then the run
	// stops. The migration run after it does only the rest.
	gw, done, err := env.Gateway("municipality-admin")
	if err != nil {
		t.Fatal(err)
	}
	p := env.Profiles["municipality-admin"]
	first, _ := json.Marshal(old[:2])
	if _, err := gw.GetNetwork(p.Channel).GetContract(p.Chaincode).SubmitTransaction("MigrateBatches", string(first)); err != nil {
		done()
		t.Fatalf("MigrateBatches %s: %v", first, err)
	}
	done()
	// What `mtrace migrate -o json` prints.
	var res struct {
		Pending      int      `json:"pending"`
		Migrated     []string `json:"migrated"`
		Transactions int      `json:"transactions"`
	}
	env.JSON(t, &res, "municipality-admin", "migrate", "--batch", "2")
	for _, id := range old[2:] {
		if !slices.Contains(res.Migrated, id) {
			t.Errorf("the migration run did not migrate %s: %+v", id, res)
		}
	}
	for _, id := range old[:2] {
		if slices.Contains(res.Migrated, id) {
			t.Errorf("the migration run migrated %s again: %+v", id, res)
		}
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	if res.Pending != 0 || len(res.Migrated) != 0 || res.Transactions != 0 {
		t.Fatalf("a second migration run found work: %+v", res)
	}

	// Every old batch reads, traces and verifies as before.
	var silob model.Batch
	env.JSON(t, &silob, "auditor", "batch", "get", silo)
	if silob.Format != model.CurrentFormat || silob.Takes != 3 || silob.TakenMass != 3*model.Kilogram || silob.RemainingMass != 997*model.Kilogram {
		t.Fatalf("migrated silo: format %d, %d takes, %s taken, %s remaining", silob.Format, silob.Takes, silob.TakenMass, silob.RemainingMass)
	}
	text := env.MustRun(t, "auditor", "batch", "get", silo).Stdout
	for _, f := range flakes {
		if !strings.Contains(text, f+" 1 kg") {
			t.Errorf("batch get of the migrated silo does not list child %s:\n%s", f, text)
		}
	}
	var upAfter model.Trace
	env.JSON(t, &upAfter, "auditor", "trace", product, "--format", "json")
	if !slices.Equal(nodeIDs(upBefore), nodeIDs(upAfter)) || len(upBefore.Edges) != len(upAfter.Edges) {
		t.Errorf("upstream trace changed in the migration: %v -> %v", nodeIDs(upBefore), nodeIDs(upAfter))
	}
	var down model.Trace
	env.JSON(t, &down, "auditor", "trace", silo, "--down", "--format", "json")
	if want := []string{silo, flakes[0], flakes[1], flakes[2], product}; !sameSet(nodeIDs(down), want) {
		t.Errorf("downstream trace of the migrated silo: %v, want %v", nodeIDs(down), want)
	}

	// The ledger works on: the silo is taken from again, the pending
	// transfer is accepted (its key-level policy came through), the hold
	// released.
	newer := id("f4")
	env.MustRun(t, "recycler", "batch", "process", "--step", "shredding", "--in", silo+":2kg", "--out", newer+":PET:flakes:2kg")
	env.MustRun(t, "recycler", "batch", "accept", pending)
	env.MustRun(t, "auditor", "batch", "release", held)

	verified(t, "after the upgrade", append(old, newer)...)
	var rep model.AuditReport
	r = env.Run(t, "auditor", "audit", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("audit: %v\n%s", err, r)
	}
	if !rep.OK || r.Code != 0 {
		t.Fatalf("audit after the upgrade: %v", rep.Violations)
	}
}

// TestUpgradeFrom040: an auditor's hold that contract 0.4.0 stored on the
// batch keeps the batch held after the upgrade, `mtrace migrate` moves it
// to its own key, and its signature check reads the transaction that put
// it on the batch. A capture record of 0.4.0 still skips its own rerun
// and no longer blocks another member's capture under the same event ID.
func TestUpgradeFrom040(t *testing.T) {
	run := fmt.Sprintf("v%d", time.Now().Unix()%1_000_000)
	id := func(s string) string { return run + "-" + s }
	held, out, collected := id("held"), id("out"), id("collected")
	deploy(t, source(t, release040, "0.4.0"), "0.4.0")
	t.Cleanup(func() {
		if contractVersion(t) != contract.Version {
			deploy(t, "", contract.Version)
		}
	})
	env.MustRun(t, "municipality", "batch", "register", held, "--material", "PET", "--mass", "30kg",
		"--location", "Beşiktaş, Istanbul", "--collected-at", "2026-11-20T11:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", held, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", held)
	env.MustRun(t, "auditor", "batch", "quarantine", held, "--reason", "sample sent to the lab")
	var before model.Batch
	env.JSON(t, &before, "auditor", "batch", "get", held)
	if before.Quarantine == nil || before.Quarantine.ByRole != model.HeldByAuditor {
		t.Fatalf("contract 0.4.0 did not put the auditor's hold on the batch: %+v", before.Quarantine)
	}
	eventID := "urn:uuid:" + id("collection")
	doc := `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"mt":"urn:mtrace:vocab:"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-25T16:00:00+03:00",
"epcisBody":{"eventList":[
{"type":"ObjectEvent","eventID":"` + eventID + `","eventTime":"2026-11-25T08:10:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"ADD","bizStep":"collecting","disposition":"active","bizLocation":{"id":"urn:mtrace:id:place/kadikoy-depot"},
 "quantityList":[{"epcClass":"urn:mtrace:id:batch/` + collected + `","quantity":12,"uom":"KGM"}],
 "ilmd":{"mt:material":"PET","mt:wasteCode":"15 01 02"}}]}}`
	docFile := filepath.Join(t.TempDir(), "doc.jsonld")
	if err := os.WriteFile(docFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	type report struct{ Captured, Skipped, Refused int }
	var rep report
	env.JSON(t, &rep, "municipality", "epcis", "capture", docFile)
	if rep.Captured != 1 {
		t.Fatalf("capture under contract 0.4.0: %+v", rep)
	}

	deploy(t, "", contract.Version)
	proc := []string{"batch", "process", "--step", "shredding", "--in", held + ":10kg", "--out", out + ":PET:flakes:10kg"}
	if r := env.Run(t, "recycler", proc...); r.Code == 0 || !strings.Contains(r.Stderr, "is quarantined: sample sent to the lab") {
		t.Errorf("the 0.4.0 hold must keep the batch held before the migration: exit %d\n%s", r.Code, r)
	}
	if r := env.Run(t, "recycler", "batch", "release", held); r.Code == 0 || !strings.Contains(r.Stderr, "only an auditor may release it") {
		t.Errorf("the owner released a 0.4.0 auditor's hold: exit %d\n%s", r.Code, r)
	}

	var res struct {
		Pending  int      `json:"pending"`
		Migrated []string `json:"migrated"`
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	if !slices.Contains(res.Migrated, held) {
		t.Fatalf("the migration did not move the hold of %s: %+v", held, res)
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	if len(res.Migrated) != 0 {
		t.Errorf("a second migration run found work: %+v", res)
	}
	var after model.Batch
	env.JSON(t, &after, "auditor", "batch", "get", held)
	if after.Quarantine != nil || after.Status != model.StatusActive || len(after.Holds) != 1 || after.Holds[0].Tx != before.Quarantine.Tx {
		t.Fatalf("after the migration: status %s, quarantine %+v, holds %+v", after.Status, after.Quarantine, after.Holds)
	}
	if r := env.Run(t, "recycler", proc...); r.Code == 0 || !strings.Contains(r.Stderr, "is held by auditor AuditorMSP") {
		t.Errorf("the moved hold must keep the batch held: exit %d\n%s", r.Code, r)
	}
	r := env.Run(t, "auditor", "verify", held)
	t.Logf("mtrace verify %s after the migration:\n%s", held, r.Stdout)
	if r.Code != 1 || !strings.Contains(r.Stdout, "is held by auditor AuditorMSP") || !strings.Contains(r.Stdout, "ok    signatures") {
		t.Errorf("verify of the held batch: exit %d; want 1, the hold named and the signatures ok\n%s", r.Code, r)
	}
	env.MustRun(t, "auditor", "batch", "release", held)
	env.MustRun(t, "recycler", proc...)
	if r := env.Run(t, "auditor", "verify", out); r.Code != 0 {
		t.Errorf("verify %s after the release: exit %d\n%s", out, r.Code, r)
	}

	// The 0.4.0 capture record: the municipality's rerun is skipped; the
	// recycler captures under the same event ID.
	env.JSON(t, &rep, "municipality", "epcis", "capture", docFile)
	if rep.Skipped != 1 || rep.Captured != 0 {
		t.Errorf("rerun of a capture recorded by contract 0.4.0: %+v", rep)
	}
	gw, done, err := env.Gateway("recycler")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	p := env.Profiles["recycler"]
	req, _ := json.Marshal(model.CaptureRequest{EventID: eventID, Kind: model.CaptureQuarantine, Batch: out, Reason: "same event ID"})
	if _, err := gw.GetNetwork(p.Channel).GetContract(p.Chaincode).SubmitTransaction("Capture", string(req)); err != nil {
		t.Errorf("the recycler's capture under an event ID the municipality captured with contract 0.4.0: %v", testnet.Message(err))
	}
	env.MustRun(t, "recycler", "batch", "release", out)
}

func nodeIDs(t model.Trace) []string {
	var ids []string
	for _, n := range t.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestUpgradeFrom050: batches and process records of contract 0.5.0 (no
// site, no pre-consumer share) work on after the upgrade; `mtrace migrate`
// gives each its post-consumer basis points as parts per million and its
// owner's default site, in place, and verify (signatures included) holds
// on every one; a new blend of old and new batches carries both shares.
func TestUpgradeFrom050(t *testing.T) {
	run := fmt.Sprintf("w%d", time.Now().Unix()%1_000_000)
	id := func(s string) string { return run + "-" + s }
	c1, c2, flakes, pellets, scrap, blend := id("c1"), id("c2"), id("flakes"), id("pellets"), id("scrap"), id("blend")
	const plant = "8690000000029"
	deploy(t, source(t, release050, "0.5.0"), "0.5.0")
	t.Cleanup(func() {
		if contractVersion(t) != contract.Version {
			deploy(t, "", contract.Version)
		}
	})
	for _, c := range []struct{ id, mass string }{{c1, "600kg"}, {c2, "301kg"}} {
		env.MustRun(t, "municipality", "batch", "register", c.id, "--material", "PET", "--mass", c.mass,
			"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
		env.MustRun(t, "municipality", "batch", "transfer", c.id, "--to", "RecyclerMSP")
		env.MustRun(t, "recycler", "batch", "accept", c.id)
	}
	env.MustRun(t, "recycler", "batch", "process", "--step", "shredding", "--in", c1+":600kg", "--in", c2+":300kg",
		"--virgin", "99kg", "--out", flakes+":PET:flakes:900kg")
	var before model.Batch
	env.JSON(t, &before, "auditor", "batch", "get", flakes)
	if before.Format != 1 || before.Shares != nil || before.RecycledContent != 9009 {
		t.Fatalf("contract 0.5.0 wrote format %d, shares %v, %d bp", before.Format, before.Shares, before.RecycledContent)
	}

	deploy(t, "", contract.Version)
	// Old batches are used before the migration: a process reads their
	// basis points as parts per million.
	env.MustRun(t, "recycler-admin", "site", "add", plant, "--name", "Gebze plant", "--default")
	var outs []model.Batch
	env.JSON(t, &outs, "recycler", "batch", "process", "--step", "extrusion", "--in", flakes+":450kg", "--out", pellets+":PET:pellets:450kg")
	if len(outs) != 1 || outs[0].Shares == nil || *outs[0].Shares != (model.Shares{PostConsumer: 900_900}) || outs[0].Site != plant {
		t.Fatalf("a blend of an unmigrated batch: %+v", outs)
	}
	var res struct {
		Pending  int      `json:"pending"`
		Migrated []string `json:"migrated"`
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	for _, b := range []string{c1, c2} {
		if !slices.Contains(res.Migrated, b) {
			t.Errorf("the migration did not migrate %s: %+v", b, res)
		}
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	if len(res.Migrated) != 0 || res.Pending != 0 {
		t.Fatalf("a second migration run found work: %+v", res)
	}
	for _, b := range []string{c1, c2, flakes} {
		var got model.Batch
		env.JSON(t, &got, "auditor", "batch", "get", b)
		if got.Format != model.CurrentFormat || got.Shares == nil || *got.Shares != (model.Shares{PostConsumer: got.RecycledContent * 100}) {
			t.Errorf("migrated %s: format %d, shares %v, %d bp", b, got.Format, got.Shares, got.RecycledContent)
		}
		if got.Site != plant {
			t.Errorf("migrated %s (owner %s) is at site %q, not its owner's default %s", b, got.Owner, got.Site, plant)
		}
		if class, _ := got.Origin.RegisteredClass(); got.Origin.Collection != nil && class != model.PostConsumer {
			t.Errorf("migrated collection %s is %s", b, class)
		}
	}

	// New material joins the old: pre-consumer scrap blended with the
	// migrated flakes.
	env.MustRun(t, "municipality", "batch", "register", scrap, "--material", "PET", "--mass", "450kg", "--origin-class", "pre-consumer",
		"--location", "Tuzla, Istanbul", "--collected-at", "2026-11-21T09:30:00+03:00", "--waste-code", "07 02 13")
	env.MustRun(t, "municipality", "batch", "transfer", scrap, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", scrap)
	env.JSON(t, &outs, "recycler", "batch", "process", "--step", "extrusion", "--in", flakes+":450kg", "--in", scrap+":450kg",
		"--out", blend+":PET:pellets:900kg")
	if len(outs) != 1 || *outs[0].Shares != (model.Shares{PostConsumer: 450_450, PreConsumer: 500_000}) {
		t.Fatalf("a blend of migrated and new batches: %+v", outs)
	}
	verified(t, "after the upgrade", c1, c2, flakes, pellets, blend)
}

// listed runs `batch list` with args as profile, follows every page, and
// returns the ids that start with prefix, sorted.
func listed(t *testing.T, profile, prefix string, args ...string) []string {
	t.Helper()
	var ids []string
	page := ""
	for range 1000 {
		a := append([]string{"batch", "list", "--limit", "1000", "-o", "json"}, args...)
		if page != "" {
			a = append(a, "--page", page)
		}
		var p model.BatchPage
		env.JSON(t, &p, profile, a...)
		for _, b := range p.Batches {
			if strings.HasPrefix(b.ID, prefix) {
				ids = append(ids, b.ID)
			}
		}
		if p.Bookmark == "" {
			slices.Sort(ids)
			return ids
		}
		page = p.Bookmark
	}
	t.Fatalf("batch list %v never ended", args)
	return nil
}

// TestUpgradeFrom060: batches of contract 0.6.0 (stored format 2) work on
// after the upgrade to the owner-and-status index; a list by owner and
// status leaves them out until `mtrace migrate` writes their entries (and
// their format, nothing else), then lists exactly the right ones; every
// other list sees them throughout; verify holds on every batch.
func TestUpgradeFrom060(t *testing.T) {
	run := fmt.Sprintf("x%d", time.Now().Unix()%1_000_000)
	id := func(s string) string { return run + "-" + s }
	active, transit, accepted, held, later := id("active"), id("transit"), id("accepted"), id("held"), id("later")
	deploy(t, source(t, release060, "0.6.0"), "0.6.0")
	t.Cleanup(func() {
		if contractVersion(t) != contract.Version {
			deploy(t, "", contract.Version)
		}
	})
	for i, b := range []string{active, transit, accepted, held} {
		env.MustRun(t, "municipality", "batch", "register", b, "--material", "PET", "--mass", fmt.Sprintf("%dkg", 10+i),
			"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
	}
	env.MustRun(t, "municipality", "batch", "transfer", transit, "--to", "RecyclerMSP")
	env.MustRun(t, "municipality", "batch", "transfer", accepted, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", accepted)
	env.MustRun(t, "municipality", "batch", "quarantine", held, "--reason", "wet bales")
	mine := []string{active, transit, accepted, held}
	slices.Sort(mine)
	// What each list by owner and status must answer, of this run's batches.
	want := []struct {
		owner, status string
		ids           []string
	}{
		{"MunicipalityMSP", "active", []string{active}},
		{"MunicipalityMSP", "in_transit", []string{transit}},
		{"MunicipalityMSP", "quarantined", []string{held}},
		{"RecyclerMSP", "active", []string{accepted}},
		{"RecyclerMSP", "in_transit", nil},
	}
	check := func(when string, complete bool) {
		t.Helper()
		for _, w := range want {
			got := listed(t, "auditor", run, "--owner", w.owner, "--status", w.status)
			exp := w.ids
			if !complete {
				exp = nil
			}
			if !slices.Equal(got, exp) {
				t.Errorf("%s: batch list --owner %s --status %s: %v, want %v", when, w.owner, w.status, got, exp)
			}
		}
	}
	check("contract 0.6.0", true)
	var b model.Batch
	env.JSON(t, &b, "auditor", "batch", "get", transit)
	if b.Format != 2 {
		t.Fatalf("contract 0.6.0 wrote stored format %d", b.Format)
	}

	deploy(t, "", contract.Version)
	// Before the migration: every batch reads and every other list sees
	// them; the list by owner and status leaves them out.
	check("before the migration", false)
	if got, want := listed(t, "auditor", run, "--owner", "MunicipalityMSP"), []string{active, held, transit}; !sameSet(got, want) {
		t.Errorf("before the migration: batch list --owner MunicipalityMSP: %v, want %v", got, want)
	}
	if got := listed(t, "auditor", run, "--status", "in_transit"); !slices.Equal(got, []string{transit}) {
		t.Errorf("before the migration: batch list --status in_transit: %v", got)
	}
	for _, x := range mine {
		env.JSON(t, &b, "auditor", "batch", "get", x)
		if b.Format != 2 {
			t.Errorf("%s before the migration: format %d", x, b.Format)
		}
	}
	// A batch the new contract writes is listed at once.
	env.MustRun(t, "municipality", "batch", "register", later, "--material", "PP", "--mass", "3kg",
		"--location", "Üsküdar, Istanbul", "--collected-at", "2026-11-21T09:30:00+03:00", "--waste-code", "15 01 02")
	if got := listed(t, "auditor", run, "--owner", "MunicipalityMSP", "--status", "active"); !slices.Equal(got, []string{later}) {
		t.Errorf("a batch of the new contract: batch list --owner MunicipalityMSP --status active: %v", got)
	}
	want[0].ids = []string{active, later}

	var dry struct {
		Pending int  `json:"pending"`
		DryRun  bool `json:"dryRun"`
	}
	env.JSON(t, &dry, "municipality-admin", "migrate", "--dry-run")
	if !dry.DryRun || dry.Pending < len(mine) {
		t.Errorf("migrate --dry-run: %+v, want at least this run's %d batches pending", dry, len(mine))
	}
	var res struct {
		Pending  int      `json:"pending"`
		Migrated []string `json:"migrated"`
	}
	env.JSON(t, &res, "municipality-admin", "migrate", "--batch", "3")
	for _, x := range mine {
		if !slices.Contains(res.Migrated, x) {
			t.Errorf("the migration did not migrate %s: %+v", x, res)
		}
	}
	if slices.Contains(res.Migrated, later) {
		t.Errorf("the migration rewrote %s, written by the current contract", later)
	}
	env.JSON(t, &res, "municipality-admin", "migrate")
	if res.Pending != 0 || len(res.Migrated) != 0 {
		t.Fatalf("a second migration run found work: %+v", res)
	}

	check("after the migration", true)
	for _, x := range mine {
		var got model.Batch
		env.JSON(t, &got, "auditor", "batch", "get", x)
		if got.Format != model.CurrentFormat || got.Event.Name != model.EvBatchesMigrated {
			t.Errorf("migrated %s: format %d, last event %s", x, got.Format, got.Event.Name)
		}
	}
	env.MustRun(t, "municipality", "batch", "release", held)
	env.MustRun(t, "recycler", "batch", "accept", transit)
	verified(t, "after the migration", append(mine, later)...)
	if got := listed(t, "auditor", run, "--owner", "RecyclerMSP", "--status", "active"); !slices.Equal(got, []string{accepted, transit}) {
		t.Errorf("after accepting %s: batch list --owner RecyclerMSP --status active: %v", transit, got)
	}
}

// verified requires the auditor's verify to pass on every batch, with its
// signatures check; when says after what.
func verified(t *testing.T, when string, ids ...string) {
	t.Helper()
	for _, b := range ids {
		var v model.Verdict
		r := env.Run(t, "auditor", "verify", b, "-o", "json")
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
			t.Fatalf("verify %s: %v\n%s", b, err, r)
		}
		if !v.OK || r.Code != 0 {
			t.Errorf("verify %s %s: %+v", b, when, v.Checks)
		}
	}
}
