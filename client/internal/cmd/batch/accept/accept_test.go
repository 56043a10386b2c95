package accept

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdAccept(e.F, nil) }

func TestAccept(t *testing.T) {
	b := cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 10_000)
	args := cmdtest.BatchFormats(t, "accept", newCmd, api.AcceptTransfer, b, "accept", "PET-1", "--received-mass", "1 240 kg")
	assert.Equal(t, []string{"PET-1", "1240000"}, args)
}

func TestAcceptAllOffered(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.AcceptTransfer, ledgertest.Nothing).OnJSON(api.ReadBatch, cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 0))
	require.NoError(t, e.Run(newCmd(e), "accept", "PET-1"))
	assert.Equal(t, []string{"PET-1", "0"}, e.Fake.Calls()[0].Args, "0 asks the chaincode for all that was offered")
	assert.Equal(t, "Accepted PET-1 from MunicipalityMSP: 1250 kg received of 1250 kg offered; owner RecyclerMSP (tx tx-accept-PET-1)\n", e.Out.String())
}

func TestAcceptAtSite(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.AcceptTransferAt, ledgertest.Nothing).OnJSON(api.ReadBatch, cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 0))
	require.NoError(t, e.Run(newCmd(e), "accept", "PET-1", "--site", "8690000000029"))
	assert.Equal(t, ledgertest.Call{Submit: true, Fn: api.AcceptTransferAt, Args: []string{"PET-1", "0", "8690000000029"}}, e.Fake.Calls()[0])

	e = cmdtest.New(t)
	err := e.Run(newCmd(e), "accept", "PET-1", "--site", "869000000002")
	require.ErrorContains(t, err, "--site: must be a GLN of 13 digits")
	assert.Empty(t, e.Fake.Calls())
}

func TestAcceptErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.AcceptTransfer, "accept", "PET-1", "--received-mass", "1t")
	for _, bad := range []string{"1240", "12.5g", "-3kg", "0kg"} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), "accept", "PET-1", "--received-mass", bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "--received-mass: ")
		assert.Empty(t, e.Fake.Calls())
	}
}
