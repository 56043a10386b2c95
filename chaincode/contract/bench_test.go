package contract

import (
	"fmt"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/mtrace/mtrace/chaincode/model"
)

// The benchmarks run the real contract-api dispatch against the in-memory
// ledger: they measure the chaincode's own work (JSON, schema validation,
// keys, indexes, policies), not the network.

func BenchmarkRegister(b *testing.B) {
	w := newWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := w.invoke(w.mun, "RegisterBatch", regReq(fmt.Sprintf("R%09d", i), kg(100)))
		if r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkProcess100Outputs(b *testing.B) {
	w := newWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		src := fmt.Sprintf("IN%09d", i)
		w.register(src, kg(100))
		req := model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{{ID: src, Mass: kg(100)}}}
		for j := range 100 {
			req.Outputs = append(req.Outputs, model.ProcessOutput{ID: fmt.Sprintf("%s-%03d", src, j), Material: model.PET, Form: model.FormSorted, Mass: kg(1)})
		}
		b.StartTimer()
		r := w.invoke(w.mun, "Process", req)
		if r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
}

// traceWorld builds a tree of 1001 batches: one collection split into 100
// batches, nine of which are each split into 100 more.
func traceWorld(tb testing.TB) *world {
	w := newWorld(tb)
	w.register("ROOT", kg(1000))
	split := func(id string, mass model.Grams) {
		req := model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{{ID: id, Mass: mass}}}
		for j := range 100 {
			req.Outputs = append(req.Outputs, model.ProcessOutput{ID: fmt.Sprintf("%s-%02d", id, j), Material: model.PET, Form: model.FormSorted, Mass: mass / 100})
		}
		w.ok(w.mun, nil, "Process", req)
	}
	split("ROOT", kg(1000))
	for j := range 9 {
		split(fmt.Sprintf("ROOT-%02d", j), kg(10))
	}
	return w
}

func TestTraceWorldSize(t *testing.T) {
	w := traceWorld(t)
	var tr model.Trace
	w.query(w.aud, &tr, "Trace", "ROOT", "down")
	if len(tr.Nodes) != 1001 || len(tr.Edges) != 1000 {
		t.Fatalf("got %d nodes, %d edges", len(tr.Nodes), len(tr.Edges))
	}
	w.query(w.aud, &tr, "Trace", "ROOT-05-42", "up")
	if len(tr.Nodes) != 3 || tr.Nodes[2].ID != "ROOT" {
		t.Fatalf("upstream trace %+v", tr.Nodes)
	}
}

func BenchmarkTrace1000Nodes(b *testing.B) {
	w := traceWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := w.l.Query(w.cc, w.aud, "Trace", "ROOT", "down")
		if r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
}

// mergeWorld builds the ancestry `mtrace bench trace` builds: 1000 batches
// on 9 levels, leaves of 1 kg collected by the municipality, each node
// above merging a contiguous run of the level below.
func mergeWorld(tb testing.TB) *world {
	w := newWorld(tb)
	levels := []int{1, 2, 5, 11, 23, 51, 113, 248, 546}
	id := func(k, j int) string { return fmt.Sprintf("M%d-%d", k, j) }
	d := len(levels) - 1
	mass := map[string]model.Grams{}
	for j := range levels[d] {
		w.register(id(d, j), kg(1))
		mass[id(d, j)] = kg(1)
	}
	for k := d - 1; k >= 0; k-- {
		reqs := make([]model.ProcessRequest, levels[k])
		for j := range levels[k+1] {
			p := j * levels[k] / levels[k+1]
			reqs[p].Inputs = append(reqs[p].Inputs, model.ProcessInput{ID: id(k+1, j), Mass: mass[id(k+1, j)]})
			mass[id(k, p)] += mass[id(k+1, j)]
		}
		for p, req := range reqs {
			req.Step = model.StepMerging
			req.Outputs = []model.ProcessOutput{{ID: id(k, p), Material: model.PET, Form: model.FormSorted, Mass: mass[id(k, p)]}}
			w.ok(w.mun, nil, "Process", req)
		}
	}
	return w
}

func TestMergeWorldSize(t *testing.T) {
	w := mergeWorld(t)
	var tr model.Trace
	w.query(w.aud, &tr, "Trace", "M0-0", "up")
	if len(tr.Nodes) != 1000 || tr.Nodes[len(tr.Nodes)-1].Depth != 8 {
		t.Fatalf("got %d nodes", len(tr.Nodes))
	}
	var v model.Verdict
	w.query(w.aud, &v, "VerifyProvenance", "M0-0", "")
	if v.Nodes != 1000 {
		t.Fatalf("verdict covers %d nodes", v.Nodes)
	}
}

func BenchmarkTraceUp1000Merged(b *testing.B) {
	w := mergeWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if r := w.l.Query(w.cc, w.aud, "Trace", "M0-0", "up"); r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
}

func BenchmarkVerify1000Merged(b *testing.B) {
	w := mergeWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if r := w.l.Query(w.cc, w.aud, "VerifyProvenance", "M0-0", ""); r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
}

// benchInputs gives the recycler n one-kilogram batches the way
// `mtrace bench process` does: collections of 25 kg handed over and split.
func benchInputs(w *world, prefix string, n int) []string {
	var out []string
	for s := 0; len(out) < n; s++ {
		src := fmt.Sprintf("%s-src-%d", prefix, s)
		w.register(src, kg(25))
		w.move(src, w.mun, w.rec, 0)
		req := model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{{ID: src, Mass: kg(25)}}}
		for j := range 25 {
			id := fmt.Sprintf("%s-%d", src, j)
			req.Outputs = append(req.Outputs, model.ProcessOutput{ID: id, Material: model.PET, Form: model.FormSorted, Mass: kg(1)})
			out = append(out, id)
		}
		w.ok(w.rec, nil, "Process", req)
	}
	return out[:n]
}

func process10(ins []string, prefix string) model.ProcessRequest {
	req := model.ProcessRequest{Step: model.StepShredding}
	for _, id := range ins {
		req.Inputs = append(req.Inputs, model.ProcessInput{ID: id, Mass: kg(1)})
	}
	for j := range 10 {
		req.Outputs = append(req.Outputs, model.ProcessOutput{ID: fmt.Sprintf("%s-o%d", prefix, j), Material: model.PET, Form: model.FormFlakes, Mass: kg(1)})
	}
	return req
}

func BenchmarkProcess10x10(b *testing.B) {
	w := newWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ins := benchInputs(w, fmt.Sprintf("B%d", i), 10)
		before := w.l.Snapshot()
		b.StartTimer()
		r := w.invoke(w.rec, "Process", process10(ins, fmt.Sprintf("B%d", i)))
		b.StopTimer()
		if r.Status != shim.OK {
			b.Fatal(r.Message)
		}
		// What the transaction carries to every orderer and peer: the
		// answer, the event and the values written.
		written := 0
		for k, v := range w.l.Snapshot() {
			if before[k] != v {
				written += len(k) + len(v)
			}
		}
		b.ReportMetric(float64(len(r.Payload)), "answer-B/op")
		b.ReportMetric(float64(len(r.Event.Payload)), "event-B/op")
		b.ReportMetric(float64(written), "written-B/op")
		b.StartTimer()
	}
}

// BenchmarkSiloTake takes 1 g from one batch per iteration, after 1,000
// earlier takes: with takes under their own keys, its cost is that of the
// first take, whatever b.N.
func BenchmarkSiloTake(b *testing.B) {
	w := newWorld(b)
	w.register("SILO", kg(1000))
	w.move("SILO", w.mun, w.rec, 0)
	take := func(i int) {
		r := w.invoke(w.rec, "Process", model.ProcessRequest{Step: model.StepShredding,
			Inputs: []model.ProcessInput{{ID: "SILO", Mass: 1}}, Outputs: []model.ProcessOutput{{ID: fmt.Sprintf("F%09d", i), Material: model.PET, Form: model.FormFlakes, Mass: 1}}})
		if r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
	for i := range 1000 {
		take(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		take(1000 + i)
	}
}
