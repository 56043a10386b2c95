//go:build e2e

package projection

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/pgtest"
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
// figure of them from the chain itself (batch histories, process records
// and declarations as the peers serve them, not the projection).
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
	ours := []string{c1, c2, c3, buy, flk, prod}

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

	// The chain's own account of the recycler's site.
	chain := chainBalance(t, ours, recSite)
	t.Logf("the chain's account of %s: %+v", recSite, chain)
	// What the flows above put there, so that the comparison below
	// cannot pass on two empty accounts.
	mass := map[string]int64{}
	for k, f := range chain.lines {
		mass[k] = f.Mass
	}
	require.Equal(t, map[string]int64{"in/purchase/pre-consumer": 200_000, "in/receipt/": 915_000, "in/virgin/": 5_000,
		"out/dispatch/": 750_000, "loss/process_loss/": 50_000}, mass)
	require.Equal(t, int64(320_000), chain.closing)

	for i, db := range dbs {
		var b balanceJSON
		env.JSON(t, &b, "auditor", "report", "balance", "--db", db, "--site", recSite, "--from", from, "--to", to)
		assert.Equal(t, int64(heights[i]), b.Height, "the statement states the height its projection reflects")
		assert.False(t, b.Negative)
		require.Len(t, b.Materials, 1)
		m := b.Materials[0]
		assert.Equal(t, "PET", m.Material)
		assert.Equal(t, int64(0), m.Opening, "a fresh site")
		assert.Equal(t, chain.lines, figures(m), "%s: every figure as the chain has it", db)
		assert.Equal(t, chain.closing, m.Closing, "%s: the closing stock is what the chain's batches hold at the site", db)
		assert.Equal(t, chain.series, series(m), "%s: the balance after each transaction", db)
		for _, l := range append(append(m.Inputs, m.Outputs...), m.Losses...) {
			for _, r := range l.Refs {
				assert.Less(t, r.Block, b.Height, "every transaction is within the stated height")
			}
		}

		// PPWR: the maker's plant made one product this year.
		var p ppwrJSON
		env.JSON(t, &p, "auditor", "report", "ppwr", "--db", db, "--plant", makerSite, "--year", strconv.Itoa(year))
		var product model.Batch
		env.JSON(t, &product, "auditor", "batch", "get", prod)
		require.NotNil(t, product.Shares)
		require.Equal(t, makerSite, product.Site)
		post := int64(product.InitialMass) * product.Shares.PostConsumer / model.WholePPM
		require.Len(t, p.Materials, 1)
		assert.Equal(t, int64(product.InitialMass), p.Materials[0].Mass)
		assert.Equal(t, post, p.Materials[0].PostConsumer)
		assert.Equal(t, post*model.WholePPM/int64(product.InitialMass), p.Materials[0].PostConsumerPpm)
		require.Len(t, p.Materials[0].Refs, 1)
		assert.Equal(t, product.CreatedTx, p.Materials[0].Refs[0].Tx)

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

type fig struct {
	Kind, Class     string
	Mass, Post, Pre int64
	Txs             []string
}

func figures(m materialJSON) map[string]fig {
	out := map[string]fig{}
	for sec, ls := range map[string][]lineJSON{"in": m.Inputs, "out": m.Outputs, "loss": m.Losses} {
		for _, l := range ls {
			f := fig{Kind: l.Kind, Class: l.Class, Mass: l.Mass, Post: l.PostConsumer, Pre: l.PreConsumer}
			for _, r := range l.Refs {
				f.Txs = append(f.Txs, r.Tx)
			}
			sort.Strings(f.Txs)
			out[sec+"/"+l.Kind+"/"+l.Class] = f
		}
	}
	return out
}

func series(m materialJSON) []int64 {
	var out []int64
	for _, p := range m.Series {
		out = append(out, p.Balance)
	}
	return out
}

type chainAccount struct {
	lines   map[string]fig
	closing int64
	series  []int64
}

// chainBalance computes the site's account from the chain: each batch's
// history (registrations and purchases at the site, handovers into and
// out of it), the records of the processes that ran there, and where the
// batches are now. It shares no code with the projection or the report.
func chainBalance(t *testing.T, ids []string, site string) chainAccount {
	type event struct {
		at    string
		tx    string
		delta int64
	}
	var events []event
	lines := map[string]fig{}
	add := func(key, kind, class string, mass, post, pre int64, tx, at string, delta int64) {
		f := lines[key]
		f.Kind, f.Class = kind, class
		f.Mass += mass
		f.Post += mass * post / model.WholePPM
		f.Pre += mass * pre / model.WholePPM
		f.Txs = append(f.Txs, tx)
		sort.Strings(f.Txs)
		lines[key] = f
		events = append(events, event{at, tx, delta})
	}
	processes := map[string]bool{}
	var closing int64
	for _, id := range ids {
		var hist []model.HistoryEntry
		env.JSON(t, &hist, "auditor", "history", id)
		var prev *model.Batch
		for _, h := range hist {
			b := h.Batch
			if b == nil {
				continue
			}
			sh := model.Shares{}
			if b.Shares != nil {
				sh = *b.Shares
			}
			switch {
			case prev == nil && b.Origin.Purchase != nil && b.Site == site:
				c := string(b.Origin.Purchase.OriginClass)
				add("in/purchase/"+c, "purchase", c, int64(b.InitialMass), sh.PostConsumer, sh.PreConsumer, h.TxID, h.Timestamp, int64(b.InitialMass))
			case prev == nil && b.Origin.Collection != nil && b.Site == site:
				c := string(b.Origin.Collection.OriginClass)
				add("in/collection/"+c, "collection", c, int64(b.InitialMass), sh.PostConsumer, sh.PreConsumer, h.TxID, h.Timestamp, int64(b.InitialMass))
			case prev == nil && b.Origin.Process != nil:
				processes[b.Origin.Process.Tx] = true
			case prev != nil && len(b.Handovers) > len(prev.Handovers):
				ho := b.Handovers[len(b.Handovers)-1]
				if prev.Site == site {
					add("out/dispatch/", "dispatch", "", int64(ho.Offered), sh.PostConsumer, sh.PreConsumer, h.TxID, h.Timestamp, -int64(ho.Offered))
				}
				if ho.Site == site {
					add("in/receipt/", "receipt", "", int64(ho.Received), sh.PostConsumer, sh.PreConsumer, h.TxID, h.Timestamp, int64(ho.Received))
				}
			}
			prev = b
		}
		var now model.Batch
		env.JSON(t, &now, "auditor", "batch", "get", id)
		if now.Site == site && now.Status != model.StatusInTransit {
			closing += int64(now.RemainingMass)
		}
	}
	for tx := range processes {
		var p model.Process
		env.JSON(t, &p, "auditor", "process", tx)
		if p.Site != site {
			continue
		}
		// Every input of this run's processes is at the process's site
		// and of its one material, so the process shows as its virgin
		// material and its loss.
		if p.VirginMass > 0 {
			add("in/virgin/", "virgin", "", int64(p.VirginMass), 0, 0, tx, p.At, 0)
		}
		if p.Loss > 0 {
			add("loss/process_loss/", "process_loss", "", int64(p.Loss), 0, 0, tx, p.At, 0)
		}
		var taken, made int64
		for _, in := range p.Inputs {
			taken += int64(in.Mass)
		}
		for _, o := range p.Outputs {
			made += int64(o.Mass)
		}
		events = append(events, event{p.At, tx, made - taken})
	}
	// The balance after each transaction, in time order.
	sort.SliceStable(events, func(i, j int) bool {
		ti, _ := time.Parse(time.RFC3339Nano, events[i].at)
		tj, _ := time.Parse(time.RFC3339Nano, events[j].at)
		return ti.Before(tj)
	})
	var series []int64
	var bal int64
	for i, e := range events {
		bal += e.delta
		if i+1 < len(events) && events[i+1].tx == e.tx {
			continue
		}
		series = append(series, bal)
	}
	var sum int64
	for k, f := range lines {
		if k[:3] == "in/" {
			sum += f.Mass
		} else {
			sum -= f.Mass
		}
	}
	require.Equal(t, closing, sum, "the chain's own account adds up: what came in less what left is what the site holds")
	return chainAccount{lines: lines, closing: closing, series: series}
}

// The statements as their JSON reads (client/internal/report's types,
// which a test outside client/ cannot import).
type (
	refJSON struct {
		Block int64  `json:"block"`
		Tx    string `json:"tx"`
	}
	lineJSON struct {
		Kind         string    `json:"kind"`
		Class        string    `json:"originClass"`
		Mass         int64     `json:"mass"`
		PostConsumer int64     `json:"postConsumer"`
		PreConsumer  int64     `json:"preConsumer"`
		Refs         []refJSON `json:"transactions"`
	}
	materialJSON struct {
		Material string     `json:"material"`
		Opening  int64      `json:"opening"`
		Inputs   []lineJSON `json:"inputs"`
		Outputs  []lineJSON `json:"outputs"`
		Losses   []lineJSON `json:"losses"`
		Closing  int64      `json:"closing"`
		Series   []struct {
			Balance int64 `json:"balance"`
		} `json:"series"`
	}
	balanceJSON struct {
		Height    int64          `json:"height"`
		Negative  bool           `json:"negative"`
		Materials []materialJSON `json:"materials"`
	}
	ppwrJSON struct {
		Height    int64 `json:"height"`
		Materials []struct {
			Mass            int64     `json:"mass"`
			PostConsumer    int64     `json:"postConsumer"`
			PostConsumerPpm int64     `json:"postConsumerPpm"`
			Refs            []refJSON `json:"transactions"`
		} `json:"materials"`
	}
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
			ID        string   `json:"id"`
			Batch     string   `json:"batch"`
			Supplier  string   `json:"supplier"`
			Site      string   `json:"site"`
			Recipient string   `json:"recipient"`
			ClaimSite string   `json:"claimSite"`
			Mass      int64    `json:"mass"`
			PostPpm   int64    `json:"postConsumerPpm"`
			PrePpm    int64    `json:"preConsumerPpm"`
			Model     string   `json:"model"`
			Issue     refJSON  `json:"issue"`
			Claim     *refJSON `json:"claim"`
		} `json:"declarations"`
	}
)
