package model

import "fmt"

// MaxParticipants caps the registry, which is read by every write.
const MaxParticipants = 100

// Validate checks one registry entry; field prefixes the error, such as
// "participants[2]".
func (p Participant) Validate(field string) error {
	if field != "" {
		field += "."
	}
	if err := CheckMSP(field+"msp", p.MSP); err != nil {
		return err
	}
	if r, err := ParseRole(string(p.Role)); err != nil || r != p.Role {
		return &RuleError{Field: field + "role", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(Roles), clip(string(p.Role)))}
	}
	return CheckText(field+"name", p.Name, true)
}

// ValidateParticipants checks a whole registry: 1 to MaxParticipants
// valid entries with no MSP ID listed twice.
func ValidateParticipants(ps []Participant) error {
	if len(ps) == 0 || len(ps) > MaxParticipants {
		return &RuleError{Field: "participants", Rule: fmt.Sprintf("must list 1 to %d participants, got %d", MaxParticipants, len(ps))}
	}
	seen := make(map[string]int, len(ps))
	for i, p := range ps {
		f := fmt.Sprintf("participants[%d]", i)
		if err := p.Validate(f); err != nil {
			return err
		}
		if j, dup := seen[p.MSP]; dup {
			return &RuleError{Field: f + ".msp", Rule: fmt.Sprintf("%s is already listed as participants[%d]", p.MSP, j)}
		}
		seen[p.MSP] = i
	}
	return nil
}
