package proof

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "proof", NewCmdProof, "export", "verify")
}
