package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/network/topology"
)

// fakeCLI answers the mtrace commands vote runs, as a registry of the
// given members with one vote each, and records the calls.
type fakeCLI struct {
	reg   model.Registry
	calls []string
	fail  string // a command line that fails
}

func (f *fakeCLI) run(profile string, args ...string) ([]byte, error) {
	line := profile + " " + strings.Join(args, " ")
	f.calls = append(f.calls, line)
	if f.fail != "" && strings.HasPrefix(line, f.fail) {
		return nil, errors.New("rejected by chaincode: no")
	}
	msp := map[string]string{"municipality-admin": "MunicipalityMSP", "recycler-admin": "RecyclerMSP",
		"maker-admin": "MakerMSP", "auditor-admin": "AuditorMSP"}[profile]
	switch args[1] {
	case "show":
		return json.Marshal(f.reg)
	case "propose":
		p := model.Proposal{ID: "p1", Change: model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: args[3]}}}
		if args[4] != "--remove" {
			p.Change = model.Change{Action: model.ActionSet,
				Participant: model.Participant{MSP: args[3], Role: model.Role(args[5]), Name: args[7]}}
		}
		f.reg.Proposals = append(f.reg.Proposals, p)
		return json.Marshal(p)
	case "approve":
		p := &f.reg.Proposals[len(f.reg.Proposals)-1]
		p.Approvals = append(p.Approvals, model.Approval{By: model.Actor{MSP: msp}})
		v := model.Vote{Proposal: *p, Votes: len(p.Approvals), Needed: f.reg.Majority()}
		v.Applied = v.Votes >= v.Needed
		return json.Marshal(v)
	}
	return nil, errors.New("unexpected " + line)
}

func fourMembers(t *testing.T) (*topology.Topology, *fakeCLI) {
	t.Helper()
	top, err := topology.Load(filepath.Join("..", "..", "consortium.yaml"))
	require.NoError(t, err)
	return top, &fakeCLI{reg: model.Registry{Participants: top.Participants()}}
}

var kaunas = model.Participant{MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services"}

func TestVoteProposesAndApprovesUntilApplied(t *testing.T) {
	top, cli := fourMembers(t)
	var out bytes.Buffer
	require.NoError(t, vote(&out, top, cli.run, model.Change{Action: model.ActionSet, Participant: kaunas}))
	assert.Equal(t, []string{
		"municipality registry show",
		"municipality-admin registry propose --msp KaunasMSP --role collector --name Kaunas waste services",
		"municipality-admin registry approve p1",
		"recycler-admin registry approve p1",
		"maker-admin registry approve p1",
	}, cli.calls, "three of four members apply it; the fourth is not asked")
	assert.Contains(t, out.String(), "registry: MakerMSP approved (3 of 3 needed)")
	assert.Contains(t, out.String(), "registry: applied (KaunasMSP is in the registry as collector)")
}

func TestVoteReusesAnOpenProposal(t *testing.T) {
	top, cli := fourMembers(t)
	cli.reg.Proposals = []model.Proposal{{ID: "p1", Change: model.Change{Action: model.ActionSet, Participant: kaunas},
		Approvals: []model.Approval{{By: model.Actor{MSP: "MunicipalityMSP"}}}}}
	require.NoError(t, vote(&bytes.Buffer{}, top, cli.run, model.Change{Action: model.ActionSet, Participant: kaunas}))
	assert.Equal(t, []string{"municipality registry show", "recycler-admin registry approve p1", "maker-admin registry approve p1"}, cli.calls,
		"no second proposal, and the municipality does not approve twice")
}

func TestVoteNothingToDo(t *testing.T) {
	top, cli := fourMembers(t)
	cli.reg.Participants = append(cli.reg.Participants, kaunas)
	var out bytes.Buffer
	require.NoError(t, vote(&out, top, cli.run, model.Change{Action: model.ActionSet, Participant: kaunas}))
	assert.Equal(t, []string{"municipality registry show"}, cli.calls)
	assert.Contains(t, out.String(), "nothing to do")

	require.NoError(t, vote(&out, top, cli.run, model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "VenloMSP"}}))
	assert.Contains(t, out.String(), "VenloMSP is out of the registry")
}

func TestVoteNamesTheFailedCommand(t *testing.T) {
	top, cli := fourMembers(t)
	cli.fail = "recycler-admin registry approve"
	err := vote(&bytes.Buffer{}, top, cli.run, model.Change{Action: model.ActionSet, Participant: kaunas})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rejected by chaincode: no")
}

func TestVoteRemovalLeavesTheSubjectOut(t *testing.T) {
	top, cli := fourMembers(t)
	next, _, err := top.With(topology.Org{Node: "kaunas", MSP: "KaunasMSP", Role: model.RoleCollector, Name: kaunas.Name, Slot: -1})
	require.NoError(t, err)
	cli.reg.Participants = append(cli.reg.Participants, kaunas)
	require.NoError(t, vote(&bytes.Buffer{}, next, cli.run, model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "KaunasMSP"}}))
	for _, c := range cli.calls {
		assert.NotContains(t, c, "kaunas-admin", "the leaving organisation does not vote on its removal")
	}
	assert.Len(t, cli.calls, 5, "show, propose, three approvals of five members")
}
