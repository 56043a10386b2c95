package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection"
	"github.com/mtrace/mtrace/internal/pgtest"
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

// The transfer station: from the first of October, one collection there
// for each of the city's, sorted there per 50 into a bale that is handed
// over at once to another recycler's plant. Its fourth quarter holds
// about 63,000 collections, 63,000 inputs taken, 1,260 bales made and
// 1,260 handed over: some 128,000 stock movements, more than a transfer
// station of the live city's year (119,841, all in one quarter).
var (
	benchStation     = benchSite(4, 0)
	benchStationFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

// buildYear writes the synthetic year into a new SQLite projection and
// returns its URL and the number of batches.
func buildYear(b *testing.B) (string, int) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "year.db")
	if keep := os.Getenv("MTRACE_BENCH_YEAR"); keep != "" {
		// A projection built by an earlier run, for runs of two builds
		// against the same rows.
		path = keep
		if _, err := os.Stat(path); err == nil {
			var n int
			db, err := sql.Open("sqlite", "file:"+path)
			require.NoError(b, err)
			defer db.Close()
			require.NoError(b, db.QueryRow("SELECT COUNT(DISTINCT batch_id) FROM stock_movements").Scan(&n))
			return "sqlite:" + path, n
		}
	}
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
		VALUES ($1, $15, $2, $3, $4, $5, $6, 'PET', $7, $8, $9, $10, $11, $12, $13, $14)`)
	txs := prep(`INSERT INTO transactions (block, tx_index, tx_id, tx_time, writes) VALUES ($1, $4, $2, $3, 4)`)
	proc := prep(`INSERT INTO processes (process_tx, step, by_msp, at, location, inputs, outputs, virgin_mass, loss, recycled_content_bp, doc, site, post_ppm, pre_ppm, block, tx_index, tx_id)
		VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, 10000, '{}', $9, 1000000, 0, $10, $11, $1)`)
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
	_, err = site.Exec("StationMSP", benchStation, "transfer station")
	require.NoError(b, err)
	_, err = site.Exec("BuyerMSP", benchSite(2, benchPlants), "buyer's plant")
	require.NoError(b, err)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// About 2.04 transactions per collection, spread over the year.
	step := 365 * 24 * time.Hour / (benchCollections * 204 / 100)
	block, batches := int64(2), 0
	clock := start
	newTx := func() (string, string, int64) {
		block++
		clock = clock.Add(step)
		id := fmt.Sprintf("tx%012d", block)
		_, err := txs.Exec(block, id, clock.Format(time.RFC3339Nano), 0)
		require.NoError(b, err)
		return id, at(clock), block
	}
	// stationTx is a further transaction of the current block, at
	// position index in it.
	stationTx := func(index int64) string {
		id := fmt.Sprintf("tx%012d-%d", block, index)
		_, err := txs.Exec(block, id, clock.Format(time.RFC3339Nano), index)
		require.NoError(b, err)
		return id
	}
	moveAt := func(bl, index int64, tx string, seq int, when, site, org, id, kind string, delta int64, class string, party, ref string) {
		_, err := mv.Exec(bl, tx, seq, when, site, org, id, kind, delta, class, int64(1_000_000), int64(0), party, ref, index)
		require.NoError(b, err)
	}
	move := func(bl int64, tx string, seq int, when, site, org, id, kind string, delta int64, class string, party, ref string) {
		moveAt(bl, 0, tx, seq, when, site, org, id, kind, delta, class, party, ref)
	}
	type held struct {
		id   string
		mass int64
	}
	var pellets []string
	station, buyer := benchStation, benchSite(2, benchPlants)
	var stationHeld struct {
		ids      []held
		n, bales int
	}
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
		if !clock.Before(benchStationFrom) {
			// The transfer station's collection, in the same block, and
			// every 50th its sorting into a bale, handed over at once.
			sid := fmt.Sprintf("STC-%07d", stationHeld.n)
			smass := int64(600_000 + c%300_000)
			stx := stationTx(1)
			moveAt(bl, 1, stx, 0, when, station, "StationMSP", sid, "collection", smass, "post-consumer", "", "")
			batches++
			stationHeld.n++
			stationHeld.ids = append(stationHeld.ids, held{sid, smass})
			if len(stationHeld.ids) == benchSortPer {
				stx = stationTx(2)
				var in int64
				for i, p := range stationHeld.ids {
					moveAt(bl, 2, stx, i, when, station, "StationMSP", p.id, "process_in", -p.mass, "", "", stx)
					in += p.mass
				}
				bale := fmt.Sprintf("BAL-%06d", stationHeld.bales)
				stationHeld.bales++
				made := in * 97 / 100
				moveAt(bl, 2, stx, len(stationHeld.ids), when, station, "StationMSP", bale, "process_out", made, "", "", stx)
				_, err := proc.Exec(stx, "sorting", "StationMSP", when, int64(len(stationHeld.ids)), 1, int64(0), in-made, station, bl, 2)
				require.NoError(b, err)
				batches++
				stx = stationTx(3)
				moveAt(bl, 3, stx, 0, when, station, "StationMSP", bale, "dispatch", -made, "", "BuyerMSP", "")
				moveAt(bl, 3, stx, 1, when, buyer, "BuyerMSP", bale, "receipt", made, "", "StationMSP", "")
				stationHeld.ids = stationHeld.ids[:0]
			}
		}
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
		_, err := proc.Exec(tx, "sorting", "RecyclerMSP", when, int64(len(pending[plant])), 1, int64(0), in-in*95/100, benchSite(2, plant), bl, 0)
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
		_, err = proc.Exec(tx, "extrusion", "RecyclerMSP", when, int64(len(sortedPending[plant])), 1, int64(0), in-made, benchSite(2, plant), bl, 0)
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
		_, err = proc.Exec(tx, "printing", "MakerMSP", when, int64(1), int64(benchProducts), int64(0), made-each*benchProducts, maker, bl, 0)
		require.NoError(b, err)
	}
	_, err = tx.Exec("UPDATE checkpoint SET next_block = $1", block+1)
	require.NoError(b, err)
	require.NoError(b, tx.Commit())
	return url, batches
}

// BenchmarkReportsOnAYear measures each report on the synthetic year
// (make bench-reports), on SQLite and on PostgreSQL (a real server,
// internal/pgtest; the same rows copied over): a quarter's balance of
// the busiest plant (about 31,000 receipts and 750 processes in the
// quarter), the transfer station's quarter (about 128,000 stock
// movements) in every format, a maker's plant's PPWR year, and a plant's
// declarations of a quarter. Each reports its median and slowest run
// (median-ms, max-ms); the log ends with the medians side by side. The
// issue's bound is 2 s each.
func BenchmarkReportsOnAYear(b *testing.B) {
	built := time.Now()
	url, n := buildYear(b)
	b.Logf("built a projection of %d batches in %s", n, time.Since(built).Round(time.Second))
	ctx := context.Background()
	lite, err := projection.OpenReader(ctx, url)
	require.NoError(b, err)
	defer lite.Close()
	var moves, atStation int
	require.NoError(b, lite.QueryRow("SELECT COUNT(*) FROM stock_movements").Scan(&moves))
	require.NoError(b, lite.QueryRow("SELECT COUNT(*) FROM stock_movements WHERE site = $1 AND at >= '2026-10-01'", benchStation).Scan(&atStation))
	b.Logf("%d stock movements, %d of them at the transfer station in the fourth quarter", moves, atStation)
	dbs := []struct {
		name string
		db   *sql.DB
	}{{"sqlite", lite}}
	if os.Getenv("MTRACE_BENCH_NO_PG") == "" {
		copied := time.Now()
		pg := copyToPG(b, url)
		defer pg.Close()
		b.Logf("copied it to PostgreSQL in %s", time.Since(copied).Round(time.Second))
		dbs = append(dbs, struct {
			name string
			db   *sql.DB
		}{"postgresql", pg})
	}
	q, err := ParsePeriod("2026-10-01", "2026-12-31")
	require.NoError(b, err)
	type report struct {
		name string
		run  func(db *sql.DB) error
	}
	balance := func(site, format string, check func(*Balance)) func(*sql.DB) error {
		return func(db *sql.DB) error {
			r, err := BalanceOf(ctx, db, site, q, time.Now())
			if err != nil {
				return err
			}
			check(r)
			return Render(io.Discard, format, r)
		}
	}
	plant := func(r *Balance) {
		require.False(b, r.Negative)
		require.Len(b, r.Materials, 1)
	}
	station := func(r *Balance) {
		require.False(b, r.Negative)
		require.Len(b, r.Materials, 1)
		require.Greater(b, len(r.Materials[0].Series), 60_000)
	}
	reports := []report{
		{"balance-quarter", balance(benchSite(2, 0), FormatTable, plant)},
		{"balance-quarter-html", balance(benchSite(2, 0), FormatHTML, plant)},
		{"balance-station-table", balance(benchStation, FormatTable, station)},
		{"balance-station-json", balance(benchStation, FormatJSON, station)},
		{"balance-station-csv", balance(benchStation, FormatCSV, station)},
		{"balance-station-html", balance(benchStation, FormatHTML, station)},
		{"ppwr-year", func(db *sql.DB) error {
			r, err := PPWROf(ctx, db, benchSite(3, 0), 2026, time.Now())
			if err != nil {
				return err
			}
			require.Len(b, r.Materials, 1)
			return Render(io.Discard, FormatTable, r)
		}},
		{"declarations-quarter", func(db *sql.DB) error {
			r, err := DeclarationsOf(ctx, db, benchSite(2, 0), "2026-10-01", "2026-12-31", time.Now())
			if err != nil {
				return err
			}
			require.NotEmpty(b, r.Declarations)
			return Render(io.Discard, FormatTable, r)
		}},
	}
	medians := map[string]map[string]time.Duration{}
	for _, d := range dbs {
		for _, r := range reports {
			b.Run(d.name+"/"+r.name, func(b *testing.B) {
				var runs, cpus []time.Duration
				for b.Loop() {
					t, c := time.Now(), cpuTime()
					require.NoError(b, r.run(d.db))
					runs, cpus = append(runs, time.Since(t)), append(cpus, cpuTime()-c)
				}
				med := median(runs)
				b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
				b.ReportMetric(float64(runs[len(runs)-1].Microseconds())/1000, "max-ms")
				// The CPU this process spent (the report's goroutine, the
				// garbage collector and the driver; not PostgreSQL's
				// server), which a busy machine inflates less than the
				// wall time.
				b.ReportMetric(float64(median(cpus).Microseconds())/1000, "cpu-ms")
				if medians[r.name] == nil {
					medians[r.name] = map[string]time.Duration{}
				}
				medians[r.name][d.name] = med
			})
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "medians:\n%-24s %12s %12s\n", "report", "sqlite", "postgresql")
	for _, r := range reports {
		fmt.Fprintf(&sb, "%-24s %12s %12s\n", r.name, medians[r.name]["sqlite"].Round(time.Millisecond), medians[r.name]["postgresql"].Round(time.Millisecond))
	}
	var load string
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(l))[:3], " ")
	}
	fmt.Fprintf(&sb, "load average %s", load)
	b.Log(sb.String())
}

// median sorts ds and returns their median.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	if n := len(ds); n%2 == 0 {
		return (ds[n/2-1] + ds[n/2]) / 2
	}
	return ds[len(ds)/2]
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// copyToPG starts a PostgreSQL server for the benchmark, creates a
// projection there and copies into it the rows the reports read from the
// SQLite projection at url, then has PostgreSQL analyze them, as its
// autovacuum does after a catch-up.
func copyToPG(b *testing.B, url string) *sql.DB {
	b.Helper()
	ctx := context.Background()
	if os.Getenv("MTRACE_TEST_PG_PORT") == "" {
		p, err := pgtest.Port()
		require.NoError(b, err)
		b.Setenv("MTRACE_TEST_PG_PORT", strconv.Itoa(p+2))
	}
	srv := pgtest.Start(b)
	pgURL := srv.CreateDB(b, "year")
	s, err := projection.Open(ctx, pgURL)
	require.NoError(b, err)
	require.NoError(b, s.Close())
	src, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(url, "sqlite:"))
	require.NoError(b, err)
	defer src.Close()
	dst, err := sql.Open("pgx", pgURL)
	require.NoError(b, err)
	defer dst.Close()
	conn, err := dst.Conn(ctx)
	require.NoError(b, err)
	defer conn.Close()
	for _, t := range []string{"transactions", "processes", "declarations", "sites", "stock_movements"} {
		rows, err := src.Query("SELECT * FROM " + t)
		require.NoError(b, err)
		names, err := rows.Columns()
		require.NoError(b, err)
		var all [][]any
		for rows.Next() {
			row := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range row {
				ptrs[i] = &row[i]
			}
			require.NoError(b, rows.Scan(ptrs...))
			all = append(all, row)
		}
		require.NoError(b, closeRows(rows))
		require.NoError(b, conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{t}, names, pgx.CopyFromRows(all))
			return err
		}))
	}
	var next int64
	require.NoError(b, src.QueryRow("SELECT next_block FROM checkpoint").Scan(&next))
	_, err = conn.ExecContext(ctx, "UPDATE checkpoint SET next_block = $1", next)
	require.NoError(b, err)
	_, err = conn.ExecContext(ctx, "ANALYZE")
	require.NoError(b, err)
	db, err := projection.OpenReader(ctx, pgURL)
	require.NoError(b, err)
	return db
}
