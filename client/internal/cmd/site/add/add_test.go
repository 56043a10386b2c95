package add

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

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdAdd(e.F, nil) }

func TestAdd(t *testing.T) {
	list := model.SiteList{Org: "RecyclerMSP", LastTx: "tx-site", Sites: []model.Site{{ID: "8690000000029", Name: "Gebze plant", Default: true}}}
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		e.Fake.OnJSON(api.SetSite, list)
		require.NoError(t, e.Run(newCmd(e), "add", "8690000000029", "--name", "Gebze plant", "--default", "-o", format))
		calls := e.Fake.CallsTo(api.SetSite)
		require.Len(t, calls, 1)
		assert.True(t, calls[0].Submit)
		var req model.SiteRequest
		require.NoError(t, json.Unmarshal([]byte(calls[0].Args[0]), &req))
		assert.Equal(t, model.SiteRequest{ID: "8690000000029", Name: "Gebze plant", Default: true}, req)
		if format == "json" {
			var got model.SiteList
			require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
			assert.Equal(t, list, got)
		} else {
			assert.Contains(t, e.Out.String(), "Set site 8690000000029 (Gebze plant) of RecyclerMSP (tx tx-site)\n")
			assert.Regexp(t, `8690000000029\s+Gebze plant\s+yes`, e.Out.String())
		}
	}
}

func TestAddErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "add", "8690000000028", "--name", "x"), "id: GLN 8690000000028 has check digit 8, want 9")
	assert.ErrorContains(t, e.Run(newCmd(e), "add", "869", "--name", "x"), "id: must be a GLN of 13 digits")
	assert.ErrorContains(t, e.Run(newCmd(e), "add", "8690000000029"), `required flag(s) "name" not set`)
	assert.ErrorContains(t, e.Run(newCmd(e), "add", "8690000000029", "--name", " "), "name: is required")
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.SetSite, ledgertest.Rejection("caller User1 (RecyclerMSP) is not an admin identity"))
	err := e.Run(newCmd(e), "add", "8690000000029", "--name", "x")
	assert.ErrorContains(t, err, "not an admin identity")
	assert.Empty(t, e.Out.String())
}
