package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/projection"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
	"github.com/mtrace/mtrace/internal/pgtest"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// project applies blocks to a new database at url and opens it for
// reading.
func project(t *testing.T, url string, blocks []*common.Block) *sql.DB {
	t.Helper()
	ctx := context.Background()
	s, err := projection.Open(ctx, url)
	require.NoError(t, err)
	for _, blk := range blocks {
		b, err := projection.Decode(blk, pt.Namespace)
		require.NoError(t, err)
		require.NoError(t, s.Apply(ctx, b))
	}
	require.NoError(t, s.Close())
	db, err := projection.OpenReader(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// startPG starts a PostgreSQL server on the port after pgtest's: the
// projection package's tests, which go test may run at the same time,
// take pgtest's own.
func startPG(t *testing.T) *pgtest.Server {
	p, err := pgtest.Port()
	require.NoError(t, err)
	t.Setenv("MTRACE_TEST_PG_PORT", strconv.Itoa(p+1))
	return pgtest.Start(t)
}

func lite(t *testing.T, blocks []*common.Block) *sql.DB {
	return project(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"), blocks)
}

func november(t *testing.T) Period {
	p, err := ParsePeriod("2026-11-01", "2026-11-30")
	require.NoError(t, err)
	return p
}

func refs(txs ...string) []string { return txs }

func txs(l Line) []string {
	var out []string
	for _, r := range l.Refs {
		out = append(out, r.Tx)
	}
	return out
}

// checkGebze checks the recycler's balance of the sites ledger, figure
// by figure, and that the figures add up.
func checkGebze(t *testing.T, b *Balance) {
	assert.Equal(t, int64(6), b.Height, "blocks 0 to 5")
	assert.Equal(t, "RecyclerMSP", b.Org)
	assert.False(t, b.Negative)
	require.Len(t, b.Materials, 1)
	m := b.Materials[0]
	assert.Equal(t, "PET", m.Material)
	assert.Equal(t, int64(0), m.Opening)
	flakePost, flakePre := int64(1_300_000)*pt.FlakePost/WholePPM, int64(1_300_000)*pt.FlakePre/WholePPM
	type fig struct {
		Kind, Class     string
		Mass, Post, Pre int64
		Txs             []string
	}
	figs := func(ls []Line) []fig {
		var out []fig
		for _, l := range ls {
			out = append(out, fig{l.Kind, l.Class, l.Mass, l.PostConsumer, l.PreConsumer, txs(l)})
		}
		return out
	}
	assert.Equal(t, []fig{
		{KindPurchase, "pre-consumer", 400_000, 0, 400_000, refs("r2")},
		{KindReceipt, "", 990_000, 990_000, 0, refs("a1")},
		{KindVirgin, "", 10_000, 0, 0, refs("p1")},
	}, figs(m.Inputs))
	assert.Equal(t, []fig{{KindDispatch, "", 1_300_000, flakePost, flakePre, refs("a2")}}, figs(m.Outputs))
	assert.Equal(t, []fig{{KindProcessLoss, "", 100_000, 0, 0, refs("p1")}}, figs(m.Losses))
	assert.Equal(t, int64(0), m.Closing)
	sum := m.Opening
	for _, l := range m.Inputs {
		sum += l.Mass
	}
	for _, l := range append(m.Outputs, m.Losses...) {
		sum -= l.Mass
	}
	assert.Equal(t, m.Closing, sum, "opening + inputs - outputs - losses = closing")
	var series []int64
	for _, p := range m.Series {
		series = append(series, p.Balance)
	}
	assert.Equal(t, []int64{400_000, 1_390_000, 1_300_000, 0}, series, "the balance after each transaction")
}

func TestBalanceOfTheRecyclersSite(t *testing.T) {
	db := lite(t, pt.SitesLedger(t))
	b, err := BalanceOf(context.Background(), db, pt.SiteGebze, november(t), now)
	require.NoError(t, err)
	checkGebze(t, b)

	// The collector's depot: a collection handed over, and a batch of
	// contract 0.5.0 placed there by its migration.
	b, err = BalanceOf(context.Background(), db, pt.SiteCollector, november(t), now)
	require.NoError(t, err)
	require.Len(t, b.Materials, 1)
	m := b.Materials[0]
	assert.Equal(t, int64(500_000), m.Closing)
	require.Len(t, m.Inputs, 2)
	assert.Equal(t, KindCollection, m.Inputs[0].Kind)
	assert.Equal(t, "post-consumer", m.Inputs[0].Class)
	assert.Equal(t, KindPlaced, m.Inputs[1].Kind)
	assert.Equal(t, refs("m1"), txs(m.Inputs[1]))

	// A period after all of it: the opening is what was left, nothing
	// moved.
	p, err := ParsePeriod("2026-12-01", "2026-12-31")
	require.NoError(t, err)
	b, err = BalanceOf(context.Background(), db, pt.SiteCollector, p, now)
	require.NoError(t, err)
	require.Len(t, b.Materials, 1)
	assert.Equal(t, int64(500_000), b.Materials[0].Opening)
	assert.Equal(t, int64(500_000), b.Materials[0].Closing)
	assert.Empty(t, b.Materials[0].Series)

	_, err = BalanceOf(context.Background(), db, "4000000000006", november(t), now)
	assert.ErrorContains(t, err, "site 4000000000006: no organisation lists it")
}

func TestBalanceOnPostgresEqualsSQLite(t *testing.T) {
	srv := startPG(t)
	pg := project(t, srv.CreateDB(t, "report"), pt.SitesLedger(t))
	b, err := BalanceOf(context.Background(), pg, pt.SiteGebze, november(t), now)
	require.NoError(t, err)
	checkGebze(t, b)
	l, err := BalanceOf(context.Background(), lite(t, pt.SitesLedger(t)), pt.SiteGebze, november(t), now)
	require.NoError(t, err)
	assert.Equal(t, l, b)
	for _, f := range Formats {
		var a, c bytes.Buffer
		require.NoError(t, Render(&a, f, b))
		require.NoError(t, Render(&c, f, l))
		assert.Equal(t, c.String(), a.String(), f)
	}
	d, err := DeclarationsOf(context.Background(), pg, "", "", "", now)
	require.NoError(t, err)
	dl, err := DeclarationsOf(context.Background(), lite(t, pt.SitesLedger(t)), "", "", "", now)
	require.NoError(t, err)
	assert.Equal(t, dl, d)
}

func TestANegativeBalanceWithinThePeriodIsFlagged(t *testing.T) {
	db := lite(t, pt.NegativeLedger(t))
	b, err := BalanceOf(context.Background(), db, pt.SiteGebze, november(t), now)
	require.NoError(t, err)
	assert.True(t, b.Negative)
	require.Len(t, b.Materials, 1)
	m := b.Materials[0]
	assert.Equal(t, int64(30_000), m.Closing, "the period ends above zero")
	assert.Equal(t, int64(-50_000), m.Lowest)
	require.NotNil(t, m.LowestAt)
	assert.Equal(t, "n2", m.LowestAt.Tx)
	require.Len(t, m.Negative, 1)
	assert.Equal(t, Point{At: at(pt.BlockTime(3)), Balance: -50_000, Block: 3, Tx: "n2"}, m.Negative[0])
	// The process ran at another site: its input shows as taken.
	require.Len(t, m.Outputs, 1)
	assert.Equal(t, KindProcessIn, m.Outputs[0].Kind)
	assert.Equal(t, int64(150_000), m.Outputs[0].Mass)

	var out bytes.Buffer
	require.NoError(t, Render(&out, FormatTable, b))
	assert.Contains(t, out.String(), "NEGATIVE BALANCE")
	assert.Regexp(t, `\n\s+NEGATIVE\s+-50\.000 kg\s+after n2 \(block 3`, out.String())
	out.Reset()
	require.NoError(t, Render(&out, FormatHTML, b))
	assert.Contains(t, out.String(), `class="negative"`)
	assert.Contains(t, out.String(), "Negative balance")

	// Dilovasi never went below zero.
	d, err := BalanceOf(context.Background(), db, pt.SiteDilovasi, november(t), now)
	require.NoError(t, err)
	assert.False(t, d.Negative)
}

func TestAPeriodOverThreeMonthsIsRefused(t *testing.T) {
	for _, c := range []struct{ from, to, err string }{
		{"2026-10-01", "2026-12-31", ""},
		{"2026-11-30", "2027-02-28", ""},
		{"2026-01-01", "2026-01-01", ""},
		{"2026-10-01", "2027-01-01", "the period 2026-10-01 to 2027-01-01 is longer than three months: a mass balance period may be at most three months (ISCC PLUS; Implementing Decision (EU) 2026/1425); the longest from 2026-10-01 ends 2026-12-31"},
		{"2026-01-01", "2026-12-31", "longer than three months"},
		{"2026-12-31", "2026-12-01", "the period ends (2026-12-01) before it starts (2026-12-31)"},
		{"2026-13-01", "2026-12-01", `--from "2026-13-01": want a date`},
		{"2026-12-01", "tomorrow", `--to "tomorrow": want a date`},
	} {
		_, err := ParsePeriod(c.from, c.to)
		if c.err == "" {
			assert.NoError(t, err, "%s to %s", c.from, c.to)
		} else {
			assert.ErrorContains(t, err, c.err, "%s to %s", c.from, c.to)
		}
	}
}

func TestPPWROfAPlant(t *testing.T) {
	db := lite(t, pt.SitesLedger(t))
	r, err := PPWROf(context.Background(), db, pt.SiteGebze, 2026, now)
	require.NoError(t, err)
	require.Len(t, r.Materials, 1)
	l := r.Materials[0]
	post := int64(1_300_000) * pt.FlakePost / WholePPM
	assert.Equal(t, PPWRLine{Material: "PET", Outputs: 1, Mass: 1_300_000, PostConsumer: post,
		PreConsumer: int64(1_300_000) * pt.FlakePre / WholePPM, PostConsumerPpm: post * WholePPM / 1_300_000,
		Refs: []Ref{{Block: 4, TxIndex: 1, Tx: "p1", At: at(pt.BlockTime(4)), Batch: "FLK-1", Mass: 1_300_000}}}, l)
	assert.Equal(t, "70.7141%", Percent(l.PostConsumerPpm))

	r, err = PPWROf(context.Background(), db, pt.SiteGebze, 2025, now)
	require.NoError(t, err)
	assert.Empty(t, r.Materials, "nothing made in 2025")
	var out bytes.Buffer
	require.NoError(t, Render(&out, FormatTable, r))
	assert.Contains(t, out.String(), "No output made at this plant in the year.")
}

func TestDeclarationsReport(t *testing.T) {
	db := lite(t, pt.SitesLedger(t))
	r, err := DeclarationsOf(context.Background(), db, pt.SiteGebze, "2026-11-01", "2026-11-30", now)
	require.NoError(t, err)
	require.Len(t, r.Declarations, 2, "D-1 claimed at Gebze, D-2 issued there")
	assert.Equal(t, []DeclTotals{{Site: pt.SiteGebze, Issued: 1, IssuedMass: 1_300_000, IssuedPost: int64(1_300_000) * pt.FlakePost / WholePPM,
		Claimed: 1, ClaimedMass: 1_000_000, ClaimedPost: 1_000_000, Unclaimed: 1, UnclaimedMass: 1_300_000}}, r.Sites)
	d1 := r.Declarations[0]
	assert.Equal(t, "D-1", d1.ID)
	require.NotNil(t, d1.Claim)
	assert.Equal(t, Ref{Block: 4, TxIndex: 0, Tx: "c1", At: "2026-11-20T07:00:04Z", Mass: 1_000_000}, *d1.Claim)
	assert.Equal(t, "RecyclerMSP", d1.ClaimedBy)

	r, err = DeclarationsOf(context.Background(), db, "", "2026-12-01", "", now)
	require.NoError(t, err)
	assert.Empty(t, r.Declarations, "none in December")
	_, err = DeclarationsOf(context.Background(), db, "", "2026-12-02", "2026-12-01", now)
	assert.ErrorContains(t, err, "ends (2026-12-01) before it starts")
}

func TestFormatsOfTheBalance(t *testing.T) {
	db := lite(t, pt.SitesLedger(t))
	b, err := BalanceOf(context.Background(), db, pt.SiteGebze, november(t), now)
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, Render(&out, FormatTable, b))
	table := out.String()
	for _, want := range []string{
		"Mass balance of site 8690000000029 (site 8690000000029, RecyclerMSP), 2026-11-01 to 2026-11-30",
		"Ledger height 6 (blocks 0 to 5 projected), last transaction 2026-11-20T07:00:05Z",
		"opening stock", "+ bought in (pre-consumer)", "400.000 kg", "r2", "- handed over to members", "a2",
		"- process loss", "100.000 kg", "= closing stock", "0.000 kg",
	} {
		assert.Contains(t, table, want)
	}

	out.Reset()
	require.NoError(t, Render(&out, FormatJSON, b))
	var back Balance
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	assert.Equal(t, b.Materials, back.Materials)
	assert.Equal(t, int64(6), back.Height)

	out.Reset()
	require.NoError(t, Render(&out, FormatCSV, b))
	recs, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, balanceHeader, recs[0])
	assert.Contains(t, recs, []string{"figure", pt.SiteGebze, "PET", "purchase", "pre-consumer", "400000", "0", "400000", "", "", "", "", "", "", "6"})
	assert.Contains(t, recs, []string{"transaction", pt.SiteGebze, "PET", "purchase", "pre-consumer", "", "", "", "2", "1", "r2", at(pt.BlockTime(2)), "BUY-1", "400000", "6"})
	assert.Contains(t, recs, []string{"figure", pt.SiteGebze, "PET", "closing", "", "0", "0", "0", "", "", "", "", "", "", "6"})

	out.Reset()
	require.NoError(t, Render(&out, FormatHTML, b))
	page := out.String()
	for _, want := range []string{"<svg", "<polyline", "Auditor's sign-off", "at height 6 (blocks 0 to 5)", `href="#tx-a2"`, `id="tx-a2"`, "Closing stock"} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "<script", "self-contained, no scripts")
	assert.Equal(t, 1, strings.Count(page, "http"), "only the SVG namespace names a URL")
	assert.Equal(t, 1, strings.Count(page, `id="tx-p1"`), "one anchor per transaction, though p1 is behind two figures")
	assert.Contains(t, page, `href="#tx-p1"`)

	assert.ErrorContains(t, Render(&out, "pdf", b), `--format: must be one of table, json, csv, html, got "pdf"`)
}
