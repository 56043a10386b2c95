package proposals

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdProposals(e.F, nil) }

func registry(open bool) model.Registry {
	r := model.Registry{Participants: []model.Participant{
		{MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Audit"},
		{MSP: "MakerMSP", Role: model.RoleMaker, Name: "Makers"},
	}}
	if open {
		r.Proposals = []model.Proposal{{ID: "3f2a9c0d1e4b", ExpiresAt: "2026-12-07T10:00:00Z",
			Change:     model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "MakerMSP"}},
			ProposedBy: model.Actor{MSP: "AuditorMSP"}, Approvals: []model.Approval{{By: model.Actor{MSP: "AuditorMSP"}}}}}
	}
	return r
}

func TestProposalsNone(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry(false))
	require.NoError(t, e.Run(newCmd(e), "proposals"))
	assert.Equal(t, "No open proposals.\n", e.Out.String())

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry(false))
	require.NoError(t, e.Run(newCmd(e), "proposals", "-o", "json"))
	assert.JSONEq(t, "[]", e.Out.String(), "an empty list, not null")
}

func TestProposalsTableAndJSON(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry(true))
	opts := &Options{IO: e.IO, Format: cmdutil.FormatTable,
		Ledger: func(context.Context) (ledger.Ledger, error) { return e.Fake, nil },
		Now:    func() time.Time { return time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC) }}
	require.NoError(t, runProposals(context.Background(), opts))
	out := e.Out.String()
	assert.Regexp(t, `3f2a9c0d1e4b\s+remove MakerMSP\s+AuditorMSP\s+AuditorMSP\s+1/2`, out)
	assert.Contains(t, out, "2026-12-07T10:00:00Z (expired)", "the clock given decides expiry")

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry(true))
	require.NoError(t, e.Run(newCmd(e), "proposals", "-o", "json"))
	var ps []model.Proposal
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &ps))
	assert.Equal(t, registry(true).Proposals, ps)
}

func TestProposalsErrors(t *testing.T) {
	e := cmdtest.New(t)
	err := e.Run(newCmd(e), "proposals", "3f2a9c0d1e4b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no arguments")
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	e.Fake.On(api.GetRegistry, func([]string) ([]byte, error) { return []byte("{"), nil })
	err = e.Run(newCmd(e), "proposals")
	require.Error(t, err)
	assert.Contains(t, err.Error(), api.GetRegistry)
	assert.Empty(t, e.Out.String())
}
