package contract

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// GLN-shaped site IDs with valid GS1 check digits.
const (
	depot   = "8690000000012" // the municipality's depot
	plant   = "8690000000029" // the recycler's plant
	annex   = "8690000000036" // the recycler's second site
	badGLN  = "8690000000013" // wrong check digit
	makerWs = "6410000000018" // the maker's workshop
)

var (
	munAdmin = person("MunicipalityMSP", "Admin@municipality.mtrace.local", model.PersonAdmin)
	recAdmin = person("RecyclerMSP", "Admin@recycler.mtrace.local", model.PersonAdmin)
	makAdmin = person("MakerMSP", "Admin@maker.mtrace.local", model.PersonAdmin)
)

// withSites is a world whose municipality, recycler and maker list sites.
func withSites(t *testing.T) *world {
	w := newWorld(t)
	w.ok(munAdmin, nil, "SetSite", model.SiteRequest{ID: depot, Name: "Hervanta depot"})
	w.ok(recAdmin, nil, "SetSite", model.SiteRequest{ID: plant, Name: "Nokia plant"})
	w.ok(recAdmin, nil, "SetSite", model.SiteRequest{ID: annex, Name: "Lempäälä annex"})
	w.ok(makAdmin, nil, "SetSite", model.SiteRequest{ID: makerWs, Name: "Hervanta workshop"})
	return w
}

func TestSetSite(t *testing.T) {
	w := newWorld(t)
	req := model.SiteRequest{ID: plant, Name: "Nokia plant"}
	w.fail(w.rec, "not an admin identity", "SetSite", req)
	w.fail(person("OutsiderMSP", "Admin@outsider.example", model.PersonAdmin), "caller OutsiderMSP is not a registered participant", "SetSite", req)
	w.fail(recAdmin, "id: GLN 8690000000013 has check digit 3, want 2", "SetSite", model.SiteRequest{ID: badGLN, Name: "x"})
	w.fail(recAdmin, "id: must be a GLN of 13 digits", "SetSite", model.SiteRequest{ID: "86900000000", Name: "x"})
	w.fail(recAdmin, "name: is required", "SetSite", model.SiteRequest{ID: plant, Name: " "})
	w.fail(recAdmin, "was not passed in expected format model.SiteRequest", "SetSite", "not json") // malformed argument

	var l model.SiteList
	w.ok(recAdmin, &l, "SetSite", req)
	require.Len(t, l.Sites, 1)
	assert.Equal(t, "RecyclerMSP", l.Org)
	assert.True(t, l.Sites[0].Default, "an organisation's first site is its default")
	w.ok(recAdmin, &l, "SetSite", model.SiteRequest{ID: annex, Name: "Lempäälä annex"})
	got, _ := l.DefaultSite()
	assert.Equal(t, plant, got.ID, "a second site does not take the default")
	l = model.SiteList{} // decode afresh: a default flag that is false is left out
	w.ok(recAdmin, &l, "SetSite", model.SiteRequest{ID: annex, Name: "Lempäälä annex, hall 2", Default: true})
	got, _ = l.DefaultSite()
	assert.Equal(t, annex, got.ID)
	assert.Equal(t, "Lempäälä annex, hall 2", got.Name)
	require.Len(t, l.Sites, 2)

	name, ev := w.lastEvent()
	assert.Equal(t, model.EvSiteSet, name)
	assert.Equal(t, annex, ev.Event.Where.Site)

	// Each organisation writes its own list only; its key needs it.
	w.ok(munAdmin, nil, "SetSite", model.SiteRequest{ID: depot, Name: "Depot"})
	var theirs model.SiteList
	w.query(w.aud, &theirs, "GetSites", "RecyclerMSP")
	assert.Equal(t, l.Sites, theirs.Sites, "the municipality's site did not touch the recycler's list")
	key, err := sitesKey("RecyclerMSP")
	require.NoError(t, err)
	w.assertGuardedKey(key, "RecyclerMSP")
	var none model.SiteList
	w.query(w.aud, &none, "GetSites", "MakerMSP")
	assert.Empty(t, none.Sites)
	w.queryFail(w.aud, "msp: must be an MSP ID", "GetSites", "no spaces")
}

func TestSiteListCap(t *testing.T) {
	l := &model.SiteList{Org: "RecyclerMSP"}
	for i := range model.MaxSites {
		d := fmt.Sprintf("%012d", i+1)
		require.NoError(t, l.Set(model.SiteRequest{ID: d + string(model.GS1CheckDigit(d)), Name: "s"}, "", ""))
	}
	err := l.Set(model.SiteRequest{ID: plant, Name: "one too many"}, "", "")
	require.ErrorContains(t, err, "the most one organisation may list")
}

func TestRegisterAtSites(t *testing.T) {
	w := withSites(t)
	req := regReq("C1", kg(100))
	var b model.Batch
	w.okBatch(w.mun, &b, "RegisterBatch", req)
	assert.Equal(t, depot, b.Site, "the default site")
	assert.Equal(t, depot, b.Origin.Collection.Site)
	assert.Equal(t, model.PostConsumer, b.Origin.Collection.OriginClass)
	assert.Equal(t, &model.Shares{PostConsumer: model.WholePPM}, b.Shares)
	assert.Equal(t, depot, b.Event.Where.Site)

	pre := regReq("C2", kg(50))
	pre.OriginClass, pre.Site = model.PreConsumer, depot
	w.okBatch(w.mun, &b, "RegisterBatch", pre)
	assert.Equal(t, &model.Shares{PreConsumer: model.WholePPM}, b.Shares)
	assert.Equal(t, int64(0), b.RecycledContent, "recycledContentBp is the post-consumer share")

	bad := regReq("C3", kg(1))
	bad.Site = plant
	w.fail(w.mun, "site: site 8690000000029 is not a site of MunicipalityMSP", "RegisterBatch", bad)
	bad.Site = badGLN
	w.fail(w.mun, "site: GLN 8690000000013 has check digit 3", "RegisterBatch", bad)
	bad.Site, bad.OriginClass = "", "industrial"
	w.fail(w.mun, "originClass: must be one of post-consumer, pre-consumer", "RegisterBatch", bad)

	// An organisation without sites names none.
	w2 := newWorld(t)
	bad.OriginClass, bad.Site = "", depot
	w2.fail(w2.mun, "which lists none", "RegisterBatch", bad)
}

func TestAcceptAtSite(t *testing.T) {
	w := withSites(t)
	w.register("C1", kg(100))
	w.ok(w.mun, nil, "OfferTransfer", "C1", "RecyclerMSP")
	w.fail(w.rec, "site: site 8690000000012 is not a site of RecyclerMSP", "AcceptTransferAt", "C1", 0, depot)
	w.fail(w.rec, "site: must be a GLN of 13 digits", "AcceptTransferAt", "C1", 0, "plant")
	var b model.Batch
	w.okBatch(w.rec, &b, "AcceptTransferAt", "C1", 0, annex)
	assert.Equal(t, annex, b.Site)
	assert.Equal(t, annex, b.Handovers[0].Site)
	assert.Equal(t, annex, b.Event.Where.Site)
	w.ok(w.rec, nil, "OfferTransfer", "C1", "MakerMSP")
	w.okBatch(w.mak, &b, "AcceptTransfer", "C1", 0)
	assert.Equal(t, makerWs, b.Site, "the receiver's default site")
}

func TestBlendShares(t *testing.T) {
	w := withSites(t)
	w.register("POST", kg(600))
	pre := regReq("PRE", kg(300))
	pre.OriginClass = model.PreConsumer
	var b model.Batch
	w.okBatch(w.mun, &b, "RegisterBatch", pre)
	w.move("POST", w.mun, w.rec, 0)
	w.move("PRE", w.mun, w.rec, 0)

	// 600 kg post + 300 kg pre + 100 kg virgin, 150 kg lost.
	req := model.ProcessRequest{Step: model.StepExtrusion, Site: annex, VirginMass: kg(100),
		Inputs:  []model.ProcessInput{{ID: "POST", Mass: kg(600)}, {ID: "PRE", Mass: kg(300)}},
		Outputs: []model.ProcessOutput{{ID: "PEL", Material: model.PET, Form: model.FormPellets, Mass: kg(850)}}}
	var rec model.Process
	w.ok(w.rec, &rec, "Process", req)
	want := model.Shares{PostConsumer: 600_000, PreConsumer: 300_000}
	assert.Equal(t, &want, rec.Shares)
	assert.Equal(t, int64(6000), rec.RecycledContent)
	assert.Equal(t, annex, rec.Site)
	out := w.batch("PEL")
	assert.Equal(t, &want, out.Shares)
	assert.Equal(t, annex, out.Site)

	// A second blend with an odd mass: each class rounds down on its
	// own, so the blend never holds more recycled mass than went in.
	w.register("P2", 1)
	w.move("P2", w.mun, w.rec, 0)
	req = model.ProcessRequest{Step: model.StepExtrusion, VirginMass: 1,
		Inputs:  []model.ProcessInput{{ID: "PEL", Mass: 1}, {ID: "P2", Mass: 1}},
		Outputs: []model.ProcessOutput{{ID: "MIX", Material: model.PET, Form: model.FormPellets, Mass: 3}}}
	w.ok(w.rec, &rec, "Process", req)
	// post: (600000 + 1000000) / 3 = 533333.3; pre: 300000 / 3 = 100000.
	assert.Equal(t, &model.Shares{PostConsumer: 533_333, PreConsumer: 100_000}, rec.Shares)
	assert.Equal(t, plant, rec.Site, "the recycler's default site")

	w.fail(w.rec, "site: site 6410000000018 is not a site of RecyclerMSP", "Process", model.ProcessRequest{Step: model.StepSorting, Site: makerWs,
		Inputs: []model.ProcessInput{{ID: "MIX", Mass: 1}}, Outputs: []model.ProcessOutput{{ID: "X", Material: model.PET, Form: model.FormFlakes, Mass: 1}}})

	var v model.Verdict
	var raw string
	r := w.l.Query(w.cc, w.aud, "VerifyProvenance", "MIX", "")
	require.Equal(t, int32(200), r.Status, r.Message)
	raw = string(r.Payload)
	require.NoError(t, json.Unmarshal([]byte(raw), &v))
	assert.True(t, v.OK, "%+v", v.Checks)
	assert.Equal(t, &model.Shares{PostConsumer: 533_333, PreConsumer: 100_000}, v.Shares)
}

func purchase(id string) model.PurchaseRequest {
	return model.PurchaseRequest{ID: id, Material: model.PET, Mass: kg(2000), Supplier: "Akdeniz Ambalaj A.Ş.", SupplierID: "TR-VKN-1234567890",
		OriginClass: model.PreConsumer, ReceivedAt: "2026-11-19T14:00:00+03:00", Ticket: "WB-2026-0042",
		TicketSHA256: strings.Repeat("ab", 32)}
}

func TestRegisterPurchase(t *testing.T) {
	w := withSites(t)
	req := purchase("BUY-1")
	w.fail(w.mun, "role collector may not register bought-in batches (recycler only)", "RegisterPurchase", req)
	w.fail(w.mak, "role maker may not register bought-in batches", "RegisterPurchase", req)
	w.fail(w.out, "caller OutsiderMSP is not a registered participant", "RegisterPurchase", req)
	for _, c := range []struct {
		edit func(*model.PurchaseRequest)
		want string
	}{
		{func(r *model.PurchaseRequest) { r.Supplier = "" }, "supplier: is required"},
		{func(r *model.PurchaseRequest) { r.OriginClass = "" }, "originClass: must be one of"},
		{func(r *model.PurchaseRequest) { r.Mass = 0 }, "mass: must be from 1 g"},
		{func(r *model.PurchaseRequest) { r.Mass = model.MaxMass + 1 }, "mass: must be from 1 g"},
		{func(r *model.PurchaseRequest) { r.TicketSHA256 = "ABC" }, "ticketSha256: must be exactly 64"},
		{func(r *model.PurchaseRequest) { r.Ticket = "" }, "ticket: is required"},
		{func(r *model.PurchaseRequest) { r.ReceivedAt = "2030-01-01T00:00:00Z" }, "receivedAt: must not be after the transaction time"},
		{func(r *model.PurchaseRequest) { r.Site = depot }, "site: site 8690000000012 is not a site of RecyclerMSP"},
		{func(r *model.PurchaseRequest) { r.Site = badGLN }, "site: GLN"},
		{func(r *model.PurchaseRequest) { r.WasteCode = "150102" }, "wasteCode: must be a List of Waste code"},
		{func(r *model.PurchaseRequest) { r.Material = "pet" }, "material: must be one of"},
		{func(r *model.PurchaseRequest) { r.ID = "a b" }, "id: must be 1-64 characters"},
	} {
		bad := req
		c.edit(&bad)
		w.fail(w.rec, c.want, "RegisterPurchase", bad)
	}

	w.ok(w.rec, nil, "RegisterPurchase", req)
	b := w.batch("BUY-1")
	require.NotNil(t, b.Origin.Purchase)
	assert.Nil(t, b.Origin.Collection)
	assert.Equal(t, model.Purchase{Supplier: req.Supplier, SupplierID: req.SupplierID, OriginClass: model.PreConsumer, Site: plant,
		ReceivedAt: "2026-11-19T11:00:00Z", Purchaser: "RecyclerMSP", Ticket: "WB-2026-0042", TicketSHA256: req.TicketSHA256, ZoneOffset: "+03:00"}, *b.Origin.Purchase)
	assert.Equal(t, &model.Shares{PreConsumer: model.WholePPM}, b.Shares)
	assert.Equal(t, plant, b.Site)
	assert.Equal(t, model.FormWaste, b.Form)
	require.Len(t, b.Documents, 1)
	assert.Equal(t, req.TicketSHA256, b.Documents[0].SHA256, "the weighbridge ticket is anchored")
	name, _ := w.lastEvent()
	assert.Equal(t, model.EvBatchPurchased, name)
	w.assertGuarded("BUY-1", "RecyclerMSP")
	w.fail(w.rec, `batch "BUY-1" already exists`, "RegisterPurchase", req)

	// Verify names it as the recycler's own claim, not a collection.
	r := w.l.Query(w.cc, w.aud, "VerifyProvenance", "BUY-1", req.TicketSHA256)
	require.Equal(t, int32(200), r.Status, r.Message)
	var v model.Verdict
	require.NoError(t, json.Unmarshal(r.Payload, &v))
	assert.True(t, v.OK, "%+v", v.Checks)
	require.Len(t, v.Sources, 1)
	assert.Equal(t, model.SourcePurchase, v.Sources[0].Kind)
	assert.Equal(t, "RecyclerMSP", v.Sources[0].Collector)
	assert.Equal(t, req.Supplier, v.Sources[0].Supplier)

	claims := model.BatchClaims(b, b.CreatedTx)
	assert.Contains(t, claims[0].What, "purchaser")
	assert.Equal(t, []string{"RecyclerMSP"}, claims[0].Endorsers)
}

// shipped is a world where the recycler has made pellets from a post-
// and a pre-consumer input and offered them to the maker.
func shipped(t *testing.T) *world {
	w := withSites(t)
	w.register("POST", kg(600))
	w.move("POST", w.mun, w.rec, 0)
	w.ok(w.rec, nil, "RegisterPurchase", purchase("PRE"))
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepExtrusion,
		Inputs:  []model.ProcessInput{{ID: "POST", Mass: kg(600)}, {ID: "PRE", Mass: kg(400)}},
		Outputs: []model.ProcessOutput{{ID: "PEL", Material: model.PET, Form: model.FormPellets, Mass: kg(950)}}})
	w.ok(w.rec, nil, "OfferTransfer", "PEL", "MakerMSP")
	return w
}

func TestDeclarations(t *testing.T) {
	w := shipped(t)
	req := model.DeclarationRequest{ID: "DECL-1", Batch: "PEL", Model: model.MassBalance, Certificate: "ISCC-PLUS-Cert-TR-1234"}
	w.fail(w.mak, `caller MakerMSP is not the owner of batch "PEL"`, "IssueDeclaration", req)
	w.fail(w.aud, "role auditor may not issue declarations", "IssueDeclaration", req)
	w.fail(w.out, "not a registered participant", "IssueDeclaration", req)
	bad := req
	bad.Model = "book-and-claim"
	w.fail(w.rec, "model: must be one of identity-preserved, segregated, controlled-blending, mass-balance", "IssueDeclaration", bad)
	bad = req
	bad.ID = ""
	w.fail(w.rec, "id: must be 1-64 characters", "IssueDeclaration", bad)
	bad = req
	bad.Batch = "NOPE"
	w.fail(w.rec, `batch "NOPE" not found`, "IssueDeclaration", bad)
	bad.Batch = "POST"
	w.fail(w.rec, `batch "POST" has no pending transfer (status consumed)`, "IssueDeclaration", bad)

	var d model.Declaration
	r := w.ok(w.rec, &d, "IssueDeclaration", req)
	assert.Equal(t, model.Declaration{ID: "DECL-1", Batch: "PEL", Supplier: "RecyclerMSP", Recipient: "MakerMSP", Site: plant,
		Material: model.PET, Mass: kg(950), Shares: model.Shares{PostConsumer: 600_000, PreConsumer: 400_000},
		Model: model.MassBalance, Certificate: "ISCC-PLUS-Cert-TR-1234", OfferTx: w.batch("PEL").Pending.OfferTx,
		IssuedBy: actor(w.rec), IssuedAt: d.IssuedAt, IssueTx: r.TxID}, d)
	assert.Equal(t, "DECL-1", w.batch("PEL").Pending.Declaration)
	name, ev := w.lastEvent()
	assert.Equal(t, model.EvDeclarationIssued, name)
	assert.Equal(t, "DECL-1", ev.Event.Declaration)
	key, err := declKey("DECL-1")
	require.NoError(t, err)
	w.assertGuardedKey(key, "RecyclerMSP", "MakerMSP")

	// One declaration per transfer; an id is used once.
	req2 := req
	req2.ID = "DECL-2"
	w.fail(w.rec, `the transfer of batch "PEL" already has declaration "DECL-1"`, "IssueDeclaration", req2)

	// Only the recipient claims, and only after accepting.
	w.fail(w.mak, `has not accepted the transfer of batch "PEL"`, "ClaimDeclaration", "DECL-1")
	var b model.Batch
	w.okBatch(w.mak, &b, "AcceptTransfer", "PEL", 0)
	assert.Equal(t, "DECL-1", b.Handovers[0].Declaration)
	w.fail(w.rec, `declaration "DECL-1" was issued to MakerMSP; RecyclerMSP may not claim it`, "ClaimDeclaration", "DECL-1")
	w.fail(w.aud, `may not claim it`, "ClaimDeclaration", "DECL-1")
	w.fail(w.out, "not a registered participant", "ClaimDeclaration", "DECL-1")
	w.fail(w.mak, `declaration "NOPE" not found`, "ClaimDeclaration", "NOPE")
	w.fail(w.mak, `id: must be 1-64 characters`, "ClaimDeclaration", "a b")

	keys := len(w.l.Keys())
	var c model.Declaration
	cr := w.ok(w.mak, &c, "ClaimDeclaration", "DECL-1")
	require.NotNil(t, c.Claim)
	assert.Equal(t, model.DeclClaim{By: actor(w.mak), At: c.Claim.At, Tx: cr.TxID, Site: makerWs}, *c.Claim)
	assert.Equal(t, keys, len(w.l.Keys()), "a claim adds no key")
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvDeclarationClaimed, name)

	w.fail(w.mak, `declaration "DECL-1" was claimed already by MakerMSP`, "ClaimDeclaration", "DECL-1")

	var read model.Declaration
	w.query(w.aud, &read, "ReadDeclaration", "DECL-1")
	assert.Equal(t, c, read)
	w.queryFail(w.aud, `declaration "X" not found`, "ReadDeclaration", "X")
	w.queryFail(w.aud, `id: must be`, "ReadDeclaration", "")

	// Once the batch is in the maker's hands, a new declaration needs a
	// new transfer; the recycler owns the batch no longer.
	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "PEL"`, "IssueDeclaration", req2)
	w.fail(w.mak, `batch "PEL" has no pending transfer (status active)`, "IssueDeclaration", req2)
}

// TestDeclarationConflicts: two transactions endorsed on the same state
// (two claims, or an issue racing an accept) cannot both commit.
func TestDeclarationConflicts(t *testing.T) {
	w := shipped(t)
	w.ok(w.rec, nil, "IssueDeclaration", model.DeclarationRequest{ID: "D", Batch: "PEL", Model: model.ControlledBlending})
	w.ok(w.mak, nil, "AcceptTransfer", "PEL", 0)
	sim := func(fn string, a ...string) *fakestub.Stub {
		st := w.l.NewStub(w.mak, append([]string{fn}, a...)...)
		resp := w.cc.Invoke(st)
		require.EqualValues(t, shim.OK, resp.Status, resp.Message)
		require.NoError(t, st.FinishWriteBatch())
		return st
	}
	first, second := sim("ClaimDeclaration", "D"), sim("ClaimDeclaration", "D")
	require.NoError(t, first.Commit())
	require.ErrorIs(t, second.Commit(), fakestub.ErrMVCCReadConflict, "the second claim read a version the first replaced")
	d := w.declaration("D")
	assert.Equal(t, first.GetTxID(), d.Claim.Tx)

	// An issue racing the accept of the same transfer: the accept commits
	// first, and the issue, which read the batch in transit, does not.
	w2 := shipped(t)
	issue := w2.l.NewStub(w2.rec, "IssueDeclaration", string(mustJSON(t, model.DeclarationRequest{ID: "LATE", Batch: "PEL", Model: model.MassBalance})))
	resp := w2.cc.Invoke(issue)
	require.EqualValues(t, shim.OK, resp.Status, resp.Message)
	require.NoError(t, issue.FinishWriteBatch())
	w2.ok(w2.mak, nil, "AcceptTransfer", "PEL", 0)
	require.ErrorIs(t, issue.Commit(), fakestub.ErrMVCCReadConflict)
	w2.queryFail(w2.aud, `declaration "LATE" not found`, "ReadDeclaration", "LATE")
}

func (w *world) declaration(id string) model.Declaration {
	w.tb.Helper()
	var d model.Declaration
	w.query(w.aud, &d, "ReadDeclaration", id)
	return d
}

func mustJSON(t *testing.T, v any) []byte {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// TestMigrateToSites: batches and process records of contract 0.5.0 (no
// shares, no sites, no origin class) migrate in place: each batch gets
// its post-consumer basis points as parts per million and its owner's
// default site; a collection stays post-consumer; verify holds.
func TestMigrateToSites(t *testing.T) {
	w := newWorld(t)
	w.register("C1", kg(600))
	w.register("C2", kg(301))
	w.move("C1", w.mun, w.rec, 0)
	w.move("C2", w.mun, w.rec, 0)
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSorting, VirginMass: kg(99),
		Inputs:  []model.ProcessInput{{ID: "C1", Mass: kg(600)}, {ID: "C2", Mass: kg(300)}},
		Outputs: []model.ProcessOutput{{ID: "S1", Material: model.PET, Form: model.FormFlakes, Mass: kg(900)}}})
	toV050(t, w)
	require.ElementsMatch(t, []string{"C1", "C2", "S1"}, pending(w, 10))
	old := w.batch("S1")
	require.Nil(t, old.Shares)
	require.Equal(t, 1, old.Format)

	// The recycler lists sites; the municipality none.
	w.ok(recAdmin, nil, "SetSite", model.SiteRequest{ID: plant, Name: "Nokia plant"})
	w.fail(w.rec, "not an admin identity", "MigrateBatches", []string{"S1"})
	var migrated []string
	w.ok(w.adm, &migrated, "MigrateBatches", []string{"S1", "C1", "C2"})
	assert.Equal(t, []string{"C1", "C2", "S1"}, migrated)
	assert.Empty(t, pending(w, 10))
	for _, id := range []string{"C1", "C2", "S1"} {
		b := w.batch(id)
		assert.Equal(t, model.CurrentFormat, b.Format, id)
		assert.Equal(t, &model.Shares{PostConsumer: b.RecycledContent * 100}, b.Shares, id)
		assert.Equal(t, plant, b.Site, "%s is the recycler's: its default site", id)
		if b.Origin.Collection != nil {
			class, _ := b.Origin.RegisteredClass()
			assert.Equal(t, model.PostConsumer, class)
		}
	}
	r := w.l.Query(w.cc, w.aud, "VerifyProvenance", "S1", "")
	require.Equal(t, int32(200), r.Status, r.Message)
	var v model.Verdict
	require.NoError(t, json.Unmarshal(r.Payload, &v))
	assert.True(t, v.OK, "%+v", v.Checks)
	w.ok(w.adm, &migrated, "MigrateBatches", []string{"S1"})
	assert.Empty(t, migrated, "a rerun writes nothing")

	// A new blend of a migrated batch carries both shares.
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepExtrusion,
		Inputs:  []model.ProcessInput{{ID: "S1", Mass: kg(900)}},
		Outputs: []model.ProcessOutput{{ID: "P1", Material: model.PET, Form: model.FormPellets, Mass: kg(800)}}})
	assert.Equal(t, w.batch("S1").Shares, w.batch("P1").Shares)
}

// TestUnmigratedBatchUpgradesOnUse: a batch of contract 0.5.0 that a
// transaction writes before the migration reaches it gets its shares and
// its owner's default site then.
func TestUnmigratedBatchUpgradesOnUse(t *testing.T) {
	w := newWorld(t)
	w.register("C1", kg(10))
	toV050(t, w)
	w.ok(munAdmin, nil, "SetSite", model.SiteRequest{ID: depot, Name: "Depot"})
	w.ok(w.mun, nil, "OfferTransfer", "C1", "RecyclerMSP")
	b := w.batch("C1")
	assert.Equal(t, model.CurrentFormat, b.Format)
	assert.Equal(t, &model.Shares{PostConsumer: model.WholePPM}, b.Shares)
	assert.Equal(t, depot, b.Site)
	assert.Empty(t, pending(w, 10))
}

// toV050 rewrites every batch and process record into the stored form of
// contract 0.5.0: format 1, no shares, no sites, no origin class, no
// owner-and-status index entries.
func toV050(t *testing.T, w *world) {
	t.Helper()
	dropOwnerStatus(t, w)
	for _, key := range w.l.Keys() {
		obj, _, err := splitKey(key)
		if err != nil || obj != objBatch && obj != objProcess {
			continue
		}
		var v map[string]any
		require.NoError(t, json.Unmarshal(w.l.State(key), &v))
		delete(v, "shares")
		delete(v, "site")
		if obj == objBatch {
			v["format"] = 1
			o := v["origin"].(map[string]any)
			if c, ok := o["collection"].(map[string]any); ok {
				delete(c, "originClass")
				delete(c, "site")
			}
			if p, ok := o["process"].(map[string]any); ok {
				delete(p, "site")
			}
			if hs, ok := v["handovers"].([]any); ok {
				for _, h := range hs {
					delete(h.(map[string]any), "site")
				}
			}
		}
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		w.l.Put(key, raw)
	}
}

func splitKey(key string) (string, []string, error) {
	stub := fakestub.NewLedger().NewStub(nil)
	return stub.SplitCompositeKey(key)
}
