package report

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection"
)

// rawProjection creates an empty projection at url and returns it open
// for writing rows straight into its tables, and the reader a report
// uses.
func rawProjection(t *testing.T, url string) (w, r *sql.DB) {
	t.Helper()
	ctx := context.Background()
	s, err := projection.Open(ctx, url)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	driver, dsn := "pgx", url
	if p, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+p
	}
	w, err = sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	_, err = w.Exec(`INSERT INTO sites (org, id, name, is_default, added_at, added_tx, block, tx_index, tx_id) VALUES ('RecyclerMSP', '8690000000011', 'yard', 1, '2026-01-01T00:00:00Z', 's', 1, 0, 's')`)
	require.NoError(t, err)
	r, err = projection.OpenReader(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return w, r
}

type rawMove struct {
	block, index, seq int64
	at                time.Time
	material, batch   string
	kind              string
	delta             int64
	ref               string
}

func insertMoves(t *testing.T, db *sql.DB, site string, ms ...rawMove) {
	t.Helper()
	for _, m := range ms {
		tx := fmt.Sprintf("t%d-%d", m.block, m.index)
		_, err := db.Exec(`INSERT INTO stock_movements (block, tx_index, tx_id, seq, at, site, org, material, batch_id, kind, delta, origin_class, post_ppm, pre_ppm, counterparty, ref)
			VALUES ($1, $2, $3, $4, $5, $6, 'RecyclerMSP', $7, $8, $9, $10, '', 1000000, 0, '', $11)`,
			m.block, m.index, tx, m.seq, at(m.at), site, m.material, m.batch, m.kind, m.delta, m.ref)
		require.NoError(t, err)
	}
}

// chainOrderLedger has a transaction of a later block stamped earlier
// than one of an earlier block (a client sets its transaction's time):
// the balance runs in chain order, so it goes below zero after t6-0 and
// only then.
func chainOrderLedger(t *testing.T, url string) *sql.DB {
	w, r := rawProjection(t, url)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	insertMoves(t, w, "8690000000011",
		rawMove{block: 5, at: day(3, 10), material: "PET", batch: "A", kind: KindReceipt, delta: 100_000},
		rawMove{block: 6, at: day(2, 9), material: "PET", batch: "A", kind: KindDispatch, delta: -150_000},
		rawMove{block: 7, at: day(4, 8), material: "PET", batch: "B", kind: KindReceipt, delta: 100_000},
		rawMove{block: 7, index: 1, seq: 1, at: day(4, 8), material: "PET", batch: "B", kind: KindDispatch, delta: -20_000},
		rawMove{block: 7, index: 1, seq: 0, at: day(4, 8), material: "PET", batch: "C", kind: KindReceipt, delta: 30_000},
	)
	_, err := w.Exec("UPDATE checkpoint SET next_block = 8")
	require.NoError(t, err)
	return r
}

func TestTheBalanceRunsInChainOrderNotTimeOrder(t *testing.T) {
	check := func(t *testing.T, db *sql.DB) *Balance {
		b, err := BalanceOf(context.Background(), db, "8690000000011", november(t), now)
		require.NoError(t, err)
		require.Len(t, b.Materials, 1)
		m := b.Materials[0]
		assert.True(t, b.Negative)
		var series []string
		for _, p := range m.Series {
			series = append(series, fmt.Sprintf("%s %d", p.Tx, p.Balance))
		}
		assert.Equal(t, []string{"t5-0 100000", "t6-0 -50000", "t7-0 50000", "t7-1 60000"}, series)
		assert.Equal(t, []Point{{At: at(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)), Balance: -50_000, Block: 6, Tx: "t6-0"}}, m.Negative)
		assert.Equal(t, int64(-50_000), m.Lowest)
		require.NotNil(t, m.LowestAt)
		assert.Equal(t, "t6-0", m.LowestAt.Tx)
		assert.Equal(t, int64(60_000), m.Closing)
		// Within t7-1 the seq order: C's receipt before B's dispatch.
		require.Len(t, m.Inputs, 1)
		var batches []string
		for _, r := range m.Inputs[0].Refs {
			batches = append(batches, r.Batch)
		}
		assert.Equal(t, []string{"A", "B", "C"}, batches)
		return b
	}
	l := check(t, chainOrderLedger(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")))
	srv := startPG(t)
	p := check(t, chainOrderLedger(t, srv.CreateDB(t, "order")))
	assert.Equal(t, l, p, "PostgreSQL and SQLite give the same statement")
}

// A process counts as virgin material and loss only when all of its
// inputs and outputs are at the site, of one material, and add up to
// virgin - loss; more processes than one lookup takes.
func TestSimpleProcesses(t *testing.T) {
	w, r := rawProjection(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	var moves []move
	proc := func(tx string, inputs, outputs, virgin, loss int64) {
		_, err := w.Exec(`INSERT INTO processes (process_tx, step, by_msp, at, location, inputs, outputs, virgin_mass, loss, recycled_content_bp, doc, site, post_ppm, pre_ppm, block, tx_index, tx_id)
			VALUES ($1, 'sorting', 'RecyclerMSP', '', '', $2, $3, $4, $5, 0, '{}', '8690000000011', 0, 0, 1, 0, $1)`, tx, inputs, outputs, virgin, loss)
		require.NoError(t, err)
	}
	mv := func(tx, material, kind string, delta int64) {
		moves = append(moves, move{tx: tx, ref: tx, material: material, kind: kind, delta: delta})
	}
	want := map[string]simpleProcess{}
	for i := range 1_100 {
		tx := fmt.Sprintf("p%04d", i)
		proc(tx, 2, 1, 5, 15)
		mv(tx, "PET", KindProcessIn, -60)
		mv(tx, "PET", KindProcessIn, -40)
		mv(tx, "PET", KindProcessOut, 90)
		want[tx] = simpleProcess{virgin: 5, loss: 15}
	}
	// An input held at another site: one movement of two here.
	proc("elsewhere", 1, 1, 0, 10)
	mv("elsewhere", "PET", KindProcessOut, 90)
	// Two materials.
	proc("mixed", 1, 1, 0, 10)
	mv("mixed", "PET", KindProcessIn, -100)
	mv("mixed", "HDPE", KindProcessOut, 90)
	// Movements that do not add up to virgin - loss.
	proc("odd", 1, 1, 0, 5)
	mv("odd", "PET", KindProcessIn, -100)
	mv("odd", "PET", KindProcessOut, 90)
	// A dispatch is no process movement, whatever its ref.
	moves = append(moves, move{tx: "d", ref: "p0000", material: "PET", kind: KindDispatch, delta: -1})
	got, err := simpleProcesses(context.Background(), r, moves)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// The basis names the last transaction in chain order, read by the
// primary key, even when an earlier block holds a later timestamp; an
// empty projection has none.
func TestBasisNamesTheLastTransactionInChainOrder(t *testing.T) {
	w, r := rawProjection(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	b, err := basis(context.Background(), r, now)
	require.NoError(t, err)
	assert.Empty(t, b.LastTxAt)
	for _, tx := range []struct {
		block, index int
		at           string
	}{{5, 0, "2026-11-20T10:00:00Z"}, {5, 1, "2026-11-20T10:00:01Z"}, {6, 0, "2026-11-19T08:00:00Z"}} {
		_, err := w.Exec(`INSERT INTO transactions (block, tx_index, tx_id, tx_time, writes) VALUES ($1, $2, $3, $4, 1)`,
			tx.block, tx.index, fmt.Sprintf("t%d-%d", tx.block, tx.index), tx.at)
		require.NoError(t, err)
	}
	b, err = basis(context.Background(), r, now)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-19T08:00:00Z", b.LastTxAt)
	assert.Equal(t, now.Format(time.RFC3339), b.Generated)
}
