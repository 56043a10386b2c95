package passport

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// Proofs recorded from a live network (package proof's test data): a
// collection batch whose provenance holds, and the same batch after an
// auditor's quarantine. They predate the strip step; recorded strips and
// compacts them as `mtrace proof export` and `mtrace passport` do.
const data = "../proof/testdata/"

func recorded(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	raw, err := os.ReadFile(data + name)
	require.NoError(t, err)
	p, err := proof.Decode(raw)
	require.NoError(t, err)
	require.NoError(t, p.Strip())
	require.NoError(t, p.Compact())
	raw, err = p.Encode()
	require.NoError(t, err)
	g, err := os.ReadFile(data + "genesis.txt")
	require.NoError(t, err)
	return raw, strings.TrimSpace(string(g))
}

func TestCheckAnAuthenticProofThatHolds(t *testing.T) {
	raw, g := recorded(t, "holds.proof")
	r := Check(raw, g)
	assert.Equal(t, Authentic, r.Proof)
	assert.Equal(t, HoldsWord, r.Verdict)
	assert.Equal(t, r.Head+1, r.Height)
	assert.NotEmpty(t, r.Time)
	assert.Contains(t, r.Summary, "authentic, and the provenance of IST-KDK-1206013619 holds as of block")
	assert.Contains(t, r.Checks, `<li class="ok"><b>ok</b> <code>orderer-signature</code>`)
	assert.Contains(t, r.Checks, `<code>not-quarantined</code>`)
	assert.NotContains(t, r.Checks, `class="fail"`)
	assert.Contains(t, r.Facts, "<td>Kadıköy, Istanbul</td>")
	assert.Contains(t, r.Facts, "<svg")

	// The result crosses to JavaScript as JSON with these names.
	out, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	for _, k := range []string{"proof", "verdict", "head", "height", "time", "genesis", "summary", "checks", "facts"} {
		assert.Contains(t, m, k)
	}
}

func TestCheckAQuarantinedProduct(t *testing.T) {
	raw, g := recorded(t, "quarantined.proof")
	r := Check(raw, g)
	assert.Equal(t, Authentic, r.Proof)
	assert.Equal(t, FailsWord, r.Verdict)
	assert.Contains(t, r.Summary, "does NOT hold")
	assert.Contains(t, r.Checks, `<li class="fail"><b>FAIL</b> <code>not-quarantined</code>`)
	assert.Contains(t, r.Facts, "<b>quarantined</b>", "the hold is one of the steps")
}

func TestCheckTamperedProofs(t *testing.T) {
	raw, g := recorded(t, "holds.proof")
	p, err := proof.Decode(raw)
	require.NoError(t, err)
	b := p.Blocks[len(p.Blocks)-1]
	b[len(b)/2] ^= 1
	flipped, err := p.Encode()
	require.NoError(t, err)

	for name, c := range map[string]struct {
		raw     []byte
		genesis string
		check   string
	}{
		"a flipped byte":  {flipped, g, "block-hash"},
		"another genesis": {raw, strings.Repeat("0", 64), "genesis"},
		"no proof at all": {nil, g, "format"},
		"not a proof":     {[]byte(`{"format":"something else"}`), g, "format"},
	} {
		t.Run(name, func(t *testing.T) {
			r := Check(c.raw, c.genesis)
			assert.Equal(t, Tampered, r.Proof)
			assert.Equal(t, FailsWord, r.Verdict)
			assert.Empty(t, r.Facts, "nothing of a proof that is not authentic is shown as proven")
			assert.Contains(t, r.Summary, "NOT authentic")
			assert.Regexp(t, `<li class="fail"><b>FAIL</b> <code>(`+c.check+`|data-hash|orderer-signature)</code>`, r.Checks)
			assert.Contains(t, r.Checks, "Not established: the proof is not authentic.")
		})
	}
}

// A product of two collections, shredded together and printed; one
// collection is held.
func evidence() *model.Evidence {
	actor := func(msp, who string) model.Actor { return model.Actor{MSP: msp, Identity: who, EnrollmentID: who} }
	col := func(id, place, at string, g model.Grams) model.Batch {
		return model.Batch{ID: id, Material: model.PET, Form: model.FormWaste, InitialMass: g, WasteCode: "15 01 02",
			Submitter: actor("MunicipalityMSP", "ayse"), Status: model.StatusConsumed, RecycledContent: 10000,
			Origin:    model.Origin{Collection: &model.Collection{Location: place, CollectedAt: at, Collector: "MunicipalityMSP", ZoneOffset: "+03:00"}},
			Handovers: []model.Handover{{From: "MunicipalityMSP", To: "RecyclerMSP", Offered: g, Received: g, AcceptedBy: actor("RecyclerMSP", "can"), AcceptedAt: "2026-11-21T08:00:00Z"}},
			CreatedAt: at}
	}
	a := col("A", "Kadıköy", "2026-11-20T06:30:00Z", 1000_000)
	b := col("B", "Üsküdar", "2026-11-20T07:15:00Z", 500_000)
	b.Status = model.StatusQuarantined
	b.Quarantine = &model.Quarantine{By: actor("AuditorMSP", "ece"), ByRole: model.HeldByAuditor, Reason: "lead above limit", At: "2026-11-23T09:00:00Z"}
	shred := model.Derivation{Step: model.StepShredding, Tx: "t1", By: actor("RecyclerMSP", "can"), At: "2026-11-21T09:00:00Z",
		Inputs: []model.Take{{ID: "A", Mass: 1000_000}, {ID: "B", Mass: 500_000}}, Loss: 100_000}
	print := model.Derivation{Step: model.StepPrinting, Tx: "t2", By: actor("MakerMSP", "deniz"), At: "2026-11-22T09:00:00Z", Location: "Kadıköy Makerspace",
		Inputs: []model.Take{{ID: "F", Mass: 400}}, VirginMass: 100, Loss: 50}
	f := model.Batch{ID: "F", Material: model.PET, Form: model.FormFlakes, InitialMass: 1400_000, Submitter: actor("RecyclerMSP", "can"),
		Status: model.StatusActive, RecycledContent: 10000, Origin: model.Origin{Process: &shred}, CreatedAt: shred.At,
		Documents: []model.Document{{Name: "lab report", SHA256: strings.Repeat("c", 64), URI: "https://lab.example/r/1", AnchoredBy: actor("RecyclerMSP", "can"), AnchoredAt: "2026-11-21T10:00:00Z"}}}
	v := model.Batch{ID: "V", Material: model.PET, Form: model.FormProduct, InitialMass: 450, Submitter: actor("MakerMSP", "deniz"),
		Status: model.StatusActive, RecycledContent: 8000, Origin: model.Origin{Process: &print}, CreatedAt: print.At}
	return &model.Evidence{
		Batches: []model.Batch{v, f, b, a},
		Processes: []model.Process{
			{Derivation: print, Outputs: []model.Take{{ID: "V", Mass: 450}}, RecycledContent: 8000},
			{Derivation: shred, Outputs: []model.Take{{ID: "F", Mass: 1400_000}}, RecycledContent: 10000},
		},
	}
}

func TestBuild(t *testing.T) {
	f, err := Build(evidence(), "V")
	require.NoError(t, err)
	assert.Equal(t, "V", f.Batch)
	assert.Equal(t, "80%", f.Recycled())
	assert.Equal(t, "20%", f.Virgin())
	assert.Equal(t, "80.0", f.RecycledWidth())
	assert.Equal(t, "MakerMSP", f.Maker)
	assert.Equal(t, model.Grams(450), f.MassGrams)
	require.Len(t, f.Sources, 2)
	assert.Equal(t, Source{ID: "A", Location: "Kadıköy", CollectedAt: "2026-11-20 09:30 +03:00", Collector: "MunicipalityMSP",
		Person: "ayse", WasteCode: "15 01 02", Material: "PET", Mass: "1000 kg"}, f.Sources[0])

	// Every step, in time order, with who did it.
	var steps []string
	for _, s := range f.Steps {
		steps = append(steps, s.When+" "+s.What+" "+s.Org+" "+s.Person)
	}
	assert.Equal(t, []string{
		"2026-11-20 09:30 +03:00 collected MunicipalityMSP ayse",
		"2026-11-20 10:15 +03:00 collected MunicipalityMSP ayse",
		"2026-11-21 08:00 UTC handed over RecyclerMSP can",
		"2026-11-21 08:00 UTC handed over RecyclerMSP can",
		"2026-11-21 09:00 UTC shredding RecyclerMSP can",
		"2026-11-22 09:00 UTC printing MakerMSP deniz",
		"2026-11-23 09:00 UTC quarantined AuditorMSP ece",
	}, steps)
	assert.Equal(t, "F 400 g → V 450 g; 100 g virgin material added; 50 g lost", f.Steps[5].Detail)
	assert.Equal(t, "Kadıköy Makerspace", f.Steps[5].Where)
	assert.Contains(t, f.Steps[6].Detail, "lead above limit")
	require.Len(t, f.Documents, 1)
	assert.Equal(t, "lab report", f.Documents[0].Name)

	_, err = Build(evidence(), "NOPE")
	assert.ErrorContains(t, err, `do not hold batch "NOPE"`)
}

func TestGraph(t *testing.T) {
	f, err := Build(evidence(), "V")
	require.NoError(t, err)
	g := f.Graph
	// Three columns: the collections, the flakes, the vase.
	x := map[string]int{}
	held := map[string]bool{}
	for _, n := range g.Nodes {
		x[n.ID] = n.X
		held[n.ID] = n.Held
	}
	assert.Equal(t, x["A"], x["B"])
	assert.Less(t, x["A"], x["F"])
	assert.Less(t, x["F"], x["V"])
	assert.True(t, held["B"])
	assert.Equal(t, 3*nodeW+2*colGap+2*pad, g.Width)
	require.Len(t, g.Edges, 3)
	var labels []string
	for _, e := range g.Edges {
		labels = append(labels, e.Label)
	}
	assert.ElementsMatch(t, []string{"shredding", "shredding", "printing"}, labels)
	svg, err := g.SVG()
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(svg), "marker-end="))
	assert.Equal(t, 4, strings.Count(string(svg), "<rect"))
	assert.Contains(t, string(svg), `class="node held"`)
	assert.Contains(t, string(svg), `class="node root"`)

	html, err := f.HTML()
	require.NoError(t, err)
	for _, want := range []string{`<a href="https://lab.example/r/1">lab report</a>`, "80%</b> post-consumer recycled", "20%</b> virgin", `style="width: 80.0%"`} {
		assert.Contains(t, string(html), want)
	}
}

func TestFactsAreEscaped(t *testing.T) {
	ev := evidence()
	ev.Batches[3].Origin.Collection.Location = `<script>alert(1)</script>`
	f, err := Build(ev, "V")
	require.NoError(t, err)
	html, err := f.HTML()
	require.NoError(t, err)
	assert.NotContains(t, string(html), "<script>")
	assert.Contains(t, string(html), "&lt;script&gt;")
}

// TestBuildShowsAuditorsHolds: an auditor's hold and document live under
// keys of their own (contract 0.5.0); the page shows them as it shows an
// owner's, and the product as quarantined while a hold stands.
func TestBuildShowsAuditorsHolds(t *testing.T) {
	ev := evidence()
	var a *model.Batch
	for i := range ev.Batches {
		if ev.Batches[i].ID == "A" {
			a = &ev.Batches[i]
		}
	}
	require.NotNil(t, a)
	aud := model.Actor{MSP: "AuditorMSP", Identity: "ece", EnrollmentID: "ece"}
	a.Holds = []model.Hold{{Batch: "A", By: aud, Reason: "PVC found", At: "2026-11-24T09:00:00Z", Tx: "h1"}}
	a.AuditorDocuments = []model.AuditorDocument{{Batch: "A", Document: model.Document{Name: "sorting report", SHA256: strings.Repeat("a", 64), AnchoredBy: aud, AnchoredAt: "2026-11-24T09:05:00Z"}}}
	f, err := Build(ev, "A")
	require.NoError(t, err)
	assert.Equal(t, string(model.StatusQuarantined), f.Status, "a batch under an auditor's hold is quarantined")
	last := f.Steps[len(f.Steps)-1]
	assert.Equal(t, "quarantined", last.What)
	assert.Equal(t, "AuditorMSP", last.Org)
	assert.Contains(t, last.Detail, "PVC found")
	var names []string
	for _, d := range f.Documents {
		names = append(names, d.Name)
	}
	assert.Contains(t, names, "sorting report")
}
