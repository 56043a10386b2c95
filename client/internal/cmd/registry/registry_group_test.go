package registry

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "registry", NewCmdRegistry, "approve", "proposals", "propose", "reject", "show", "withdraw")
}
