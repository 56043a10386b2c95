package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func out(id string, f model.Form, mass model.Grams) model.ProcessOutput {
	return model.ProcessOutput{ID: id, Material: model.PET, Form: f, Mass: mass}
}

func in(id string, mass model.Grams) model.ProcessInput {
	return model.ProcessInput{ID: id, Mass: mass}
}

// story runs the whole chain: three collections, handed to the recycler
// (one with a loss in transit), sorted, washed, shredded into flakes,
// extruded into four spools, one spool handed to the maker and printed.
func story(t *testing.T) *world {
	w := newWorld(t)
	w.register("C1", kg(1000))
	w.register("C2", kg(800))
	w.register("C3", kg(600))
	w.l.Advance(3600e9)
	w.move("C1", w.mun, w.rec, 990_000)
	w.move("C2", w.mun, w.rec, 0)
	w.move("C3", w.mun, w.rec, 0)
	steps := []model.ProcessRequest{
		{Step: model.StepSorting, Inputs: []model.ProcessInput{in("C1", kg(990)), in("C2", kg(800)), in("C3", kg(600))},
			Outputs: []model.ProcessOutput{out("SORT-1", model.FormSorted, kg(2200))}},
		{Step: model.StepWashing, Inputs: []model.ProcessInput{in("SORT-1", kg(2200))},
			Outputs: []model.ProcessOutput{out("WASH-1", model.FormSorted, kg(2100))}},
		{Step: model.StepShredding, Inputs: []model.ProcessInput{in("WASH-1", kg(2100))},
			Outputs: []model.ProcessOutput{out("FLK-1", model.FormFlakes, kg(2050))}},
		{Step: model.StepExtrusion, Location: "Extruder 1", Inputs: []model.ProcessInput{in("FLK-1", kg(2050))},
			Outputs: []model.ProcessOutput{
				out("SPOOL-1", model.FormFilament, kg(500)), out("SPOOL-2", model.FormFilament, kg(500)),
				out("SPOOL-3", model.FormFilament, kg(500)), out("SPOOL-4", model.FormFilament, kg(500)),
			}},
	}
	for _, s := range steps {
		w.l.Advance(600e9)
		w.ok(w.rec, nil, "Process", s)
	}
	w.move("SPOOL-1", w.rec, w.mak, 0)
	var printed model.Process
	w.ok(w.mak, &printed, "Process", model.ProcessRequest{Step: model.StepPrinting,
		Inputs:  []model.ProcessInput{in("SPOOL-1", 1_000)},
		Outputs: []model.ProcessOutput{out("CHAIR-1", model.FormProduct, 900)}})
	require.Len(t, printed.Outputs, 1)
	return w
}

func TestStoryVerify(t *testing.T) {
	w := story(t)
	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	for _, c := range v.Checks {
		assert.Truef(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	assert.True(t, v.OK)
	assert.Equal(t, "CHAIR-1", v.BatchID)
	assert.Equal(t, int64(10000), v.RecycledContent)
	assert.Equal(t, 8, v.Nodes)
	require.Len(t, v.Sources, 3)
	assert.Equal(t, model.Source{ID: "C1", Location: "Hervanta eco-point 4", CollectedAt: "2026-11-20T06:30:00Z",
		Collector: "MunicipalityMSP", WasteCode: "15 01 02", Mass: kg(1000), Kind: model.SourceCollection, OriginClass: model.PostConsumer}, v.Sources[0])
	assert.Equal(t, "C3", v.Sources[2].ID)
	names := []string{}
	for _, c := range v.Checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{model.CheckCollected, model.CheckMassBalance, model.CheckCustody, model.CheckNotQuarantined, model.CheckRecycledContent}, names)

	// A document anchored upstream is found; an unknown one is not.
	w.ok(w.aud, nil, "AttachDocument", "C2", "weighbridge ticket", sha1, "")
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", sha1)
	assert.True(t, v.OK)
	doc := v.Checks[len(v.Checks)-1]
	assert.Equal(t, model.CheckDocument, doc.Name)
	assert.Contains(t, doc.Detail, `anchored on batch "C2"`)
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", strings.Repeat("0", 64))
	assert.False(t, v.OK)
	assert.False(t, v.Checks[len(v.Checks)-1].OK)
	w.queryFail(w.out, "documentSHA256: must be exactly 64 lower-case hex characters", "VerifyProvenance", "CHAIR-1", "abc")
	w.queryFail(w.out, `batch "NOPE" not found`, "VerifyProvenance", "NOPE", "")

	// Quarantine upstream: only not-quarantined fails, and names the batch.
	w.ok(w.aud, nil, "Quarantine", "C2", "PVC contamination found")
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.False(t, v.OK)
	for _, c := range v.Checks {
		if c.Name == model.CheckNotQuarantined {
			assert.False(t, c.OK)
			assert.Contains(t, c.Detail, `batch "C2" is held by auditor AuditorMSP since `)
			assert.Contains(t, c.Detail, `: PVC contamination found`)
		} else {
			assert.Truef(t, c.OK, "%s: %s", c.Name, c.Detail)
		}
	}
}

// Evidence carries the whole upstream graph as stored, and the verdict a
// client computes from it is the chaincode's.
func TestStoryEvidence(t *testing.T) {
	w := story(t)
	var ev model.Evidence
	w.query(w.out, &ev, "Evidence", "CHAIR-1")
	ids := []string{}
	for _, b := range ev.Batches {
		ids = append(ids, b.ID)
	}
	assert.Equal(t, []string{"C1", "C2", "C3", "CHAIR-1", "FLK-1", "SORT-1", "SPOOL-1", "WASH-1"}, ids, "sorted by id")
	require.Len(t, ev.Processes, 5)
	for i := 1; i < len(ev.Processes); i++ {
		assert.Less(t, ev.Processes[i-1].Tx, ev.Processes[i].Tx, "sorted by transaction")
	}
	// Seven takes: three collections into the sorting, then one per step.
	require.Len(t, ev.Takes, 7)
	parents := []string{}
	for _, tk := range ev.Takes {
		parents = append(parents, tk.Parent)
	}
	assert.Equal(t, []string{"C1", "C2", "C3", "FLK-1", "SORT-1", "SPOOL-1", "WASH-1"}, parents)
	assert.Equal(t, "SPOOL-1", ev.Takes[3].ID, "the extrusion's take names its first output")
	assert.Equal(t, model.Grams(kg(2050)), ev.Takes[3].Mass)

	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", sha1)
	assert.Equal(t, v, ev.Verify("CHAIR-1", sha1))
	w.queryFail(w.out, `batch "NOPE" not found`, "Evidence", "NOPE")
}

func TestStoryTrace(t *testing.T) {
	w := story(t)
	var tr model.Trace
	w.query(w.out, &tr, "Trace", "CHAIR-1", "")
	assert.Equal(t, model.Upstream, tr.Direction)
	var nodes []string
	for _, n := range tr.Nodes {
		nodes = append(nodes, n.ID)
	}
	assert.Equal(t, []string{"CHAIR-1", "SPOOL-1", "FLK-1", "WASH-1", "SORT-1", "C1", "C2", "C3"}, nodes)
	assert.Equal(t, 5, tr.Nodes[7].Depth)
	assert.Equal(t, model.StepPrinting, tr.Nodes[0].Step)
	require.NotNil(t, tr.Nodes[5].Collection)
	require.Len(t, tr.Edges, 7)
	assert.Equal(t, model.TraceEdge{From: "C1", To: "SORT-1", Mass: kg(990), Step: model.StepSorting, Tx: tr.Edges[0].Tx}, tr.Edges[0])
	assert.Equal(t, model.TraceEdge{From: "SPOOL-1", To: "CHAIR-1", Mass: 1000, Step: model.StepPrinting, Tx: tr.Edges[5].Tx}, tr.Edges[5])

	w.query(w.out, &tr, "Trace", "C2", "down")
	nodes = nil
	for _, n := range tr.Nodes {
		nodes = append(nodes, n.ID)
	}
	assert.Equal(t, []string{"C2", "SORT-1", "WASH-1", "FLK-1", "SPOOL-1", "SPOOL-2", "SPOOL-3", "SPOOL-4", "CHAIR-1"}, nodes)
	var edges []string
	for _, e := range tr.Edges {
		edges = append(edges, e.From+">"+e.To+":"+e.Mass.Kg())
	}
	assert.Equal(t, []string{"C2>SORT-1:800", "FLK-1>SPOOL-1:2050", "FLK-1>SPOOL-2:2050", "FLK-1>SPOOL-3:2050", "FLK-1>SPOOL-4:2050",
		"SORT-1>WASH-1:2200", "SPOOL-1>CHAIR-1:1", "WASH-1>FLK-1:2100"}, edges)

	w.queryFail(w.out, `direction: must be "up" or "down", got "sideways"`, "Trace", "C2", "sideways")
	w.queryFail(w.out, `batch "X" not found`, "Trace", "X", "down")

	maxTraceNodes = 5
	defer func() { maxTraceNodes = MaxTraceNodes }()
	w.queryFail(w.out, "trace: the graph has more than 5 batches", "Trace", "CHAIR-1", "up")
	w.queryFail(w.out, "trace: the graph has more than 5 batches", "Trace", "C1", "down")
}

// A corrupted ledger (written around the chaincode) makes verification
// fail with the check that catches it.
func TestVerifyCorruptLedger(t *testing.T) {
	w := story(t)
	b := w.batch("WASH-1")
	b.RemainingMass += 5
	raw, key := encode(t, b)
	w.l.Put(key, raw)
	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.False(t, v.OK)
	assert.Contains(t, v.Checks[1].Detail, `batch "WASH-1": initial 2100 kg - transit loss 0 g - taken 2100 kg = 0 g, but 5 g remain`)

	// A child link to a process without a record breaks a downstream
	// trace with a clear error.
	var takes model.TakePage
	w.query(w.out, &takes, "ListTakes", "C3", "", 0)
	require.NotEmpty(t, takes.Takes)
	tk := takes.Takes[0]
	tkey, err := takeKey("C3", tk.At, tk.Tx)
	require.NoError(t, err)
	tk.Tx = "forged"
	forged, err := json.Marshal(tk)
	require.NoError(t, err)
	w.l.Put(tkey, forged)
	w.queryFail(w.out, `trace: batch "C3" names process forged, which has no record`, "Trace", "C3", "down")
}

// A process record changed around the chaincode no longer matches the
// derivations its outputs store, and a deleted one is missing: verify
// names both.
func TestVerifyForgedProcessRecord(t *testing.T) {
	w := story(t)
	chair := w.batch("CHAIR-1")
	key, err := processKey(chair.Origin.Process.Tx)
	require.NoError(t, err)
	var rec model.Process
	require.NoError(t, json.Unmarshal(w.l.State(key), &rec))
	rec.Outputs[0].Mass = 950
	rec.Loss = 50
	forged, err := json.Marshal(rec)
	require.NoError(t, err)
	w.l.Put(key, forged)
	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.False(t, v.OK)
	assert.Contains(t, v.Checks[1].Detail, `batch "CHAIR-1": initial 900 g but its process `+rec.Tx+` made 950 g`)
	assert.Contains(t, v.Checks[1].Detail, `batch "CHAIR-1": its origin differs from the record of process `+rec.Tx)

	w.l.Put(key, nil)
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.False(t, v.OK)
	assert.Contains(t, v.Checks[1].Detail, `batch "CHAIR-1": the record of its process `+rec.Tx+` is missing`)
}
