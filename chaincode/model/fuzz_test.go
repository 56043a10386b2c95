package model

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzValidation feeds arbitrary text to every argument check. None may
// panic; every rejection must be a RuleError (or a mass syntax error)
// naming a field; and what ParseMass accepts must be a whole, in-range
// number of grams that prints back to the same mass.
func FuzzValidation(f *testing.F) {
	f.Add("1250kg", "TRE-1", "PET", "15 01 02", int64(1000), "2026-11-20T09:30:00+03:00", "sorting", "sorted")
	f.Add("0.0005kg", "", "pet", "1501", int64(0), "yesterday", "melting", "waste")
	f.Add(" 1 240 kg ", "a:b.c_d-e", "OTHER", "20 01 35*", int64(-1), "2030-01-01T00:00:00Z", "printing", "product")
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, mass, id, material, code string, grams int64, at, step, form string) {
		if g, err := ParseMass(mass); err == nil {
			if g < 0 {
				t.Fatalf("ParseMass(%q) = %d, negative", mass, g)
			}
			back, err := ParseMass(strings.ReplaceAll(g.String(), " ", ""))
			if err != nil || back != g {
				t.Fatalf("ParseMass(%q) = %d, but its String %q parses to %d (%v)", mass, g, g.String(), back, err)
			}
		} else if !errors.Is(err, ErrMassSyntax) {
			t.Fatalf("ParseMass(%q): unexpected error %v", mass, err)
		}
		ruled := func(what string, err error) {
			if err == nil {
				return
			}
			var re *RuleError
			if !errors.As(err, &re) || re.Field == "" || re.Rule == "" {
				t.Fatalf("%s: %v is not a RuleError with a field", what, err)
			}
		}
		ruled("CheckID", CheckID("id", id))
		ruled("CheckMSP", CheckMSP("msp", id))
		ruled("CheckText", CheckText("text", material, true))
		ruled("CheckSHA256", CheckSHA256("sha256", code))
		_, err := CheckTime("at", at, now)
		ruled("CheckTime", err)
		rr := RegisterRequest{ID: id, Material: Material(material), WasteCode: code, Mass: Grams(grams), Location: form, CollectedAt: at}
		ruled("RegisterRequest", rr.Validate(now))
		pr := ProcessRequest{Step: Step(step), VirginMass: Grams(grams), Location: at,
			Inputs:  []ProcessInput{{ID: id, Mass: Grams(grams)}, {ID: code, Mass: 1}},
			Outputs: []ProcessOutput{{ID: material, Material: Material(material), Form: Form(form), Mass: Grams(grams)}}}
		ruled("ProcessRequest", pr.Validate())
		ruled("ListQuery", ListQuery{Owner: id, Status: Status(step), Material: Material(material), Form: Form(form), Limit: int(grams % 2000), Bookmark: at}.Validate())
		ruled("Participant", Participant{MSP: id, Role: Role(step), Name: form}.Validate("p"))
	})
}
