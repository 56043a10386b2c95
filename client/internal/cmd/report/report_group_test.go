package report

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func TestGroup(t *testing.T) {
	cmdtest.Group(t, "report", NewCmdReport, "balance", "ppwr", "declarations")
}
