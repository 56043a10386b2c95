package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection"
)

// A year of a city, as the projection holds it for the reports: 250,000
// collections at 10 depots of one collector, each handed over to one of
// the recycler's two plants; sorting there per 50 collections, extrusion
// per 5 sorted batches into pellets, each pellet batch handed over to one
// of 5 makers' plants with a declaration (claimed), and printed there into
// 10 products. Every movement, process, declaration and transaction row
// the reports read is there at full size; the batches and events tables,
// which no report reads, are left empty.
const (
	benchCollections = 250_000
	benchDepots      = 10
	benchPlants      = 2
	benchMakers      = 5
	benchSortPer     = 50
	benchExtrudePer  = 5
	benchProducts    = 10
)

func benchSite(kind, n int) string { return fmt.Sprintf("86%d%09d0", kind, n) }

// buildYear writes the synthetic year into a new SQLite projection and
// returns its URL and the number of batches.
func buildYear(b *testing.B) (string, int) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "year.db")
	url := "sqlite:" + path
	s, err := projection.Open(ctx, url)
	require.NoError(b, err)
	require.NoError(b, s.Close())
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	require.NoError(b, err)
	defer db.Close()
	tx, err := db.Begin()
	require.NoError(b, err)
	prep := func(q string) *sql.Stmt {
		st, err := tx.Prepare(q)
		require.NoError(b, err)
		return st
	}
	mv := prep(`INSERT INTO stock_movements (block, tx_index, tx_id, seq, at, site, org, material, batch_id, kind, delta, origin_class, post_ppm, pre_ppm, counterparty, ref)
		VALUES ($1, 0, $2, $3, $4, $5, $6, 'PET', $7, $8, $9, $10, $11, $12, $13, $14)`)
	txs := prep(`INSERT INTO transactions (block, tx_index, tx_id, tx_time, writes) VALUES ($1, 0, $2, $3, 4)`)
	proc := prep(`INSERT INTO processes (process_tx, step, by_msp, at, location, inputs, outputs, virgin_mass, loss, recycled_content_bp, doc, site, post_ppm, pre_ppm, block, tx_index, tx_id)
		VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, 10000, '{}', $9, 1000000, 0, $10, 0, $1)`)
	decl := prep(`INSERT INTO declarations (id, batch_id, supplier, recipient, site, material, mass, post_ppm, pre_ppm, model, certificate, offer_tx, issued_at, issue_tx,
			claimed_by, claimed_at, claim_tx, claim_site, doc, block, tx_index, tx_id)
		VALUES ($1, $2, 'RecyclerMSP', 'MakerMSP', $3, 'PET', $4, 1000000, 0, 'mass-balance', 'ISCC-1', $5, $6, $5, 'MakerMSP', $6, $7, $8, '{}', $9, 0, $7)`)
	site := prep(`INSERT INTO sites (org, id, name, is_default, added_at, added_tx, block, tx_index, tx_id) VALUES ($1, $2, $3, 0, '2026-01-01T00:00:00Z', 's', 1, 0, 's')`)
	for i := range benchDepots {
		_, err := site.Exec("IstanbulMSP", benchSite(1, i), fmt.Sprintf("depot %d", i))
		require.NoError(b, err)
	}
	for i := range benchPlants {
		_, err := site.Exec("RecyclerMSP", benchSite(2, i), fmt.Sprintf("plant %d", i))
		require.NoError(b, err)
	}
	for i := range benchMakers {
		_, err := site.Exec("MakerMSP", benchSite(3, i), fmt.Sprintf("maker %d", i))
		require.NoError(b, err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// About 2.04 transactions per collection, spread over the year.
	step := 365 * 24 * time.Hour / (benchCollections * 204 / 100)
	block, batches := int64(2), 0
	clock := start
	newTx := func() (string, string, int64) {
		block++
		clock = clock.Add(step)
		id := fmt.Sprintf("tx%012d", block)
		_, err := txs.Exec(block, id, clock.Format(time.RFC3339Nano))
		require.NoError(b, err)
		return id, at(clock), block
	}
	move := func(bl int64, tx string, seq int, when, site, org, id, kind string, delta int64, class string, party, ref string) {
		_, err := mv.Exec(bl, tx, seq, when, site, org, id, kind, delta, class, int64(1_000_000), int64(0), party, ref)
		require.NoError(b, err)
	}
	type held struct {
		id   string
		mass int64
	}
	var pellets []string
	sortedAt := make([]int, benchPlants)
	pending := make([][]held, benchPlants)
	var sortedPending [benchPlants][]held
	for c := range benchCollections {
		id := fmt.Sprintf("COL-%07d", c)
		depot, plant := benchSite(1, c%benchDepots), c%benchPlants
		mass := int64(800_000 + c%400_000)
		tx, when, bl := newTx()
		move(bl, tx, 0, when, depot, "IstanbulMSP", id, "collection", mass, "post-consumer", "", "")
		batches++
		tx, when, bl = newTx()
		move(bl, tx, 0, when, depot, "IstanbulMSP", id, "dispatch", -mass, "", "RecyclerMSP", "")
		move(bl, tx, 1, when, benchSite(2, plant), "RecyclerMSP", id, "receipt", mass-1000, "", "IstanbulMSP", "")
		pending[plant] = append(pending[plant], held{id, mass - 1000})
		if len(pending[plant]) < benchSortPer {
			continue
		}
		// Sorting at the plant: the collections in, one sorted batch out.
		tx, when, bl = newTx()
		var in int64
		for i, p := range pending[plant] {
			move(bl, tx, i, when, benchSite(2, plant), "RecyclerMSP", p.id, "process_in", -p.mass, "", "", tx)
			in += p.mass
		}
		out := fmt.Sprintf("SRT-%06d", sortedAt[plant]*benchPlants+plant)
		sortedAt[plant]++
		move(bl, tx, len(pending[plant]), when, benchSite(2, plant), "RecyclerMSP", out, "process_out", in*95/100, "", "", tx)
		_, err := proc.Exec(tx, "sorting", "RecyclerMSP", when, int64(len(pending[plant])), 1, int64(0), in-in*95/100, benchSite(2, plant), bl)
		require.NoError(b, err)
		batches++
		pending[plant] = pending[plant][:0]
		sortedPending[plant] = append(sortedPending[plant], held{out, in * 95 / 100})
		if len(sortedPending[plant]) < benchExtrudePer {
			continue
		}
		// Extrusion into one pellet batch, handed over to a maker with a
		// declaration, and printed into products there.
		tx, when, bl = newTx()
		in = 0
		for i, p := range sortedPending[plant] {
			move(bl, tx, i, when, benchSite(2, plant), "RecyclerMSP", p.id, "process_in", -p.mass, "", "", tx)
			in += p.mass
		}
		pel := fmt.Sprintf("PEL-%06d", len(pellets))
		made := in * 98 / 100
		move(bl, tx, len(sortedPending[plant]), when, benchSite(2, plant), "RecyclerMSP", pel, "process_out", made, "", "", tx)
		_, err = proc.Exec(tx, "extrusion", "RecyclerMSP", when, int64(len(sortedPending[plant])), 1, int64(0), in-made, benchSite(2, plant), bl)
		require.NoError(b, err)
		batches++
		pellets = append(pellets, pel)
		sortedPending[plant] = sortedPending[plant][:0]
		maker := benchSite(3, len(pellets)%benchMakers)
		issue, _, _ := newTx()
		tx, when, bl = newTx()
		move(bl, tx, 0, when, benchSite(2, plant), "RecyclerMSP", pel, "dispatch", -made, "", "MakerMSP", "D-"+pel)
		move(bl, tx, 1, when, maker, "MakerMSP", pel, "receipt", made, "", "RecyclerMSP", "D-"+pel)
		claim, _, cbl := newTx()
		_, err = decl.Exec("D-"+pel, pel, benchSite(2, plant), made, issue, clock.Add(-2*step).Format(time.RFC3339Nano), claim, maker, cbl)
		require.NoError(b, err)
		tx, when, bl = newTx()
		move(bl, tx, 0, when, maker, "MakerMSP", pel, "process_in", -made, "", "", tx)
		each := made * 9 / 10 / benchProducts
		for p := range benchProducts {
			move(bl, tx, p+1, when, maker, "MakerMSP", fmt.Sprintf("%s-P%02d", pel, p), "process_out", each, "", "", tx)
			batches++
		}
		_, err = proc.Exec(tx, "printing", "MakerMSP", when, int64(1), int64(benchProducts), int64(0), made-each*benchProducts, maker, bl)
		require.NoError(b, err)
	}
	_, err = tx.Exec("UPDATE checkpoint SET next_block = $1", block+1)
	require.NoError(b, err)
	require.NoError(b, tx.Commit())
	return url, batches
}

// BenchmarkReportsOnAYear measures each report on the synthetic year
// (make bench-reports): a quarter's balance of the busiest site (a
// recycling plant: about 31,000 receipts and 750 processes in the
// quarter), a maker's plant's PPWR year, and a plant's declarations of a
// quarter. The issue's bound is 2 s each.
func BenchmarkReportsOnAYear(b *testing.B) {
	built := time.Now()
	url, n := buildYear(b)
	b.Logf("built a projection of %d batches in %s", n, time.Since(built).Round(time.Second))
	ctx := context.Background()
	db, err := projection.OpenReader(ctx, url)
	require.NoError(b, err)
	defer db.Close()
	var moves int
	require.NoError(b, db.QueryRow("SELECT COUNT(*) FROM stock_movements").Scan(&moves))
	b.Logf("%d stock movements", moves)
	q, err := ParsePeriod("2026-10-01", "2026-12-31")
	require.NoError(b, err)
	b.Run("balance-quarter", func(b *testing.B) {
		for b.Loop() {
			r, err := BalanceOf(ctx, db, benchSite(2, 0), q, time.Now())
			require.NoError(b, err)
			require.False(b, r.Negative)
			require.Len(b, r.Materials, 1)
			require.NoError(b, Render(io.Discard, FormatTable, r))
		}
	})
	b.Run("balance-quarter-html", func(b *testing.B) {
		for b.Loop() {
			r, err := BalanceOf(ctx, db, benchSite(2, 0), q, time.Now())
			require.NoError(b, err)
			require.NoError(b, Render(io.Discard, FormatHTML, r))
		}
	})
	b.Run("ppwr-year", func(b *testing.B) {
		for b.Loop() {
			r, err := PPWROf(ctx, db, benchSite(3, 0), 2026, time.Now())
			require.NoError(b, err)
			require.Len(b, r.Materials, 1)
			require.NoError(b, Render(io.Discard, FormatTable, r))
		}
	})
	b.Run("declarations-quarter", func(b *testing.B) {
		for b.Loop() {
			r, err := DeclarationsOf(ctx, db, benchSite(2, 0), "2026-10-01", "2026-12-31", time.Now())
			require.NoError(b, err)
			require.NotEmpty(b, r.Declarations)
			require.NoError(b, Render(io.Discard, FormatTable, r))
		}
	})
}
