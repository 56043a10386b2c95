package contract

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

const sha1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestRegisterBatch(t *testing.T) {
	w := newWorld(t)
	var b model.Batch
	r := w.okBatch(w.mun, &b, "RegisterBatch", regReq("TRE-2026-0001", 1_250_000))

	assert.Equal(t, "TRE-2026-0001", b.ID)
	assert.Equal(t, model.PET, b.Material)
	assert.Equal(t, "15 01 02", b.WasteCode)
	assert.Equal(t, model.FormWaste, b.Form)
	assert.Equal(t, model.Grams(1_250_000), b.InitialMass)
	assert.Equal(t, model.Grams(1_250_000), b.RemainingMass)
	assert.Equal(t, "MunicipalityMSP", b.Owner)
	assert.Equal(t, model.Actor{MSP: "MunicipalityMSP", Identity: "User1@municipality.mtrace.local",
		EnrollmentID: "User1@municipality.mtrace.local", Role: model.PersonOperator}, b.Submitter)
	assert.Equal(t, b.Submitter, b.UpdatedBy)
	assert.Equal(t, model.StatusActive, b.Status)
	assert.Equal(t, model.FullRecycled, b.RecycledContent)
	require.NotNil(t, b.Origin.Collection)
	assert.Nil(t, b.Origin.Process)
	assert.Equal(t, model.Collection{Location: "Hervanta eco-point 4", CollectedAt: "2026-11-20T06:30:00Z", Collector: "MunicipalityMSP", ZoneOffset: "+02:00", OriginClass: model.PostConsumer}, *b.Origin.Collection)
	assert.Equal(t, &model.Shares{PostConsumer: model.WholePPM}, b.Shares)
	assert.Empty(t, b.Site, "an organisation without sites records none")
	assert.Equal(t, at(0), b.CreatedAt)
	assert.Equal(t, at(0), b.UpdatedAt)
	assert.Equal(t, r.TxID, b.LastTx)

	ev := b.Event
	assert.Equal(t, model.EvBatchRegistered, ev.Name)
	assert.Equal(t, model.ObjectEvent, ev.Type)
	assert.Equal(t, "ADD", ev.Action)
	assert.Equal(t, model.BizCollecting, ev.BizStep)
	assert.Equal(t, model.DispActive, ev.Disposition)
	assert.Equal(t, model.Where{Org: "MunicipalityMSP", Place: "Hervanta eco-point 4"}, ev.Where)
	assert.Equal(t, []model.Quantity{{Batch: "TRE-2026-0001", Quantity: "1250", UOM: "KGM", Grams: 1_250_000}}, ev.Quantities)
	assert.Equal(t, r.TxID, ev.TxID)

	// Stored version equals the returned one.
	assert.Equal(t, b, *w.batch("TRE-2026-0001"))

	name, ce := w.lastEvent()
	assert.Equal(t, model.EvBatchRegistered, name)
	assert.Equal(t, []string{"TRE-2026-0001"}, ce.Batches)
	assert.Equal(t, ev, ce.Event)

	w.assertGuarded("TRE-2026-0001", "MunicipalityMSP")
	assert.True(t, w.indexed(idxOwner, "MunicipalityMSP", "TRE-2026-0001"))
	assert.True(t, w.indexed(idxStatus, "active", "TRE-2026-0001"))
	assert.True(t, w.indexed(idxMaterial, "PET", "TRE-2026-0001"))
	assert.True(t, w.indexed(idxForm, "waste", "TRE-2026-0001"))

	var exists bool
	w.query(w.out, &exists, "BatchExists", "TRE-2026-0001")
	assert.True(t, exists)
	w.query(w.out, &exists, "BatchExists", "TRE-2026-0002")
	assert.False(t, exists)
}

func TestRegisterBatchRejects(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	mod := func(f func(*model.RegisterRequest)) model.RegisterRequest {
		r := regReq("B2", kg(10))
		f(&r)
		return r
	}
	cases := []struct {
		name string
		req  model.RegisterRequest
		want string
	}{
		{"re-register", regReq("B1", kg(10)), `batch "B1" already exists`},
		{"bad id", mod(func(r *model.RegisterRequest) { r.ID = "has space" }), `id: must be 1-64 characters`},
		{"long id", mod(func(r *model.RegisterRequest) { r.ID = strings.Repeat("a", 65) }), `id: must be 1-64 characters`},
		{"material", mod(func(r *model.RegisterRequest) { r.Material = "GOLD" }), `material: must be one of PET`},
		{"lower material", mod(func(r *model.RegisterRequest) { r.Material = "pet" }), `material: must be one of PET`},
		{"waste code", mod(func(r *model.RegisterRequest) { r.WasteCode = "150102" }), `wasteCode: must be a List of Waste code`},
		{"zero mass", mod(func(r *model.RegisterRequest) { r.Mass = 0 }), `mass: must be from 1 g to 1000 t, got 0 g`},
		{"huge mass", mod(func(r *model.RegisterRequest) { r.Mass = model.MaxMass + 1 }), `mass: must be from 1 g to 1000 t`},
		{"no location", mod(func(r *model.RegisterRequest) { r.Location = "" }), `location: is required`},
		{"long location", mod(func(r *model.RegisterRequest) { r.Location = strings.Repeat("é", 257) }), `location: must be at most 256 characters`},
		{"bad time", mod(func(r *model.RegisterRequest) { r.CollectedAt = "yesterday" }), `collectedAt: must be an RFC 3339 time`},
		{"future", mod(func(r *model.RegisterRequest) { r.CollectedAt = at(time.Minute) }), `collectedAt: must not be after the transaction time`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.fail(w.mun, c.want, "RegisterBatch", c.req)
		})
	}
	w.fail(w.rec, "role recycler may not register batches (collector only)", "RegisterBatch", regReq("B3", kg(1)))
	w.fail(w.aud, "role auditor may not register batches (collector only)", "RegisterBatch", regReq("B3", kg(1)))
	w.fail(w.out, "caller OutsiderMSP is not a registered participant", "RegisterBatch", regReq("B3", kg(1)))
	// A negative mass in JSON is refused by the rules, not the schema.
	w.fail(w.mun, "mass: must be from 1 g", "RegisterBatch", `{"id":"B4","material":"PET","wasteCode":"15 01 02","mass":-5,"location":"x","collectedAt":"2026-11-20T08:00:00Z"}`)
}

func TestReadBatch(t *testing.T) {
	w := newWorld(t)
	w.queryFail(w.aud, `batch "nope" not found`, "ReadBatch", "nope")
	w.queryFail(w.aud, `id: must be 1-64 characters`, "ReadBatch", "a/b")
	w.queryFail(w.aud, `id: must be 1-64 characters`, "BatchExists", "")
}

func TestAttachDocument(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	var b model.Batch
	r := w.okBatch(w.mun, &b, "AttachDocument", "B1", "waste transfer note", sha1, "https://docs.example/wtn/1.pdf")
	require.Len(t, b.Documents, 1)
	assert.Equal(t, model.Document{Name: "waste transfer note", SHA256: sha1, URI: "https://docs.example/wtn/1.pdf",
		AnchoredBy: actor(w.mun), AnchoredAt: at(0), Tx: r.TxID}, b.Documents[0])
	name, ce := w.lastEvent()
	assert.Equal(t, model.EvDocumentAttached, name)
	assert.Equal(t, model.BizInspecting, ce.Event.BizStep)

	// An auditor's document goes under a key of its own: the batch is not
	// written, so the owner's endorsement is not needed.
	sha2 := strings.Repeat("ab", 32)
	ra := w.okBatch(w.aud, &b, "AttachDocument", "B1", "lab report", sha2, "")
	require.Len(t, b.Documents, 1)
	require.Len(t, b.AuditorDocuments, 1)
	d := b.AuditorDocuments[0]
	assert.Equal(t, model.Document{Name: "lab report", SHA256: sha2, AnchoredBy: actor(w.aud), AnchoredAt: at(0), Tx: ra.TxID}, d.Document)
	assert.Equal(t, "B1", d.Batch)
	assert.Equal(t, model.EvDocumentAttached, d.Event.Name)
	assert.Equal(t, r.TxID, b.LastTx, "the batch key is untouched")
	key, err := oversightKey(objDoc, "B1", ra.TxID)
	require.NoError(t, err)
	w.assertGuardedKey(key, "AuditorMSP")
	name, ce = w.lastEvent()
	assert.Equal(t, model.EvDocumentAttached, name)
	assert.Equal(t, []string{"B1"}, ce.Batches)

	w.fail(w.aud, `document `+sha1+` is already anchored on batch "B1" (as "waste transfer note")`, "AttachDocument", "B1", "again", sha1, "")
	w.fail(w.aud, `document `+sha2+` is already anchored on batch "B1" (as "lab report", by AuditorMSP)`, "AttachDocument", "B1", "again", sha2, "")
	w.fail(w.mun, `document `+sha2+` is already anchored on batch "B1" (as "lab report", by AuditorMSP)`, "AttachDocument", "B1", "the owner's copy", sha2, "")
	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "B1" (owner MunicipalityMSP)`, "AttachDocument", "B1", "x", strings.Repeat("cd", 32), "")
	w.fail(w.out, `not a registered participant`, "AttachDocument", "B1", "x", strings.Repeat("cd", 32), "")
	w.fail(w.mun, `sha256: must be exactly 64 lower-case hex characters`, "AttachDocument", "B1", "x", strings.ToUpper(sha1), "")
	w.fail(w.mun, `name: is required`, "AttachDocument", "B1", "", strings.Repeat("cd", 32), "")
	w.fail(w.mun, `uri: must be at most 256 characters`, "AttachDocument", "B1", "x", strings.Repeat("cd", 32), strings.Repeat("u", 257))
	w.fail(w.mun, `batch "B9" not found`, "AttachDocument", "B9", "x", strings.Repeat("cd", 32), "")
}

func TestQuarantineAndRelease(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "B1"`, "Quarantine", "B1", "smells")
	w.fail(w.mun, `reason: is required`, "Quarantine", "B1", "")
	w.fail(w.mun, `batch "B1" is not quarantined (status active)`, "Release", "B1")

	// Held by the owner: only the owner releases.
	var b model.Batch
	r := w.okBatch(w.mun, &b, "Quarantine", "B1", "contaminated with glass")
	assert.Equal(t, model.StatusQuarantined, b.Status)
	assert.Equal(t, &model.Quarantine{By: actor(w.mun), ByRole: model.HeldByOwner, Reason: "contaminated with glass", At: at(0), Tx: r.TxID, PreviousStatus: model.StatusActive}, b.Quarantine)
	assert.True(t, w.indexed(idxStatus, "quarantined", "B1"))
	assert.False(t, w.indexed(idxStatus, "active", "B1"))
	name, ce := w.lastEvent()
	assert.Equal(t, model.EvBatchQuarantined, name)
	assert.Equal(t, model.BizHolding, ce.Event.BizStep)
	assert.Equal(t, model.DispNonConformant, ce.Event.Disposition)

	w.fail(w.mun, `batch "B1" is already quarantined`, "Quarantine", "B1", "again")
	w.fail(w.aud, `batch "B1" was quarantined by its owner MunicipalityMSP; only the owner may release it`, "Release", "B1")
	w.fail(w.mun, `batch "B1" is quarantined: contaminated with glass`, "OfferTransfer", "B1", "RecyclerMSP")

	var rel model.Batch
	w.okBatch(w.mun, &rel, "Release", "B1")
	assert.Equal(t, model.StatusActive, rel.Status)
	assert.Nil(t, rel.Quarantine)
	assert.True(t, w.indexed(idxStatus, "active", "B1"))
	name, ce = w.lastEvent()
	assert.Equal(t, model.EvBatchReleased, name)
	assert.Equal(t, model.BizReleasing, ce.Event.BizStep)

	// Held by an auditor while in transit: the hold goes under a key of
	// its own, the batch is not written, and only the auditor releases.
	offer := w.ok(w.mun, nil, "OfferTransfer", "B1", "RecyclerMSP")
	w.l.Advance(time.Minute)
	hr := w.okBatch(w.aud, &b, "Quarantine", "B1", "audit sample")
	assert.Nil(t, b.Quarantine)
	assert.Equal(t, model.StatusInTransit, b.Status, "the stored status is the owner's")
	assert.Equal(t, model.StatusQuarantined, b.EffectiveStatus())
	assert.Equal(t, offer.TxID, b.LastTx, "the batch key is untouched")
	require.Len(t, b.Holds, 1)
	h := b.Holds[0]
	assert.Equal(t, model.Hold{Batch: "B1", By: actor(w.aud), Reason: "audit sample", At: at(time.Minute), Tx: hr.TxID, Event: h.Event}, h)
	assert.Equal(t, model.EvBatchQuarantined, h.Event.Name)
	assert.Equal(t, model.DispNonConformant, h.Event.Disposition)
	name, ce = w.lastEvent()
	assert.Equal(t, model.EvBatchQuarantined, name)
	assert.Equal(t, []string{"B1"}, ce.Batches)
	// The hold key needs the auditor; the batch's policy is unchanged.
	key, err := oversightKey(objHold, "B1", hr.TxID)
	require.NoError(t, err)
	w.assertGuardedKey(key, "AuditorMSP")
	w.assertGuarded("B1", "MunicipalityMSP", "RecyclerMSP")

	// Nobody uses the held batch, and nobody but the auditor lifts it.
	w.fail(w.aud, `batch "B1" is already held by AuditorMSP`, "Quarantine", "B1", "again")
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP since `+at(time.Minute), "AcceptTransfer", "B1", 0)
	w.fail(w.rec, `is held by auditor AuditorMSP`, "RejectTransfer", "B1", "no thanks")
	w.fail(w.mun, `is held by auditor AuditorMSP`, "CancelTransfer", "B1")
	w.fail(w.mun, `batch "B1" is held by auditor AuditorMSP; only AuditorMSP may release it`, "Release", "B1")
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP; only AuditorMSP may release it`, "Release", "B1")
	w.fail(w.out, `not a registered participant`, "Release", "B1")
	w.fail(w.aud, `id: must be 1-64 characters`, "Release", "a b")
	w.fail(w.aud, `batch "B9" not found`, "Quarantine", "B9", "x")

	w.l.Advance(time.Minute)
	rl := w.ok(w.aud, nil, "Release", "B1")
	rel = *w.batch("B1")
	assert.Empty(t, rel.Holds)
	assert.Equal(t, model.StatusInTransit, rel.EffectiveStatus())
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvBatchReleased, name)
	assert.Nil(t, w.l.State(key), "the hold in force is gone")
	heldKey, err := oversightKey(objHeld, "B1", hr.TxID)
	require.NoError(t, err)
	var released model.Hold
	require.NoError(t, json.Unmarshal(w.l.State(heldKey), &released))
	require.NotNil(t, released.Released)
	assert.Equal(t, rl.TxID, released.Released.Tx)
	assert.Equal(t, actor(w.aud), released.Released.By)
	w.assertGuardedKey(heldKey, "AuditorMSP")
	w.fail(w.aud, `batch "B1" is not quarantined (status in_transit)`, "Release", "B1")

	w.l.Advance(time.Minute)
	w.okBatch(w.rec, &b, "AcceptTransfer", "B1", 0)
	assert.Equal(t, "RecyclerMSP", b.Owner)
	w.assertGuarded("B1", "RecyclerMSP")

	// The history shows the hold and its release among the versions.
	var hist []model.HistoryEntry
	w.query(w.out, &hist, "GetHistory", "B1")
	var kinds []string
	for _, e := range hist {
		if e.Oversight != nil {
			kinds = append(kinds, e.Oversight.Kind+" "+e.TxID)
		} else {
			kinds = append(kinds, e.Batch.Event.Name)
		}
	}
	assert.Equal(t, []string{model.EvBatchRegistered, model.EvBatchQuarantined, model.EvBatchReleased, model.EvTransferOffered,
		model.OversightHold + " " + hr.TxID, model.OversightRelease + " " + rl.TxID, model.EvTransferAccepted}, kinds)
}

// TestAuditorHoldStopsEveryUse: while an auditor's hold is in force the
// owner cannot process, offer, or hold-and-release its way out of it;
// its own hold and release on the batch leave the auditor's in force.
func TestAuditorHoldStopsEveryUse(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	w.move("B1", w.mun, w.rec, 0)
	w.ok(w.aud, nil, "Quarantine", "B1", "lab: PVC")
	proc := model.ProcessRequest{Step: model.StepSorting, Inputs: []model.ProcessInput{in("B1", kg(5))}, Outputs: []model.ProcessOutput{out("S1", model.FormSorted, kg(5))}}
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP`, "Process", proc)
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP`, "OfferTransfer", "B1", "MakerMSP")
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP`, "Capture", model.CaptureRequest{EventID: "urn:x:1", Kind: model.CaptureProcess, Process: &proc})

	// The owner's own hold and release change nothing about the auditor's.
	w.ok(w.rec, nil, "Quarantine", "B1", "ours too")
	w.ok(w.rec, nil, "Release", "B1")
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP`, "Process", proc)
	b := w.batch("B1")
	assert.Equal(t, model.StatusActive, b.Status)
	assert.True(t, b.Held())
	// The owner may still anchor its own documents on the batch.
	w.ok(w.rec, nil, "AttachDocument", "B1", "our note", sha1, "")

	w.ok(w.aud, nil, "Release", "B1")
	w.ok(w.rec, nil, "Process", proc)
	assert.Equal(t, kg(5), w.batch("B1").RemainingMass)
}

// TestHoldAndUseConflict: a use of a batch and an auditor's hold
// simulated against the same state cannot both commit. A hold committed
// first makes the use's range read of holds a phantom read; a use
// committed first makes the hold's read of the batch stale.
func TestHoldAndUseConflict(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	offer := w.l.NewStub(w.mun, "OfferTransfer", "B1", "RecyclerMSP")
	resp := w.cc.Invoke(offer)
	require.EqualValues(t, shim.OK, resp.Status, resp.Message)
	require.NoError(t, offer.FinishWriteBatch())
	w.ok(w.aud, nil, "Quarantine", "B1", "lab: PVC")
	require.ErrorIs(t, offer.Commit(), fakestub.ErrPhantomRead)
	assert.Equal(t, model.StatusActive, w.batch("B1").Status, "the offer did not commit")

	w.register("B2", kg(10))
	hold := w.l.NewStub(w.aud, "Quarantine", "B2", "lab: PVC")
	resp = w.cc.Invoke(hold)
	require.EqualValues(t, shim.OK, resp.Status, resp.Message)
	require.NoError(t, hold.FinishWriteBatch())
	w.ok(w.mun, nil, "OfferTransfer", "B2", "RecyclerMSP")
	require.ErrorIs(t, hold.Commit(), fakestub.ErrMVCCReadConflict)
	assert.Empty(t, w.batch("B2").Holds, "the hold did not commit; the auditor submits it again")
	w.ok(w.aud, nil, "Quarantine", "B2", "lab: PVC")
	w.fail(w.rec, `batch "B2" is held by auditor AuditorMSP`, "AcceptTransfer", "B2", 0)
}

// TestTraceMarksHeldBatches: a trace shows every batch under an
// auditor's hold as quarantined, upstream and downstream.
func TestTraceMarksHeldBatches(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	w.ok(w.mun, nil, "Process", model.ProcessRequest{Step: model.StepSorting,
		Inputs: []model.ProcessInput{in("B1", kg(10))}, Outputs: []model.ProcessOutput{out("S1", model.FormSorted, kg(10))}})
	w.ok(w.aud, nil, "Quarantine", "S1", "lab")
	w.ok(w.aud, nil, "Quarantine", "B1", "lab")
	for _, dir := range []string{"up", "down"} {
		root := map[string]string{"up": "S1", "down": "B1"}[dir]
		var tr model.Trace
		w.query(w.out, &tr, "Trace", root, dir)
		require.Len(t, tr.Nodes, 2)
		for _, n := range tr.Nodes {
			assert.Equalf(t, model.StatusQuarantined, n.Status, "%s trace, node %s", dir, n.ID)
		}
	}
	w.ok(w.aud, nil, "Release", "S1")
	var tr model.Trace
	w.query(w.out, &tr, "Trace", "B1", "down")
	for _, n := range tr.Nodes {
		want := map[string]model.Status{"B1": model.StatusQuarantined, "S1": model.StatusActive}[n.ID]
		assert.Equal(t, want, n.Status, n.ID)
	}
}
