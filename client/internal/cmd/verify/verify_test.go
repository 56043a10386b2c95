package verify

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdVerify(e.F, nil) }

func verdict(ok bool) model.Verdict {
	v := model.Verdict{BatchID: "CUP-1", OK: ok, RecycledContent: 9868, Nodes: 5,
		Checks: []model.Check{
			{Name: model.CheckCollected, OK: true, Detail: "2 collection batches"},
			{Name: model.CheckMassBalance, OK: true, Detail: "3 processes, 2 handovers balance"},
			{Name: model.CheckCustody, OK: true, Detail: "every handover accepted by its receiver"},
			{Name: model.CheckNotQuarantined, OK: ok, Detail: "no batch quarantined"},
			{Name: model.CheckRecycledContent, OK: true, Detail: "98.68% recomputed"},
		},
		Sources: []model.Source{
			{ID: "PET-1", Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T09:30:00+03:00", Collector: "MunicipalityMSP", WasteCode: "15 01 02", Mass: 1_250_000},
			{ID: "PET-2", Location: "Üsküdar", CollectedAt: "2026-11-20T10:00:00+03:00", Collector: "MunicipalityMSP", WasteCode: "15 01 02", Mass: 800_000},
		}}
	if !ok {
		v.Checks[3].Detail = `quarantined: "FLK-1"`
	}
	return v
}

func TestVerifyHolds(t *testing.T) {
	args := cmdtest.Formats(t, "verify_ok", newCmd, api.VerifyProvenance, verdict(true), "verify", "CUP-1", "--no-signatures")
	assert.Equal(t, []string{"CUP-1", ""}, args)
}

func TestVerifyFails(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		e.Fake.OnJSON(api.VerifyProvenance, verdict(false))
		err := e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures", "-o", format)
		require.ErrorIs(t, err, cmdutil.ErrSilent, "a failed verification exits 1 without another message")
		cmdtest.Golden(t, "verify_fail_"+format, e.Out.String())
	}
}

func TestVerifyDocument(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.pdf")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o600))
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.VerifyProvenance, verdict(true))
	require.NoError(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures", "--document", p))
	assert.Equal(t, []string{"CUP-1", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}, e.Fake.Calls()[0].Args)
}

func TestVerifyErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures", "--document", "/nonexistent"), "no such file")
	assert.ErrorContains(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures", "-p", "ghost"), `profile "ghost" not found`)
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.VerifyProvenance, ledgertest.Rejection(`batch "CUP-1" not found`))
	err := e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures")
	assert.EqualError(t, err, `rejected by chaincode: batch "CUP-1" not found`)
	assert.NotErrorIs(t, err, cmdutil.ErrSilent)
}
