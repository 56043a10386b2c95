package reporttest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

// SitesDB is a SQLite projection of every block of the sites ledger, as
// the reports read it: batches where the last block left them.
func TestSitesDBProjectsTheSitesLedger(t *testing.T) {
	url := SitesDB(t)
	require.True(t, strings.HasPrefix(url, "sqlite:"), url)
	_, err := os.Stat(strings.TrimPrefix(url, "sqlite:"))
	require.NoError(t, err)

	ctx := context.Background()
	db, err := projection.OpenReader(ctx, url)
	require.NoError(t, err, "a projection at this release's schema")
	defer db.Close()
	var next int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT next_block FROM checkpoint").Scan(&next))
	assert.Equal(t, len(pt.SitesLedger(t)), next, "every block projected")

	got := map[string]string{}
	rows, err := db.QueryContext(ctx, "SELECT id, owner || ' ' || status || ' ' || COALESCE(site, '') || ' ' || remaining_mass FROM batches")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, v string
		require.NoError(t, rows.Scan(&id, &v))
		got[id] = v
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, map[string]string{
		"OLD-1": "IstanbulMSP active " + pt.SiteCollector + " 500000",
		"PET-1": "RecyclerMSP consumed " + pt.SiteGebze + " 0",
		"BUY-1": "RecyclerMSP consumed " + pt.SiteGebze + " 0",
		"FLK-1": "MakerMSP active " + pt.SiteMaker + " 1300000",
	}, got)

	assert.NotEqual(t, url, SitesDB(t), "each call makes a new database")
}
