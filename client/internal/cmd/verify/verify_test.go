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

// A graph with a bought-in batch and a declared handover: verify names
// the purchase as the purchaser's own claim, reads the declaration, adds
// the declarations check and lists it.
func TestVerifyPurchasesAndDeclarations(t *testing.T) {
	v := verdict(true)
	shares := model.Shares{PostConsumer: 600_000, PreConsumer: 386_800}
	v.Shares = &shares
	v.Sources = append(v.Sources, model.Source{ID: "BUY-1", Kind: model.SourcePurchase, CollectedAt: "2026-11-19T11:00:00Z", Collector: "RecyclerMSP",
		Mass: 2_000_000, OriginClass: model.PreConsumer, Site: "8690000000029", Supplier: "Akdeniz Ambalaj", SupplierID: "TR-1", Ticket: "ab12"})
	ref := model.DeclRef{ID: "D-7", Batch: "PEL-7", From: "RecyclerMSP", To: "MakerMSP", OfferTx: "tx-offer", Offered: 950_000, Shares: shares}
	v.Declared = []model.DeclRef{ref}
	d := model.Declaration{ID: "D-7", Batch: "PEL-7", Supplier: "RecyclerMSP", Recipient: "MakerMSP", OfferTx: "tx-offer", Mass: 950_000,
		Shares: shares, Model: model.MassBalance, Certificate: "ISCC-1", IssuedAt: "2026-11-21T10:00:00Z",
		Claim: &model.DeclClaim{By: model.Actor{MSP: "MakerMSP"}, At: "2026-11-22T10:00:00Z", Tx: "tx-claim"}}

	e := cmdtest.New(t)
	e.Fake.OnJSON(api.VerifyProvenance, v).OnJSON(api.ReadDeclaration, d)
	require.NoError(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures"))
	out := e.Out.String()
	assert.Equal(t, []string{"D-7"}, e.Fake.CallsTo(api.ReadDeclaration)[0].Args)
	assert.Regexp(t, `ok\s+declarations\s+1 declarations on the path agree with their handovers; 1 claimed by their recipients`, out)
	assert.Contains(t, out, "Recycled shares: post-consumer 60%, pre-consumer 38.68%\n")
	assert.Contains(t, out, "Collection sources (2):\n")
	assert.Contains(t, out, "Bought in from outside the consortium (1; each the purchaser's own signed claim):\n")
	assert.Regexp(t, `BUY-1\s+Akdeniz Ambalaj \(TR-1\)\s+pre-consumer\s+2026-11-19T11:00:00Z\s+RecyclerMSP\s+8690000000029\s+2000 kg\s+ab12`, out)
	assert.Regexp(t, `D-7\s+PEL-7\s+RecyclerMSP\s+MakerMSP\s+2026-11-21T10:00:00Z\s+950 kg\s+60%\s+38.68%\s+mass-balance\s+ISCC-1\s+2026-11-22T10:00:00Z`, out)

	// A declaration that says more than the handover fails verify.
	d.Mass = 1_000_000
	e = cmdtest.New(t)
	e.Fake.OnJSON(api.VerifyProvenance, v).OnJSON(api.ReadDeclaration, d)
	err := e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.Regexp(t, `FAIL\s+declarations\s+declaration "D-7" declares 1000 kg, but 950 kg was offered`, e.Out.String())

	// A missing one too; another read error is an error.
	e = cmdtest.New(t)
	e.Fake.OnJSON(api.VerifyProvenance, v).OnError(api.ReadDeclaration, ledgertest.Rejection(`declaration "D-7" not found`))
	require.ErrorIs(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures"), cmdutil.ErrSilent)
	assert.Contains(t, e.Out.String(), `declaration "D-7" named by the handover of batch "PEL-7" to MakerMSP is missing`)
	e = cmdtest.New(t)
	e.Fake.OnJSON(api.VerifyProvenance, v).OnError(api.ReadDeclaration, ledgertest.Rejection("peer unavailable"))
	assert.ErrorContains(t, e.Run(newCmd(e), "verify", "CUP-1", "--no-signatures"), `read declaration "D-7": rejected by chaincode: peer unavailable`)
}
