package proof

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroupHelpListsItsCommands(t *testing.T) {
	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdProof(e.F), "proof"))
	for _, sub := range []string{"export", "verify"} {
		assert.Regexp(t, `(?m)^  `+sub+`\s+\S`, e.Out.String(), "help lists %s", sub)
	}
	assert.Empty(t, e.Fake.Calls(), "help reads nothing from the ledger")
}

func TestGroupRefusesAnUnknownCommand(t *testing.T) {
	e := cmdtest.New(t)
	err := e.Run(NewCmdProof(e.F), "proof", "frobnicate")
	var fe *cmdutil.FlagError
	require.True(t, errors.As(err, &fe), "a usage error, got %v", err)
	assert.EqualError(t, err, `unknown command "frobnicate" for "mtrace proof"`)
	assert.Empty(t, e.Fake.Calls())
}

func TestGroupCommandsAreDocumented(t *testing.T) {
	e := cmdtest.New(t)
	cmd := NewCmdProof(e.F)
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
		assert.NotEmpty(t, c.Short, "%s has a one-line description", c.Name())
		assert.NotEmpty(t, c.Example, "%s has an example", c.Name())
		assert.NotNil(t, c.RunE, "%s runs", c.Name())
	}
	assert.ElementsMatch(t, []string{"export", "verify"}, names, "every command is in the group")
}
