package contract

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.Equal(t, model.Collection{Location: "Hervanta eco-point 4", CollectedAt: "2026-11-20T06:30:00Z", Collector: "MunicipalityMSP", ZoneOffset: "+02:00"}, *b.Origin.Collection)
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

	sha2 := strings.Repeat("ab", 32)
	w.okBatch(w.aud, &b, "AttachDocument", "B1", "lab report", sha2, "")
	require.Len(t, b.Documents, 2)
	assert.Equal(t, "AuditorMSP", b.Documents[1].AnchoredBy.MSP)

	w.fail(w.aud, `document `+sha1+` is already anchored on batch "B1" (as "waste transfer note")`, "AttachDocument", "B1", "again", sha1, "")
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

	w.fail(w.aud, `batch "B1" is already quarantined`, "Quarantine", "B1", "again")
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

	// Held by an auditor while in transit: only an auditor releases, and
	// the batch returns to in transit.
	w.ok(w.mun, nil, "OfferTransfer", "B1", "RecyclerMSP")
	w.okBatch(w.aud, &b, "Quarantine", "B1", "audit sample")
	assert.Equal(t, model.HeldByAuditor, b.Quarantine.ByRole)
	assert.Equal(t, model.StatusInTransit, b.Quarantine.PreviousStatus)
	// The auditor's hold binds the auditor's organisation into the batch's
	// policy: no owner, receiver or pair of them can lift it alone.
	w.assertGuarded("B1", "AuditorMSP", "MunicipalityMSP", "RecyclerMSP")
	w.fail(w.rec, `batch "B1" is quarantined: audit sample`, "AcceptTransfer", "B1", 0)
	w.fail(w.mun, `batch "B1" was quarantined by auditor AuditorMSP; only an auditor may release it`, "Release", "B1")
	w.fail(w.out, `not a registered participant`, "Release", "B1")
	rel = model.Batch{}
	w.okBatch(w.aud, &rel, "Release", "B1")
	assert.Equal(t, model.StatusInTransit, rel.Status)
	assert.Nil(t, rel.Quarantine)
	assert.Equal(t, model.DispInTransit, rel.Event.Disposition)
	w.assertGuarded("B1", "MunicipalityMSP", "RecyclerMSP")
	w.okBatch(w.rec, &b, "AcceptTransfer", "B1", 0)
	assert.Equal(t, "RecyclerMSP", b.Owner)
	w.assertGuarded("B1", "RecyclerMSP")
}
