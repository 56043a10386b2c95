package contract

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

func capReg(eventID, id string, mass model.Grams) model.CaptureRequest {
	r := regReq(id, mass)
	return model.CaptureRequest{EventID: eventID, Kind: model.CaptureRegister, Register: &r}
}

// TestCaptureStory captures a plant's story: a collection, its handover
// and an extrusion, each with its event ID recorded in the same write set.
func TestCaptureStory(t *testing.T) {
	w := newWorld(t)
	r := w.ok(w.mun, nil, "Capture", capReg("urn:uuid:e1", "PET-1", kg(1000)))
	name, ce := w.lastEvent()
	assert.Equal(t, model.EvBatchRegistered, name, "the mapped transaction emits its own event")
	assert.Equal(t, []string{"PET-1"}, ce.Batches)
	var rec model.Captured
	w.query(w.mun, &rec, "GetCapture", "urn:uuid:e1")
	assert.Equal(t, model.Captured{EventID: "urn:uuid:e1", Kind: model.CaptureRegister, Tx: r.TxID, By: actor(w.mun), At: at(0),
		Digest: capReg("urn:uuid:e1", "PET-1", kg(1000)).Digest()}, rec)
	w.queryFail(w.aud, "event urn:uuid:e1 not captured by AuditorMSP", "GetCapture", "urn:uuid:e1")
	key, err := captureKey("MunicipalityMSP", "urn:uuid:e1")
	require.NoError(t, err)
	w.assertGuardedKey(key, "MunicipalityMSP") // the capturing organisation and a witness
	b := w.batch("PET-1")
	assert.Equal(t, r.TxID, b.LastTx)
	assert.Equal(t, "+02:00", b.Origin.Collection.ZoneOffset)

	w.ok(w.mun, nil, "Capture", model.CaptureRequest{EventID: "urn:uuid:e2", Kind: model.CaptureOffer, Batch: "PET-1", To: "RecyclerMSP", Mass: kg(1000)})
	w.ok(w.rec, nil, "Capture", model.CaptureRequest{EventID: "urn:uuid:e3", Kind: model.CaptureAccept, Batch: "PET-1", Mass: kg(990)})
	b = w.batch("PET-1")
	assert.Equal(t, "RecyclerMSP", b.Owner)
	assert.Equal(t, kg(10), b.TransitLoss)

	p := model.ProcessRequest{Step: model.StepExtrusion, Inputs: []model.ProcessInput{{ID: "PET-1", Mass: kg(990)}},
		Outputs: []model.ProcessOutput{{ID: "FIL-1", Material: model.PET, Form: model.FormFilament, Mass: kg(950)}}}
	r = w.ok(w.rec, nil, "Capture", model.CaptureRequest{EventID: "urn:uuid:e4", Kind: model.CaptureProcess, Process: &p})
	f := w.batch("FIL-1")
	require.NotNil(t, f.Origin.Process)
	assert.Equal(t, r.TxID, f.Origin.Process.Tx)
	var rec2 model.Process
	w.query(w.aud, &rec2, "GetProcess", r.TxID)
	assert.Equal(t, []model.Take{{ID: "FIL-1", Mass: kg(950)}}, rec2.Outputs)
	w.query(w.rec, &rec, "GetCapture", "urn:uuid:e4")
	assert.Equal(t, model.CaptureProcess, rec.Kind)
	assert.Equal(t, r.TxID, rec.Tx)
}

// TestCaptureTwice refuses an event already captured and writes nothing.
func TestCaptureTwice(t *testing.T) {
	w := newWorld(t)
	r := w.ok(w.mun, nil, "Capture", capReg("urn:uuid:e1", "PET-1", kg(1000)))
	w.fail(w.mun, "event urn:uuid:e1 was already captured by MunicipalityMSP in transaction "+r.TxID, "Capture", capReg("urn:uuid:e1", "PET-2", kg(5)))
	w.queryFail(w.aud, `batch "PET-2" not found`, "ReadBatch", "PET-2")
}

// TestCaptureCannotBeSquatted: a member that captures an event of its own
// under the event ID another member's plant will send blocks nothing and
// hides nothing; each organisation reads its own record.
func TestCaptureCannotBeSquatted(t *testing.T) {
	w := newWorld(t)
	w.register("PET-0", kg(5))
	w.move("PET-0", w.mun, w.rec, 0)
	// The recycler captures a hold on its own batch under the ID the
	// municipality's plant will use for a collection.
	squat := w.ok(w.rec, nil, "Capture", model.CaptureRequest{EventID: "urn:uuid:plant-7", Kind: model.CaptureQuarantine, Batch: "PET-0", Reason: "squat"})
	victim := w.ok(w.mun, nil, "Capture", capReg("urn:uuid:plant-7", "PET-7", kg(700)))
	assert.Equal(t, kg(700), w.batch("PET-7").InitialMass, "the victim's collection is recorded")

	var mine, theirs model.Captured
	w.query(w.mun, &mine, "GetCapture", "urn:uuid:plant-7")
	w.query(w.rec, &theirs, "GetCapture", "urn:uuid:plant-7")
	assert.Equal(t, victim.TxID, mine.Tx)
	assert.Equal(t, model.CaptureRegister, mine.Kind)
	assert.Equal(t, capReg("urn:uuid:plant-7", "PET-7", kg(700)).Digest(), mine.Digest)
	assert.Equal(t, squat.TxID, theirs.Tx)
	assert.NotEqual(t, mine.Digest, theirs.Digest)

	// A record of contract 0.4.0 under the event ID alone blocks only the
	// organisation it names.
	legacy, err := legacyCaptureKey("urn:uuid:old-1")
	require.NoError(t, err)
	raw, err := json.Marshal(model.Captured{EventID: "urn:uuid:old-1", Kind: model.CaptureRegister, Tx: "oldtx", By: actor(w.rec), At: at(0)})
	require.NoError(t, err)
	w.l.Put(legacy, raw)
	w.fail(w.rec, "event urn:uuid:old-1 was already captured by RecyclerMSP in transaction oldtx", "Capture",
		model.CaptureRequest{EventID: "urn:uuid:old-1", Kind: model.CaptureRelease, Batch: "PET-0"})
	theirs = model.Captured{}
	w.query(w.rec, &theirs, "GetCapture", "urn:uuid:old-1")
	assert.Equal(t, "oldtx", theirs.Tx)
	assert.Empty(t, theirs.Digest, "a record of 0.4.0 has no digest")
	w.queryFail(w.mun, "event urn:uuid:old-1 not captured by MunicipalityMSP", "GetCapture", "urn:uuid:old-1")
	w.ok(w.mun, nil, "Capture", capReg("urn:uuid:old-1", "PET-8", kg(8)))
	w.query(w.mun, &mine, "GetCapture", "urn:uuid:old-1")
	assert.Equal(t, model.CaptureRegister, mine.Kind)
}

// TestCaptureRefused checks that a refused event leaves neither its
// transaction's writes nor its capture record.
func TestCaptureRefused(t *testing.T) {
	w := newWorld(t)
	w.register("PET-1", kg(1000))
	tests := []struct {
		name string
		who  string
		req  model.CaptureRequest
		want string
	}{
		{"recycler registers", "rec", capReg("urn:x:1", "PET-9", kg(1)), "register batches"},
		{"duplicate batch", "mun", capReg("urn:x:2", "PET-1", kg(1)), `batch "PET-1" already exists`},
		{"partial shipment", "mun", model.CaptureRequest{EventID: "urn:x:3", Kind: model.CaptureOffer, Batch: "PET-1", To: "RecyclerMSP", Mass: kg(400)},
			`mass: ships 400 kg but batch "PET-1" has 1000 kg remaining`},
		{"nothing offered", "rec", model.CaptureRequest{EventID: "urn:x:4", Kind: model.CaptureAccept, Batch: "PET-1"}, "has no pending transfer"},
		{"mass balance", "mun", model.CaptureRequest{EventID: "urn:x:5", Kind: model.CaptureProcess, Process: &model.ProcessRequest{Step: model.StepSorting,
			Inputs:  []model.ProcessInput{{ID: "PET-1", Mass: kg(10)}},
			Outputs: []model.ProcessOutput{{ID: "S-1", Material: model.PET, Form: model.FormSorted, Mass: kg(11)}}}}, "mass balance"},
		{"no event id", "mun", model.CaptureRequest{Kind: model.CaptureRegister}, "eventId: is required"},
		{"unknown kind", "mun", model.CaptureRequest{EventID: "urn:x:6", Kind: "aggregate"}, `kind: must be one of register`},
		{"no register request", "mun", model.CaptureRequest{EventID: "urn:x:7", Kind: model.CaptureRegister}, "register: is required"},
		{"offer without receiver", "mun", model.CaptureRequest{EventID: "urn:x:8", Kind: model.CaptureOffer, Batch: "PET-1"}, "to: is required"},
		{"bad batch id", "mun", model.CaptureRequest{EventID: "urn:x:9", Kind: model.CaptureRelease, Batch: "a b"}, "batch: must be 1-64 characters"},
		{"negative mass", "rec", model.CaptureRequest{EventID: "urn:x:10", Kind: model.CaptureAccept, Batch: "PET-1", Mass: -1}, "mass: must be from 0 g"},
		{"attach without document", "mun", model.CaptureRequest{EventID: "urn:x:11", Kind: model.CaptureAttach, Batch: "PET-1"}, "document: is required"},
		{"outsider", "out", model.CaptureRequest{EventID: "urn:x:12", Kind: model.CaptureQuarantine, Batch: "PET-1", Reason: "x"}, "OutsiderMSP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			who := map[string]*fakestub.Identity{"mun": w.mun, "rec": w.rec, "out": w.out}[tt.who]
			w.tb = t
			w.fail(who, tt.want, "Capture", tt.req)
			if tt.req.EventID != "" {
				w.queryFail(w.aud, "not captured", "GetCapture", tt.req.EventID)
			}
		})
	}
}

func TestReadBatches(t *testing.T) {
	w := newWorld(t)
	w.register("PET-1", kg(1))
	w.register("PET-2", kg(2))
	var got []*model.Batch
	w.query(w.aud, &got, "ReadBatches", []string{"PET-2", "NONE", "PET-1"})
	require.Len(t, got, 3)
	assert.Equal(t, kg(2), got[0].InitialMass)
	assert.Nil(t, got[1])
	assert.Equal(t, "PET-1", got[2].ID)
	w.query(w.aud, &got, "ReadBatches", []string{})
	assert.Empty(t, got)
	w.queryFail(w.aud, "ids[1]: must be 1-64 characters", "ReadBatches", []string{"PET-1", "a b"})
	w.queryFail(w.aud, "must list at most 1000 batches", "ReadBatches", ids("X", 1001))
}
