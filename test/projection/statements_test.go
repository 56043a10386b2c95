//go:build e2e

package projection

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/pgtest"
	"github.com/mtrace/mtrace/test/internal/statement"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// gln makes a GLN-shaped site ID from a 12-digit base: the GS1 check
// digit appended.
func gln(base string) string {
	sum := 0
	for i := range len(base) {
		d := int(base[len(base)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return base + strconv.Itoa((10-sum%10)%10)
}

// TestStatementsAgreeWithTheChain plays flows with sites, origin classes,
// a purchase and declarations on the live network, projects them into
// SQLite and PostgreSQL, produces the statements, and rebuilds every
// figure of them from the chain itself, not the projection: the balance
// and the PPWR line with test/internal/statement (every batch the
// chaincode lists, their histories, the process records and the blocks),
// the declarations as the peers serve them.
func TestStatementsAgreeWithTheChain(t *testing.T) {
	if os.Getenv("MTRACE_TEST_PG_PORT") == "" {
		t.Setenv("MTRACE_TEST_PG_PORT", strconv.Itoa(testnet.BasePort()+200))
	}
	n := time.Now().UnixNano() % 1_000_000_000
	run := fmt.Sprintf("STM-%d", n)
	id := func(s string) string { return run + "-" + s }
	// Fresh sites of each organisation, used only by this run: their
	// statements hold this run's flows and nothing else.
	muniSite, recSite, makerSite := gln(fmt.Sprintf("861%09d", n)), gln(fmt.Sprintf("862%09d", n)), gln(fmt.Sprintf("863%09d", n))
	env.MustRun(t, "municipality-admin", "site", "add", muniSite, "--name", "Statement depot "+run)
	env.MustRun(t, "recycler-admin", "site", "add", recSite, "--name", "Statement plant "+run)
	env.MustRun(t, "maker-admin", "site", "add", makerSite, "--name", "Statement workshop "+run)

	c1, c2, c3, buy := id("C1"), id("C2"), id("C3"), id("BUY")
	flk, prod := id("FLK"), id("PRD")
	d1, d2 := id("D1"), id("D2")
	reg := func(bid, mass, class string) {
		env.MustRun(t, "municipality", "batch", "register", bid, "--material", "PET", "--mass", mass, "--location", "Fatih, Istanbul",
			"--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "15 01 02", "--origin-class", class, "--site", muniSite)
	}
	reg(c1, "500kg", "post-consumer")
	reg(c2, "300kg", "post-consumer")
	reg(c3, "120kg", "pre-consumer")
	ticket := filepath.Join(t.TempDir(), "wb.txt")
	require.NoError(t, os.WriteFile(ticket, []byte("weighbridge "+run), 0o600))
	env.MustRun(t, "recycler", "purchase", "register", buy, "--material", "PET", "--mass", "200kg", "--supplier", "Akdeniz Ambalaj A.S.",
		"--origin-class", "pre-consumer", "--received-at", "2026-11-21T09:00:00+03:00", "--ticket", "WB-"+run, "--ticket-file", ticket, "--site", recSite)
	for _, b := range []string{c1, c2, c3} {
		env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
	}
	env.MustRun(t, "municipality", "declaration", "issue", d1, "--batch", c1, "--model", "controlled-blending", "--certificate", "RC-"+run)
	env.MustRun(t, "recycler", "batch", "accept", c1, "--received-mass", "495kg", "--site", recSite)
	env.MustRun(t, "recycler", "batch", "accept", c2, "--site", recSite)
	env.MustRun(t, "recycler", "batch", "accept", c3, "--site", recSite)
	env.MustRun(t, "recycler", "declaration", "claim", d1)
	env.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--in", c1+":495kg", "--in", buy+":200kg", "--in", c3+":100kg",
		"--virgin", "5kg", "--out", flk+":PET:flakes:750kg", "--site", recSite)
	env.MustRun(t, "recycler", "batch", "transfer", flk, "--to", "MakerMSP")
	env.MustRun(t, "recycler", "declaration", "issue", d2, "--batch", flk, "--model", "mass-balance")
	env.MustRun(t, "maker", "batch", "accept", flk, "--site", makerSite)
	env.MustRun(t, "maker", "declaration", "claim", d2)
	env.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", flk+":750kg", "--out", prod+":PET:product:700kg", "--site", makerSite)
	// Project into both backends.
	pg := pgtest.Start(t)
	dbs := []string{"sqlite:" + filepath.Join(t.TempDir(), "stm.db"), pg.CreateDB(t, "statements")}
	var heights []uint64
	for _, db := range dbs {
		env.MustRun(t, "auditor", "project", "--db", db, "--once")
		heights = append(heights, next(t, db))
	}

	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -30).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	year := today.Year()

	// The chain itself: every batch the chaincode lists (not only this
	// run's, so that a figure the projection invented elsewhere shows),
	// their histories, the process records and the blocks.
	ctx := context.Background()
	live, done, err := statement.Dial(env, "auditor")
	require.NoError(t, err)
	defer done()
	chain, err := statement.Read(ctx, live, nil)
	require.NoError(t, err)

	for i, db := range dbs {
		var b statement.Balance
		env.JSON(t, &b, "auditor", "report", "balance", "--db", db, "--site", recSite, "--from", from, "--to", to)
		assert.Equal(t, int64(heights[i]), b.Height, "the statement states the height its projection reflects")
		assert.False(t, b.Negative)
		want, err := chain.Balance(ctx, recSite, from, to, b.Height)
		require.NoError(t, err)
		// What the flows above put there, so that the comparison
		// cannot pass on two empty accounts; and the rebuild's closing
		// stock is what the site's batches hold.
		require.Len(t, want.Materials, 1)
		m := want.Materials[0]
		mass := map[string]int64{}
		for sec, ls := range map[string][]statement.Line{"in": m.Inputs, "out": m.Outputs, "loss": m.Losses} {
			for _, l := range ls {
				mass[sec+"/"+l.Kind+"/"+l.Class] = l.Mass
			}
		}
		require.Equal(t, map[string]int64{"in/purchase/pre-consumer": 200_000, "in/receipt/": 915_000, "in/virgin/": 5_000,
			"out/dispatch/": 750_000, "loss/process_loss/": 50_000}, mass)
		require.Equal(t, []int64{0, 320_000}, []int64{m.Opening, m.Closing}, "a fresh site")
		require.Equal(t, map[string]int64{"PET": 320_000}, chain.Holdings(recSite))
		assert.Equal(t, want, b.Normal(), "%s: every figure, its transactions and the balance after each, as the chain has it", db)

		// PPWR: the maker's plant made one product this year.
		var p statement.PPWR
		env.JSON(t, &p, "auditor", "report", "ppwr", "--db", db, "--plant", makerSite, "--year", strconv.Itoa(year))
		wantP, err := chain.PPWR(ctx, makerSite, year, p.Height)
		require.NoError(t, err)
		var product model.Batch
		env.JSON(t, &product, "auditor", "batch", "get", prod)
		require.NotNil(t, product.Shares)
		require.Equal(t, makerSite, product.Site)
		post := int64(product.InitialMass) * product.Shares.PostConsumer / model.WholePPM
		require.Len(t, wantP.Materials, 1)
		require.Equal(t, []int64{int64(product.InitialMass), post, post * model.WholePPM / int64(product.InitialMass)},
			[]int64{wantP.Materials[0].Mass, wantP.Materials[0].PostConsumer, wantP.Materials[0].PostConsumerPpm})
		require.Len(t, wantP.Materials[0].Refs, 1)
		require.Equal(t, product.CreatedTx, wantP.Materials[0].Refs[0].Tx)
		assert.Equal(t, wantP, p.Normal(), "%s: the PPWR line as the chain has it", db)

		// Declarations at the recycler's site: one claimed there, one
		// issued there, each as the chain has it.
		var ds declJSON
		env.JSON(t, &ds, "auditor", "report", "declarations", "--db", db, "--site", recSite)
		require.Len(t, ds.Declarations, 2)
		for _, d := range ds.Declarations {
			var onChain model.Declaration
			env.JSON(t, &onChain, "auditor", "declaration", "get", d.ID)
			require.NotNil(t, onChain.Claim, d.ID)
			assert.Equal(t, []any{onChain.Batch, onChain.Supplier, onChain.Recipient, onChain.Site, int64(onChain.Mass),
				onChain.Shares.PostConsumer, onChain.Shares.PreConsumer, string(onChain.Model), onChain.IssueTx, onChain.Claim.Tx, onChain.Claim.Site},
				[]any{d.Batch, d.Supplier, d.Recipient, d.Site, d.Mass, d.PostPpm, d.PrePpm, d.Model, d.Issue.Tx, d.Claim.Tx, d.ClaimSite}, d.ID)
		}
		assert.Equal(t, []declTotalsJSON{{Site: recSite, Issued: 1, IssuedMass: 750_000, IssuedPost: 750_000 * ds.Declarations[1].PostPpm / model.WholePPM,
			Claimed: 1, ClaimedMass: 500_000, ClaimedPost: 500_000}}, ds.Sites)
	}

	// A period over three months is refused, and nothing is printed.
	r := env.Run(t, "auditor", "report", "balance", "--db", dbs[0], "--site", recSite, "--from", "2026-01-01", "--to", "2026-04-01")
	assert.NotEqual(t, 0, r.Code)
	assert.Contains(t, r.Stderr, "the period 2026-01-01 to 2026-04-01 is longer than three months")
	assert.Empty(t, r.Stdout)
}

// The declarations statement as its JSON reads (client/internal/report's
// types, which a test outside client/ cannot import).
type (
	declTotalsJSON struct {
		Site        string `json:"site"`
		Issued      int    `json:"issued"`
		IssuedMass  int64  `json:"issuedMass"`
		IssuedPost  int64  `json:"issuedPostConsumer"`
		Claimed     int    `json:"claimed"`
		ClaimedMass int64  `json:"claimedMass"`
		ClaimedPost int64  `json:"claimedPostConsumer"`
		Unclaimed   int    `json:"unclaimed"`
	}
	declJSON struct {
		Sites        []declTotalsJSON `json:"sites"`
		Declarations []struct {
			ID        string         `json:"id"`
			Batch     string         `json:"batch"`
			Supplier  string         `json:"supplier"`
			Site      string         `json:"site"`
			Recipient string         `json:"recipient"`
			ClaimSite string         `json:"claimSite"`
			Mass      int64          `json:"mass"`
			PostPpm   int64          `json:"postConsumerPpm"`
			PrePpm    int64          `json:"preConsumerPpm"`
			Model     string         `json:"model"`
			Issue     statement.Ref  `json:"issue"`
			Claim     *statement.Ref `json:"claim"`
		} `json:"declarations"`
	}
)
