package model

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMass(t *testing.T) {
	good := map[string]Grams{
		"1250kg": 1_250_000, "1.25t": 1_250_000, "900g": 900, "1 240 kg": 1_240_000,
		"0.5KG": 500, ".5kg": 500, "1_000 g": 1000, "2.000t": 2_000_000, "1000000kg": 1_000_000_000,
		"1\u202f000 kg": 1_000_000,
	}
	for in, want := range good {
		g, err := ParseMass(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, g, in)
	}
	for _, in := range []string{"", "12", "kg", "1.kg", "-5kg", "1.2.3kg", "0.0005kg", "1e3kg", "12345678901234kg", "9999999999999t", "abc g"} {
		_, err := ParseMass(in)
		require.Error(t, err, in)
		assert.True(t, errors.Is(err, ErrMassSyntax), in)
	}
}

func TestGramsFormat(t *testing.T) {
	assert.Equal(t, "900 g", Grams(900).String())
	assert.Equal(t, "1240 kg", Grams(1_240_000).String())
	assert.Equal(t, "1.5 kg", Grams(1_500).String())
	assert.Equal(t, "12.5 t", Grams(12_500_000).String())
	assert.Equal(t, "-5 g", Grams(-5).String())
	assert.Equal(t, "0.5", Grams(500).Kg())
	assert.Equal(t, "-0.001", Grams(-1).Kg())
	assert.Equal(t, "1240", Grams(1_240_000).Kg())
	assert.Equal(t, "100%", Percent(10000))
	assert.Equal(t, "99.5%", Percent(9950))
	assert.Equal(t, "0%", Percent(0))
	assert.Equal(t, Quantity{Batch: "B", Quantity: "1.5", UOM: "KGM", Grams: 1500}, Qty("B", 1500))
}

func TestRecycledContent(t *testing.T) {
	assert.Equal(t, int64(10000), RecycledContent([]Share{{100, 10000}}, 0))
	assert.Equal(t, int64(5000), RecycledContent([]Share{{100, 10000}}, 100))
	assert.Equal(t, int64(7500), RecycledContent([]Share{{100, 10000}, {100, 5000}}, 0))
	assert.Equal(t, int64(3333), RecycledContent([]Share{{1, 10000}}, 2)) // rounded down
	assert.Equal(t, int64(0), RecycledContent(nil, 0))
}

func TestEnums(t *testing.T) {
	m, err := ParseMaterial(" pet ")
	require.NoError(t, err)
	assert.Equal(t, PET, m)
	f, err := ParseForm("Flakes")
	require.NoError(t, err)
	assert.Equal(t, FormFlakes, f)
	s, err := ParseStatus("IN_TRANSIT")
	require.NoError(t, err)
	assert.Equal(t, StatusInTransit, s)
	r, err := ParseRole("Maker")
	require.NoError(t, err)
	assert.Equal(t, RoleMaker, r)
	st, err := ParseStep("extrusion")
	require.NoError(t, err)
	assert.Equal(t, StepExtrusion, st)
	_, err = ParseForm("gas")
	var re *RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "form", re.Field)
	assert.Equal(t, `form: must be one of waste, sorted, flakes, pellets, filament, product, got "gas"`, err.Error())
}

func TestChecks(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	require.NoError(t, CheckID("id", "TRE-2026:0001_a.b"))
	require.Error(t, CheckID("id", ""))
	assert.Contains(t, CheckID("id", strings.Repeat("x", 100)).Error(), `..."`)
	require.NoError(t, CheckMSP("msp", "RecyclerMSP"))
	require.Error(t, CheckMSP("msp", "Recycler MSP"))
	require.Error(t, CheckText("t", "\xff", false))
	require.NoError(t, CheckText("t", "", false))
	require.NoError(t, CheckWasteCode("w", "20 01 35*"))
	require.Error(t, CheckWasteCode("w", "20 01 3"))
	require.NoError(t, CheckSHA256("s", strings.Repeat("a", 64)))
	_, err := CheckTime("at", "2026-11-20T12:00:00+03:00", now)
	require.NoError(t, err)
	_, err = CheckTime("at", "2026-11-20T10:00:01Z", now)
	require.Error(t, err)
	assert.Equal(t, "2026-11-20T10:00:00Z", FormatTime(now.In(time.FixedZone("EET", 7200))))
}

func TestListQueryValidate(t *testing.T) {
	require.NoError(t, ListQuery{}.Validate())
	require.NoError(t, ListQuery{Owner: "RecyclerMSP", Status: "Active", Material: "pet", Form: "waste", Limit: 1000}.Validate())
	for _, q := range []ListQuery{
		{Owner: "no such"}, {Status: "x"}, {Material: "x"}, {Form: "x"}, {Limit: -1}, {Limit: 1001}, {Bookmark: strings.Repeat("b", 300)},
	} {
		assert.Error(t, q.Validate(), "%+v", q)
	}
}

func TestProcessRequestValidate(t *testing.T) {
	ok := ProcessRequest{Step: StepSorting,
		Inputs:  []ProcessInput{{ID: "A", Mass: 10}},
		Outputs: []ProcessOutput{{ID: "B", Material: PET, Form: FormSorted, Mass: 10}}}
	require.NoError(t, ok.Validate())
	in, out := ok.Totals()
	assert.Equal(t, Grams(10), in)
	assert.Equal(t, Grams(10), out)

	mut := func(f func(*ProcessRequest)) ProcessRequest {
		r := ok
		r.Inputs = append([]ProcessInput(nil), ok.Inputs...)
		r.Outputs = append([]ProcessOutput(nil), ok.Outputs...)
		f(&r)
		return r
	}
	cases := map[string]ProcessRequest{
		"inputs[0].id":        mut(func(r *ProcessRequest) { r.Inputs[0].ID = "" }),
		"inputs[0].mass":      mut(func(r *ProcessRequest) { r.Inputs[0].Mass = 0 }),
		"inputs[1].id":        mut(func(r *ProcessRequest) { r.Inputs = append(r.Inputs, r.Inputs[0]) }),
		"outputs[0].id":       mut(func(r *ProcessRequest) { r.Outputs[0].ID = "a b" }),
		"outputs[0].material": mut(func(r *ProcessRequest) { r.Outputs[0].Material = "pet" }),
		"outputs[0].mass":     mut(func(r *ProcessRequest) { r.Outputs[0].Mass = -1 }),
		"virginMass":          mut(func(r *ProcessRequest) { r.VirginMass = -1 }),
		"location":            mut(func(r *ProcessRequest) { r.Location = strings.Repeat("l", 257) }),
		"outputs":             mut(func(r *ProcessRequest) { r.Outputs = nil }),
	}
	for field, r := range cases {
		err := r.Validate()
		var re *RuleError
		require.ErrorAs(t, err, &re, field)
		assert.Equal(t, field, re.Field)
	}
}

func TestParticipants(t *testing.T) {
	ps := []Participant{{MSP: "AMSP", Role: RoleCollector, Name: "A"}, {MSP: "BMSP", Role: RoleAuditor, Name: "B"}}
	require.NoError(t, ValidateParticipants(ps))
	require.EqualError(t, Participant{MSP: "AMSP", Role: "chief", Name: "A"}.Validate(""), `role: must be one of collector, recycler, maker, auditor, got "chief"`)
	too := make([]Participant, MaxParticipants+1)
	require.Error(t, ValidateParticipants(too))
	r := Registry{Participants: ps}
	p, ok := r.Lookup("BMSP")
	assert.True(t, ok)
	assert.Equal(t, RoleAuditor, p.Role)
	_, ok = r.Lookup("CMSP")
	assert.False(t, ok)
}

func TestBatchHelpers(t *testing.T) {
	b := Batch{Submitter: Actor{MSP: "A"}, Handovers: []Handover{{To: "B"}, {To: "C"}}}
	assert.Equal(t, "A", b.Custodian(0))
	assert.Equal(t, "B", b.Custodian(1))
	assert.Equal(t, "C", b.Custodian(2))
	assert.Equal(t, "", b.Custodian(9), "more handovers than the batch has had: nobody")
	assert.Equal(t, "", (&Batch{Submitter: Actor{MSP: "A"}}).Custodian(1), "a batch never handed over")
	assert.Equal(t, Grams(7), Total([]Take{{Mass: 3}, {Mass: 4}}))
}

func TestEventForKeepsOnlyTheBatchsOwnQuantities(t *testing.T) {
	ev := Event{
		Name:       EvBatchProcessed,
		Inputs:     []Quantity{Qty("A", 600_000), Qty("B", 300_000)},
		Outputs:    []Quantity{Qty("S1", 500_000), Qty("S2", 350_000)},
		Quantities: []Quantity{Qty("A", 1)},
	}
	a := ev.For("A")
	if len(a.Inputs) != 1 || a.Inputs[0] != Qty("A", 600_000) || a.Outputs != nil || len(a.Quantities) != 1 {
		t.Errorf("For(A) = %+v", a)
	}
	s2 := ev.For("S2")
	if s2.Inputs != nil || len(s2.Outputs) != 1 || s2.Outputs[0] != Qty("S2", 350_000) || s2.Name != EvBatchProcessed {
		t.Errorf("For(S2) = %+v", s2)
	}
	if len(ev.Inputs) != 2 || len(ev.Outputs) != 2 {
		t.Errorf("For changed the event it was called on: %+v", ev)
	}
}
