package cancel

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdCancel(e.F, nil) }

func TestCancel(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.LastTx = "tx-cancel"
	args := cmdtest.BatchFormats(t, "cancel", newCmd, api.CancelTransfer, b, "cancel", "PET-1")
	assert.Equal(t, []string{"PET-1"}, args)
}

func TestCancelErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.CancelTransfer, "cancel", "PET-1")
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "cancel"), "expected one batch ID, got 0")
}
