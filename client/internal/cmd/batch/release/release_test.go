package release

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdRelease(e.F, nil) }

func TestRelease(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.LastTx = "tx-release"
	args := cmdtest.BatchFormats(t, "release", newCmd, api.Release, b, "release", "PET-1")
	assert.Equal(t, []string{"PET-1"}, args)
}

func TestReleaseErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.Release, "release", "PET-1")
}
