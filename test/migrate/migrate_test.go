//go:build e2e

// Package migrate tests the move of a network made by the previous
// release (OrdererOrg, three Raft orderers) to this release's layout (one
// SmartBFT orderer per member) in place: scripts/migrate-bft.sh on a
// network the previous release built and played the story on. It brings
// its own network, from the previous release's source (git archive of
// previousRelease), on MTRACE_BASE_PORT (or MTRACE_TEST_BASE_PORT) + 500,
// and removes it at the end;
// the shared network is not used.
package migrate

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtrace/mtrace/test/internal/harness"
)

// TestMain runs the suite under the harness (test/internal/harness); it
// brings its own network.
func TestMain(m *testing.M) { harness.Main(m, "migrate", nil) }

// previousRelease is the last commit of the Raft release.
const previousRelease = "774b9c1"

// repo is the repository root (the test runs in test/migrate).
func repo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// check is one check of verify's JSON answer.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRaftNetworkMovesToBFT(t *testing.T) {
	root := repo(t)
	// scripts/test.sh runs a suite that brings its own network without
	// MTRACE_BASE_PORT; the shared network uses base..base+129.
	base := 28000
	for _, v := range []string{"MTRACE_BASE_PORT", "MTRACE_TEST_BASE_PORT"} {
		if b, err := strconv.Atoi(os.Getenv(v)); err == nil {
			base = b
			break
		}
	}
	base += 500
	old := t.TempDir()
	home := filepath.Join(t.TempDir(), "net")

	// The previous release, built from the git history with this
	// checkout's Fabric binaries.
	arch := exec.Command("sh", "-c", fmt.Sprintf("git archive %s | tar -x -C %s", previousRelease, old))
	arch.Dir = root
	if out, err := arch.CombinedOutput(); err != nil {
		t.Fatalf("the test builds the previous release from commit %s of the git history: %v %s", previousRelease, err, out)
	}
	if err := os.MkdirAll(filepath.Join(old, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, root, nil, "cp", "-a", "bin/peer", "bin/orderer", "bin/configtxgen", "bin/osnadmin",
		"bin/fabric-ca-server", "bin/fabric-ca-client", "bin/.fabric-version", filepath.Join(old, "bin"))
	run(t, old, nil, "make", "build")

	netEnv := []string{"MTRACE_HOME=" + home, "MTRACE_BASE_PORT=" + strconv.Itoa(base),
		"MTRACE_CONFIG=" + filepath.Join(home, "config.yaml")}
	t.Cleanup(func() {
		// This release's network.sh after the hand-over; the previous
		// release's if the migration stopped before it.
		for _, dir := range []string{root, old} {
			cmd := exec.Command("scripts/network.sh", "down")
			cmd.Dir, cmd.Env = dir, append(os.Environ(), netEnv...)
			_ = cmd.Run()
		}
		_ = os.RemoveAll(home)
	})
	run(t, old, netEnv, "scripts/network.sh", "up")
	story := run(t, old, netEnv, "scripts/demo.sh")
	batches := slices.Compact(regexp.MustCompile(`\b(?:IST|RCY|FIL|MKR)-[A-Z]+-\d+(?:-\d+)?\b`).FindAllString(story, -1))
	slices.Sort(batches)
	batches = slices.Compact(batches)
	if len(batches) < 9 {
		t.Fatalf("the story made %d batches: %v", len(batches), batches)
	}
	proofs, _ := filepath.Glob(filepath.Join(home, "proofs", "*-holds.proof"))
	if len(proofs) == 0 {
		t.Fatal("the story exported no proof")
	}

	start := time.Now()
	out := run(t, root, netEnv, "scripts/migrate-bft.sh")
	t.Logf("migrate-bft.sh took %s:\n%s", time.Since(start).Round(time.Second), out)

	mtrace := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(root, "bin", "mtrace"), args...)
		cmd.Env = append(os.Environ(), netEnv...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}

	// The orderers are the members', and no OrdererMSP consenter is left.
	status := run(t, root, netEnv, "bin/mtrace-net", "--home", home, "--base", strconv.Itoa(base), "migrate-bft", "status")
	if !strings.Contains(status, "consensus BFT, normal mode") || strings.Contains(status, "OrdererMSP") {
		t.Fatalf("after the migration:\n%s", status)
	}
	for _, msp := range []string{"MunicipalityMSP", "RecyclerMSP", "MakerMSP", "AuditorMSP"} {
		if !regexp.MustCompile(`bft consenter \d+ 127\.0\.0\.1:\d+ ` + msp).MatchString(status) {
			t.Errorf("%s runs no consenter:\n%s", msp, status)
		}
	}

	// New transactions commit, written and verified with this release.
	fresh := "IST-MIG-1"
	if o, err := mtrace("-p", "municipality-ayse", "batch", "register", fresh, "--material", "PET", "--mass", "12kg",
		"--location", "Kadikoy", "--collected-at", "2026-11-21T09:30:00+03:00", "--waste-code", "15 01 02"); err != nil {
		t.Fatalf("a batch after the migration: %v\n%s", err, o)
	}

	// Every batch's verify (signatures on): it reads blocks from the
	// genesis block across the change of consensus. The story quarantined
	// one collection: what it went into fails only not-quarantined.
	for _, b := range append(batches, fresh) {
		o, err := mtrace("-p", "auditor", "verify", b, "-o", "json")
		var r struct {
			Checks []check `json:"checks"`
		}
		if jerr := json.Unmarshal([]byte(o), &r); jerr != nil {
			t.Fatalf("verify %s: %v\n%s", b, jerr, o)
		}
		for _, c := range r.Checks {
			if !c.OK && c.Name != "not-quarantined" {
				t.Errorf("verify %s: %s fails: %s (%v)", b, c.Name, c.Detail, err)
			}
		}
		if !slices.ContainsFunc(r.Checks, func(c check) bool {
			return c.Name == "signatures" && c.OK
		}) {
			t.Errorf("verify %s: no passing signatures check: %s", b, o)
		}
	}

	// A proof exported before the migration still verifies against the
	// same genesis pin; one exported now has BFT-signed blocks.
	for _, p := range proofs {
		if o, err := mtrace("-p", "maker", "proof", "verify", p); err != nil {
			t.Errorf("proof %s written before the migration: %v\n%s", p, err, o)
		}
	}
	after := filepath.Join(t.TempDir(), "after.proof")
	if o, err := mtrace("-p", "municipality", "proof", "export", fresh, "--file", after); err != nil {
		t.Fatalf("proof export: %v\n%s", err, o)
	}
	o, err := mtrace("-p", "maker", "proof", "verify", after)
	if err != nil || !strings.Contains(o, "orderer-signature") || !strings.Contains(o, "BFT quorum") {
		t.Errorf("proof of a batch written after the migration: %v\n%s", err, o)
	}

	// Every peer has the same height.
	st := run(t, root, netEnv, "scripts/network.sh", "status")
	heights := regexp.MustCompile(`(?m)^(\w+)\s+height (\d+)`).FindAllStringSubmatch(st, -1)
	if len(heights) != 4 {
		t.Fatalf("network.sh status shows %d peer heights:\n%s", len(heights), st)
	}
	for _, h := range heights[1:] {
		if h[2] != heights[0][2] {
			t.Errorf("peer heights differ: %v", heights)
		}
	}
}
