package claim

import (
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdClaim(e.F, nil) }

func claimed() model.Declaration {
	return model.Declaration{ID: "D-7", Batch: "PEL-7", Supplier: "RecyclerMSP", Recipient: "MakerMSP",
		Material: model.PET, Mass: 950_000, Shares: model.Shares{PostConsumer: 600_000}, Model: model.Segregated,
		IssuedBy: model.Actor{MSP: "RecyclerMSP", Identity: "u1"}, IssuedAt: "2026-11-21T10:00:00Z", IssueTx: "tx-issue",
		Claim: &model.DeclClaim{By: model.Actor{MSP: "MakerMSP", Identity: "u2"}, At: "2026-11-22T10:00:00Z", Tx: "tx-claim", Site: "6410000000018"}}
}

func TestClaim(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ClaimDeclaration, claimed())
	require.NoError(t, e.Run(newCmd(e), "claim", "D-7"))
	calls := e.Fake.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, ledgertest.Call{Submit: true, Fn: api.ClaimDeclaration, Args: []string{"D-7"}}, calls[0])
	assert.Contains(t, e.Out.String(), "Claimed declaration D-7 for MakerMSP (tx tx-claim)\n")
	assert.Regexp(t, `Claimed\s+2026-11-22T10:00:00Z by u2 \(MakerMSP\), site 6410000000018, tx tx-claim`, e.Out.String())
	assert.Regexp(t, `Certificate\s+-`, e.Out.String())

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ClaimDeclaration, claimed())
	require.NoError(t, e.Run(newCmd(e), "claim", "D-7", "-o", "json"))
	var got model.Declaration
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, claimed(), got)
}

func TestClaimErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "claim", "D 7"), "ID: must be 1-64 characters")
	assert.ErrorContains(t, e.Run(newCmd(e), "claim"), "expected one declaration ID")
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.ClaimDeclaration, ledgertest.Rejection(`declaration "D-7" was claimed already by MakerMSP`))
	err := e.Run(newCmd(e), "claim", "D-7")
	assert.ErrorContains(t, err, `rejected by chaincode: declaration "D-7" was claimed already by MakerMSP`)
	assert.Empty(t, e.Out.String())
	cmdtest.SubmitErrors(t, newCmd, api.ClaimDeclaration, "claim", "D-7")
}
