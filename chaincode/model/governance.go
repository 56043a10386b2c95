package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The registry changes only through proposals. An admin of a member
// organisation proposes one change (set an entry, or remove one); admins
// of other member organisations approve it, one transaction each; the
// approval that brings the count to a majority of the current members
// applies it. A proposal can be withdrawn by its proposer's organisation,
// is dropped when a majority of the members reject it (one rejection per
// organisation), and expires. Each organisation may have at most
// MaxOpenPerOrg proposals open, so no one member can fill the registry
// and keep the others from proposing. Open proposals live in the registry document itself, so
// every step is a write of the registry key, whose endorsement policy is
// a majority of member organisations: no minority can forge a step.

// Registry change actions.
const (
	ActionSet    = "set"    // add an organisation, or change its role or name
	ActionRemove = "remove" // take an organisation out of the registry
)

// Proposal lifetimes, and the cap on open proposals per proposing
// organisation (the registry is read by every write, so it must stay
// small: at most MaxOpenPerOrg times the number of members).
const (
	DefaultProposalTTL = 7 * 24 * time.Hour
	MinProposalTTL     = time.Hour
	MaxProposalTTL     = 30 * 24 * time.Hour
	MaxOpenPerOrg      = 4
	ProposalIDLength   = 12 // hex digits of the proposing transaction's id
)

// ChangeRequest is what ProposeChange takes: the change and how long the
// proposal stays open (0 for DefaultProposalTTL).
type ChangeRequest struct {
	Action   string `json:"action"`
	MSP      string `json:"msp"`
	Role     Role   `json:"role,omitempty" metadata:",optional"`
	Name     string `json:"name,omitempty" metadata:",optional"`
	TTLHours int64  `json:"ttlHours,omitempty" metadata:",optional"`
}

// Validate checks the request on its own (not against the registry).
func (r ChangeRequest) Validate() error {
	if err := CheckMSP("msp", r.MSP); err != nil {
		return err
	}
	switch r.Action {
	case ActionSet:
		if err := (Participant{MSP: r.MSP, Role: r.Role, Name: r.Name}).Validate(""); err != nil {
			return err
		}
	case ActionRemove:
		if r.Role != "" || r.Name != "" {
			return &RuleError{Field: "role", Rule: "a removal takes no role or name"}
		}
	default:
		return &RuleError{Field: "action", Rule: fmt.Sprintf("must be %s or %s, got %q", ActionSet, ActionRemove, clip(r.Action))}
	}
	if r.TTLHours != 0 {
		// Bounds in hours first: a huge count of hours would wrap
		// around as a Duration and pass as a short one.
		if r.TTLHours < int64(MinProposalTTL/time.Hour) || r.TTLHours > int64(MaxProposalTTL/time.Hour) {
			return &RuleError{Field: "ttlHours", Rule: fmt.Sprintf("must be from %d to %d hours, got %d",
				int64(MinProposalTTL/time.Hour), int64(MaxProposalTTL/time.Hour), r.TTLHours)}
		}
	}
	return nil
}

// TTL is how long the proposal stays open.
func (r ChangeRequest) TTL() time.Duration {
	if r.TTLHours == 0 {
		return DefaultProposalTTL
	}
	return time.Duration(r.TTLHours) * time.Hour
}

// Change is one registry change: the entry to set, or the MSP to remove.
type Change struct {
	Action      string      `json:"action"`
	Participant Participant `json:"participant"`
}

func (c Change) String() string {
	if c.Action == ActionRemove {
		return "remove " + c.Participant.MSP
	}
	return fmt.Sprintf("set %s as %s (%q)", c.Participant.MSP, c.Participant.Role, c.Participant.Name)
}

// Approval is one organisation's consent, given by one of its admins.
type Approval struct {
	By Actor  `json:"by"`
	At string `json:"at"`
	Tx string `json:"tx"`
}

// Proposal is an open registry change.
type Proposal struct {
	ID         string     `json:"id"`
	Change     Change     `json:"change"`
	ProposedBy Actor      `json:"proposedBy"`
	ProposedAt string     `json:"proposedAt"`
	Tx         string     `json:"tx"`
	ExpiresAt  string     `json:"expiresAt"`
	Approvals  []Approval `json:"approvals"`
	// Rejections are the organisations that voted against it (from
	// contract 0.5.0): a majority of members rejecting drops it.
	Rejections []Approval `json:"rejections,omitempty" metadata:",optional"`
}

// Vote is what ApproveChange and RejectChange answer: the proposal with
// the new vote, the votes of current members on that side it now has, how
// many decide it, and whether this vote applied it (an approval) or
// dropped it (a rejection).
type Vote struct {
	Proposal Proposal `json:"proposal"`
	Votes    int      `json:"votes"`
	Needed   int      `json:"needed"`
	Applied  bool     `json:"applied"`
	Dropped  bool     `json:"dropped,omitempty" metadata:",optional"`
}

// Expired reports whether the proposal has expired at now.
func (p *Proposal) Expired(now time.Time) bool {
	exp, err := time.Parse(time.RFC3339Nano, p.ExpiresAt)
	return err != nil || !now.Before(exp)
}

// ApprovedBy reports whether msp has approved the proposal.
func (p *Proposal) ApprovedBy(msp string) bool {
	return slices.ContainsFunc(p.Approvals, func(a Approval) bool { return a.By.MSP == msp })
}

// RejectedBy reports whether msp has rejected the proposal.
func (p *Proposal) RejectedBy(msp string) bool {
	return slices.ContainsFunc(p.Rejections, func(a Approval) bool { return a.By.MSP == msp })
}

// Votes counts the approvals of organisations that are members of reg.
func (p *Proposal) Votes(reg *Registry) int { return countMembers(p.Approvals, reg) }

// Against counts the rejections of organisations that are members of reg.
func (p *Proposal) Against(reg *Registry) int { return countMembers(p.Rejections, reg) }

func countMembers(votes []Approval, reg *Registry) int {
	n := 0
	for _, a := range votes {
		if _, ok := reg.Lookup(a.By.MSP); ok {
			n++
		}
	}
	return n
}

// OpenBy counts the proposals of organisation msp that are open at now.
func (r *Registry) OpenBy(msp string, now time.Time) int {
	n := 0
	for i := range r.Proposals {
		if p := &r.Proposals[i]; p.ProposedBy.MSP == msp && !p.Expired(now) {
			n++
		}
	}
	return n
}

// Majority is the number of member organisations whose approval applies a
// change: more than half of them.
func (r *Registry) Majority() int { return len(r.Participants)/2 + 1 }

// Members lists the member organisations' MSP IDs, sorted.
func (r *Registry) Members() []string {
	out := make([]string, len(r.Participants))
	for i, p := range r.Participants {
		out[i] = p.MSP
	}
	slices.Sort(out)
	return out
}

// Proposal returns the open proposal with this id.
func (r *Registry) Proposal(id string) (*Proposal, bool) {
	for i := range r.Proposals {
		if r.Proposals[i].ID == id {
			return &r.Proposals[i], true
		}
	}
	return nil, false
}

// DropProposal removes the open proposal with this id.
func (r *Registry) DropProposal(id string) {
	r.Proposals = slices.DeleteFunc(r.Proposals, func(p Proposal) bool { return p.ID == id })
}

// DropExpired removes every proposal expired at now.
func (r *Registry) DropExpired(now time.Time) {
	r.Proposals = slices.DeleteFunc(r.Proposals, func(p Proposal) bool { return p.Expired(now) })
}

// Apply makes the change on the registry's participant list, which must
// stay valid: the organisation to remove must be a member, and at least
// one member must remain.
func (r *Registry) Apply(c Change) error {
	ps := slices.Clone(r.Participants)
	i := slices.IndexFunc(ps, func(x Participant) bool { return x.MSP == c.Participant.MSP })
	switch c.Action {
	case ActionSet:
		if i >= 0 {
			ps[i] = c.Participant
		} else {
			ps = append(ps, c.Participant)
		}
	case ActionRemove:
		if i < 0 {
			return fmt.Errorf("%s is not a registered participant", c.Participant.MSP)
		}
		ps = slices.Delete(ps, i, i+1)
		if len(ps) == 0 {
			return fmt.Errorf("cannot remove %s: it is the last participant", c.Participant.MSP)
		}
	default:
		return fmt.Errorf("unknown registry action %q", c.Action)
	}
	if err := ValidateParticipants(ps); err != nil {
		return err
	}
	slices.SortFunc(ps, func(a, b Participant) int { return strings.Compare(a.MSP, b.MSP) })
	r.Participants = ps
	return nil
}
