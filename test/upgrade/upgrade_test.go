//go:build e2e

// Package upgrade tests an in-place upgrade of the live network from
// contract 0.2.0, whose batches listed their takes in a "children" list, to
// the current stored format: the old chaincode is built from the git
// history and deployed, makes batches, the current chaincode is deployed
// over it and the ledger migrated, and verify and audit must hold on every
// batch, old and new.
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

// release020 is the last commit of contract 0.2.0.
const release020 = "94b76b2"

var env *testnet.Env

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "upgrade", &env) }

// source020 writes the chaincode of contract 0.2.0 (its chaincode/ folder
// and the module files) from the git history into a temporary folder.
func source020(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("git", "-C", env.Root, "cat-file", "-e", release020+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("the upgrade test builds contract 0.2.0 from commit %s of the git history, which this checkout lacks (a shallow clone? run `git fetch --unshallow`): %v %s", release020, err, out)
	}
	dir := t.TempDir()
	tarball := filepath.Join(t.TempDir(), "cc-0.2.0.tar")
	if out, err := exec.Command("git", "-C", env.Root, "archive", "-o", tarball, release020, "chaincode", "go.mod", "go.sum").CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v %s", release020, err, out)
	}
	if out, err := exec.Command("tar", "-xf", tarball, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v %s", tarball, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "chaincode", "contract", "contract.go"))
	if err != nil || !strings.Contains(string(raw), `Version = "0.2.0"`) {
		t.Fatalf("commit %s does not hold contract 0.2.0 (%v)", release020, err)
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

	src := source020(t)
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

	for _, b := range append(old, newer) {
		var v model.Verdict
		r := env.Run(t, "auditor", "verify", b, "-o", "json")
		if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
			t.Fatalf("verify %s: %v\n%s", b, err, r)
		}
		if !v.OK || r.Code != 0 {
			t.Errorf("verify %s after the upgrade: %+v", b, v.Checks)
		}
	}
	var rep model.AuditReport
	r = env.Run(t, "auditor", "audit", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("audit: %v\n%s", err, r)
	}
	if !rep.OK || r.Code != 0 {
		t.Fatalf("audit after the upgrade: %v", rep.Violations)
	}
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
