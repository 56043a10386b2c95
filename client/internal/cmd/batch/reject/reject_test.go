package reject

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdReject(e.F, nil) }

func TestReject(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.LastTx = "tx-reject"
	args := cmdtest.BatchFormats(t, "reject", newCmd, api.RejectTransfer, b, "reject", "PET-1", "--reason", "contaminated with PVC")
	assert.Equal(t, []string{"PET-1", "contaminated with PVC"}, args)
}

func TestRejectErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.RejectTransfer, "reject", "PET-1", "--reason", "wet")
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "reject", "PET-1", "--reason", "  "), "--reason: is required")
	assert.Empty(t, e.Fake.Calls())
}
