package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	muni = Actor{MSP: "MunicipalityMSP", Identity: "u1"}
	rec  = Actor{MSP: "RecyclerMSP", Identity: "u2"}
)

const docSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// goodGraph is a consistent upstream graph of P1: two collections, each
// handed to the recycler, blended with virgin material into P1 and P2.
func goodGraph() map[string]*Batch {
	proc := func() *Derivation { d := records()["T1"].Derivation; return &d }
	hand := func(offered, received Grams) []Handover {
		return []Handover{{From: "MunicipalityMSP", To: "RecyclerMSP", Offered: offered, Received: received, OfferTx: "O", AcceptTx: "A", AcceptedBy: rec}}
	}
	coll := &Collection{Location: "eco-point", CollectedAt: "2026-11-20T08:00:00Z", Collector: "MunicipalityMSP"}
	return map[string]*Batch{
		"C1": {ID: "C1", Material: PET, WasteCode: "15 01 02", Form: FormWaste, InitialMass: 1000, RemainingMass: 0, TransitLoss: 10,
			Owner: "RecyclerMSP", Submitter: muni, Status: StatusConsumed, Origin: Origin{Collection: coll},
			Handovers: hand(1000, 990), TakenMass: 990, Takes: 1, RecycledContent: 10000},
		"C2": {ID: "C2", Material: PET, Form: FormWaste, InitialMass: 500, RemainingMass: 200,
			Owner: "RecyclerMSP", Submitter: muni, Status: StatusActive, Origin: Origin{Collection: coll},
			Handovers: hand(500, 500), TakenMass: 300, Takes: 1, RecycledContent: 10000},
		"P1": {ID: "P1", Material: PET, Form: FormSorted, InitialMass: 1000, RemainingMass: 1000,
			Owner: "RecyclerMSP", Submitter: rec, Status: StatusActive, Origin: Origin{Process: proc()}, RecycledContent: 9214},
		"P2": {ID: "P2", Material: PET, Form: FormSorted, InitialMass: 200, RemainingMass: 200,
			Owner: "RecyclerMSP", Submitter: rec, Status: StatusActive, Origin: Origin{Process: proc()}, RecycledContent: 9214},
	}
}

// records are the process records of goodGraph, by transaction id.
func records() map[string]*Process {
	return map[string]*Process{"T1": {
		Derivation: Derivation{
			Step: StepSorting, Tx: "T1", By: rec, At: "2026-11-20T12:00:00Z",
			Inputs:     []Take{{ID: "C1", Mass: 990}, {ID: "C2", Mass: 300}},
			VirginMass: 110, Loss: 200,
		},
		Outputs:         []Take{{ID: "P1", Mass: 1000}, {ID: "P2", Mass: 200}},
		RecycledContent: 9214,
	}}
}

// takes are what goodGraph's parents stored about process T1.
func takes() map[TakeRef]Take {
	return map[TakeRef]Take{
		{Parent: "C1", Tx: "T1"}: {ID: "P1", Mass: 990, Tx: "T1", Handovers: 1, At: "2026-11-20T12:00:00Z"},
		{Parent: "C2", Tx: "T1"}: {ID: "P1", Mass: 300, Tx: "T1", Handovers: 1, At: "2026-11-20T12:00:00Z"},
	}
}

// upstream is the graph of P1 alone (P2 is a sibling, not an ancestor).
func upstream() map[string]*Batch {
	g := goodGraph()
	delete(g, "P2")
	return g
}

func failed(v Verdict) []string {
	var out []string
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func detail(v Verdict, name string) string {
	for _, c := range v.Checks {
		if c.Name == name {
			return c.Detail
		}
	}
	return ""
}

func TestVerifyOK(t *testing.T) {
	v := Verify("P1", upstream(), records(), takes(), "")
	assert.True(t, v.OK, "%+v", v.Checks)
	assert.Empty(t, failed(v))
	assert.Len(t, v.Checks, 5)
	assert.Equal(t, int64(9214), v.RecycledContent)
	assert.Equal(t, 3, v.Nodes)
	require.Len(t, v.Sources, 2)
	assert.Equal(t, Source{ID: "C1", Location: "eco-point", CollectedAt: "2026-11-20T08:00:00Z", Collector: "MunicipalityMSP", WasteCode: "15 01 02", Mass: 1000, Kind: SourceCollection, OriginClass: PostConsumer}, v.Sources[0])
	// The recorded share is the model's rule: floor((990+300)*10000/1400).
	assert.Equal(t, int64(9214), RecycledContent([]Share{{990, 10000}, {300, 10000}}, 110))

	// Both outputs in the graph carry the same record: still fine.
	assert.True(t, Verify("P1", goodGraph(), records(), takes(), "").OK)

	g := upstream()
	g["C2"].Documents = []Document{{Name: "ticket", SHA256: docSHA, AnchoredBy: muni}}
	v = Verify("P1", g, records(), takes(), docSHA)
	assert.True(t, v.OK)
	assert.Equal(t, CheckDocument, v.Checks[5].Name)
	assert.Contains(t, v.Checks[5].Detail, `anchored on batch "C2" as "ticket"`)
}

// Every corruption fails exactly the check meant to catch it.
func TestVerifyCorruptions(t *testing.T) {
	cases := []struct {
		name   string
		root   string
		sha    string
		break_ func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take)
		check  string
		detail string
	}{
		{"collector missing", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C2"].Origin.Collection = &Collection{Location: "x"}
		}, CheckCollected, `collection batch "C2" names no collector`},
		{"collection not waste", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["C1"].Form = FormFlakes }, CheckCollected, `collection batch "C1" has form flakes, not waste`},
		{"registered by another org", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C1"].Origin.Collection = &Collection{Collector: "RecyclerMSP"}
		}, CheckCollected, `names collector RecyclerMSP but was registered by MunicipalityMSP`},
		{"no origin", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["C1"].Origin = Origin{} }, CheckCollected, `batch "C1" has neither a collection, a purchase nor a process origin`},
		{"missing input", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { delete(g, "C2") }, CheckCollected, `input "C2" of batch "P1" is missing`},

		{"remaining forged", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["P1"].RemainingMass = 1100 }, CheckMassBalance, `batch "P1": initial 1 kg - transit loss 0 g - taken 0 g = 1 kg, but 1.1 kg remain`},
		{"taken total forged", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["C2"].TakenMass = 200 }, CheckMassBalance, `batch "C2": initial 500 g - transit loss 0 g - taken 200 g = 300 g, but 200 g remain`},
		{"loss hidden", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { r["T1"].Loss = 100 }, CheckMassBalance, `process T1 (sorting): inputs 1.29 kg + virgin 110 g != outputs 1.2 kg + loss 100 g`},
		{"transit loss", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C1"].Handovers[0].Received = 1000
		}, CheckMassBalance, `batch "C1": handovers lost 0 g but transit loss is 10 g`},
		{"received more", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C2"].Handovers[0].Received = 600
			g["C2"].TransitLoss = -100
			g["C2"].RemainingMass = 300
		}, CheckMassBalance, `batch "C2" handover 1: received 600 g of 500 g offered`},
		{"output inflated", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["P1"].InitialMass, g["P1"].RemainingMass = 1050, 1050
		}, CheckMassBalance, `batch "P1": initial 1.05 kg but its process T1 made 1 kg`},
		{"child mass differs", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			tk[TakeRef{"C2", "T1"}] = Take{ID: "P1", Mass: 250, Tx: "T1", Handovers: 1}
			g["C2"].TakenMass, g["C2"].RemainingMass = 250, 250
		}, CheckMassBalance, `process T1 took 300 g from batch "C2", which records 250 g`},
		{"child missing", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			delete(tk, TakeRef{"C2", "T1"})
		}, CheckMassBalance, `batch "C2" does not record process T1 that took 300 g from it`},
		{"take counts handovers the batch never had", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			tk[TakeRef{"C2", "T1"}] = Take{ID: "P1", Mass: 300, Tx: "T1", Handovers: 5}
		}, CheckCustody, `batch "C2" records process T1 after 5 handovers, but it has had 1`},
		{"take names another batch", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			tk[TakeRef{"C2", "T1"}] = Take{ID: "X9", Mass: 300, Tx: "T1", Handovers: 1}
		}, CheckMassBalance, `batch "C2" records process T1 made "X9", which is not one of its outputs`},
		{"not an output", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			r["T1"].Outputs[0].ID = "P9"
		}, CheckMassBalance, `batch "P1" is not an output of its own process T1`},
		{"origin differs from record", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["P1"].Origin.Process.At = "2026-11-21T00:00:00Z"
		}, CheckMassBalance, `batch "P1": its origin differs from the record of process T1`},
		{"sibling differs from record", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["P2"] = goodGraph()["P2"]
			g["P2"].Origin.Process.Location = "elsewhere"
		}, CheckMassBalance, `batch "P2": its origin differs from the record of process T1`},
		{"record missing", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { delete(r, "T1") }, CheckMassBalance, `batch "P1": the record of its process T1 is missing`},

		{"accepted by another", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C1"].Handovers[0].AcceptedBy = Actor{MSP: "MakerMSP"}
		}, CheckCustody, `batch "C1" handover 1 to RecyclerMSP was accepted by MakerMSP`},
		{"handover from non-holder", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C1"].Handovers[0].From = "MakerMSP"
		}, CheckCustody, `batch "C1" handover 1 is from MakerMSP, but MunicipalityMSP held it`},
		{"processor not custodian", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			tk[TakeRef{"C2", "T1"}] = Take{ID: "P1", Mass: 300, Tx: "T1"}
		}, CheckCustody, `process T1 was run by RecyclerMSP on batch "C2", held by MunicipalityMSP at the time`},
		{"output registered by another", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["P1"].Submitter = muni
			g["P1"].Owner = "RecyclerMSP"
		}, CheckCustody, `batch "P1" was made by RecyclerMSP but registered by MunicipalityMSP`},
		{"owner forged", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["P1"].Owner = "MakerMSP" }, CheckCustody, `batch "P1" is owned by MakerMSP, but its handovers end with RecyclerMSP`},

		{"quarantined ancestor", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C2"].Status = StatusQuarantined
			g["C2"].Quarantine = &Quarantine{By: Actor{MSP: "AuditorMSP"}, Reason: "PVC"}
		}, CheckNotQuarantined, `batch "C2" is quarantined (by AuditorMSP: PVC)`},
		{"auditor's hold on an ancestor", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["C2"].Holds = []Hold{{Batch: "C2", By: Actor{MSP: "AuditorMSP"}, Reason: "lab: PVC", At: "2026-11-21T10:00:00Z", Tx: "holdtx123456"}}
		}, CheckNotQuarantined, `batch "C2" is held by auditor AuditorMSP since 2026-11-21T10:00:00Z (tx holdtx12…): lab: PVC`},
		{"quarantined root", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {
			g["P1"].Status = StatusQuarantined
		}, CheckNotQuarantined, `batch "P1" is quarantined`},

		{"share inflated", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["P1"].RecycledContent = 10000 }, CheckRecycledContent, `batch "P1" records 100% but its inputs give 92.14%`},
		{"record share differs", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { r["T1"].RecycledContent = 10000 }, CheckRecycledContent, `batch "P1" records 92.14% but the record of process T1 says 100%`},
		{"collection share", "P1", "", func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) { g["C1"].RecycledContent = 9000 }, CheckRecycledContent, `collection batch "C1" records 90%, not 100%`},

		{"document missing", "P1", docSHA, func(g map[string]*Batch, r map[string]*Process, tk map[TakeRef]Take) {}, CheckDocument, `document ` + docSHA + ` is not anchored on the batch or any ancestor`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, r, tk := upstream(), records(), takes()
			c.break_(g, r, tk)
			v := Verify(c.root, g, r, tk, c.sha)
			assert.False(t, v.OK)
			assert.Equal(t, []string{c.check}, failed(v))
			assert.Contains(t, detail(v, c.check), c.detail)
		})
	}
}

// A batch claiming both origins breaks more than one rule (its process
// has no inputs to balance); collection-origin names it.
func TestVerifyBothOrigins(t *testing.T) {
	g := upstream()
	g["C1"].Origin.Process = &Derivation{Tx: "T0", Inputs: []Take{}}
	v := Verify("P1", g, records(), takes(), "")
	assert.False(t, v.OK)
	assert.Contains(t, failed(v), CheckCollected)
	assert.Contains(t, detail(v, CheckCollected), `batch "C1" claims both a collection and a process origin`)
}

func TestVerifyRootMissing(t *testing.T) {
	v := Verify("X", upstream(), records(), takes(), "")
	assert.False(t, v.OK)
	require.Len(t, v.Checks, 1)
	assert.Equal(t, CheckCollected, v.Checks[0].Name)
	assert.NotNil(t, v.Sources)
}

func TestVerifyDetailIsCapped(t *testing.T) {
	g := map[string]*Batch{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		g[id] = &Batch{ID: id, Form: FormWaste, InitialMass: 1, RemainingMass: 1, Submitter: muni, Owner: "MunicipalityMSP",
			Status: StatusQuarantined, RecycledContent: 10000, Origin: Origin{Collection: &Collection{Collector: "MunicipalityMSP"}}}
	}
	v := Verify("a", g, records(), takes(), "")
	d := detail(v, CheckNotQuarantined)
	assert.Equal(t, 10, strings.Count(d, "is quarantined"))
	assert.True(t, strings.HasSuffix(d, "; and 2 more"))
}

// TestVerifyAuditorDocument: a document an auditor anchored under a key
// of its own counts like one on the batch.
func TestVerifyAuditorDocument(t *testing.T) {
	g := upstream()
	g["C1"].AuditorDocuments = []AuditorDocument{{Batch: "C1", Document: Document{Name: "lab report", SHA256: docSHA, AnchoredBy: Actor{MSP: "AuditorMSP"}}}}
	v := Verify("P1", g, records(), takes(), docSHA)
	if !v.OK {
		t.Fatalf("verdict: %v", failed(v))
	}
	if d := detail(v, CheckDocument); !strings.Contains(d, `anchored on batch "C1" as "lab report" by auditor AuditorMSP`) {
		t.Errorf("detail: %s", d)
	}
}
