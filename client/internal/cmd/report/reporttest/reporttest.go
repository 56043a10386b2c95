// Package reporttest makes a projection database for the report
// commands' tests: the constructed sites ledger, projected by `mtrace
// project --once` from a fake channel.
package reporttest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/project"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

// SitesDB projects projectiontest.SitesLedger into a new SQLite file and
// returns its --db URL.
func SitesDB(t *testing.T) string {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	e := cmdtest.New(t)
	e.Fake.AddBlocks(pt.SitesLedger(t)...)
	require.NoError(t, e.Run(project.NewCmdProject(e.F, nil), "project", "--db", db, "--once"))
	return db
}
