package approve

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

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdApprove(e.F, nil) }

func vote(applied bool) model.Vote {
	p := model.Proposal{ID: "3f2a9c0d1e4b", Change: model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "MakerMSP"}}}
	if applied {
		return model.Vote{Proposal: p, Votes: 3, Needed: 3, Applied: true}
	}
	return model.Vote{Proposal: p, Votes: 2, Needed: 3}
}

func TestApproveSays(t *testing.T) {
	for _, c := range []struct {
		v    model.Vote
		want string
	}{
		{vote(false), "Approved 3f2a9c0d1e4b (remove MakerMSP): 2 of 3 approvals\n"},
		{vote(true), "Approved 3f2a9c0d1e4b: 3 of 3 approvals; the change applied: remove MakerMSP\n"},
	} {
		e := cmdtest.New(t)
		e.Fake.OnJSON(api.ApproveChange, c.v)
		require.NoError(t, e.Run(newCmd(e), "approve", "3f2a9c0d1e4b"))
		assert.Equal(t, c.want, e.Out.String())
		require.Len(t, e.Fake.Calls(), 1)
		assert.True(t, e.Fake.Calls()[0].Submit, "an approval is submitted")
		assert.Equal(t, []string{"3f2a9c0d1e4b"}, e.Fake.Calls()[0].Args)
		assert.True(t, e.Fake.Closed)
	}
}

func TestApproveJSON(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.ApproveChange, vote(true))
	require.NoError(t, e.Run(newCmd(e), "approve", "3f2a9c0d1e4b", "-o", "json"))
	var got model.Vote
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, vote(true), got)
}

func TestApproveErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.ApproveChange, "approve", "3f2a9c0d1e4b")

	e := cmdtest.New(t)
	e.Fake.On(api.ApproveChange, func([]string) ([]byte, error) { return []byte("not json"), nil })
	err := e.Run(newCmd(e), "approve", "3f2a9c0d1e4b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), api.ApproveChange)
	assert.Empty(t, e.Out.String())

	for _, args := range [][]string{{"approve"}, {"approve", "a", "b"}} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), args...)
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "one proposal ID")
		assert.Empty(t, e.Fake.Calls())
	}
}

func TestApproveOptions(t *testing.T) {
	e := cmdtest.New(t)
	var got *Options
	cmd := NewCmdApprove(e.F, func(o *Options) error { got = o; return nil })
	require.NoError(t, e.Run(cmd, "approve", "abc", "-o", "json"))
	require.NotNil(t, got)
	assert.Equal(t, "abc", got.ID)
	assert.Equal(t, cmdutil.FormatJSON, got.Format)
	assert.Empty(t, e.Fake.Calls(), "runF replaces the run")
}
