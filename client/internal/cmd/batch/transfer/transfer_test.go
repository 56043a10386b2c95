package transfer

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdTransfer(e.F, nil) }

func TestTransfer(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.Status = model.StatusInTransit
	b.Pending = &model.Transfer{To: "RecyclerMSP", Mass: 1_250_000, OfferedBy: b.Submitter, OfferedAt: b.UpdatedAt, OfferTx: "tx-offer"}
	b.LastTx = "tx-offer"
	args := cmdtest.BatchFormats(t, "transfer", newCmd, api.OfferTransfer, b, "transfer", "PET-1", "--to", "RecyclerMSP")
	assert.Equal(t, []string{"PET-1", "RecyclerMSP"}, args)
}

func TestTransferErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.OfferTransfer, "transfer", "PET-1", "--to", "RecyclerMSP")

	e := cmdtest.New(t)
	err := e.Run(newCmd(e), "transfer", "PET-1", "--to", "Recycler MSP")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--to: must be an MSP ID such as RecyclerMSP, got "Recycler MSP"`)
	assert.Empty(t, e.Fake.Calls())

	err = e.Run(newCmd(e), "transfer", "PET-1")
	assert.ErrorContains(t, err, `required flag(s) "to" not set`)
}
