//go:build e2e

// Package demo is the demo suite: it plays scripts/demo.sh, the story
// `make demo` tells, on the test network, then rebuilds the two
// statements the demo ends with (the quarter's mass balance of the
// recycler's plant, the PPWR line of the maker's plant) from the chain
// and compares every figure.
package demo

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/statement"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

func TestMain(m *testing.M) { harness.Main(m, "demo", &env) }

// TestDemo plays the demo, then checks its statements. Run
// `go test -tags e2e -run TestDemo/statements ./test/demo/` to check
// the statements of the demo last played on the network again.
func TestDemo(t *testing.T) {
	// The chain's height when the demo ends: it projects last and
	// submits nothing after, so its statements must state that height.
	var played int64
	if !t.Run("script", func(t *testing.T) { played = playDemo(t) }) {
		return
	}
	t.Run("statements", func(t *testing.T) { checkStatements(t, played) })
}

// playDemo runs scripts/demo.sh and returns the chain's height after it.
func playDemo(t *testing.T) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(env.Root, "scripts", "demo.sh"))
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "MTRACE_HOME="+env.Home, "MTRACE_CONFIG="+env.Config)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/demo.sh: %v", err)
	}
	h, err := env.Height("auditor")
	require.NoError(t, err)
	return int64(h)
}

// reported is what the demo's chapter 10 reported on
// (MTRACE_HOME/demo-statements.json).
type reported struct {
	DB    string `json:"db"`
	Site  string `json:"site"`
	From  string `json:"from"`
	To    string `json:"to"`
	Plant string `json:"plant"`
	Year  int    `json:"year"`
}

// checkStatements produces the demo's two statements again from its
// projection database, with the same commands in JSON, and rebuilds
// each from the chain: every batch the chaincode lists, their histories,
// the process records and the blocks that hold each transaction, up to
// the height the statement states. played is the chain's height when
// the demo ended, or 0 when the demo was not played in this run.
func checkStatements(t *testing.T, played int64) {
	raw, err := os.ReadFile(filepath.Join(env.Home, "demo-statements.json"))
	require.NoError(t, err, "the demo writes what it reported on when it has printed its statements")
	var r reported
	require.NoError(t, json.Unmarshal(raw, &r))
	t.Logf("the demo reported on %+v", r)

	var bal statement.Balance
	env.JSON(t, &bal, "auditor", "report", "balance", "--db", r.DB, "--site", r.Site, "--from", r.From, "--to", r.To)
	var ppwr statement.PPWR
	env.JSON(t, &ppwr, "auditor", "report", "ppwr", "--db", r.DB, "--plant", r.Plant, "--year", strconv.Itoa(r.Year))
	require.Equal(t, bal.Height, ppwr.Height, "one projection, one height")

	ctx := context.Background()
	live, done, err := statement.Dial(env, "auditor")
	require.NoError(t, err)
	defer done()
	height, err := live.Height(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, bal.Height, height, "the statement states a height the chain has reached")
	if played > 0 {
		require.Equal(t, played, bal.Height, "the demo projects the whole chain before it reports")
	}
	chain, err := statement.Read(ctx, live, nil)
	require.NoError(t, err)
	t.Logf("the chain: %d batches, height %d; the statements: height %d", chain.Batches(), height, bal.Height)

	want, err := chain.Balance(ctx, r.Site, r.From, r.To, bal.Height)
	require.NoError(t, err)
	// What the demo put there, so that the comparison cannot pass on two
	// empty statements: the recycler's plant received the collections,
	// handed a spool over and lost mass in its processes.
	kinds := map[string]bool{}
	for _, m := range want.Materials {
		if m.Material == "PET" {
			for _, l := range append(append(m.Inputs, m.Outputs...), m.Losses...) {
				kinds[l.Kind] = len(l.Refs) > 0
			}
		}
	}
	require.True(t, kinds["receipt"] && kinds["dispatch"] && kinds["process_loss"], "the chain's PET account of %s: %+v", r.Site, want)
	if played > 0 {
		// At the chain's height, in a quarter that runs to now, the
		// rebuilt closing stock is what the site's batches hold.
		closing := map[string]int64{}
		for _, m := range want.Materials {
			if m.Closing != 0 {
				closing[m.Material] = m.Closing
			}
		}
		require.Equal(t, chain.Holdings(r.Site), closing, "the rebuilt closing stock of %s is what its batches hold", r.Site)
	}
	assert.Equal(t, want, bal.Normal(), "the balance of %s from %s to %s, figure by figure, as the chain has it", r.Site, r.From, r.To)

	wantP, err := chain.PPWR(ctx, r.Plant, r.Year, ppwr.Height)
	require.NoError(t, err)
	require.NotEmpty(t, wantP.Materials, "the maker printed the vase at %s", r.Plant)
	assert.Equal(t, wantP, ppwr.Normal(), "the PPWR line of %s for %d, as the chain has it", r.Plant, r.Year)
}
