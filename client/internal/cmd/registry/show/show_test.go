package show

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdShow(e.F, nil) }

func registry() model.Registry {
	return model.Registry{Participants: []model.Participant{
		{MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Audit"},
		{MSP: "MakerMSP", Role: model.RoleMaker, Name: "Makers"},
		{MSP: "RecyclerMSP", Role: model.RoleRecycler, Name: "Recyclers"},
	}}
}

func TestShow(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry())
	require.NoError(t, e.Run(newCmd(e), "show"))
	out := e.Out.String()
	assert.Regexp(t, `MakerMSP\s+maker\s+Makers`, out)
	assert.Contains(t, out, "3 members; a change applies with the approvals of 2.")
	require.Len(t, e.Fake.Calls(), 1)
	assert.False(t, e.Fake.Calls()[0].Submit, "show only evaluates")

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetRegistry, registry())
	require.NoError(t, e.Run(newCmd(e), "show", "-o", "json"))
	var got model.Registry
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, registry(), got)
}

func TestShowErrors(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnError(api.GetRegistry, errors.New("peer unavailable"))
	err := e.Run(newCmd(e), "show")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "peer unavailable")
	assert.Empty(t, e.Out.String())

	e = cmdtest.New(t)
	err = e.Run(newCmd(e), "show", "extra")
	require.Error(t, err)
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	var got *Options
	require.NoError(t, e.Run(NewCmdShow(e.F, func(o *Options) error { got = o; return nil }), "show"))
	require.NotNil(t, got.Now)
	assert.WithinDuration(t, time.Now(), got.Now(), time.Minute, "the clock is the real one")
}
