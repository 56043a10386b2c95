package model

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a request may carry.
const (
	MaxIDLen       = 64
	MaxTextLen     = 256
	MaxProcessIOs  = 100
	MaxListLimit   = 1000
	DefaultListLim = 50
)

var (
	idPattern        = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	wasteCodePattern = regexp.MustCompile(`^[0-9]{2} [0-9]{2} [0-9]{2}\*?$`)
	shaPattern       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	mspPattern       = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)
)

// CheckID reports whether id is 1-64 characters of [A-Za-z0-9._:-].
func CheckID(field, id string) error {
	if !idPattern.MatchString(id) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be 1-%d characters of A-Z a-z 0-9 . _ : -, got %q", MaxIDLen, clip(id))}
	}
	return nil
}

// CheckMSP reports whether s looks like an MSP ID.
func CheckMSP(field, s string) error {
	if !mspPattern.MatchString(s) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be an MSP ID such as RecyclerMSP, got %q", clip(s))}
	}
	return nil
}

// CheckText reports whether s is valid UTF-8 of at most 256 characters. A
// required text may not be blank.
func CheckText(field, s string, required bool) error {
	if !utf8.ValidString(s) {
		return &RuleError{Field: field, Rule: "must be valid UTF-8"}
	}
	if n := utf8.RuneCountInString(s); n > MaxTextLen {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be at most %d characters, got %d", MaxTextLen, n)}
	}
	if required && strings.TrimSpace(s) == "" {
		return &RuleError{Field: field, Rule: "is required"}
	}
	return nil
}

// CheckWasteCode reports whether s is a European List of Waste code such
// as "15 01 02" (an asterisk marks hazardous waste: "20 01 35*").
func CheckWasteCode(field, s string) error {
	if !wasteCodePattern.MatchString(s) {
		return &RuleError{Field: field, Rule: fmt.Sprintf(`must be a List of Waste code like "15 01 02", got %q`, clip(s))}
	}
	return nil
}

// CheckSHA256 reports whether s is exactly 64 lower-case hex characters.
func CheckSHA256(field, s string) error {
	if !shaPattern.MatchString(s) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be exactly 64 lower-case hex characters, got %q", clip(s))}
	}
	return nil
}

// CheckTime parses an RFC 3339 time and checks that it is not after now
// (the transaction time).
func CheckTime(field, s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &RuleError{Field: field, Rule: fmt.Sprintf("must be an RFC 3339 time like 2026-11-20T09:30:00+03:00, got %q", clip(s))}
	}
	if t.After(now) {
		return time.Time{}, &RuleError{Field: field, Rule: fmt.Sprintf("must not be after the transaction time %s, got %s", FormatTime(now), s)}
	}
	return t, nil
}

// FormatTime is how times are written on the ledger: RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// RegisterRequest registers a batch of collected waste.
type RegisterRequest struct {
	ID          string   `json:"id"`
	Material    Material `json:"material"`
	WasteCode   string   `json:"wasteCode"`
	Mass        Grams    `json:"mass"`
	Location    string   `json:"location"`
	CollectedAt string   `json:"collectedAt"` // RFC 3339
	// OriginClass is the waste's class; empty for post-consumer.
	OriginClass OriginClass `json:"originClass,omitempty" metadata:",optional"`
	// Site is the collector's receiving site; empty for its default.
	Site string `json:"site,omitempty" metadata:",optional"`
}

// Class is the request's origin class: post-consumer unless it names one.
func (r RegisterRequest) Class() OriginClass {
	if r.OriginClass == "" {
		return PostConsumer
	}
	return r.OriginClass
}

// Validate checks every field; now is the transaction time.
func (r RegisterRequest) Validate(now time.Time) error {
	if err := CheckID("id", r.ID); err != nil {
		return err
	}
	if _, err := ParseMaterial(string(r.Material)); err != nil || string(r.Material) != strings.ToUpper(string(r.Material)) {
		return &RuleError{Field: "material", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(Materials), clip(string(r.Material)))}
	}
	if err := CheckWasteCode("wasteCode", r.WasteCode); err != nil {
		return err
	}
	if err := CheckMass("mass", r.Mass); err != nil {
		return err
	}
	if err := CheckText("location", r.Location, true); err != nil {
		return err
	}
	if _, err := CheckTime("collectedAt", r.CollectedAt, now); err != nil {
		return err
	}
	if err := checkOriginClass("originClass", r.Class()); err != nil {
		return err
	}
	if r.Site != "" {
		return CheckGLN("site", r.Site)
	}
	return nil
}

// ProcessRequest transforms input batches into output batches in one
// step: sorting, splitting, merging, extruding or printing a product.
type ProcessRequest struct {
	Step       Step            `json:"step"`
	Inputs     []ProcessInput  `json:"inputs"`
	Outputs    []ProcessOutput `json:"outputs"`
	VirginMass Grams           `json:"virginMass,omitempty" metadata:",optional"`
	Location   string          `json:"location,omitempty" metadata:",optional"`
	// Site is the processor's site; empty for its default.
	Site string `json:"site,omitempty" metadata:",optional"`
}

// ProcessInput takes Mass grams from batch ID.
type ProcessInput struct {
	ID   string `json:"id"`
	Mass Grams  `json:"mass"`
}

// ProcessOutput creates batch ID.
type ProcessOutput struct {
	ID       string   `json:"id"`
	Material Material `json:"material"`
	Form     Form     `json:"form"`
	Mass     Grams    `json:"mass"`
}

// Validate checks the request on its own, without the ledger: ids, enums,
// masses, counts, duplicates and the mass balance rule
// sum(outputs) <= sum(inputs taken) + virgin mass.
func (r ProcessRequest) Validate() error {
	if _, err := ParseStep(string(r.Step)); err != nil || string(r.Step) != strings.ToLower(string(r.Step)) {
		return &RuleError{Field: "step", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(Steps), clip(string(r.Step)))}
	}
	if len(r.Inputs) == 0 || len(r.Inputs) > MaxProcessIOs {
		return &RuleError{Field: "inputs", Rule: fmt.Sprintf("must list 1 to %d inputs, got %d", MaxProcessIOs, len(r.Inputs))}
	}
	if len(r.Outputs) == 0 || len(r.Outputs) > MaxProcessIOs {
		return &RuleError{Field: "outputs", Rule: fmt.Sprintf("must list 1 to %d outputs, got %d", MaxProcessIOs, len(r.Outputs))}
	}
	seen := map[string]string{}
	var in, out Grams
	for i, x := range r.Inputs {
		f := fmt.Sprintf("inputs[%d]", i)
		if err := CheckID(f+".id", x.ID); err != nil {
			return err
		}
		if err := CheckMass(f+".mass", x.Mass); err != nil {
			return err
		}
		if prev, dup := seen[x.ID]; dup {
			return &RuleError{Field: f + ".id", Rule: fmt.Sprintf("%q is already named by %s", x.ID, prev)}
		}
		seen[x.ID] = f
		in += x.Mass
	}
	for i, y := range r.Outputs {
		f := fmt.Sprintf("outputs[%d]", i)
		if err := CheckID(f+".id", y.ID); err != nil {
			return err
		}
		if prev, dup := seen[y.ID]; dup {
			return &RuleError{Field: f + ".id", Rule: fmt.Sprintf("%q is already named by %s", y.ID, prev)}
		}
		seen[y.ID] = f
		if _, err := ParseMaterial(string(y.Material)); err != nil || string(y.Material) != strings.ToUpper(string(y.Material)) {
			return &RuleError{Field: f + ".material", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(Materials), clip(string(y.Material)))}
		}
		if _, err := ParseForm(string(y.Form)); err != nil || y.Form == FormWaste || string(y.Form) != strings.ToLower(string(y.Form)) {
			return &RuleError{Field: f + ".form", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(DerivedForms), clip(string(y.Form)))}
		}
		if err := CheckMass(f+".mass", y.Mass); err != nil {
			return err
		}
		out += y.Mass
	}
	if r.VirginMass < 0 || r.VirginMass > MaxMass {
		return &RuleError{Field: "virginMass", Rule: fmt.Sprintf("must be from 0 g to %s, got %d g", MaxMass, int64(r.VirginMass))}
	}
	if err := CheckText("location", r.Location, false); err != nil {
		return err
	}
	if r.Site != "" {
		if err := CheckGLN("site", r.Site); err != nil {
			return err
		}
	}
	if out > in+r.VirginMass {
		return &RuleError{Field: "outputs", Rule: fmt.Sprintf("mass balance: outputs total %s, more than the %s taken plus %s virgin", out, in, r.VirginMass)}
	}
	return nil
}

// Totals returns the mass taken from inputs and the mass of outputs.
func (r ProcessRequest) Totals() (in, out Grams) {
	for _, x := range r.Inputs {
		in += x.Mass
	}
	for _, y := range r.Outputs {
		out += y.Mass
	}
	return in, out
}

// ListQuery filters ListBatches. Empty fields match everything.
type ListQuery struct {
	Owner    string   `json:"owner,omitempty" metadata:",optional"`
	Status   Status   `json:"status,omitempty" metadata:",optional"`
	Material Material `json:"material,omitempty" metadata:",optional"`
	Form     Form     `json:"form,omitempty" metadata:",optional"`
	Limit    int      `json:"limit,omitempty" metadata:",optional"`
	Bookmark string   `json:"bookmark,omitempty" metadata:",optional"`
}

// Validate checks the filters.
func (q ListQuery) Validate() error {
	if q.Owner != "" {
		if err := CheckMSP("owner", q.Owner); err != nil {
			return err
		}
	}
	if q.Status != "" {
		if _, err := ParseStatus(string(q.Status)); err != nil {
			return err
		}
	}
	if q.Material != "" {
		if _, err := ParseMaterial(string(q.Material)); err != nil {
			return err
		}
	}
	if q.Form != "" {
		if _, err := ParseForm(string(q.Form)); err != nil {
			return err
		}
	}
	if q.Limit < 0 || q.Limit > MaxListLimit {
		return &RuleError{Field: "limit", Rule: fmt.Sprintf("must be from 1 to %d, got %d", MaxListLimit, q.Limit)}
	}
	return CheckText("bookmark", q.Bookmark, false)
}

func joinEnum[T ~string](all []T) string {
	s := make([]string, len(all))
	for i, a := range all {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
