package list

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

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdList(e.F, nil) }

func TestList(t *testing.T) {
	page := model.BatchPage{Batches: []model.Batch{
		cmdtest.Collected("PET-1", 1_250_000),
		cmdtest.Received(cmdtest.Collected("PET-2", 900), 100),
	}, Bookmark: "YmF0Y2gAUEVULTIA"}
	args := cmdtest.Formats(t, "list", newCmd, api.ListBatches, page,
		"list", "--owner", "MunicipalityMSP", "--status", "ACTIVE", "--material", "pet", "--form", "waste", "--limit", "2", "--page", "abc")
	var q model.ListQuery
	require.NoError(t, json.Unmarshal([]byte(args[0]), &q))
	assert.Equal(t, model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusActive, Material: model.PET,
		Form: model.FormWaste, Limit: 2, Bookmark: "abc"}, q)
}

func TestListEmpty(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ListBatches, model.BatchPage{})
	require.NoError(t, e.Run(newCmd(e), "list"))
	assert.Equal(t, "No batches match.\n", e.Out.String())

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ListBatches, model.BatchPage{})
	require.NoError(t, e.Run(newCmd(e), "list", "-o", "json"))
	assert.JSONEq(t, `{"batches":[],"bookmark":""}`, e.Out.String())
}

func TestListErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "--status", "lost"}, "--status: status: must be one of active, in_transit, consumed, quarantined"},
		{[]string{"list", "--limit", "0"}, "--limit: must be from 1 to 1000, got 0"},
		{[]string{"list", "--limit", "1001"}, "--limit: must be from 1 to 1000, got 1001"},
		{[]string{"list", "--form", "cube"}, "--form: form: must be one of"},
		{[]string{"list", "--owner", "bad owner"}, "owner: must be an MSP ID"},
		{[]string{"list", "-p", "ghost"}, `profile "ghost" not found`},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), tt.args...)
		require.Error(t, err, tt.args)
		assert.Contains(t, err.Error(), tt.want)
		assert.Empty(t, e.Fake.Calls())
	}
	e := cmdtest.New(t)
	e.Fake.OnError(api.ListBatches, ledgertest.Rejection("bookmark: is not a valid page token"))
	assert.EqualError(t, e.Run(newCmd(e), "list", "--page", "zz"), "rejected by chaincode: bookmark: is not a valid page token")
}
