package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Grams is a mass in whole grams. Masses are integers on the ledger, never
// floating point, so that every balance is exact.
type Grams int64

// Mass limits for a single batch or a single quantity in a request.
const (
	MinMass  Grams = 1             // 1 g
	MaxMass  Grams = 1_000_000_000 // 1,000 t
	Kilogram Grams = 1_000
	Tonne    Grams = 1_000_000
)

// ErrMassSyntax is wrapped by every ParseMass error.
var ErrMassSyntax = errors.New("malformed mass")

var unitScale = map[string]Grams{"g": 1, "kg": Kilogram, "t": Tonne}

// ParseMass reads a mass typed by a person, such as "1250kg", "1.25t",
// "900g" or "1 240 kg", into whole grams. It parses the decimal digits
// exactly: "0.0005kg" is refused rather than rounded, because it is not a
// whole number of grams. A unit is required.
func ParseMass(s string) (Grams, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("%w: empty; write it like 1250kg, 1.25t or 900g", ErrMassSyntax)
	}
	lower := strings.ToLower(in)
	var unit string
	for _, u := range []string{"kg", "g", "t"} {
		if strings.HasSuffix(lower, u) {
			unit = u
			break
		}
	}
	if unit == "" {
		return 0, fmt.Errorf("%w: %q has no unit; write it like 1250kg, 1.25t or 900g", ErrMassSyntax, s)
	}
	num := strings.TrimSpace(lower[:len(lower)-len(unit)])
	// Allow thin spaces, spaces and underscores as digit group separators.
	num = strings.NewReplacer(" ", "", "_", "", "\u202f", "", "\u00a0", "").Replace(num)
	if num == "" {
		return 0, fmt.Errorf("%w: %q has no number", ErrMassSyntax, s)
	}
	whole, frac, hasDot := strings.Cut(num, ".")
	if hasDot && frac == "" || whole == "" && frac == "" {
		return 0, fmt.Errorf("%w: %q is not a decimal number", ErrMassSyntax, s)
	}
	if whole == "" {
		whole = "0"
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: %q is not a positive decimal number", ErrMassSyntax, s)
	}
	scale := unitScale[unit]
	decimals := len(strconv.FormatInt(int64(scale), 10)) - 1
	frac = strings.TrimRight(frac, "0")
	if len(frac) > decimals {
		return 0, fmt.Errorf("%w: %q is not a whole number of grams", ErrMassSyntax, s)
	}
	if len(whole) > 13 {
		return 0, fmt.Errorf("%w: %q is out of range (at most %s)", ErrMassSyntax, s, MaxMass)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrMassSyntax, s, err)
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", decimals-len(frac)), 10, 64)
	}
	g := Grams(w)*scale + Grams(f)
	if g/scale != Grams(w) || g < 0 {
		return 0, fmt.Errorf("%w: %q is out of range (at most %s)", ErrMassSyntax, s, MaxMass)
	}
	return g, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String prints the mass in the largest unit that keeps it readable, with
// no rounding: "900 g", "1240 kg", "1.25 t", "1.000001 t".
func (g Grams) String() string {
	neg := g < 0
	v := g
	if neg {
		v = -v
	}
	var s string
	switch {
	case v < Kilogram:
		s = strconv.FormatInt(int64(v), 10) + " g"
	case v < 10*Tonne:
		s = decimal(int64(v), 3) + " kg"
	default:
		s = decimal(int64(v), 6) + " t"
	}
	if neg {
		return "-" + s
	}
	return s
}

// Kg is the mass in kilograms as an exact decimal string, such as "1240" or
// "0.5". EPCIS quantities use it with the unit KGM.
func (g Grams) Kg() string {
	if g < 0 {
		return "-" + decimal(int64(-g), 3)
	}
	return decimal(int64(g), 3)
}

// decimal divides v by 10^places exactly and trims trailing zeros.
func decimal(v int64, places int) string {
	digits := strconv.FormatInt(v, 10)
	if len(digits) <= places {
		digits = strings.Repeat("0", places-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-places], strings.TrimRight(digits[len(digits)-places:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// CheckMass reports whether g is a mass that one batch or one quantity may
// have: from 1 g to 1,000 t.
func CheckMass(field string, g Grams) error {
	if g < MinMass || g > MaxMass {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be from %s to %s, got %d g", MinMass, MaxMass, int64(g))}
	}
	return nil
}
