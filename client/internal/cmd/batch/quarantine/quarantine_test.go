package quarantine

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdQuarantine(e.F, nil) }

func TestQuarantine(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.Status = model.StatusQuarantined
	b.Quarantine = &model.Quarantine{By: model.Actor{MSP: "AuditorMSP", Identity: "User1@auditor.mtrace.local"},
		ByRole: model.HeldByAuditor, Reason: "lead above limit", At: b.UpdatedAt, Tx: "tx-q", PreviousStatus: model.StatusActive}
	b.LastTx = "tx-q"
	args := cmdtest.BatchFormats(t, "quarantine", newCmd, api.Quarantine, b, "quarantine", "PET-1", "--reason", "lead above limit")
	assert.Equal(t, []string{"PET-1", "lead above limit"}, args)
}

func TestQuarantineErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.Quarantine, "quarantine", "PET-1", "--reason", "x")
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "quarantine", "PET-1"), `required flag(s) "reason" not set`)
}
