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
