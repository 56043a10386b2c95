package contract

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func sortReq(in map[string]model.Grams, outs ...model.ProcessOutput) model.ProcessRequest {
	req := model.ProcessRequest{Step: model.StepSorting, Location: "Line 2", Outputs: outs}
	for _, id := range sortedKeys(in) {
		req.Inputs = append(req.Inputs, model.ProcessInput{ID: id, Mass: in[id]})
	}
	return req
}

func sortedKeys(m map[string]model.Grams) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func TestProcess(t *testing.T) {
	w := newWorld(t)
	w.register("A", kg(600))
	w.register("B", kg(400))
	w.move("A", w.mun, w.rec, 0)
	w.move("B", w.mun, w.rec, 0)

	req := sortReq(map[string]model.Grams{"A": kg(600), "B": kg(300)},
		model.ProcessOutput{ID: "S1", Material: model.PET, Form: model.FormSorted, Mass: kg(500)},
		model.ProcessOutput{ID: "S2", Material: model.PET, Form: model.FormSorted, Mass: kg(350)},
	)
	req.VirginMass = kg(100)
	var got model.Process
	r := w.ok(w.rec, &got, "Process", req)

	// The answer is the process record, stored once under the transaction.
	// 900 kg of 100% recycled plus 100 kg virgin: 90%.
	proc := &model.Process{
		Derivation: model.Derivation{
			Step: model.StepSorting, Tx: r.TxID, By: actor(w.rec), At: at(0), Location: "Line 2",
			Inputs:     []model.Take{{ID: "A", Mass: kg(600)}, {ID: "B", Mass: kg(300)}},
			VirginMass: kg(100), Loss: kg(150),
		},
		Outputs:         []model.Take{{ID: "S1", Mass: kg(500)}, {ID: "S2", Mass: kg(350)}},
		RecycledContent: 9000,
		Shares:          &model.Shares{PostConsumer: 900_000},
	}
	assert.Equal(t, proc, &got)
	var stored model.Process
	w.query(w.out, &stored, "GetProcess", r.TxID)
	assert.Equal(t, proc, &stored)
	key, err := processKey(r.TxID)
	require.NoError(t, err)
	w.assertGuardedKey(key, "RecyclerMSP")

	for _, want := range req.Outputs {
		o := w.batch(want.ID)
		assert.Equal(t, want.Mass, o.InitialMass)
		assert.Equal(t, want.Mass, o.RemainingMass)
		assert.Equal(t, model.FormSorted, o.Form)
		assert.Equal(t, "RecyclerMSP", o.Owner)
		assert.Equal(t, actor(w.rec), o.Submitter)
		assert.Equal(t, model.StatusActive, o.Status)
		// Each output stores the record without the output list.
		assert.Equal(t, &proc.Derivation, o.Origin.Process)
		assert.Nil(t, o.Origin.Collection)
		assert.Equal(t, int64(9000), o.RecycledContent)
		w.assertGuarded(o.ID, "RecyclerMSP")
		assert.True(t, w.indexed(idxForm, "sorted", o.ID))
	}

	a := w.batch("A")
	assert.Equal(t, model.StatusConsumed, a.Status)
	assert.Equal(t, model.Grams(0), a.RemainingMass)
	assert.Equal(t, kg(600), a.TakenMass)
	assert.Equal(t, 1, a.Takes)
	assert.Equal(t, model.CurrentFormat, a.Format)
	var takes model.TakePage
	w.query(w.out, &takes, "ListTakes", "A", "", 0)
	assert.Equal(t, []model.Take{{ID: "S1", Mass: kg(600), Tx: r.TxID, Handovers: 1, At: proc.At}}, takes.Takes)
	assert.Empty(t, takes.Bookmark)
	tk, err := takeKey("A", proc.At, r.TxID)
	require.NoError(t, err)
	assert.Nil(t, w.l.Policy(tk), "a take falls under the chaincode-level policy, like an index entry")
	assert.True(t, w.indexed(idxStatus, "consumed", "A"))
	assert.False(t, w.indexed(idxStatus, "active", "A"))
	w.assertGuarded("A", "RecyclerMSP")
	b := w.batch("B")
	assert.Equal(t, model.StatusActive, b.Status)
	assert.Equal(t, kg(100), b.RemainingMass)

	name, ce := w.lastEvent()
	assert.Equal(t, model.EvBatchProcessed, name)
	assert.Equal(t, []string{"A", "B", "S1", "S2"}, ce.Batches)
	assert.Equal(t, model.TransformationEvent, ce.Event.Type)
	assert.Equal(t, model.BizTransforming, ce.Event.BizStep)
	assert.Equal(t, "sorting", ce.Event.ProcessStep)
	assert.Equal(t, []model.Quantity{model.Qty("A", kg(600)), model.Qty("B", kg(300))}, ce.Event.Inputs)
	assert.Equal(t, []model.Quantity{model.Qty("S1", kg(500)), model.Qty("S2", kg(350))}, ce.Event.Outputs)

	// Double spend: A is consumed; B has only 100 kg left.
	w.fail(w.rec, `batch "A" is consumed`, "Process", sortReq(map[string]model.Grams{"A": 1}, model.ProcessOutput{ID: "X", Material: model.PET, Form: model.FormFlakes, Mass: 1}))
	w.fail(w.rec, `inputs[0].mass: takes 300 kg but batch "B" has only 100 kg remaining`, "Process",
		sortReq(map[string]model.Grams{"B": kg(300)}, model.ProcessOutput{ID: "X", Material: model.PET, Form: model.FormFlakes, Mass: 1}))
	w.fail(w.rec, `batch "S1" already exists`, "Process",
		sortReq(map[string]model.Grams{"B": kg(1)}, model.ProcessOutput{ID: "S1", Material: model.PET, Form: model.FormFlakes, Mass: 1}))
}

func TestProcessRejects(t *testing.T) {
	w := newWorld(t)
	w.register("A", kg(10))
	w.register("T", kg(10))
	w.ok(w.mun, nil, "OfferTransfer", "T", "RecyclerMSP")
	w.register("Q", kg(10))
	w.ok(w.mun, nil, "Quarantine", "Q", "wet")
	out := model.ProcessOutput{ID: "O1", Material: model.PET, Form: model.FormSorted, Mass: kg(1)}
	one := func(id string) model.ProcessRequest { return sortReq(map[string]model.Grams{id: kg(1)}, out) }

	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "A" (owner MunicipalityMSP)`, "Process", one("A"))
	w.fail(w.aud, `role auditor may not process batches`, "Process", one("A"))
	w.fail(w.out, `not a registered participant`, "Process", one("A"))
	w.fail(w.mun, `batch "T" is in transit to RecyclerMSP`, "Process", one("T"))
	w.fail(w.mun, `batch "Q" is quarantined: wet`, "Process", one("Q"))
	w.fail(w.mun, `batch "nope" not found`, "Process", one("nope"))
	w.fail(w.mun, `step: must be one of`, "Process", model.ProcessRequest{Step: "melting", Inputs: one("A").Inputs, Outputs: one("A").Outputs})
	w.fail(w.mun, `outputs[0].form: must be one of sorted, flakes`, "Process",
		sortReq(map[string]model.Grams{"A": kg(1)}, model.ProcessOutput{ID: "O1", Material: model.PET, Form: model.FormWaste, Mass: 1}))
	w.fail(w.mun, `outputs: mass balance: outputs total 2 kg, more than the 1 kg taken plus 0 g virgin`, "Process",
		sortReq(map[string]model.Grams{"A": kg(1)}, model.ProcessOutput{ID: "O1", Material: model.PET, Form: model.FormSorted, Mass: kg(2)}))
	w.fail(w.mun, `outputs[0].id: "A" is already named by inputs[0]`, "Process",
		sortReq(map[string]model.Grams{"A": kg(1)}, model.ProcessOutput{ID: "A", Material: model.PET, Form: model.FormSorted, Mass: 1}))

	// Limits: 100 inputs and 100 outputs at most.
	big := model.ProcessRequest{Step: model.StepMerging}
	for i := range 101 {
		big.Inputs = append(big.Inputs, model.ProcessInput{ID: fmt.Sprintf("I%d", i), Mass: 1})
	}
	big.Outputs = []model.ProcessOutput{out}
	w.fail(w.mun, `inputs: must list 1 to 100 inputs, got 101`, "Process", big)
	big = sortReq(map[string]model.Grams{"A": kg(10)})
	for i := range 101 {
		big.Outputs = append(big.Outputs, model.ProcessOutput{ID: fmt.Sprintf("O%d", i), Material: model.PET, Form: model.FormFlakes, Mass: 1})
	}
	w.fail(w.mun, `outputs: must list 1 to 100 outputs, got 101`, "Process", big)
	// Exactly 100 outputs is fine.
	big.Outputs = big.Outputs[:100]
	var rec model.Process
	w.ok(w.mun, &rec, "Process", big)
	assert.Len(t, rec.Outputs, 100)
	assert.Equal(t, model.StatusConsumed, w.batch("A").Status)
	assert.Equal(t, kg(10)-100, rec.Loss)
	assert.Equal(t, kg(10)-100, w.batch("O99").Origin.Process.Loss)
}

func TestGetProcessRejects(t *testing.T) {
	w := newWorld(t)
	w.queryFail(w.out, `process record "0f00" not found`, "GetProcess", "0f00")
	w.queryFail(w.out, `tx: `, "GetProcess", "")
	w.queryFail(w.out, `tx: `, "GetProcess", "a/b")
}
