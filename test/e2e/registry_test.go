//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/mtrace/mtrace/chaincode/model"
)

// TestRegistryVote: a change with the approvals of a majority of member
// admins applies; one approval fewer does not; a non-admin's approval is
// refused at endorsement and counts for nothing.
func TestRegistryVote(t *testing.T) {
	name := "Kadikoy Makerspace " + run
	var p model.Proposal
	env.JSON(t, &p, "maker-admin", "registry", "propose", "--msp", "MakerMSP", "--role", "maker", "--name", name)
	mustEqual(t, p.Change.Participant.Name, name, "proposed name")

	var v model.Vote
	env.JSON(t, &v, "maker-admin", "registry", "approve", p.ID)
	env.JSON(t, &v, "recycler-admin", "registry", "approve", p.ID)
	mustEqual(t, v.Votes, 2, "votes after two admins")
	mustEqual(t, v.Needed, 3, "votes needed of four members")
	mustEqual(t, v.Applied, false, "applied after two of four")
	if got := makerName(t); got == name {
		t.Fatalf("the change applied with two approvals of four")
	}

	for _, profile := range []string{"municipality", "auditor"} {
		r := env.Run(t, profile, "registry", "approve", p.ID)
		if r.Code != 1 || !strings.Contains(r.Stderr, "is not an admin identity") {
			t.Errorf("approval by %s's plain user: exit %d, stderr %q; want 1 and a refusal naming the admin requirement", profile, r.Code, r.Stderr)
		}
	}
	r := env.Run(t, "maker-admin", "registry", "approve", p.ID)
	if r.Code != 1 || !strings.Contains(r.Stderr, "MakerMSP has already approved") {
		t.Errorf("second approval by the maker: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if got := makerName(t); got == name {
		t.Fatalf("refused approvals applied the change")
	}

	env.JSON(t, &v, "auditor-admin", "registry", "approve", p.ID)
	mustEqual(t, v.Applied, true, "applied by the third of four")
	mustEqual(t, makerName(t), name, "maker's name after the vote")
	var ps []model.Proposal
	env.JSON(t, &ps, "auditor", "registry", "proposals")
	for _, x := range ps {
		if x.ID == p.ID {
			t.Errorf("proposal %s is still open after it applied", p.ID)
		}
	}
}

func makerName(t *testing.T) string {
	t.Helper()
	var reg model.Registry
	env.JSON(t, &reg, "auditor", "registry", "show")
	p, _ := reg.Lookup("MakerMSP")
	return p.Name
}
