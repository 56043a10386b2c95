package reject

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

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdReject(e.F, nil) }

func vote(dropped bool) model.Vote {
	p := model.Proposal{ID: "3f2a9c0d1e4b", Change: model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "MakerMSP"}}}
	if dropped {
		return model.Vote{Proposal: p, Votes: 2, Needed: 2, Dropped: true}
	}
	return model.Vote{Proposal: p, Votes: 1, Needed: 2}
}

func TestRejectSays(t *testing.T) {
	for _, c := range []struct {
		v    model.Vote
		want string
	}{
		{vote(false), "Rejected 3f2a9c0d1e4b (remove MakerMSP): 1 of 2 rejections\n"},
		{vote(true), "Rejected 3f2a9c0d1e4b: 2 of 2 rejections; the proposal is closed: remove MakerMSP\n"},
	} {
		e := cmdtest.New(t)
		e.Fake.OnJSON(api.RejectChange, c.v)
		require.NoError(t, e.Run(newCmd(e), "reject", "3f2a9c0d1e4b"))
		assert.Equal(t, c.want, e.Out.String())
		require.Len(t, e.Fake.Calls(), 1)
		assert.Equal(t, api.RejectChange, e.Fake.Calls()[0].Fn)
		assert.True(t, e.Fake.Calls()[0].Submit, "a rejection is submitted")
		assert.Equal(t, []string{"3f2a9c0d1e4b"}, e.Fake.Calls()[0].Args)
		assert.True(t, e.Fake.Closed)
	}
}

func TestRejectJSON(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.RejectChange, vote(true))
	require.NoError(t, e.Run(newCmd(e), "reject", "3f2a9c0d1e4b", "-o", "json"))
	var got model.Vote
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, vote(true), got)
}

func TestRejectErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.RejectChange, "reject", "3f2a9c0d1e4b")

	e := cmdtest.New(t)
	e.Fake.On(api.RejectChange, func([]string) ([]byte, error) { return []byte("not json"), nil })
	err := e.Run(newCmd(e), "reject", "3f2a9c0d1e4b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), api.RejectChange)
	assert.Empty(t, e.Out.String())

	for _, args := range [][]string{{"reject"}, {"reject", "a", "b"}} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), args...)
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "one proposal ID")
		assert.Empty(t, e.Fake.Calls())
	}
}

func TestRejectOptions(t *testing.T) {
	e := cmdtest.New(t)
	var got *Options
	cmd := NewCmdReject(e.F, func(o *Options) error { got = o; return nil })
	require.NoError(t, e.Run(cmd, "reject", "abc", "-o", "json"))
	require.NotNil(t, got)
	assert.Equal(t, "abc", got.ID)
	assert.Equal(t, cmdutil.FormatJSON, got.Format)
	assert.Empty(t, e.Fake.Calls(), "runF replaces the run")
}
