package root

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestRootHasEveryCommand(t *testing.T) {
	cmd := NewCmdRoot(cmdtest.New(t).F)
	for _, path := range [][]string{
		{"batch", "register"}, {"batch", "transfer"}, {"batch", "accept"}, {"batch", "get"},
		{"process"}, {"history"}, {"trace"}, {"verify"}, {"events"}, {"audit"}, {"migrate"}, {"project"},
		{"epcis", "export"}, {"epcis", "capture"}, {"registry", "approve"},
		{"identity", "revoke"}, {"version"}, {"completion"},
	} {
		c, rest, err := cmd.Find(path)
		require.NoError(t, err, "%v", path)
		assert.Empty(t, rest, "%v", path)
		assert.Equal(t, path[len(path)-1], c.Name())
	}
}

func TestRootFlagsAndDefaults(t *testing.T) {
	e := cmdtest.New(t)
	cmd := NewCmdRoot(e.F)
	for _, name := range []string{"output", "timeout", "config", "profile", "debug"} {
		assert.NotNil(t, cmd.PersistentFlags().Lookup(name), "--%s is global", name)
	}
	assert.True(t, cmd.SilenceErrors, "main prints errors, once")
	assert.True(t, cmd.SilenceUsage, "an error is not followed by the usage")
	assert.True(t, cmd.CompletionOptions.DisableDefaultCmd, "completion is mtrace's own command")

	cmd.SetArgs([]string{"-p", "recycler", "-o", "json", "version"})
	cmd.SetOut(e.Out)
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "recycler", e.F.Globals.Profile, "the global flags reach the factory")
	assert.Equal(t, "json", e.F.Globals.Output)
	assert.Contains(t, e.Out.String(), "test", "version prints the factory's version")
	assert.Empty(t, e.Fake.Calls())
}

func TestRootRefusesAnUnknownCommand(t *testing.T) {
	e := cmdtest.New(t)
	cmd := NewCmdRoot(e.F)
	cmd.SetArgs([]string{"frobnicate"})
	cmd.SetOut(e.Out)
	cmd.SetErr(e.Err)
	err := cmd.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown command "frobnicate" for "mtrace"`)
}
