package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPersonRoles(t *testing.T) {
	assert.Equal(t, []string{"operator", "viewer", "admin"}, PersonRoleNames())
	cases := []struct {
		role         PersonRole
		known, write bool
	}{
		{PersonOperator, true, true},
		{PersonAdmin, true, true},
		{PersonViewer, true, false},
		{"", false, false},          // a certificate without the attribute
		{"Operator", false, false},  // roles are exact
		{"auditor", false, false},   // an organisation role, not a person's
		{"operator ", false, false}, // no trimming
	}
	for _, c := range cases {
		assert.Equal(t, c.known, c.role.Known(), "Known(%q)", c.role)
		assert.Equal(t, c.write, c.role.MayWrite(), "MayWrite(%q)", c.role)
	}
	// Every role that may write is known.
	for _, r := range PersonRoles {
		assert.True(t, r.Known())
	}
}

func TestActorPerson(t *testing.T) {
	assert.Equal(t, "ayse", Actor{MSP: "M", Identity: "cn-ayse", EnrollmentID: "ayse"}.Person(), "the enrolment ID when there is one")
	assert.Equal(t, "cn-ayse", Actor{MSP: "M", Identity: "cn-ayse"}.Person(), "else the common name (before contract 0.4.0)")
	assert.Equal(t, "", Actor{}.Person())
}

func TestValidateParticipantsDuplicate(t *testing.T) {
	ps := []Participant{
		{MSP: "AMSP", Role: RoleCollector, Name: "A"},
		{MSP: "BMSP", Role: RoleMaker, Name: "B"},
		{MSP: "AMSP", Role: RoleAuditor, Name: "A again"},
	}
	assert.EqualError(t, ValidateParticipants(ps), "participants[2].msp: AMSP is already listed as participants[0]")
	assert.EqualError(t, ValidateParticipants(nil), "participants: must list 1 to 100 participants, got 0")
	ps[2].MSP = "bad msp"
	var re *RuleError
	require.ErrorAs(t, ValidateParticipants(ps), &re)
	assert.Equal(t, "participants[2].msp", re.Field)
	assert.EqualError(t, Participant{MSP: "AMSP", Role: RoleMaker, Name: ""}.Validate("x"), "x.name: is required")
}

func TestCaptureRequestValidate(t *testing.T) {
	reg := &RegisterRequest{ID: "B1"}
	proc := &ProcessRequest{}
	doc := &DocumentRequest{Name: "d", SHA256: strings.Repeat("a", 64)}
	ok := []CaptureRequest{
		{EventID: "urn:uuid:1", Kind: CaptureRegister, Register: reg},
		{EventID: "ni:///sha-256;abc", Kind: CaptureProcess, Process: proc},
		{EventID: "e", Kind: CaptureOffer, Batch: "B1", To: "RecyclerMSP", Mass: 1000},
		{EventID: "e", Kind: CaptureAccept, Batch: "B1"},
		{EventID: "e", Kind: CaptureAccept, Batch: "B1", Mass: MaxMass},
		{EventID: "e", Kind: CaptureReject, Batch: "B1", Reason: "wet"},
		{EventID: "e", Kind: CaptureCancel, Batch: "B1"},
		{EventID: "e", Kind: CaptureQuarantine, Batch: "B1"},
		{EventID: "e", Kind: CaptureRelease, Batch: "B1"},
		{EventID: "e", Kind: CaptureAttach, Batch: "B1", Document: doc},
	}
	for _, r := range ok {
		assert.NoError(t, r.Validate(), "%+v", r)
	}
	bad := []struct {
		name  string
		req   CaptureRequest
		field string
	}{
		{"no event id", CaptureRequest{Kind: CaptureCancel, Batch: "B1"}, "eventId"},
		{"blank event id", CaptureRequest{EventID: "  ", Kind: CaptureCancel, Batch: "B1"}, "eventId"},
		{"NUL in event id", CaptureRequest{EventID: "a\x00b", Kind: CaptureCancel, Batch: "B1"}, "eventId"},
		{"U+10FFFF in event id", CaptureRequest{EventID: "a\U0010FFFF", Kind: CaptureCancel, Batch: "B1"}, "eventId"},
		{"unknown kind", CaptureRequest{EventID: "e", Kind: "ship", Batch: "B1"}, "kind"},
		{"register without request", CaptureRequest{EventID: "e", Kind: CaptureRegister}, "register"},
		{"process without request", CaptureRequest{EventID: "e", Kind: CaptureProcess, Batch: "B1"}, "process"},
		{"accept without batch", CaptureRequest{EventID: "e", Kind: CaptureAccept}, "batch"},
		{"bad batch id", CaptureRequest{EventID: "e", Kind: CaptureRelease, Batch: "B 1"}, "batch"},
		{"offer without receiver", CaptureRequest{EventID: "e", Kind: CaptureOffer, Batch: "B1"}, "to"},
		{"attach without document", CaptureRequest{EventID: "e", Kind: CaptureAttach, Batch: "B1"}, "document"},
		{"negative mass", CaptureRequest{EventID: "e", Kind: CaptureAccept, Batch: "B1", Mass: -1}, "mass"},
		{"mass over the maximum", CaptureRequest{EventID: "e", Kind: CaptureAccept, Batch: "B1", Mass: MaxMass + 1}, "mass"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var re *RuleError
			require.ErrorAs(t, c.req.Validate(), &re)
			assert.Equal(t, c.field, re.Field)
		})
	}
}

func TestRegisterRequestValidateFields(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	good := RegisterRequest{ID: "B1", Material: PET, WasteCode: "15 01 02", Mass: 1000, Location: "eco-point", CollectedAt: "2026-12-06T14:00:00+03:00"}
	require.NoError(t, good.Validate(now), "14:00 at +03:00 is 11:00 UTC, before now")
	mut := func(f func(*RegisterRequest)) RegisterRequest { r := good; f(&r); return r }
	cases := map[string]RegisterRequest{
		"id":          mut(func(r *RegisterRequest) { r.ID = "" }),
		"material":    mut(func(r *RegisterRequest) { r.Material = "pet" }),
		"wasteCode":   mut(func(r *RegisterRequest) { r.WasteCode = "150102" }),
		"mass":        mut(func(r *RegisterRequest) { r.Mass = 0 }),
		"location":    mut(func(r *RegisterRequest) { r.Location = " " }),
		"collectedAt": mut(func(r *RegisterRequest) { r.CollectedAt = "2026-12-06T13:00:01Z" }),
	}
	for field, r := range cases {
		var re *RuleError
		require.ErrorAs(t, r.Validate(now), &re, field)
		assert.Equal(t, field, re.Field)
	}
	hazardous := mut(func(r *RegisterRequest) { r.WasteCode = "20 01 35*" })
	assert.NoError(t, hazardous.Validate(now))
}

func TestProcessRequestValidateFields(t *testing.T) {
	good := ProcessRequest{Step: StepMerging, Inputs: []ProcessInput{{ID: "A", Mass: 10}, {ID: "B", Mass: 10}},
		Outputs: []ProcessOutput{{ID: "C", Material: PET, Form: FormPellets, Mass: 25}}, VirginMass: 5}
	require.NoError(t, good.Validate(), "25 out of 20 taken plus 5 virgin balances")
	in, out := good.Totals()
	assert.Equal(t, Grams(20), in)
	assert.Equal(t, Grams(25), out)
	mut := func(f func(*ProcessRequest)) ProcessRequest {
		r := good
		r.Inputs = append([]ProcessInput(nil), good.Inputs...)
		r.Outputs = append([]ProcessOutput(nil), good.Outputs...)
		f(&r)
		return r
	}
	cases := []struct {
		req   ProcessRequest
		field string
		rule  string
	}{
		{mut(func(r *ProcessRequest) { r.Step = "Merging" }), "step", "must be one of"},
		{mut(func(r *ProcessRequest) {
			r.Outputs = append(r.Outputs, ProcessOutput{ID: "C", Material: PET, Form: FormPellets, Mass: 1})
		}), "outputs[1].id", `"C" is already named by outputs[0]`},
		{mut(func(r *ProcessRequest) { r.Outputs[0].ID = "A" }), "outputs[0].id", `"A" is already named by inputs[0]`},
		{mut(func(r *ProcessRequest) { r.Outputs[0].Material = "pet" }), "outputs[0].material", "must be one of"},
		{mut(func(r *ProcessRequest) { r.Outputs[0].Form = FormWaste }), "outputs[0].form", "must be one of"},
		{mut(func(r *ProcessRequest) { r.VirginMass = 4 }), "outputs", "mass balance: outputs total 25 g, more than the 20 g taken plus 4 g virgin"},
	}
	for _, c := range cases {
		var re *RuleError
		require.ErrorAs(t, c.req.Validate(), &re, c.field)
		assert.Equal(t, c.field, re.Field)
		assert.Contains(t, re.Rule, c.rule)
	}
}

func TestVerifyProcessWithoutInputs(t *testing.T) {
	g := upstream()
	d := *g["P1"].Origin.Process
	d.Inputs = nil
	g["P1"].Origin.Process = &d
	v := Verify("P1", g, records(), takes(), "")
	assert.False(t, v.OK)
	assert.Contains(t, detail(v, CheckCollected), `batch "P1" comes from a process without inputs`)
}
