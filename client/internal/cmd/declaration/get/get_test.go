package get

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdGet(e.F, nil) }

func TestGet(t *testing.T) {
	d := model.Declaration{ID: "D-7", Batch: "PEL-7", Supplier: "RecyclerMSP", Recipient: "MakerMSP", Material: model.PET, Mass: 950_000,
		Shares: model.Shares{PostConsumer: 625_000, PreConsumer: 1}, Model: model.ControlledBlending, IssuedAt: "2026-11-21T10:00:00Z",
		IssuedBy: model.Actor{MSP: "RecyclerMSP", Identity: "u1"}, IssueTx: "tx-issue"}
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ReadDeclaration, d)
	require.NoError(t, e.Run(newCmd(e), "get", "D-7"))
	assert.Equal(t, []ledgertest.Call{{Fn: api.ReadDeclaration, Args: []string{"D-7"}}}, e.Fake.Calls(), "get only evaluates")
	out := e.Out.String()
	assert.Regexp(t, `Post-consumer\s+62.5%`, out)
	assert.Regexp(t, `Pre-consumer\s+0.0001%`, out)
	assert.Regexp(t, `Chain of custody\s+controlled-blending`, out)
	assert.Regexp(t, `Supplier\s+RecyclerMSP\n`, out)

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ReadDeclaration, d)
	require.NoError(t, e.Run(newCmd(e), "get", "D-7", "-o", "json"))
	var got model.Declaration
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, d, got)
}

func TestGetErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "get", ""), "ID: must be 1-64")
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.ReadDeclaration, errors.New("peer unavailable"))
	assert.ErrorContains(t, e.Run(newCmd(e), "get", "D-7"), "peer unavailable")
	assert.Empty(t, e.Out.String())
}
