//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// register creates a collected PET batch as the municipality.
func register(t *testing.T, batchID, mass string) {
	t.Helper()
	env.MustRun(t, "municipality", "batch", "register", batchID, "--material", "PET", "--mass", mass,
		"--location", "Fatih, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
}

// unchanged runs a command that must be refused, then checks that it
// failed with a message containing want, that the batches it concerns read
// back exactly as before, and that no block was added.
func unchanged(t *testing.T, batches []string, want string, profile string, args ...string) {
	t.Helper()
	before := map[string]string{}
	for _, b := range batches {
		before[b] = env.MustRun(t, "auditor", "batch", "get", b, "-o", "json").Stdout
	}
	h := height(t)
	r := env.Run(t, profile, args...)
	if r.Code == 0 {
		t.Fatalf("command was accepted, want refusal:\n%s", r)
	}
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("error does not say %q:\n%s", want, r)
	}
	if n := strings.Count(strings.TrimSpace(r.Stderr), "\n"); n > 0 {
		t.Errorf("error is %d lines, want one:\n%s", n+1, r.Stderr)
	}
	for _, b := range batches {
		after := env.MustRun(t, "auditor", "batch", "get", b, "-o", "json").Stdout
		if !sameJSON(before[b], after) {
			t.Errorf("batch %s changed:\nbefore %s\nafter  %s", b, before[b], after)
		}
	}
	if got := height(t); got != h {
		t.Errorf("block height moved from %d to %d: something was written", h, got)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestRecyclerCannotRegisterCollection(t *testing.T) {
	b := id("neg-recycler-register")
	unchanged(t, nil, "collector", "recycler", "batch", "register", b, "--material", "PET", "--mass", "500kg",
		"--location", "Esenyurt, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	if r := env.Run(t, "auditor", "batch", "get", b); r.Code == 0 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("refused batch exists after all:\n%s", r)
	}
}

func TestAuditorCannotTransfer(t *testing.T) {
	b := id("neg-auditor-transfer")
	register(t, b, "400kg")
	unchanged(t, []string{b}, "auditor", "auditor", "batch", "transfer", b, "--to", "RecyclerMSP")
}

func TestProcessCannotTakeMoreThanRemains(t *testing.T) {
	b := id("neg-overdraw")
	register(t, b, "300kg")
	env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	env.MustRun(t, "recycler", "batch", "accept", b)
	unchanged(t, []string{b}, "remaining", "recycler", "batch", "process", "--step", "sorting",
		"--in", b+":301kg", "--out", id("neg-overdraw-out")+":PET:sorted:300kg")
	// Outputs heavier than the inputs break the mass balance.
	unchanged(t, []string{b}, "mass balance", "recycler", "batch", "process", "--step", "sorting",
		"--in", b+":100kg", "--out", id("neg-overdraw-out")+":PET:sorted:101kg")
}

func TestMakerCannotAcceptOthersTransfer(t *testing.T) {
	b := id("neg-wrong-receiver")
	register(t, b, "250kg")
	env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	unchanged(t, []string{b}, "receiver", "maker", "batch", "accept", b)
}

func TestQuarantinedBatchCannotMove(t *testing.T) {
	b := id("neg-quarantined")
	register(t, b, "600kg")
	env.MustRun(t, "auditor", "batch", "quarantine", b, "--reason", "suspected mixed PVC")
	unchanged(t, []string{b}, "quarantined", "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
}

func TestIDRegisteredTwice(t *testing.T) {
	b := id("neg-twice")
	register(t, b, "700kg")
	unchanged(t, []string{b}, "already exists", "municipality", "batch", "register", b, "--material", "PET",
		"--mass", "1kg", "--location", "Fatih, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
}

func TestMalformedMass(t *testing.T) {
	b := id("neg-mass")
	for _, mass := range []string{"12.5", "-3kg", "1.0005kg", "twelve kg", "1e3kg"} {
		unchanged(t, nil, "mass", "municipality", "batch", "register", b, "--material", "PET", "--mass", mass,
			"--location", "Fatih, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	}
	// A mass of zero parses but breaks the chaincode's range rule.
	unchanged(t, nil, "mass", "municipality", "batch", "register", b, "--material", "PET", "--mass", "0kg",
		"--location", "Fatih, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02")
	if r := env.Run(t, "auditor", "batch", "get", b); r.Code == 0 {
		t.Errorf("batch with a malformed mass exists:\n%s", r)
	}
}
