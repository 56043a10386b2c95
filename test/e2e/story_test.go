//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// TestStory drives the real mtrace binary through the whole story, each
// step as the organisation that does it: collection, handover with a
// weighed loss, sorting, washing and shredding into flakes, extrusion into
// filament, a lab certificate, a handover to the maker, a printed product,
// a verified provenance, the auditor's history and trace, and a recall.
func TestStory(t *testing.T) {
	w1, w2, w3 := id("kadikoy"), id("uskudar"), id("besiktas")
	sorted, washed, flakes := id("sorted"), id("washed"), id("flakes")
	spool1, spool2, product := id("spool-001"), id("spool-002"), id("vase")

	// 1. The municipality registers three collections and hands them over.
	collections := []struct{ id, mass, place, at string }{
		{w1, "1250kg", "Kadıköy, Istanbul", "2026-11-20T09:30:00+03:00"},
		{w2, "980kg", "Üsküdar, Istanbul", "2026-11-20T10:15:00+03:00"},
		{w3, "1.1t", "Beşiktaş, Istanbul", "2026-11-20T11:05:00+03:00"},
	}
	for _, c := range collections {
		var b model.Batch
		env.JSON(t, &b, "municipality", "batch", "register", c.id, "--material", "PET", "--mass", c.mass,
			"--location", c.place, "--collected-at", c.at, "--waste-code", "15 01 02")
		mustEqual(t, b.Owner, "MunicipalityMSP", "owner of "+c.id)
		mustEqual(t, b.Status, model.StatusActive, "status of "+c.id)
		mustEqual(t, b.RecycledContent, int64(10000), "recycled content of "+c.id)
		env.MustRun(t, "municipality", "batch", "transfer", c.id, "--to", "RecyclerMSP")
		mustEqual(t, getBatch(t, "municipality", c.id).Status, model.StatusInTransit, "status after offer")
	}
	mustEqual(t, getBatch(t, "municipality", w3).InitialMass, model.Grams(1_100_000), "1.1t in grams")

	// 2. The recycler weighs what arrived, then sorts, washes and shreds.
	env.MustRun(t, "recycler", "batch", "accept", w1, "--received-mass", "1240kg")
	env.MustRun(t, "recycler", "batch", "accept", w2, "--received-mass", "975kg")
	env.MustRun(t, "recycler", "batch", "accept", w3)
	b1 := getBatch(t, "recycler", w1)
	mustEqual(t, b1.Owner, "RecyclerMSP", "owner after accept")
	mustEqual(t, b1.RemainingMass, model.Grams(1_240_000), "remaining after weighed loss")
	mustEqual(t, b1.TransitLoss, model.Grams(10_000), "transit loss")

	env.MustRun(t, "recycler", "batch", "process", "--step", "sorting",
		"--in", w1+":1240kg", "--in", w2+":975kg", "--in", w3+":1100kg",
		"--out", sorted+":PET:sorted:3200kg")
	env.MustRun(t, "recycler", "batch", "process", "--step", "washing",
		"--in", sorted+":3200kg", "--out", washed+":PET:sorted:3050kg")
	env.MustRun(t, "recycler", "batch", "process", "--step", "shredding",
		"--in", washed+":3050kg", "--out", flakes+":PET:flakes:2980kg")
	mustEqual(t, getBatch(t, "recycler", w1).Status, model.StatusConsumed, "collection after sorting")

	// 3. Extrusion into two 1 kg spools, a lab certificate, a handover.
	var spools []model.Batch
	env.JSON(t, &spools, "recycler", "batch", "process", "--step", "extrusion",
		"--in", flakes+":2.2kg", "--out", spool1+":PET:filament:1kg", "--out", spool2+":PET:filament:1kg")
	if len(spools) != 2 || spools[0].ID != spool1 || spools[1].ID != spool2 {
		t.Fatalf("extrusion printed %+v, want the batches %s and %s", spools, spool1, spool2)
	}
	made := spools[1].Origin.Process
	mustDeepEqual(t, made.Inputs, []model.Take{{ID: flakes, Mass: 2200}}, "spool's parents")
	mustEqual(t, made.Loss, 200, "extrusion loss")
	var extrusion model.Process
	env.JSON(t, &extrusion, "auditor", "process", made.Tx)
	mustDeepEqual(t, extrusion.Outputs, []model.Take{{ID: spool1, Mass: model.Kilogram}, {ID: spool2, Mass: model.Kilogram}}, "extrusion record")
	mustDeepEqual(t, &extrusion.Derivation, made, "spool's origin against the record")
	cert := filepath.Join(t.TempDir(), "lab-certificate.pdf")
	if err := os.WriteFile(cert, []byte("PET filament lab report "+run+": IV 0.78 dl/g, moisture 45 ppm\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env.MustRun(t, "recycler", "batch", "attach", spool1, cert, "--uri", "https://lab.example/reports/"+run)
	env.MustRun(t, "recycler", "batch", "transfer", spool1, "--to", "MakerMSP")
	env.MustRun(t, "maker", "batch", "accept", spool1)

	// 4. The maker prints a vase and verifies it.
	env.MustRun(t, "maker", "batch", "process", "--step", "printing",
		"--in", spool1+":350g", "--out", product+":PET:product:310g")
	var v model.Verdict
	env.JSON(t, &v, "maker", "verify", product, "--document", cert)
	if !v.OK {
		t.Fatalf("verify %s: not ok: %+v", product, v.Checks)
	}
	for _, c := range v.Checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
	mustEqual(t, v.RecycledContent, int64(10000), "recycled content of the product")
	mustEqual(t, len(v.Sources), 3, "collection sources")
	text := env.MustRun(t, "maker", "verify", product).Stdout
	for _, want := range []string{"Kadıköy", "Üsküdar", "Beşiktaş", "100%"} {
		if !strings.Contains(text, want) {
			t.Errorf("verify output lacks %q:\n%s", want, text)
		}
	}

	// 5. The auditor reads the history and draws the trace.
	var hist []model.HistoryEntry
	env.JSON(t, &hist, "auditor", "history", w1)
	var names []string
	for _, h := range hist {
		names = append(names, h.Batch.Event.Name)
	}
	mustEqual(t, strings.Join(names, ","), "BatchRegistered,TransferOffered,TransferAccepted,BatchProcessed", "history of "+w1)
	histText := env.MustRun(t, "auditor", "history", spool1).Stdout
	for _, want := range []string{"BatchProcessed", "DocumentAttached", "TransferOffered", "TransferAccepted", "RecyclerMSP", "MakerMSP"} {
		if !strings.Contains(histText, want) {
			t.Errorf("history of %s lacks %q:\n%s", spool1, want, histText)
		}
	}
	var tr model.Trace
	env.JSON(t, &tr, "auditor", "trace", product, "--format", "json")
	mustEqual(t, len(tr.Nodes), 8, "upstream nodes of the product (product, spool, flakes, washed, sorted, 3 collections)")
	dot := env.MustRun(t, "auditor", "trace", product, "--format", "dot").Stdout
	renderDot(t, dot)
	mermaid := env.MustRun(t, "auditor", "trace", product, "--format", "mermaid").Stdout
	if !strings.Contains(mermaid, "flowchart") {
		t.Errorf("mermaid output is not a flowchart:\n%s", mermaid)
	}

	// 6. An auditor quarantines one collection: verify fails, and the
	// downstream trace lists what a recall must reach.
	env.MustRun(t, "auditor", "batch", "quarantine", w2, "--reason", "contamination reported by the sorting line")
	r := env.Run(t, "maker", "verify", product)
	mustEqual(t, r.Code, 1, "verify exit code after quarantine")
	if !strings.Contains(r.Stdout, model.CheckNotQuarantined) || !strings.Contains(r.Stdout, "FAIL") {
		t.Errorf("verify does not name the failing check:\n%s", r)
	}
	var down model.Trace
	env.JSON(t, &down, "auditor", "trace", w2, "--down", "--format", "json")
	reach := map[string]bool{}
	for _, n := range down.Nodes {
		reach[n.ID] = true
	}
	for _, want := range []string{sorted, washed, flakes, spool1, spool2, product} {
		if !reach[want] {
			t.Errorf("recall trace from %s misses %s", w2, want)
		}
	}

	// Only an auditor may release an auditor's hold; then verify holds again.
	if r := env.Run(t, "recycler", "batch", "release", w2); r.Code == 0 {
		t.Errorf("the owner released an auditor's quarantine:\n%s", r)
	}
	env.MustRun(t, "auditor", "batch", "release", w2)
	env.MustRun(t, "maker", "verify", product)
}

// renderDot checks that Graphviz accepts the trace.
func renderDot(t *testing.T, dot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dot", "-Tsvg")
	cmd.Stdin = strings.NewReader(dot)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("dot -Tsvg rejected the trace: %v\n%s\n%s", err, errb.String(), dot)
	}
	if !strings.Contains(out.String(), "<svg") {
		t.Fatalf("dot -Tsvg produced no SVG:\n%s", out.String())
	}
}

func mustDeepEqual(t *testing.T, got, want any, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func mustEqual[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
