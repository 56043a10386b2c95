package issue

import (
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdIssue(e.F, nil) }

func declaration() model.Declaration {
	return model.Declaration{ID: "D-7", Batch: "PEL-7", Supplier: "RecyclerMSP", Recipient: "MakerMSP", Site: "8690000000029",
		Material: model.PET, Mass: 950_000, Shares: model.Shares{PostConsumer: 600_000, PreConsumer: 400_000},
		Model: model.MassBalance, Certificate: "ISCC-1", OfferTx: "tx-offer", IssuedBy: model.Actor{MSP: "RecyclerMSP", Identity: "u1"},
		IssuedAt: "2026-11-21T10:00:00Z", IssueTx: "tx-issue"}
}

var args = []string{"issue", "D-7", "--batch", "PEL-7", "--model", "Mass-Balance", "--certificate", "ISCC-1"}

func TestIssue(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.IssueDeclaration, declaration())
	require.NoError(t, e.Run(newCmd(e), args...))
	calls := e.Fake.CallsTo(api.IssueDeclaration)
	require.Len(t, calls, 1)
	assert.True(t, calls[0].Submit)
	var req model.DeclarationRequest
	require.NoError(t, json.Unmarshal([]byte(calls[0].Args[0]), &req))
	assert.Equal(t, model.DeclarationRequest{ID: "D-7", Batch: "PEL-7", Model: model.MassBalance, Certificate: "ISCC-1"}, req)
	out := e.Out.String()
	assert.Contains(t, out, "Issued declaration D-7 for PEL-7 to MakerMSP (tx tx-issue)\n")
	assert.Regexp(t, `Post-consumer\s+60%`, out)
	assert.Regexp(t, `Pre-consumer\s+40%`, out)
	assert.Regexp(t, `Supplier\s+RecyclerMSP, site 8690000000029`, out)
	assert.Regexp(t, `Claimed\s+not yet`, out)

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.IssueDeclaration, declaration())
	require.NoError(t, e.Run(newCmd(e), append(args, "-o", "json")...))
	var got model.Declaration
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, declaration(), got)
}

func TestIssueErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"issue", "D-7", "--batch", "PEL-7", "--model", "book-and-claim"}, "--model: model: must be one of"},
		{[]string{"issue", "D 7", "--batch", "PEL-7", "--model", "segregated"}, "id: must be 1-64 characters"},
		{[]string{"issue", "D-7", "--model", "segregated"}, `required flag(s) "batch" not set`},
		{[]string{"issue", "--batch", "PEL-7", "--model", "segregated"}, "expected one declaration ID"},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), c.args...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
		assert.Empty(t, e.Fake.Calls())
	}
	cmdtest.SubmitErrors(t, newCmd, api.IssueDeclaration, args...)
}
