package identity

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "identity", NewCmdIdentity, "enroll", "list", "register", "revoke")
}
