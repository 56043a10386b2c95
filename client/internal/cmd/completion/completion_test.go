package completion

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_mtrace", "zsh": "#compdef mtrace", "fish": "complete -c mtrace"} {
		e := cmdtest.New(t)
		require.NoError(t, e.Run(NewCmdCompletion(e.F, nil), "completion", shell))
		assert.Contains(t, e.Out.String(), want, shell)
	}
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(NewCmdCompletion(e.F, nil), "completion", "tcsh"), `unsupported shell "tcsh"`)
	assert.ErrorContains(t, e.Run(NewCmdCompletion(e.F, nil), "completion"), "expected a shell")
}
