package projection

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection/projectiontest"
	"github.com/mtrace/mtrace/internal/pgtest"
)

func sitesBlocks(t testing.TB) []*Block {
	var out []*Block
	for _, blk := range projectiontest.SitesLedger(t) {
		b, err := Decode(blk, ns)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// movement is a stock_movements row, as the tests compare it.
type movement struct {
	Block          int64
	Tx, Site, Org  string
	Batch, Kind    string
	Delta          int64
	Class          string
	Post, Pre      int64
	Party, Ref, At string
}

func readMovements(t *testing.T, s Store) []movement {
	rows, err := s.(*sqlStore).db.Query(`SELECT block, tx_id, site, org, batch_id, kind, delta, origin_class, post_ppm, pre_ppm, counterparty, ref, at
		FROM stock_movements ORDER BY block, tx_index, seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []movement
	for rows.Next() {
		var m movement
		require.NoError(t, rows.Scan(&m.Block, &m.Tx, &m.Site, &m.Org, &m.Batch, &m.Kind, &m.Delta, &m.Class, &m.Post, &m.Pre, &m.Party, &m.Ref, &m.At))
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

// checkSitesLedger projects the sites ledger into s and checks its
// movements, sites, purchases and declarations, and that every site's
// movements add up to the batches it holds.
func checkSitesLedger(t *testing.T, s Store) string {
	ctx := context.Background()
	for _, b := range sitesBlocks(t) {
		require.NoError(t, s.Apply(ctx, b))
	}
	const (
		ist, rec, mak = "IstanbulMSP", "RecyclerMSP", "MakerMSP"
		dep, geb, plt = projectiontest.SiteCollector, projectiontest.SiteGebze, projectiontest.SiteMaker
		fp, fr        = projectiontest.FlakePost, projectiontest.FlakePre
	)
	at := func(n int) string { return MovementTime(projectiontest.BlockTime(n)) }
	want := []movement{
		{1, "r0", "", ist, "OLD-1", MoveCollection, 500_000, "post-consumer", 1_000_000, 0, "", "", at(1)},
		{2, "r1", dep, ist, "PET-1", MoveCollection, 1_000_000, "post-consumer", 1_000_000, 0, "", "", at(2)},
		{2, "r2", geb, rec, "BUY-1", MovePurchase, 400_000, "pre-consumer", 0, 1_000_000, "Plastik Fabrika A.S.", "", at(2)},
		// The sending site comes from the offer written earlier in the
		// same block.
		{3, "a1", dep, ist, "PET-1", MoveDispatch, -1_000_000, "", 1_000_000, 0, rec, "D-1", at(3)},
		{3, "a1", geb, rec, "PET-1", MoveReceipt, 990_000, "", 1_000_000, 0, ist, "D-1", at(3)},
		{4, "p1", geb, rec, "PET-1", MoveProcessIn, -990_000, "", 1_000_000, 0, "", "p1", at(4)},
		{4, "p1", geb, rec, "BUY-1", MoveProcessIn, -400_000, "", 0, 1_000_000, "", "p1", at(4)},
		{4, "p1", geb, rec, "FLK-1", MoveProcessOut, 1_300_000, "", fp, fr, "", "p1", at(4)},
		// The sending site comes from the database (block 4).
		{5, "a2", geb, rec, "FLK-1", MoveDispatch, -1_300_000, "", fp, fr, mak, "D-2", at(5)},
		{5, "a2", plt, mak, "FLK-1", MoveReceipt, 1_300_000, "", fp, fr, rec, "D-2", at(5)},
		{5, "m1", "", ist, "OLD-1", MoveMovedOut, -500_000, "", 1_000_000, 0, "", "", at(5)},
		{5, "m1", dep, ist, "OLD-1", MovePlaced, 500_000, "", 1_000_000, 0, "", "", at(5)},
	}
	assert.Equal(t, want, readMovements(t, s))

	db := s.(*sqlStore).db
	// Each site's movements add up to what its batches hold.
	rows, err := db.Query(`SELECT m.site, m.material, SUM(m.delta),
		(SELECT COALESCE(SUM(b.remaining_mass), 0) FROM batches b WHERE b.site = m.site AND b.material = m.material AND b.status <> 'in_transit')
		FROM stock_movements m GROUP BY m.site, m.material ORDER BY m.site`)
	require.NoError(t, err)
	stock := map[string][2]int64{}
	for rows.Next() {
		var site, material string
		var sum, held int64
		require.NoError(t, rows.Scan(&site, &material, &sum, &held))
		stock[site+"/"+material] = [2]int64{sum, held}
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, map[string][2]int64{"/PET": {0, 0}, dep + "/PET": {500_000, 500_000}, geb + "/PET": {0, 0}, plt + "/PET": {1_300_000, 1_300_000}}, stock)

	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sites`).Scan(&n))
	assert.Equal(t, 4, n)
	var name string
	var def int64
	require.NoError(t, db.QueryRow(`SELECT name, is_default FROM sites WHERE org = $1 AND id = $2`, rec, projectiontest.SiteDilovasi).Scan(&name, &def))
	assert.Equal(t, "site "+projectiontest.SiteDilovasi, name)
	assert.Equal(t, int64(0), def)

	var supplier, class, psite string
	var mass, block int64
	require.NoError(t, db.QueryRow(`SELECT supplier, origin_class, site, mass, block FROM purchases WHERE batch_id = 'BUY-1'`).Scan(&supplier, &class, &psite, &mass, &block))
	assert.Equal(t, []any{"Plastik Fabrika A.S.", "pre-consumer", geb, int64(400_000), int64(2)}, []any{supplier, class, psite, mass, block},
		"the purchase row is its registration's, not the process's that consumed it")

	type decl struct {
		ID, Claimed string
		Post, Block int64
	}
	var decls []decl
	rows, err = db.Query(`SELECT id, COALESCE(claimed_by, ''), post_ppm, block FROM declarations ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var d decl
		require.NoError(t, rows.Scan(&d.ID, &d.Claimed, &d.Post, &d.Block))
		decls = append(decls, d)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, []decl{{"D-1", rec, 1_000_000, 4}, {"D-2", "", fp, 5}}, decls)

	var site, oclass string
	var post, pre int64
	require.NoError(t, db.QueryRow(`SELECT site, post_ppm, pre_ppm, origin_class FROM batches WHERE id = 'OLD-1'`).Scan(&site, &post, &pre, &oclass))
	assert.Equal(t, []any{dep, int64(1_000_000), int64(0), "post-consumer"}, []any{site, post, pre, oclass})
	require.NoError(t, db.QueryRow(`SELECT site, post_ppm, pre_ppm FROM processes WHERE process_tx = 'p1'`).Scan(&site, &post, &pre))
	assert.Equal(t, []any{geb, int64(fp), int64(fr)}, []any{site, post, pre})
	return dump(t, s)
}

func TestSitesLedgerOnSQLiteAndPostgres(t *testing.T) {
	ctx := context.Background()
	lite, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	defer lite.Close()
	liteDump := checkSitesLedger(t, lite)

	srv := pgtest.Start(t)
	pg, err := Open(ctx, srv.CreateDB(t, "sites"))
	require.NoError(t, err)
	defer pg.Close()
	assert.Equal(t, liteDump, checkSitesLedger(t, pg), "PostgreSQL and SQLite hold the same rows")
}

// A database of schema version 1, holding what that release projected
// of the sites ledger, is migrated by Open: emptied, its checkpoint back
// at block 0, and rebuilt from there it equals a fresh projection.
func TestMigrationFromSchema1Rebuilds(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, url, freshURL string) {
		s, err := Open(ctx, freshURL)
		require.NoError(t, err)
		for _, b := range sitesBlocks(t) {
			require.NoError(t, s.Apply(ctx, b))
		}
		want := dump(t, s)
		require.NoError(t, s.Close())

		// Version 1's tables, as the previous release left them after
		// the six blocks: a batch row of its columns, the site lists
		// and declarations as unknown writes, the checkpoint at 6.
		old, err := open(ctx, url, 1)
		require.NoError(t, err)
		for _, stmt := range []string{
			`INSERT INTO batches (id, material, waste_code, form, owner, status, origin, initial_mass, remaining_mass, transit_loss,
				taken_mass, takes, recycled_content_bp, created_at, created_tx, updated_at, last_tx, event, format, doc, block, tx_index, tx_id)
				VALUES ('OLD-1', 'PET', '', 'waste', 'IstanbulMSP', 'active', 'collection', 500000, 500000, 0, 0, 0, 10000,
				'2026-11-20T07:00:00Z', 'r0', '2026-11-20T07:00:00Z', 'm1', 'BatchesMigrated', 2, '{}', 5, 2, 'm1')`,
			`INSERT INTO unknown_writes (write_index, key_type, key_attrs, value_bytes, deleted, block, tx_index, tx_id)
				VALUES (0, 'sites', '["IstanbulMSP"]', 200, 0, 1, 1, 's-IstanbulMSP')`,
			`UPDATE checkpoint SET next_block = 6`,
		} {
			_, err := old.db.Exec(stmt)
			require.NoError(t, err)
		}
		var v int
		require.NoError(t, old.db.QueryRow("SELECT version FROM schema_version").Scan(&v))
		require.Equal(t, 1, v)
		require.NoError(t, old.Close())

		s, err = Open(ctx, url)
		require.NoError(t, err)
		defer s.Close()
		next, err := s.Next(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(0), next, "the migration starts the projection again from block 0")
		require.NoError(t, s.(*sqlStore).db.QueryRow("SELECT version FROM schema_version").Scan(&v))
		assert.Equal(t, SchemaVersion, v)
		var n int
		require.NoError(t, s.(*sqlStore).db.QueryRow("SELECT COUNT(*) FROM batches").Scan(&n))
		assert.Equal(t, 0, n, "the derived rows are gone until rebuilt")
		for _, b := range sitesBlocks(t) {
			require.NoError(t, s.Apply(ctx, b))
		}
		assert.Equal(t, want, dump(t, s), "the rebuilt projection equals a fresh one")
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		run(t, "sqlite:"+filepath.Join(dir, "old.db"), "sqlite:"+filepath.Join(dir, "fresh.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		srv := pgtest.Start(t)
		run(t, srv.CreateDB(t, "old"), srv.CreateDB(t, "fresh"))
	})
}
