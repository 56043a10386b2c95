//go:build e2e

package faults

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// call is one malformed chaincode call and what its error must mention
// (any one of want, case-insensitive).
type call struct {
	as   string // profile; the municipality when empty
	fn   string
	args []string
	want []string
}

// signatures are the contract's functions and their argument counts.
var signatures = []struct {
	fn string
	n  int
}{
	{"BootstrapRegistry", 1}, {"ProposeChange", 1}, {"ApproveChange", 1}, {"WithdrawChange", 1}, {"GetRegistry", 0}, {"RegisterBatch", 1},
	{"RejectChange", 1},
	{"OfferTransfer", 2}, {"AcceptTransfer", 2}, {"RejectTransfer", 2}, {"CancelTransfer", 1},
	{"Process", 1}, {"Quarantine", 2}, {"Release", 1}, {"AttachDocument", 4}, {"ReadBatch", 1},
	{"BatchExists", 1}, {"GetHistory", 1}, {"Trace", 2}, {"VerifyProvenance", 2}, {"ListBatches", 1},
	{"GetProcess", 1}, {"Evidence", 1},
	{"Capture", 1}, {"GetCapture", 1}, {"ReadBatches", 1},
	{"AcceptTransferAt", 3}, {"SetSite", 1}, {"GetSites", 1}, {"RegisterPurchase", 1},
	{"IssueDeclaration", 1}, {"ClaimDeclaration", 1}, {"ReadDeclaration", 1},
}

// rawRegister is a RegisterRequest with one field replaced by raw JSON.
func rawRegister(field, raw string) string {
	fields := map[string]string{
		"id": `"x-1"`, "material": `"PET"`, "wasteCode": `"15 01 02"`, "mass": `1000`,
		"location": `"Kartal"`, "collectedAt": `"2026-11-21T08:00:00+03:00"`,
	}
	fields[field] = raw
	var parts []string
	for _, k := range []string{"id", "material", "wasteCode", "mass", "location", "collectedAt"} {
		parts = append(parts, fmt.Sprintf("%q:%s", k, fields[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// rawProcess is a sorting request from in with its JSON edited by f.
func rawProcess(in string, f func(r *model.ProcessRequest)) string {
	r := model.ProcessRequest{
		Step:    model.StepSorting,
		Inputs:  []model.ProcessInput{{ID: in, Mass: 1000}},
		Outputs: []model.ProcessOutput{{ID: id("mal-out"), Material: "PET", Form: model.FormSorted, Mass: 1000}},
	}
	f(&r)
	raw, _ := json.Marshal(r)
	return string(raw)
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// malformed builds the calls. own is an active batch of the municipality's
// and pending one it has offered to the recycler, so that only the input,
// never the caller's rights or the batch's state, can be what is wrong.
func malformed(own, pending string) []call {
	var cs []call
	add := func(fn string, want []string, args ...string) { cs = append(cs, call{"", fn, args, want}) }
	for _, s := range signatures {
		if s.n > 0 {
			add(s.fn, []string{arity(s.fn, s.n, s.n-1)}, slices.Repeat([]string{"x"}, s.n-1)...)
		}
	}
	for _, fn := range []string{"DeleteBatch", "readbatch", "ReadBatch ", "mtrace:Nope", "__proto__", "💣"} {
		add(fn, []string{"not found", "function"}, own)
	}
	for _, fn := range []string{"RegisterBatch", "Process", "ProposeChange", "BootstrapRegistry", "ListBatches", "Capture"} {
		for _, bad := range []string{`{`, `"str"`, `42`, `{"id": 7, "inputs": "x", "msp": 1, "status": 5}`} {
			add(fn, []string{"param0", "json", "schema", "unmarshal", "invalid"}, bad)
		}
	}

	mb := strings.Repeat("A", 1<<20)
	add("RegisterBatch", []string{"id"}, rawRegister("id", q(mb)))
	add("RegisterBatch", []string{"location"}, rawRegister("location", q(mb)))
	add("ReadBatch", []string{"id", "not found"}, mb)
	add("Trace", []string{"id", "not found"}, mb, "up")
	add("OfferTransfer", []string{"to"}, own, mb)
	add("Quarantine", []string{"reason"}, own, mb)
	add("AttachDocument", []string{"name"}, own, mb, strings.Repeat("cd", 32), "")
	add("AttachDocument", []string{"uri"}, own, "report", strings.Repeat("cd", 32), mb)
	add("Process", []string{"step"}, rawProcess(own, func(r *model.ProcessRequest) { r.Step = model.Step(mb) }))
	add("RegisterBatch", []string{"param0"}, `{"id":"`+mb)
	add("RegisterBatch", []string{"param0", "mass"}, rawRegister("mass", q(mb)))

	mass := []string{"mass", "param0", "int64", "schema", "number"}
	for _, m := range []string{`-1`, `0`, `1000000001`, `9223372036854775807`, `9223372036854775808`, `1.5`, `"12kg"`, `-9223372036854775808`} {
		add("RegisterBatch", mass, rawRegister("mass", m))
	}
	// As the receiver, so that only the mass can be wrong. An empty string
	// must be refused too: contract-api alone would read it as 0, which
	// means "all that was offered".
	recv := []string{"receivedMass", "param1", "int64", "convert", "whole number"}
	for _, m := range []string{"-5", "99999999999999999999", "abc", "1.5", "7001", "1e3", ""} {
		cs = append(cs, call{"recycler", "AcceptTransfer", []string{pending, m}, recv})
	}
	add("Process", []string{"inputs[0].mass", "mass"}, rawProcess(own, func(r *model.ProcessRequest) { r.Inputs[0].Mass = -1 }))
	add("Process", []string{"inputs[0].mass", "mass"}, rawProcess(own, func(r *model.ProcessRequest) { r.Inputs[0].Mass = 0 }))
	add("Process", []string{"mass", "remaining"}, rawProcess(own, func(r *model.ProcessRequest) {
		r.Inputs[0].Mass, r.Outputs[0].Mass = 1_000_000_000, 1_000_000_000
	}))
	add("Process", []string{"outputs[0].mass", "mass"}, rawProcess(own, func(r *model.ProcessRequest) { r.Outputs[0].Mass = 1_000_000_001 }))
	add("Process", []string{"virginMass"}, rawProcess(own, func(r *model.ProcessRequest) { r.VirginMass = -1 }))
	add("Process", []string{"loss", "outputs", "mass"}, rawProcess(own, func(r *model.ProcessRequest) { r.Outputs[0].Mass = 2000 }))

	for _, bad := range []string{"çöp-1", "批次", "with space", "emoji🙂", "a\u0000b", "\u202eevil", "", strings.Repeat("a", 65), "../etc"} {
		add("RegisterBatch", []string{"id"}, rawRegister("id", q(bad)))
	}
	for _, bad := range []string{"批次", "with space", "🙂"} {
		add("ReadBatch", []string{"id", "not found"}, bad)
	}

	add("RegisterBatch", []string{"material"}, rawRegister("material", `"GOLD"`))
	add("RegisterBatch", []string{"material"}, rawRegister("material", `"pet"`))
	add("RegisterBatch", []string{"material"}, rawRegister("material", `""`))
	add("RegisterBatch", []string{"wasteCode"}, rawRegister("wasteCode", `"150102"`))
	add("RegisterBatch", []string{"wasteCode"}, rawRegister("wasteCode", `"AB CD EF"`))
	add("RegisterBatch", []string{"collectedAt"}, rawRegister("collectedAt", `"yesterday"`))
	add("RegisterBatch", []string{"collectedAt"}, rawRegister("collectedAt", `"2099-01-01T00:00:00Z"`))
	add("Process", []string{"step"}, rawProcess(own, func(r *model.ProcessRequest) { r.Step = "melting" }))
	add("Process", []string{"form"}, rawProcess(own, func(r *model.ProcessRequest) { r.Outputs[0].Form = "liquid" }))
	add("Process", []string{"material"}, rawProcess(own, func(r *model.ProcessRequest) { r.Outputs[0].Material = "GOLD" }))
	add("Process", []string{"inputs"}, rawProcess(own, func(r *model.ProcessRequest) { r.Inputs = nil }))
	add("Process", []string{"outputs"}, rawProcess(own, func(r *model.ProcessRequest) { r.Outputs = nil }))
	add("Trace", []string{"direction"}, own, "sideways")
	add("ListBatches", []string{"status"}, `{"status":"lost"}`)
	add("ListBatches", []string{"form"}, `{"form":"gas"}`)
	add("ListBatches", []string{"limit"}, `{"limit":-1}`)
	add("ListBatches", []string{"limit"}, `{"limit":5000}`)
	add("ProposeChange", []string{"role"}, `{"action":"set","msp":"MakerMSP","role":"king","name":"Maker"}`)
	add("ProposeChange", []string{"msp"}, `{"action":"set","msp":"bad msp!","role":"maker","name":"Maker"}`)
	add("ProposeChange", []string{"action"}, `{"action":"crown","msp":"MakerMSP"}`)
	add("SetParticipant", []string{"not found", "function"}, `{"msp":"MakerMSP","role":"collector","name":"Maker"}`)
	add("OfferTransfer", []string{"to"}, own, "NobodyMSP")
	add("OfferTransfer", []string{"to"}, own, "AuditorMSP")

	sha := []string{"sha256"}
	for _, bad := range []string{"xyz", strings.Repeat("a", 63), strings.Repeat("a", 65), strings.Repeat("AB", 32), ""} {
		add("AttachDocument", sha, own, "report", bad, "")
	}
	add("VerifyProvenance", sha, own, "nothex")
	add("VerifyProvenance", sha, own, strings.Repeat("0", 63))
	return cs
}

// TestMalformedCalls sends over 100 malformed calls through the gateway,
// as the municipality, each submitted as a transaction. Every one must be
// refused at endorsement with a one-line message that names the problem;
// afterwards no peer's height has moved and the audit still holds.
func TestMalformedCalls(t *testing.T) {
	muni := contract(t, "municipality")
	own, pending := id("mal-own"), id("mal-pending")
	mustSubmit(t, muni, "RegisterBatch", registerArgs(own, 50_000)...)
	mustSubmit(t, muni, "RegisterBatch", registerArgs(pending, 7_000)...)
	mustSubmit(t, muni, "OfferTransfer", pending, "RecyclerMSP")
	before := map[string]string{own: snapshot(t, muni, own), pending: snapshot(t, muni, pending)}
	agreed(t, 30*time.Second)
	hs, err := env.Heights()
	if err != nil {
		t.Fatal(err)
	}

	cs := malformed(own, pending)
	conns := map[string]*client.Contract{"": muni, "recycler": contract(t, "recycler")}
	var longest, refused, clear int
	for i, c := range cs {
		_, _, err := submit(conns[c.as], c.fn, c.args)
		msg := testnet.Message(err)
		label := fmt.Sprintf("#%d %s%v", i, c.fn, clipArgs(c.args))
		switch {
		case err == nil:
			t.Errorf("%s was accepted and committed", label)
			continue
		case !strings.HasPrefix(class(err), "endorse/"):
			t.Errorf("%s failed at %s, want at endorsement: %s", label, class(err), testnet.OneLine(msg, 220))
		default:
			refused++
		}
		msg = strings.TrimPrefix(msg, "chaincode response 500, ")
		longest = max(longest, len(msg))
		ok := true
		if strings.TrimSpace(msg) == "" {
			ok = false
			t.Errorf("%s: empty error message", label)
		}
		if strings.Contains(msg, "\n") {
			ok = false
			t.Errorf("%s: error message is several lines: %q", label, clip(msg))
		}
		if len(msg) > 1000 {
			ok = false
			t.Errorf("%s: error message is %d bytes long (echoes its input?): %q", label, len(msg), clip(msg))
		}
		if !mentions(msg, c.want) {
			ok = false
			t.Errorf("%s: error %q mentions none of %q", label, clip(msg), c.want)
		}
		if ok {
			clear++
		}
		if testing.Verbose() {
			t.Logf("%s -> %s", label, clip(msg))
		}
	}
	still(t, muni, before, hs)
	t.Logf("%d malformed calls: %d refused at endorsement, %d of them with a clear message (one line, under 1000 bytes, naming the problem); longest message %d bytes; peer heights before and after: %v",
		len(cs), refused, clear, longest, hs)
	audit(t)
}

// arity is the chaincode's message for a call of fn, which takes want
// arguments, with got.
func arity(fn string, want, got int) string {
	s := "s"
	if want == 1 {
		s = ""
	}
	return fmt.Sprintf("%s takes %d argument%s, got %d", fn, want, s, got)
}

func mentions(msg string, want []string) bool {
	l := strings.ToLower(msg)
	for _, w := range want {
		if strings.Contains(l, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%s...(%d bytes)", s[:200], len(s))
	}
	return s
}

// TestSurplusArgumentsRefused calls every function with valid arguments
// and one more. The error must say so: a client that passes an argument
// the function does not take has misunderstood the call, and ignoring it
// hides that. The calls are evaluated, never submitted, so a function that
// ignores the surplus writes nothing.
func TestSurplusArgumentsRefused(t *testing.T) {
	muni, rec, admin := contract(t, "municipality"), contract(t, "recycler"), contract(t, "municipality-admin")
	own, held, pending := id("surplus-own"), id("surplus-held"), id("surplus-pending")
	for _, b := range []string{own, held, pending} {
		mustSubmit(t, muni, "RegisterBatch", registerArgs(b, 10_000)...)
	}
	mustSubmit(t, muni, "Quarantine", held, "check")
	mustSubmit(t, muni, "OfferTransfer", pending, "RecyclerMSP")
	settle(t)
	self, _ := json.Marshal(model.Participant{MSP: "MunicipalityMSP", Role: model.RoleCollector, Name: "Municipality"})
	sha := strings.Repeat("ef", 32)
	valid := map[string][]string{
		"BootstrapRegistry": {"[" + string(self) + "]"},
		"ProposeChange":     {`{"action":"remove","msp":"MakerMSP"}`},
		"ApproveChange":     {"000000000000"},
		"WithdrawChange":    {"000000000000"},
		"RejectChange":      {"000000000000"},
		"GetRegistry":       {},
		"RegisterBatch":     registerArgs(id("surplus-new"), 1_000),
		"OfferTransfer":     {own, "RecyclerMSP"},
		"AcceptTransfer":    {pending, "0"},
		"RejectTransfer":    {pending, "wrong material"},
		"CancelTransfer":    {pending},
		"Process":           {rawProcess(own, func(*model.ProcessRequest) {})},
		"Quarantine":        {own, "check"},
		"Release":           {held},
		"AttachDocument":    {own, "report", sha, ""},
		"ReadBatch":         {own},
		"BatchExists":       {own},
		"GetHistory":        {own},
		"Trace":             {own, "up"},
		"VerifyProvenance":  {own, ""},
		"ListBatches":       {`{}`},
		"GetProcess":        {"0f00"},
		"Evidence":          {own},
		"Capture":           {`{"eventId":"urn:uuid:surplus","kind":"release","batch":` + q(held) + `}`},
		"GetCapture":        {"urn:uuid:surplus"},
		"ReadBatches":       {`[` + q(own) + `]`},
		"AcceptTransferAt":  {pending, "0", ""},
		"SetSite":           {`{"id":"8690000000029","name":"surplus"}`},
		"GetSites":          {"MunicipalityMSP"},
		"RegisterPurchase":  {`{"id":"surplus-buy"}`},
		"IssueDeclaration":  {`{"id":"surplus-decl","batch":` + q(pending) + `,"model":"segregated"}`},
		"ClaimDeclaration":  {"surplus-decl"},
		"ReadDeclaration":   {"surplus-decl"},
	}
	ignored := 0
	for _, s := range signatures {
		c := muni
		switch s.fn {
		case "AcceptTransfer", "AcceptTransferAt", "RejectTransfer":
			c = rec
		case "BootstrapRegistry":
			c = admin
		}
		args := append(slices.Clone(valid[s.fn]), "surplus")
		_, err := c.EvaluateTransaction(s.fn, args...)
		msg := testnet.Message(err)
		if err == nil || !mentions(msg, []string{arity(s.fn, s.n, s.n+1)}) {
			ignored++
			t.Errorf("%s with %d arguments (takes %d): surplus not refused; got %s", s.fn, s.n+1, s.n, describe(err))
		}
	}
	t.Logf("%d functions called with one surplus argument; %d did not refuse it", len(signatures), ignored)
}

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return fmt.Sprintf("error %q", testnet.OneLine(testnet.Message(err), 220))
}
