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

func sites() model.SiteList {
	return model.SiteList{Org: "RecyclerMSP", Sites: []model.Site{
		{ID: "8690000000029", Name: "Gebze plant", Default: true, AddedAt: "2026-11-20T10:00:00Z"},
		{ID: "8690000000036", Name: "Dilovası annex", AddedAt: "2026-11-21T10:00:00Z"},
	}}
}

func TestList(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.GetSites, sites())
	require.NoError(t, e.Run(newCmd(e), "list", "--org", "RecyclerMSP"))
	assert.Regexp(t, `8690000000029\s+Gebze plant\s+yes`, e.Out.String())
	assert.Regexp(t, `8690000000036\s+Dilovası annex\s+2026`, e.Out.String())
	calls := e.Fake.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, ledgertest.Call{Fn: api.GetSites, Args: []string{"RecyclerMSP"}}, calls[0])

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetSites, sites())
	require.NoError(t, e.Run(newCmd(e), "list", "-o", "json"))
	assert.Equal(t, []string{"X"}, e.Fake.Calls()[0].Args, "the profile's organisation by default")
	var got model.SiteList
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, sites(), got)

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetSites, model.SiteList{Org: "MakerMSP", Sites: []model.Site{}})
	require.NoError(t, e.Run(newCmd(e), "list", "--org", "MakerMSP"))
	assert.Equal(t, "MakerMSP lists no sites.\n", e.Out.String())
}

func TestListErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "list", "--org", "no such"), "--org: must be an MSP ID")
	assert.ErrorContains(t, e.Run(newCmd(e), "list", "extra"), "expected no arguments")
	assert.ErrorContains(t, e.Run(newCmd(e), "list", "-p", "ghost"), `profile "ghost" not found`)
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.GetSites, ledgertest.Rejection("msp: must be an MSP ID"))
	assert.ErrorContains(t, e.Run(newCmd(e), "list"), "rejected by chaincode: msp: must be an MSP ID")
}
