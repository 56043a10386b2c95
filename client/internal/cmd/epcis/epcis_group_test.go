package epcis

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "epcis", NewCmdEPCIS, "capture", "export", "validate")
}
