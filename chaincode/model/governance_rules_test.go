package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// members is a registry of n organisations, M0MSP .. M(n-1)MSP, in an
// order that is not sorted, so that Members must sort.
func members(n int) *Registry {
	r := &Registry{}
	for i := n - 1; i >= 0; i-- {
		msp := "M" + string(rune('0'+i)) + "MSP"
		r.Participants = append(r.Participants, Participant{MSP: msp, Role: RoleRecycler, Name: "Org " + msp})
	}
	return r
}

func TestChangeRequestValidate(t *testing.T) {
	ok := []ChangeRequest{
		{Action: ActionSet, MSP: "NewMSP", Role: RoleMaker, Name: "New maker"},
		{Action: ActionSet, MSP: "NewMSP", Role: RoleAuditor, Name: "N", TTLHours: 1},
		{Action: ActionSet, MSP: "NewMSP", Role: RoleAuditor, Name: "N", TTLHours: 30 * 24},
		{Action: ActionRemove, MSP: "OldMSP"},
		{Action: ActionRemove, MSP: "OldMSP", TTLHours: 48},
	}
	for _, r := range ok {
		assert.NoError(t, r.Validate(), "%+v", r)
	}
	bad := []struct {
		name  string
		req   ChangeRequest
		field string
		rule  string
	}{
		{"bad msp", ChangeRequest{Action: ActionSet, MSP: "no spaces", Role: RoleMaker, Name: "N"}, "msp", "must be an MSP ID"},
		{"empty msp", ChangeRequest{Action: ActionRemove}, "msp", "must be an MSP ID"},
		{"unknown action", ChangeRequest{Action: "add", MSP: "NewMSP"}, "action", `must be set or remove, got "add"`},
		{"empty action", ChangeRequest{MSP: "NewMSP"}, "action", `must be set or remove, got ""`},
		{"set without role", ChangeRequest{Action: ActionSet, MSP: "NewMSP", Name: "N"}, "role", "must be one of"},
		{"set with an upper-case role", ChangeRequest{Action: ActionSet, MSP: "NewMSP", Role: "Maker", Name: "N"}, "role", "must be one of"},
		{"set without name", ChangeRequest{Action: ActionSet, MSP: "NewMSP", Role: RoleMaker, Name: "  "}, "name", "is required"},
		{"removal with a role", ChangeRequest{Action: ActionRemove, MSP: "OldMSP", Role: RoleMaker}, "role", "a removal takes no role or name"},
		{"removal with a name", ChangeRequest{Action: ActionRemove, MSP: "OldMSP", Name: "Old"}, "role", "a removal takes no role or name"},
		{"negative ttl", ChangeRequest{Action: ActionRemove, MSP: "OldMSP", TTLHours: -1}, "ttlHours", "must be from 1 to 720 hours, got -1"},
		{"ttl over 30 days", ChangeRequest{Action: ActionRemove, MSP: "OldMSP", TTLHours: 721}, "ttlHours", "got 721"},
		{"ttl of a century", ChangeRequest{Action: ActionRemove, MSP: "OldMSP", TTLHours: 100 * 365 * 24}, "ttlHours", "got 876000"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			err := c.req.Validate()
			var re *RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, c.field, re.Field)
			assert.Contains(t, re.Rule, c.rule)
		})
	}
}

func TestChangeRequestTTL(t *testing.T) {
	assert.Equal(t, DefaultProposalTTL, ChangeRequest{}.TTL(), "0 hours means the default")
	assert.Equal(t, 7*24*time.Hour, ChangeRequest{}.TTL())
	assert.Equal(t, 3*time.Hour, ChangeRequest{TTLHours: 3}.TTL())
	assert.Equal(t, MaxProposalTTL, ChangeRequest{TTLHours: 720}.TTL())
}

func TestChangeString(t *testing.T) {
	assert.Equal(t, "remove OldMSP", Change{Action: ActionRemove, Participant: Participant{MSP: "OldMSP"}}.String())
	assert.Equal(t, `set NewMSP as maker ("New \"maker\"")`,
		Change{Action: ActionSet, Participant: Participant{MSP: "NewMSP", Role: RoleMaker, Name: `New "maker"`}}.String())
}

func TestProposalExpired(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	p := Proposal{ExpiresAt: FormatTime(at)}
	assert.False(t, p.Expired(at.Add(-time.Nanosecond)), "open until the expiry")
	assert.True(t, p.Expired(at), "expired at the expiry itself")
	assert.True(t, p.Expired(at.Add(time.Hour)))
	// Another zone is the same instant.
	ist := time.FixedZone("+03", 3*3600)
	assert.False(t, p.Expired(time.Date(2026, 12, 6, 12, 59, 0, 0, ist)))
	assert.True(t, p.Expired(time.Date(2026, 12, 6, 13, 0, 0, 0, ist)))
	// A proposal whose expiry cannot be read is expired: it never blocks
	// the registry, and it can never be applied.
	assert.True(t, (&Proposal{ExpiresAt: "next week"}).Expired(at.Add(-time.Hour)))
	assert.True(t, (&Proposal{}).Expired(at.Add(-time.Hour)))
}

func TestProposalApprovalsAndVotes(t *testing.T) {
	reg := members(4)
	p := Proposal{Approvals: []Approval{
		{By: Actor{MSP: "M1MSP", Identity: "admin@m1"}},
		{By: Actor{MSP: "GoneMSP", Identity: "admin@gone"}}, // removed since it approved
		{By: Actor{MSP: "M3MSP", Identity: "admin@m3"}},
	}}
	assert.True(t, p.ApprovedBy("M1MSP"))
	assert.True(t, p.ApprovedBy("GoneMSP"))
	assert.False(t, p.ApprovedBy("M0MSP"))
	assert.False(t, p.ApprovedBy(""))
	assert.Equal(t, 2, p.Votes(reg), "only the approvals of current members count")
	assert.Equal(t, 0, (&Proposal{}).Votes(reg))

	// Removing an approver's organisation takes its vote away.
	require.NoError(t, reg.Apply(Change{Action: ActionRemove, Participant: Participant{MSP: "M3MSP"}}))
	assert.Equal(t, 1, p.Votes(reg))
}

func TestMajority(t *testing.T) {
	// More than half: a tie never applies a change.
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 4, 100: 51} {
		reg := &Registry{Participants: make([]Participant, n)}
		assert.Equal(t, want, reg.Majority(), "%d members", n)
	}
}

func TestMembersSorted(t *testing.T) {
	reg := members(4)
	assert.Equal(t, []string{"M0MSP", "M1MSP", "M2MSP", "M3MSP"}, reg.Members())
	assert.Equal(t, "M3MSP", reg.Participants[0].MSP, "Members does not reorder the registry")
	assert.Empty(t, (&Registry{}).Members())
}

func TestProposalLookupAndDrop(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	reg := members(3)
	reg.Proposals = []Proposal{
		{ID: "aaaaaaaaaaaa", ExpiresAt: FormatTime(now.Add(time.Hour))},
		{ID: "bbbbbbbbbbbb", ExpiresAt: FormatTime(now.Add(-time.Hour))},
		{ID: "cccccccccccc", ExpiresAt: FormatTime(now)},
		{ID: "dddddddddddd", ExpiresAt: FormatTime(now.Add(24 * time.Hour))},
	}
	p, ok := reg.Proposal("dddddddddddd")
	require.True(t, ok)
	assert.Equal(t, "dddddddddddd", p.ID)
	// The pointer is into the registry: an approval added through it is kept.
	p.Approvals = append(p.Approvals, Approval{By: Actor{MSP: "M0MSP"}})
	assert.True(t, reg.Proposals[3].ApprovedBy("M0MSP"))
	_, ok = reg.Proposal("eeeeeeeeeeee")
	assert.False(t, ok)

	reg.DropExpired(now)
	ids := func() []string {
		var out []string
		for _, p := range reg.Proposals {
			out = append(out, p.ID)
		}
		return out
	}
	assert.Equal(t, []string{"aaaaaaaaaaaa", "dddddddddddd"}, ids(), "the expired and the just-expired go, in order")

	reg.DropProposal("aaaaaaaaaaaa")
	assert.Equal(t, []string{"dddddddddddd"}, ids())
	reg.DropProposal("not-there")
	assert.Equal(t, []string{"dddddddddddd"}, ids(), "dropping an unknown id changes nothing")
	_, ok = reg.Proposal("aaaaaaaaaaaa")
	assert.False(t, ok)
}

func TestApply(t *testing.T) {
	set := func(msp string, role Role, name string) Change {
		return Change{Action: ActionSet, Participant: Participant{MSP: msp, Role: role, Name: name}}
	}
	remove := func(msp string) Change { return Change{Action: ActionRemove, Participant: Participant{MSP: msp}} }

	t.Run("add sorts by MSP", func(t *testing.T) {
		reg := members(2)
		require.NoError(t, reg.Apply(set("AMSP", RoleMaker, "A maker")))
		assert.Equal(t, []Participant{
			{MSP: "AMSP", Role: RoleMaker, Name: "A maker"},
			{MSP: "M0MSP", Role: RoleRecycler, Name: "Org M0MSP"},
			{MSP: "M1MSP", Role: RoleRecycler, Name: "Org M1MSP"},
		}, reg.Participants)
	})
	t.Run("set changes role and name in place", func(t *testing.T) {
		reg := members(3)
		require.NoError(t, reg.Apply(set("M1MSP", RoleAuditor, "Renamed")))
		assert.Len(t, reg.Participants, 3)
		p, ok := reg.Lookup("M1MSP")
		require.True(t, ok)
		assert.Equal(t, Participant{MSP: "M1MSP", Role: RoleAuditor, Name: "Renamed"}, p)
	})
	t.Run("remove", func(t *testing.T) {
		reg := members(3)
		require.NoError(t, reg.Apply(remove("M1MSP")))
		assert.Equal(t, []string{"M0MSP", "M2MSP"}, reg.Members())
		_, ok := reg.Lookup("M1MSP")
		assert.False(t, ok)
	})

	bad := []struct {
		name   string
		reg    *Registry
		change Change
		err    string
	}{
		{"remove a non-member", members(2), remove("XMSP"), "XMSP is not a registered participant"},
		{"remove the last member", members(1), remove("M0MSP"), "cannot remove M0MSP: it is the last participant"},
		{"unknown action", members(2), Change{Action: "rename", Participant: Participant{MSP: "M0MSP"}}, `unknown registry action "rename"`},
		{"set an invalid entry", members(2), set("M0MSP", "chief", "X"), "participants["},
		{"set a blank name", members(2), set("NewMSP", RoleMaker, ""), "name: is required"},
		{"grow past the cap", members(1).withFilled(MaxParticipants), set("OneTooManyMSP", RoleMaker, "X"), "must list 1 to 100 participants, got 101"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			before := append([]Participant(nil), c.reg.Participants...)
			err := c.reg.Apply(c.change)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
			assert.Equal(t, before, c.reg.Participants, "a refused change leaves the registry as it was")
		})
	}
}

// withFilled fills the registry with valid participants up to n.
func (r *Registry) withFilled(n int) *Registry {
	for i := len(r.Participants); i < n; i++ {
		r.Participants = append(r.Participants, Participant{MSP: "Fill" + strings.Repeat("x", i%10) + string(rune('A'+i/10)) + "MSP", Role: RoleMaker, Name: "F"})
	}
	return r
}

// TestMajorityStory walks a proposal through the rules the contract
// applies: approvals of members count, a majority of the current members
// applies it, and an expired proposal is dropped before it can be.
func TestMajorityStory(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	reg := members(5)
	req := ChangeRequest{Action: ActionSet, MSP: "NewMSP", Role: RoleMaker, Name: "New", TTLHours: 2}
	require.NoError(t, req.Validate())
	p := Proposal{ID: "0123456789ab", Change: Change{Action: req.Action, Participant: Participant{MSP: req.MSP, Role: req.Role, Name: req.Name}},
		ExpiresAt: FormatTime(now.Add(req.TTL())), Approvals: []Approval{{By: Actor{MSP: "M0MSP"}}}}
	reg.Proposals = append(reg.Proposals, p)

	approve := func(msp string) (votes int, applied bool) {
		q, ok := reg.Proposal(p.ID)
		require.True(t, ok)
		require.False(t, q.ApprovedBy(msp), "%s approves twice", msp)
		q.Approvals = append(q.Approvals, Approval{By: Actor{MSP: msp}})
		votes = q.Votes(reg)
		if votes >= reg.Majority() {
			require.NoError(t, reg.Apply(q.Change))
			reg.DropProposal(p.ID)
			return votes, true
		}
		return votes, false
	}
	v, applied := approve("M1MSP")
	assert.Equal(t, 2, v)
	assert.False(t, applied, "2 of 5 is not a majority")
	v, applied = approve("M4MSP")
	assert.Equal(t, 3, v)
	assert.True(t, applied, "3 of 5 is")
	_, ok := reg.Lookup("NewMSP")
	assert.True(t, ok)
	assert.Empty(t, reg.Proposals)
	assert.Equal(t, 4, reg.Majority(), "six members now need four")

	// The same proposal made again expires before anyone approves it.
	reg.Proposals = append(reg.Proposals, p)
	reg.DropExpired(now.Add(2*time.Hour - time.Second))
	assert.Len(t, reg.Proposals, 1, "still open a second before its TTL")
	reg.DropExpired(now.Add(2 * time.Hour))
	assert.Empty(t, reg.Proposals, "gone at its TTL")
}

// TestProposalTTLDoesNotWrap: a count of hours too large for a Duration
// is refused, not wrapped around into a short, valid one.
func TestProposalTTLDoesNotWrap(t *testing.T) {
	r := ChangeRequest{Action: ActionRemove, MSP: "MakerMSP", TTLHours: 1<<51 + 1}
	assert.Error(t, r.Validate())
	r.TTLHours = 720
	assert.NoError(t, r.Validate())
	r.TTLHours = 721
	assert.Error(t, r.Validate())
}
