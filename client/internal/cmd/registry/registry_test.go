package registry

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/render"
)

func registry() model.Registry {
	admin := model.Actor{MSP: "MakerMSP", Identity: "Admin@maker.mtrace.local"}
	return model.Registry{
		Participants: []model.Participant{
			{MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Circular Materials Certification"},
			{MSP: "MakerMSP", Role: model.RoleMaker, Name: "Kadikoy Makerspace"},
			{MSP: "MunicipalityMSP", Role: model.RoleCollector, Name: "Istanbul waste services"},
			{MSP: "RecyclerMSP", Role: model.RoleRecycler, Name: "Marmara Polymer Recycling"},
		},
		Proposals: []model.Proposal{{
			ID:         "3f2a9c0d1e4b",
			Change:     model.Change{Action: model.ActionSet, Participant: model.Participant{MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services"}},
			ProposedBy: admin, ProposedAt: "2026-11-30T10:00:00Z", Tx: "3f2a9c0d1e4b77", ExpiresAt: "2026-12-07T10:00:00Z",
			Approvals: []model.Approval{{By: admin, At: "2026-11-30T10:01:00Z", Tx: "aa"}, {By: model.Actor{MSP: "GoneMSP"}, Tx: "bb"}},
		}},
		UpdatedAt: "2026-11-30T10:01:00Z", UpdatedBy: admin, LastTx: "aa",
	}
}

func TestShowAndProposals(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry())
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "show"))
	out := e.Out.String()
	assert.Contains(t, out, "MunicipalityMSP  collector  Istanbul waste services")
	assert.Contains(t, out, "4 members; a change applies with the approvals of 3.")
	// GoneMSP is no member: its approval does not count.
	assert.Regexp(t, `3f2a9c0d1e4b\s+set KaunasMSP as collector \("Kaunas waste services"\)\s+MakerMSP\s+MakerMSP, GoneMSP\s+1/3`, out)

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry())
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "proposals", "-o", "json"))
	var ps []model.Proposal
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &ps))
	assert.Equal(t, registry().Proposals, ps)

	e = cmdtest.New(t)
	empty := registry()
	empty.Proposals = nil
	e.Fake.OnJSON(api.GetRegistry, empty)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "proposals", "-o", "json"))
	assert.JSONEq(t, "[]", e.Out.String())
}

func TestProposeBuildsTheRequest(t *testing.T) {
	p := registry().Proposals[0]
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ProposeChange, p)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "propose", "--msp", "KaunasMSP", "--role", "collector", "--name", "Kaunas waste services", "--ttl", "48h"))
	require.Len(t, e.Fake.Calls(), 1)
	assert.Equal(t, `submit ProposeChange({"action":"set","msp":"KaunasMSP","role":"collector","name":"Kaunas waste services","ttlHours":48})`, e.Fake.Calls()[0].String())
	assert.Contains(t, e.Out.String(), "Proposed 3f2a9c0d1e4b: set KaunasMSP as collector")
	assert.Contains(t, e.Out.String(), "mtrace registry approve 3f2a9c0d1e4b")

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ProposeChange, p)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "propose", "--msp", "MakerMSP", "--remove"))
	assert.Equal(t, `submit ProposeChange({"action":"remove","msp":"MakerMSP"})`, e.Fake.Calls()[0].String())
}

func TestProposeRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "maker", "--name", "x"}, "--msp is required"},
		{[]string{"--msp", "KMSP", "--role", "maker"}, "--role and --name are required"},
		{[]string{"--msp", "KMSP", "--role", "king", "--name", "x"}, "--role:"},
		{[]string{"--msp", "KMSP", "--remove", "--name", "x"}, "--remove takes no --role or --name"},
		{[]string{"--msp", "KMSP", "--remove", "--ttl", "90m"}, "--ttl: want a whole number of hours"},
	} {
		e := cmdtest.New(t)
		err := e.Run(NewCmdRegistry(e.F), append([]string{"registry", "propose"}, c.args...)...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.want)
		assert.Empty(t, e.Fake.Calls(), "nothing is sent for bad flags")
	}
}

func TestApprove(t *testing.T) {
	v := model.Vote{Proposal: registry().Proposals[0], Votes: 3, Needed: 3, Applied: true}
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ApproveChange, v)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "approve", "3f2a9c0d1e4b"))
	assert.Equal(t, "submit ApproveChange(3f2a9c0d1e4b)", e.Fake.Calls()[0].String())
	assert.Equal(t, "Approved 3f2a9c0d1e4b: 3 of 3 approvals; the change applied: set KaunasMSP as collector (\"Kaunas waste services\")\n", e.Out.String())

	v.Votes, v.Applied = 2, false
	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ApproveChange, v)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "approve", "3f2a9c0d1e4b", "-o", "json"))
	var got model.Vote
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, v, got)

	e = cmdtest.New(t)
	e.Fake.OnError(api.ApproveChange, ledgertest.Rejection("MakerMSP has already approved proposal 3f2a9c0d1e4b"))
	err := e.Run(NewCmdRegistry(e.F), "registry", "approve", "3f2a9c0d1e4b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rejected by chaincode: MakerMSP has already approved proposal 3f2a9c0d1e4b")
	assert.Empty(t, e.Out.String())
}

func TestWithdraw(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.WithdrawChange, nil)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "withdraw", "3f2a9c0d1e4b"))
	assert.Equal(t, "submit WithdrawChange(3f2a9c0d1e4b)", e.Fake.Calls()[0].String())
	assert.Equal(t, "Withdrew proposal 3f2a9c0d1e4b\n", e.Out.String())
}

func TestExpiredProposalIsMarked(t *testing.T) {
	reg := registry()
	var out bytes.Buffer
	require.NoError(t, render.Proposals(&out, &reg, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)))
	assert.Contains(t, out.String(), "2026-12-07T10:00:00Z (expired)")
}

func TestReject(t *testing.T) {
	v := model.Vote{Proposal: registry().Proposals[0], Votes: 3, Needed: 3, Dropped: true}
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.RejectChange, v)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "reject", "3f2a9c0d1e4b"))
	assert.Equal(t, "submit RejectChange(3f2a9c0d1e4b)", e.Fake.Calls()[0].String())
	assert.Equal(t, "Rejected 3f2a9c0d1e4b: 3 of 3 rejections; the proposal is closed: set KaunasMSP as collector (\"Kaunas waste services\")\n", e.Out.String())

	v.Votes, v.Dropped = 1, false
	e = cmdtest.New(t)
	e.Fake.OnJSON(api.RejectChange, v)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "reject", "3f2a9c0d1e4b"))
	assert.Equal(t, "Rejected 3f2a9c0d1e4b (set KaunasMSP as collector (\"Kaunas waste services\")): 1 of 3 rejections\n", e.Out.String())

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.RejectChange, v)
	require.NoError(t, e.Run(NewCmdRegistry(e.F), "registry", "reject", "3f2a9c0d1e4b", "-o", "json"))
	var got model.Vote
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, v, got)

	e = cmdtest.New(t)
	err := e.Run(NewCmdRegistry(e.F), "registry", "reject")
	require.Error(t, err)
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	e.Fake.OnError(api.RejectChange, ledgertest.Rejection("MakerMSP has already rejected proposal 3f2a9c0d1e4b"))
	err = e.Run(NewCmdRegistry(e.F), "registry", "reject", "3f2a9c0d1e4b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rejected by chaincode: MakerMSP has already rejected proposal 3f2a9c0d1e4b")
}
