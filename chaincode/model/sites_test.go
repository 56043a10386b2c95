package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckGLN(t *testing.T) {
	for _, ok := range []string{"4006381333931", "8690000000012", "0000000000000"} {
		assert.NoError(t, CheckGLN("site", ok), ok)
	}
	for s, want := range map[string]string{
		"4006381333932":  "site: GLN 4006381333932 has check digit 2, want 1",
		"400638133393":   "must be a GLN of 13 digits",
		"40063813339311": "must be a GLN of 13 digits",
		"400638133393a":  "must be a GLN of 13 digits",
		"":               "must be a GLN of 13 digits",
	} {
		assert.ErrorContains(t, CheckGLN("site", s), want, s)
	}
	// Every wrong last digit is caught.
	for d := byte('0'); d <= '9'; d++ {
		s := "869000000001" + string(d)
		assert.Equal(t, d == '2', CheckGLN("site", s) == nil, s)
	}
}

func TestShares(t *testing.T) {
	assert.Equal(t, Shares{PostConsumer: WholePPM}, ClassShares(PostConsumer))
	assert.Equal(t, Shares{PreConsumer: WholePPM}, ClassShares(PreConsumer))
	for _, ok := range []Shares{{}, {PostConsumer: WholePPM}, {PreConsumer: WholePPM}, {PostConsumer: 400_000, PreConsumer: 600_000}} {
		assert.NoError(t, ok.Validate("shares"), "%+v", ok)
	}
	for _, bad := range []Shares{{PostConsumer: -1}, {PreConsumer: -1}, {PostConsumer: WholePPM + 1}, {PreConsumer: WholePPM + 1},
		{PostConsumer: 600_000, PreConsumer: 400_001}} {
		assert.ErrorContains(t, bad.Validate("shares"), "shares: shares must each be from 0 to 1000000 ppm", "%+v", bad)
	}
	s := Shares{PostConsumer: 625_099, PreConsumer: 1}
	assert.Equal(t, int64(6250), s.Bp(), "basis points round down")
	assert.Equal(t, "post-consumer 62.5099%, pre-consumer 0.0001%", s.String())
	assert.Equal(t, "100%", PPM(WholePPM))
	assert.Equal(t, "-0.5%", PPM(-5000))

	legacy := &Batch{RecycledContent: 9214}
	assert.Equal(t, Shares{PostConsumer: 921_400}, SharesOf(legacy), "basis points convert exactly")
	legacy.Shares = &Shares{PreConsumer: 7}
	assert.Equal(t, Shares{PreConsumer: 7}, SharesOf(legacy))

	post, pre := Shares{PostConsumer: 333_333, PreConsumer: 500_000}.ClassMass(3)
	assert.Equal(t, Grams(0), post)
	assert.Equal(t, Grams(1), pre)
}

func TestBlend(t *testing.T) {
	assert.Equal(t, Shares{}, Blend(nil, 0))
	assert.Equal(t, Shares{}, Blend(nil, 5), "virgin only")
	in := []Portion{{Mass: 600, Shares: ClassShares(PostConsumer)}, {Mass: 300, Shares: ClassShares(PreConsumer)}}
	assert.Equal(t, Shares{PostConsumer: 600_000, PreConsumer: 300_000}, Blend(in, 100))
	// One gram of each and one of virgin: each class rounds down.
	in = []Portion{{Mass: 1, Shares: ClassShares(PostConsumer)}, {Mass: 1, Shares: ClassShares(PreConsumer)}}
	assert.Equal(t, Shares{PostConsumer: 333_333, PreConsumer: 333_333}, Blend(in, 1))
	// The largest blend does not overflow.
	big := make([]Portion, MaxProcessIOs)
	for i := range big {
		big[i] = Portion{Mass: MaxMass, Shares: ClassShares(PostConsumer)}
	}
	assert.Equal(t, Shares{PostConsumer: WholePPM}, Blend(big, 0))
}

// Rounding never creates material: through any chain of blends, the
// recycled mass of each class in the outputs is at most what went in.
func TestBlendNeverCreatesMaterial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(5)
		in := make([]Portion, n)
		var post, pre Grams // exact class mass in, times WholePPM
		for i := range in {
			a := r.Int64N(WholePPM + 1)
			in[i] = Portion{Mass: Grams(1 + r.Int64N(int64(10*Tonne))), Shares: Shares{PostConsumer: a, PreConsumer: r.Int64N(WholePPM - a + 1)}}
			post += in[i].Mass * Grams(in[i].Shares.PostConsumer)
			pre += in[i].Mass * Grams(in[i].Shares.PreConsumer)
		}
		virgin := Grams(r.Int64N(1000))
		s := Blend(in, virgin)
		require.NoError(t, s.Validate("shares"))
		var total Grams
		for _, p := range in {
			total += p.Mass
		}
		total += virgin
		require.LessOrEqual(t, total*Grams(s.PostConsumer), post, "%+v virgin %d", in, virgin)
		require.LessOrEqual(t, total*Grams(s.PreConsumer), pre, "%+v virgin %d", in, virgin)
		// Short by less than one ppm of the blend per class.
		require.Less(t, post-total*Grams(s.PostConsumer), total)
		require.Less(t, pre-total*Grams(s.PreConsumer), total)
	}
}

func TestOriginClasses(t *testing.T) {
	c, err := ParseOriginClass(" Pre-Consumer ")
	require.NoError(t, err)
	assert.Equal(t, PreConsumer, c)
	_, err = ParseOriginClass("industrial")
	assert.ErrorContains(t, err, "originClass: must be one of post-consumer, pre-consumer")

	for _, c := range []struct {
		o     Origin
		class OriginClass
		ok    bool
	}{
		{Origin{Collection: &Collection{}}, PostConsumer, true},
		{Origin{Collection: &Collection{OriginClass: PreConsumer}}, PreConsumer, true},
		{Origin{Purchase: &Purchase{OriginClass: PreConsumer}}, PreConsumer, true},
		{Origin{Process: &Derivation{}}, "", false},
	} {
		class, ok := c.o.RegisteredClass()
		assert.Equal(t, c.class, class)
		assert.Equal(t, c.ok, ok)
	}

	r := RegisterRequest{ID: "C1", Material: PET, WasteCode: "15 01 02", Mass: 1, Location: "x", CollectedAt: "2026-11-20T08:00:00Z"}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, PostConsumer, r.Class())
	require.NoError(t, r.Validate(now))
	r.OriginClass = "Pre-consumer"
	assert.ErrorContains(t, r.Validate(now), "originClass: must be one of")
	r.OriginClass, r.Site = PreConsumer, "1234"
	assert.ErrorContains(t, r.Validate(now), "site: must be a GLN")
	r.Site = "8690000000012"
	require.NoError(t, r.Validate(now))

	p := ProcessRequest{Step: StepSorting, Site: "8690000000013",
		Inputs: []ProcessInput{{ID: "A", Mass: 1}}, Outputs: []ProcessOutput{{ID: "B", Material: PET, Form: FormFlakes, Mass: 1}}}
	assert.ErrorContains(t, p.Validate(), "site: GLN 8690000000013 has check digit 3, want 2")
}

func TestSiteList(t *testing.T) {
	var none *SiteList
	site, err := none.Resolve("site", "")
	require.NoError(t, err)
	assert.Empty(t, site, "an organisation without sites records none")
	_, err = none.Resolve("site", "8690000000012")
	assert.ErrorContains(t, err, "which lists none")

	l := &SiteList{Org: "RecyclerMSP"}
	assert.ErrorContains(t, l.Set(SiteRequest{ID: "x", Name: "n"}, "", ""), "id: must be a GLN")
	assert.ErrorContains(t, l.Set(SiteRequest{ID: "8690000000029", Name: ""}, "", ""), "name: is required")
	require.NoError(t, l.Set(SiteRequest{ID: "8690000000029", Name: "plant"}, "t0", "tx0"))
	require.NoError(t, l.Set(SiteRequest{ID: "8690000000012", Name: "depot"}, "t1", "tx1"))
	assert.Equal(t, []string{"8690000000012", "8690000000029"}, []string{l.Sites[0].ID, l.Sites[1].ID}, "sorted by id")
	d, ok := l.DefaultSite()
	require.True(t, ok)
	assert.Equal(t, "8690000000029", d.ID, "the first site stays the default")
	assert.Equal(t, "tx0", d.AddedTx)

	site, err = l.Resolve("site", "")
	require.NoError(t, err)
	assert.Equal(t, "8690000000029", site)
	site, err = l.Resolve("site", "8690000000012")
	require.NoError(t, err)
	assert.Equal(t, "8690000000012", site)
	_, err = l.Resolve("site", "8690000000036")
	assert.ErrorContains(t, err, "site 8690000000036 is not a site of RecyclerMSP")
	_, err = l.Resolve("site", "8690000000037")
	assert.ErrorContains(t, err, "check digit")

	require.NoError(t, l.Set(SiteRequest{ID: "8690000000012", Name: "depot 2", Default: true}, "t2", "tx2"))
	d, _ = l.DefaultSite()
	assert.Equal(t, "8690000000012", d.ID)
	assert.Equal(t, "tx1", d.AddedTx, "renaming keeps when it was added")
	n := 0
	for _, s := range l.Sites {
		if s.Default {
			n++
		}
	}
	assert.Equal(t, 1, n, "one default")
	_, ok = l.Lookup("8690000000036")
	assert.False(t, ok)

	noDefault := &SiteList{Org: "MakerMSP", Sites: []Site{{ID: "6410000000018", Name: "w"}}}
	_, err = noDefault.Resolve("site", "")
	assert.ErrorContains(t, err, "MakerMSP has no default site")
}

func goodPurchase() PurchaseRequest {
	return PurchaseRequest{ID: "BUY-1", Material: PET, WasteCode: "07 02 13", Mass: 2 * Tonne, Supplier: "Akdeniz Ambalaj", SupplierID: "TR-1",
		OriginClass: PreConsumer, Site: "8690000000029", ReceivedAt: "2026-11-19T14:00:00+03:00", Ticket: "WB-42", TicketSHA256: docSHA}
}

func TestPurchaseRequest(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, goodPurchase().Validate(now))
	for _, c := range []struct {
		edit func(*PurchaseRequest)
		want string
	}{
		{func(r *PurchaseRequest) { r.ID = "" }, "id: "},
		{func(r *PurchaseRequest) { r.Material = "WOOD" }, "material: must be one of"},
		{func(r *PurchaseRequest) { r.WasteCode = "x" }, "wasteCode: "},
		{func(r *PurchaseRequest) { r.Mass = -1 }, "mass: "},
		{func(r *PurchaseRequest) { r.Supplier = " " }, "supplier: is required"},
		{func(r *PurchaseRequest) { r.SupplierID = strings.Repeat("x", 300) }, "supplierId: must be at most 256"},
		{func(r *PurchaseRequest) { r.OriginClass = "post" }, "originClass: "},
		{func(r *PurchaseRequest) { r.Site = "8690000000028" }, "site: GLN"},
		{func(r *PurchaseRequest) { r.ReceivedAt = "yesterday" }, "receivedAt: must be an RFC 3339 time"},
		{func(r *PurchaseRequest) { r.ReceivedAt = "2027-01-01T00:00:00Z" }, "receivedAt: must not be after"},
		{func(r *PurchaseRequest) { r.Ticket = "" }, "ticket: is required"},
		{func(r *PurchaseRequest) { r.TicketSHA256 = strings.ToUpper(docSHA) }, "ticketSha256: "},
	} {
		r := goodPurchase()
		c.edit(&r)
		assert.ErrorContains(t, r.Validate(now), c.want)
	}
}

func goodDeclaration() *Declaration {
	return &Declaration{ID: "D1", Batch: "PEL", Supplier: "RecyclerMSP", Recipient: "MakerMSP", Material: PET, Mass: Tonne,
		Shares: Shares{PostConsumer: 600_000, PreConsumer: 400_000}, Model: MassBalance}
}

func TestDeclaration(t *testing.T) {
	m, err := ParseCustodyModel(" Mass-Balance")
	require.NoError(t, err)
	assert.Equal(t, MassBalance, m)
	_, err = ParseCustodyModel("book-and-claim")
	assert.ErrorContains(t, err, "model: must be one of identity-preserved, segregated, controlled-blending, mass-balance")

	r := DeclarationRequest{ID: "D1", Batch: "PEL", Model: ControlledBlending, Certificate: "RC-123"}
	require.NoError(t, r.Validate())
	for _, c := range []struct {
		edit func(*DeclarationRequest)
		want string
	}{
		{func(r *DeclarationRequest) { r.ID = "a b" }, "id: "},
		{func(r *DeclarationRequest) { r.Batch = "" }, "batch: "},
		{func(r *DeclarationRequest) { r.Model = "Mass-Balance" }, "model: must be one of"},
		{func(r *DeclarationRequest) { r.Certificate = strings.Repeat("c", 257) }, "certificate: must be at most"},
	} {
		bad := r
		c.edit(&bad)
		assert.ErrorContains(t, bad.Validate(), c.want)
	}

	require.NoError(t, goodDeclaration().Validate())
	assert.Equal(t, "urn:mtrace:declaration:D1", goodDeclaration().URI())
	for _, c := range []struct {
		edit func(*Declaration)
		want string
	}{
		{func(d *Declaration) { d.Model = "" }, "model: "},
		{func(d *Declaration) { d.Supplier = "" }, "supplier: "},
		{func(d *Declaration) { d.Recipient = "a b" }, "recipient: "},
		{func(d *Declaration) { d.Recipient = d.Supplier }, "recipient: must differ from the supplier"},
		{func(d *Declaration) { d.Mass = 0 }, "mass: "},
		{func(d *Declaration) { d.Shares.PreConsumer = 400_001 }, "shares: "},
	} {
		d := goodDeclaration()
		c.edit(d)
		assert.ErrorContains(t, d.Validate(), c.want)
	}
}

// sharedGraph is goodGraph as contract 0.6.0 writes it: C2 is
// pre-consumer, and every batch and the record carry both shares.
func sharedGraph() (map[string]*Batch, map[string]*Process) {
	g, r := upstream(), records()
	post, pre := ClassShares(PostConsumer), ClassShares(PreConsumer)
	g["C1"].Shares = &post
	g["C2"].Origin.Collection = &Collection{Location: "factory", CollectedAt: "2026-11-20T08:00:00Z", Collector: "MunicipalityMSP", OriginClass: PreConsumer}
	g["C2"].Shares, g["C2"].RecycledContent = &pre, 0
	blend := Blend([]Portion{{Mass: 990, Shares: post}, {Mass: 300, Shares: pre}}, 110)
	g["P1"].Shares, g["P1"].RecycledContent = &blend, blend.Bp()
	rs := blend
	r["T1"].Shares, r["T1"].RecycledContent = &rs, blend.Bp()
	for _, b := range g {
		b.Format = CurrentFormat
	}
	return g, r
}

func TestVerifyShares(t *testing.T) {
	g, r := sharedGraph()
	v := Verify("P1", g, r, takes(), "")
	require.True(t, v.OK, "%+v", v.Checks)
	assert.Equal(t, &Shares{PostConsumer: 707_142, PreConsumer: 214_285}, v.Shares)
	assert.Contains(t, detail(v, CheckRecycledContent), "post-consumer 70.7142%, pre-consumer 21.4285%")
	assert.Equal(t, PreConsumer, v.Sources[1].OriginClass)

	for _, c := range []struct {
		name   string
		break_ func(g map[string]*Batch, r map[string]*Process)
		detail string
	}{
		{"pre-consumer share inflated", func(g map[string]*Batch, r map[string]*Process) {
			g["P1"].Shares = &Shares{PostConsumer: 707_142, PreConsumer: 292_858}
		}, `batch "P1" records post-consumer 70.7142%, pre-consumer 29.2858% but its inputs give post-consumer 70.7142%, pre-consumer 21.4285%`},
		{"record shares differ", func(g map[string]*Batch, r map[string]*Process) {
			r["T1"].Shares = &Shares{PostConsumer: 707_142}
		}, `but the record of process T1 says post-consumer 70.7142%, pre-consumer 0%`},
		{"impossible shares", func(g map[string]*Batch, r map[string]*Process) {
			g["P1"].Shares = &Shares{PostConsumer: 900_000, PreConsumer: 200_000}
		}, `batch "P1" records impossible shares`},
		{"basis points disagree", func(g map[string]*Batch, r map[string]*Process) { g["P1"].RecycledContent = 9000 }, `batch "P1" records 90% recycled content but a post-consumer share of 70.7142%`},
		{"class relabelled", func(g map[string]*Batch, r map[string]*Process) {
			s := ClassShares(PostConsumer)
			g["C2"].Shares, g["C2"].RecycledContent = &s, 10000
		}, `pre-consumer batch "C2" records post-consumer 100%, pre-consumer 0%, not all pre-consumer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, r := sharedGraph()
			c.break_(g, r)
			v := Verify("P1", g, r, takes(), "")
			assert.Contains(t, failed(v), CheckRecycledContent)
			assert.Contains(t, detail(v, CheckRecycledContent), c.detail)
		})
	}

	// Without the record, the shares still check against the inputs.
	g, r = sharedGraph()
	delete(r, "T1")
	v = Verify("P1", g, r, takes(), "")
	assert.Equal(t, []string{CheckMassBalance}, failed(v))
	g["P1"].Shares = &Shares{PostConsumer: 707_143, PreConsumer: 214_285}
	v = Verify("P1", g, r, takes(), "")
	assert.Contains(t, detail(v, CheckRecycledContent), `but its inputs give post-consumer 70.7142%`)
}

// purchasedGraph: the recycler bought C2 in instead of receiving it.
func purchasedGraph() (map[string]*Batch, map[string]*Process, map[TakeRef]Take) {
	g, r := sharedGraph()
	c2 := g["C2"]
	c2.Origin = Origin{Purchase: &Purchase{Supplier: "Akdeniz Ambalaj", OriginClass: PreConsumer, ReceivedAt: "2026-11-20T08:00:00Z",
		Purchaser: "RecyclerMSP", Ticket: "WB-42", TicketSHA256: docSHA, Site: "8690000000029"}}
	c2.Submitter, c2.Handovers, c2.TransitLoss = rec, nil, 0
	c2.Documents = []Document{{Name: "weighbridge ticket WB-42", SHA256: docSHA, AnchoredBy: rec}}
	tk := takes()
	tk[TakeRef{Parent: "C2", Tx: "T1"}] = Take{ID: "P1", Mass: 300, Tx: "T1", Handovers: 0, At: "2026-11-20T12:00:00Z"}
	return g, r, tk
}

func TestVerifyPurchase(t *testing.T) {
	g, r, tk := purchasedGraph()
	v := Verify("P1", g, r, tk, "")
	require.True(t, v.OK, "%+v", v.Checks)
	require.Len(t, v.Sources, 2)
	assert.Equal(t, Source{ID: "C2", Kind: SourcePurchase, CollectedAt: "2026-11-20T08:00:00Z", Collector: "RecyclerMSP", Mass: 500,
		OriginClass: PreConsumer, Site: "8690000000029", Supplier: "Akdeniz Ambalaj", Ticket: docSHA}, v.Sources[1])
	assert.Contains(t, detail(v, CheckCollected), "purchases the recycler signed for")

	cs := BatchClaims(g["C2"], "TXC2")
	assert.Equal(t, "purchaser (its own claim of a supplier outside the consortium)", cs[0].What)
	assert.Equal(t, "TXC2", cs[0].Tx)
	assert.Equal(t, []string{"RecyclerMSP"}, cs[0].Endorsers)

	for _, c := range []struct {
		name   string
		break_ func(p *Purchase, b *Batch)
		detail string
	}{
		{"no supplier", func(p *Purchase, b *Batch) { p.Supplier = "" }, `bought-in batch "C2" names no purchaser or supplier`},
		{"another purchaser", func(p *Purchase, b *Batch) { p.Purchaser = "MakerMSP" }, `names purchaser MakerMSP but was registered by RecyclerMSP`},
		{"not waste", func(p *Purchase, b *Batch) { b.Form = FormFlakes }, `bought-in batch "C2" has form flakes, not waste`},
		{"bad class", func(p *Purchase, b *Batch) { p.OriginClass = "virgin" }, `bought-in batch "C2" has origin class "virgin"`},
		{"ticket not anchored", func(p *Purchase, b *Batch) { b.Documents = nil }, `does not anchor its weighbridge ticket`},
		{"two origins", func(p *Purchase, b *Batch) { b.Origin.Collection = &Collection{Collector: "RecyclerMSP"} }, `batch "C2" claims more than one origin`},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, r, tk := purchasedGraph()
			c.break_(g["C2"].Origin.Purchase, g["C2"])
			v := Verify("P1", g, r, tk, "")
			assert.Contains(t, failed(v), CheckCollected)
			assert.Contains(t, detail(v, CheckCollected), c.detail)
		})
	}
}

// The audit counts a purchase as registered material.
func TestAuditPurchase(t *testing.T) {
	g, _, _ := purchasedGraph()
	var bs []Batch
	for _, id := range []string{"C1", "C2", "P1"} {
		bs = append(bs, *g[id])
	}
	rep := Audit(bs, Registry{Participants: []Participant{{MSP: "MunicipalityMSP", Role: RoleCollector, Name: "m"}, {MSP: "RecyclerMSP", Role: RoleRecycler, Name: "r"}}})
	assert.Equal(t, Grams(1500), rep.Registered, fmt.Sprintf("%+v", rep))
}

func TestCheckDeclarations(t *testing.T) {
	g, _ := sharedGraph()
	g["C1"].Handovers[0].Declaration = "D1"
	refs := DeclarationRefs(g)
	require.Equal(t, []DeclRef{{ID: "D1", Batch: "C1", From: "MunicipalityMSP", To: "RecyclerMSP", OfferTx: "O", Offered: 1000, Shares: ClassShares(PostConsumer)}}, refs)
	good := func() *Declaration {
		return &Declaration{ID: "D1", Batch: "C1", Supplier: "MunicipalityMSP", Recipient: "RecyclerMSP", OfferTx: "O", Mass: 1000,
			Shares: ClassShares(PostConsumer), Model: Segregated, Claim: &DeclClaim{By: rec}}
	}
	c := CheckDeclarations(refs, map[string]*Declaration{"D1": good()})
	assert.True(t, c.OK, c.Detail)
	assert.Equal(t, CheckDeclared, c.Name)
	assert.Equal(t, "1 declarations on the path agree with their handovers; 1 claimed by their recipients", c.Detail)

	for _, tc := range []struct {
		edit func(*Declaration)
		want string
	}{
		{func(d *Declaration) { d.Batch = "C2" }, `declaration "D1" is for batch "C2"`},
		{func(d *Declaration) { d.Recipient = "MakerMSP" }, `declaration "D1" names MunicipalityMSP to MakerMSP, but the handover is MunicipalityMSP to RecyclerMSP`},
		{func(d *Declaration) { d.Mass = 2000 }, `declaration "D1" declares 2 kg, but 1 kg was offered`},
		{func(d *Declaration) { d.Shares = ClassShares(PreConsumer) }, `declaration "D1" declares post-consumer 0%, pre-consumer 100%, but batch "C1" is post-consumer 100%`},
		{func(d *Declaration) { d.Claim.By = Actor{MSP: "MakerMSP"} }, `declaration "D1" was claimed by MakerMSP, not its recipient RecyclerMSP`},
	} {
		d := good()
		tc.edit(d)
		c := CheckDeclarations(refs, map[string]*Declaration{"D1": d})
		assert.False(t, c.OK)
		assert.Contains(t, c.Detail, tc.want)
	}
	c = CheckDeclarations(refs, map[string]*Declaration{})
	assert.Contains(t, c.Detail, `declaration "D1" named by the handover of batch "C1" to RecyclerMSP is missing`)

	v := Verify("P1", g, records(), takes(), "")
	assert.Equal(t, refs, v.Declared)
}
