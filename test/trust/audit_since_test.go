//go:build e2e

package trust

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/chaincode/model"
)

// sinceReport is the JSON of `mtrace audit --since`.
type sinceReport struct {
	model.AuditReport
	Since *struct {
		FromBlock, ToBlock uint64
		Transactions, Keys int
		Written, Checked   int
		Processes          int
	} `json:"since"`
}

func auditJSON(t *testing.T, want int, args ...string) sinceReport {
	t.Helper()
	r := env.Run(t, "auditor", append([]string{"audit", "-o", "json"}, args...)...)
	if r.Code != want {
		t.Fatalf("audit %v: exit %d, want %d\n%s", args, r.Code, want, r)
	}
	var rep sinceReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("audit %v: %v\n%s", args, err, r.Stdout)
	}
	return rep
}

// TestAuditSince: a checkpoint of the clean ledger (this file's tests run
// before the suite's other forgeries, and the suite runs on a ledger no
// forged record reached: it avoids harness.Forged); honest writes after it,
// which audit --since finds clean and moves the checkpoint past; then two
// colluding members, running forgecc, write a registration in a third
// organisation's name and inflate a batch. audit --since reads only the
// blocks after the checkpoint and finds both, with the violations the
// full audit finds.
func TestAuditSince(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "audit.ckpt")
	if r := env.Run(t, "auditor", "audit", "--checkpoint", ckpt); r.Code != 0 {
		t.Fatalf("the ledger is not clean before the attacks: exit %d\n%s", r.Code, r)
	}

	src, out := id("since-src"), id("since-out")
	env.MustRun(t, "municipality", "batch", "register", src, "--material", "PET", "--mass", "40kg",
		"--location", "Kartal, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "transfer", src, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", src, "--received-mass", "39kg")
	env.MustRun(t, "recycler", "batch", "process", "--step", "sorting", "--in", src+":30kg", "--out", out+":PET:sorted:29kg")
	settle(t)
	clean := auditJSON(t, 0, "--since", ckpt, "--checkpoint", ckpt)
	t.Logf("audit --since after honest writes: %+v", *clean.Since)
	if s := clean.Since; s == nil || s.Written != 2 || s.Processes != 1 || s.Transactions < 4 {
		t.Errorf("audit --since after the honest writes: scope %+v; want the 2 batches written and their process", clean.Since)
	}
	if !clean.OK || clean.Signatures == nil || !clean.Signatures.OK {
		t.Errorf("audit --since after the honest writes is not clean: %+v", clean)
	}
	honest, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}

	bin := forger(t)
	swap(t, "maker", bin)
	swap(t, "recycler", bin)
	pair := []string{"MakerMSP", "RecyclerMSP"}
	forged := id("since-forged")
	if got := attempt(contract(t, "maker"), "RegisterBatch", []string{register(forged, 3*model.Tonne)}, pair...); got != peer.TxValidationCode_VALID.String() {
		t.Fatalf("the colluding registration ended %s; this test needs it on the ledger", got)
	}
	if got := attempt(contract(t, "recycler"), "InflateBatch", []string{out}, pair...); got != peer.TxValidationCode_VALID.String() {
		t.Fatalf("the colluding inflation of %s ended %s; this test needs it on the ledger", out, got)
	}
	settle(t)

	inc := auditJSON(t, 1, "--since", ckpt, "--checkpoint", ckpt)
	t.Logf("audit --since after the forgeries: %+v\n%s", *inc.Since, strings.Join(inc.Violations, "\n"))
	if s := inc.Since; s == nil || s.Written != 2 || s.Transactions != 2 {
		t.Errorf("audit --since after the forgeries: scope %+v; want the 2 forged transactions and batches", inc.Since)
	}
	full := auditJSON(t, 1)
	if !has(inc.Violations, "signatures: ", forged) || !has(full.Violations, "signatures: ", forged) {
		t.Errorf("the registration in the municipality's name is not named by the signatures check:\n since: %q\n full: %q", inc.Violations, full.Violations)
	}
	if !has(inc.Violations, "mass conservation: ", "29 kg created from nothing") {
		t.Errorf("the inflated batch is not found by audit --since: %q", inc.Violations)
	}
	if a, b := others(inc.Violations), others(full.Violations); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("audit --since and the full audit disagree:\n since: %q\n full: %q", a, b)
	}
	if after, err := os.ReadFile(ckpt); err != nil || string(after) != string(honest) {
		t.Errorf("a failed audit --since moved the checkpoint (%v)", err)
	}
}

// has reports whether a violation contains every part.
func has(vs []string, parts ...string) bool {
	for _, v := range vs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(v, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// others are the violations but the signatures check's, whose detail
// names the records it checked.
func others(vs []string) []string {
	var out []string
	for _, v := range vs {
		if !strings.HasPrefix(v, "signatures: ") {
			out = append(out, v)
		}
	}
	return out
}
