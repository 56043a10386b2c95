package batch

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "batch", NewCmdBatch, "accept", "attach", "cancel", "get", "import", "list", "process", "quarantine", "register", "reject", "release", "transfer")
}
