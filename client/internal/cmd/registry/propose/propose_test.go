package propose

import (
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdPropose(e.F, nil) }

func TestRequest(t *testing.T) {
	good := []struct {
		msp, role, name, ttl string
		remove               bool
		want                 model.ChangeRequest
	}{
		{"KaunasMSP", "collector", "Kaunas", "", false, model.ChangeRequest{Action: model.ActionSet, MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas"}},
		{"KaunasMSP", " Maker ", "K", "720h", false, model.ChangeRequest{Action: model.ActionSet, MSP: "KaunasMSP", Role: model.RoleMaker, Name: "K", TTLHours: 720}},
		{"MakerMSP", "", "", "1h", true, model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP", TTLHours: 1}},
		{"MakerMSP", "", "", "2880m", true, model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP", TTLHours: 48}},
	}
	for _, c := range good {
		got, err := request(c.msp, c.role, c.name, c.ttl, c.remove)
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, got)
	}
	bad := []struct {
		msp, role, name, ttl string
		remove               bool
		want                 string
	}{
		{"", "maker", "x", "", false, "--msp is required"},
		{"KMSP", "", "x", "", false, "--role and --name are required (or --remove)"},
		{"KMSP", "maker", "", "", false, "--role and --name are required"},
		{"KMSP", "king", "x", "", false, "--role: "},
		{"KMSP", "maker", "", "", true, "--remove takes no --role or --name"},
		{"KMSP", "", "x", "", true, "--remove takes no --role or --name"},
		{"KMSP", "", "", "90m", true, `--ttl: want a whole number of hours such as 48h, got "90m"`},
		{"KMSP", "", "", "-2h", true, "--ttl: "},
		{"KMSP", "", "", "0h", true, "--ttl: "},
		{"KMSP", "", "", "two days", true, "--ttl: "},
	}
	for _, c := range bad {
		_, err := request(c.msp, c.role, c.name, c.ttl, c.remove)
		require.Error(t, err, "%+v", c)
		assert.Contains(t, err.Error(), c.want)
		var fe *cmdutil.FlagError
		assert.ErrorAs(t, err, &fe, "a usage error")
	}
}

func proposal() model.Proposal {
	return model.Proposal{ID: "3f2a9c0d1e4b", Tx: "3f2a9c0d1e4b77", ExpiresAt: "2026-12-07T10:00:00Z",
		Change: model.Change{Action: model.ActionSet, Participant: model.Participant{MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas"}}}
}

func TestPropose(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ProposeChange, proposal())
	require.NoError(t, e.Run(newCmd(e), "propose", "--msp", "KaunasMSP", "--role", "collector", "--name", "Kaunas"))
	require.Len(t, e.Fake.Calls(), 1)
	c := e.Fake.Calls()[0]
	assert.True(t, c.Submit)
	assert.Equal(t, []string{`{"action":"set","msp":"KaunasMSP","role":"collector","name":"Kaunas"}`}, c.Args)
	assert.Equal(t, "Proposed 3f2a9c0d1e4b: set KaunasMSP as collector (\"Kaunas\") (tx 3f2a9c0d1e4b77), open until 2026-12-07T10:00:00Z.\n"+
		"Admins approve it with: mtrace registry approve 3f2a9c0d1e4b\n", e.Out.String())

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ProposeChange, proposal())
	require.NoError(t, e.Run(newCmd(e), "propose", "--msp", "KaunasMSP", "--role", "collector", "--name", "Kaunas", "-o", "json"))
	var got model.Proposal
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, proposal(), got)
}

func TestProposeErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.ProposeChange, "propose", "--msp", "MakerMSP", "--remove")
	e := cmdtest.New(t)
	err := e.Run(newCmd(e), "propose", "--msp", "MakerMSP", "--remove", "extra")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flags only")
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	e.Fake.On(api.ProposeChange, func([]string) ([]byte, error) { return []byte("[]"), nil })
	err = e.Run(newCmd(e), "propose", "--msp", "MakerMSP", "--remove")
	require.Error(t, err)
	assert.Contains(t, err.Error(), api.ProposeChange)
	assert.Empty(t, e.Out.String())
}
