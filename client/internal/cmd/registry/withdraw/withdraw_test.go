package withdraw

import (
	"github.com/mtrace/mtrace/chaincode/api"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdWithdraw(e.F, nil) }

func TestWithdraw(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.WithdrawChange, ledgertest.Nothing)
	require.NoError(t, e.Run(newCmd(e), "withdraw", "3f2a9c0d1e4b"))
	assert.Equal(t, "Withdrew proposal 3f2a9c0d1e4b\n", e.Out.String())
	require.Len(t, e.Fake.Calls(), 1)
	assert.Equal(t, ledgertest.Call{Submit: true, Fn: api.WithdrawChange, Args: []string{"3f2a9c0d1e4b"}}, e.Fake.Calls()[0])

	e = cmdtest.New(t)
	e.Fake.On(api.WithdrawChange, ledgertest.Nothing)
	require.NoError(t, e.Run(newCmd(e), "withdraw", "3f2a9c0d1e4b", "-o", "json"))
	assert.JSONEq(t, `{"withdrawn":"3f2a9c0d1e4b"}`, e.Out.String())
}

func TestWithdrawErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.WithdrawChange, "withdraw", "3f2a9c0d1e4b")
	e := cmdtest.New(t)
	err := e.Run(newCmd(e), "withdraw")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "one proposal ID")
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	var got *Options
	require.NoError(t, e.Run(NewCmdWithdraw(e.F, func(o *Options) error { got = o; return nil }), "withdraw", "x1"))
	assert.Equal(t, "x1", got.ID)
	assert.Equal(t, cmdutil.FormatTable, got.Format)
}
