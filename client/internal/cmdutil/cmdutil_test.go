package cmdutil_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func TestErrors(t *testing.T) {
	var err error = &cmdutil.SilentError{Reason: "3 checks failed"}
	assert.EqualError(t, err, "3 checks failed")
	assert.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.ErrorIs(t, fmt.Errorf("audit: %w", err), cmdutil.ErrSilent, "wrapped, still silent")
	assert.NotErrorIs(t, errors.New("3 checks failed"), cmdutil.ErrSilent)

	inner := errors.New("not a mass")
	err = cmdutil.FlagErrorf("--mass: %w", inner)
	assert.EqualError(t, err, "--mass: not a mass")
	assert.ErrorIs(t, err, inner, "a flag error unwraps to its cause")
	var fe *cmdutil.FlagError
	assert.ErrorAs(t, fmt.Errorf("x: %w", err), &fe)
}

func TestFormat(t *testing.T) {
	for in, want := range map[string]string{"": cmdutil.FormatTable, "table": cmdutil.FormatTable, "json": cmdutil.FormatJSON} {
		f := &cmdutil.Factory{Globals: &cmdutil.Globals{Output: in}}
		got, err := f.Format()
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"yaml", "JSON", " json"} {
		f := &cmdutil.Factory{Globals: &cmdutil.Globals{Output: in}}
		_, err := f.Format()
		var fe *cmdutil.FlagError
		require.ErrorAs(t, err, &fe, in)
		assert.Contains(t, err.Error(), fmt.Sprintf("--output: must be table or json, got %q", in))
	}
}

func TestParseMass(t *testing.T) {
	g, err := cmdutil.ParseMass("--mass", "1.5 kg")
	require.NoError(t, err)
	assert.Equal(t, model.Grams(1500), g)
	_, err = cmdutil.ParseMass("--received-mass", "12")
	var fe *cmdutil.FlagError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, model.ErrMassSyntax)
	assert.Contains(t, err.Error(), "--received-mass: ")
}

func TestPositionalArgs(t *testing.T) {
	root := &cobra.Command{Use: "mtrace"}
	cmd := &cobra.Command{Use: "get"}
	root.AddCommand(cmd)
	exact := cmdutil.ExactArgs(1, "one batch ID")
	assert.NoError(t, exact(cmd, []string{"B1"}))
	assert.EqualError(t, exact(cmd, nil), "mtrace get: expected one batch ID, got 0 argument(s)")
	assert.EqualError(t, exact(cmd, []string{"a", "b"}), "mtrace get: expected one batch ID, got 2 argument(s)")
	atLeast := cmdutil.MinimumArgs(2, "two or more batch IDs")
	assert.NoError(t, atLeast(cmd, []string{"a", "b", "c"}))
	err := atLeast(cmd, []string{"a"})
	assert.EqualError(t, err, "mtrace get: expected two or more batch IDs, got 1 argument(s)")
	var fe *cmdutil.FlagError
	assert.ErrorAs(t, err, &fe)
}

func TestMarshalArg(t *testing.T) {
	assert.Equal(t, `{"ids":["A"],"limit":3}`, cmdutil.MarshalArg(model.DownQuery{IDs: []string{"A"}, Limit: 3}))
	assert.Panics(t, func() { cmdutil.MarshalArg(func() {}) }, "only model types are passed")
}

func TestGlobalFlags(t *testing.T) {
	g := &cmdutil.Globals{Timeout: 30 * time.Second}
	root := &cobra.Command{Use: "mtrace", RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
	cmdutil.AddGlobalFlags(root, g)
	root.SetArgs([]string{"-o", "json", "--timeout", "5s", "-p", "recycler", "--config", "/tmp/c.yaml", "--debug"})
	require.NoError(t, root.Execute())
	assert.Equal(t, "json", g.Output)
	assert.Equal(t, 5*time.Second, g.Timeout)
	assert.Equal(t, "recycler", g.Profile)
	assert.Equal(t, "/tmp/c.yaml", g.ConfigPath)
	assert.True(t, g.Debug)

	g = &cmdutil.Globals{Timeout: 30 * time.Second}
	root = &cobra.Command{Use: "mtrace", RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
	cmdutil.AddGlobalFlags(root, g)
	root.SetArgs(nil)
	require.NoError(t, root.Execute())
	assert.Equal(t, cmdutil.FormatTable, g.Output, "table by default")
	assert.Equal(t, 30*time.Second, g.Timeout, "the factory's timeout is the default")

	root.SetArgs([]string{"--no-such-flag"})
	err := root.Execute()
	var fe *cmdutil.FlagError
	require.ErrorAs(t, err, &fe, "a flag mistake is a usage error")
	assert.Contains(t, err.Error(), "unknown flag: --no-such-flag")
}

func TestNewFactory(t *testing.T) {
	f := cmdutil.New("1.2.3")
	assert.Equal(t, "1.2.3", f.Version)
	assert.Equal(t, cmdutil.FormatTable, f.Globals.Output)
	assert.Equal(t, 30*time.Second, f.Globals.Timeout)
	assert.NotNil(t, f.IOStreams.Out)
	assert.NotNil(t, f.Connect)
	assert.NotNil(t, f.Getenv)
}

func TestLedgerAs(t *testing.T) {
	e := cmdtest.New(t)
	e.F.Globals.Timeout = 7 * time.Second
	l, err := e.F.LedgerAs(context.Background(), "recycler")
	require.NoError(t, err)
	assert.Same(t, e.Fake, l)
	assert.Equal(t, 7*time.Second, e.Options.Timeout)
	assert.Equal(t, ledger.DefaultRetries, e.Options.Retries)
	assert.Nil(t, e.Options.Debug, "no raw errors without --debug")

	e.F.Globals.Debug = true
	_, err = e.F.Ledger(context.Background())
	require.NoError(t, err)
	assert.Equal(t, e.IO.ErrOut, e.Options.Debug, "--debug sends the raw errors to standard error")

	p, err := e.F.Profile()
	require.NoError(t, err)
	assert.Equal(t, "municipality", p.Name, "the file's default profile")

	_, err = e.F.LedgerAs(context.Background(), "ghost")
	assert.ErrorContains(t, err, `profile "ghost" not found in`)
}

func TestWithLedger(t *testing.T) {
	fake := ledgertest.New()
	called := false
	err := cmdutil.WithLedger(context.Background(), func(context.Context) (ledger.Ledger, error) { return fake, nil }, func(l ledger.Ledger) error {
		called = true
		assert.False(t, fake.Closed, "open while fn runs")
		return errors.New("fn failed")
	})
	assert.EqualError(t, err, "fn failed")
	assert.True(t, called)
	assert.True(t, fake.Closed, "closed after fn, even when it fails")

	err = cmdutil.WithLedger(context.Background(), func(context.Context) (ledger.Ledger, error) { return nil, errors.New("no profile") }, func(ledger.Ledger) error {
		t.Fatal("fn runs without a ledger")
		return nil
	})
	assert.EqualError(t, err, "no profile")
}

type opts struct{ N int }

func TestRunAndTimeout(t *testing.T) {
	f := &cmdutil.Factory{Globals: &cmdutil.Globals{Timeout: 10 * time.Second}}
	o := &opts{N: 1}

	var got *opts
	require.NoError(t, cmdutil.Run(context.Background(), f, o, func(x *opts) error { got = x; return nil }, func(context.Context, *opts) error {
		t.Fatal("run is replaced by runF")
		return nil
	}))
	assert.Same(t, o, got)

	start := time.Now()
	require.NoError(t, cmdutil.Run(context.Background(), f, o, nil, func(ctx context.Context, x *opts) error {
		dl, ok := ctx.Deadline()
		require.True(t, ok, "a single round trip is bounded")
		assert.WithinDuration(t, start.Add(40*time.Second), dl, 5*time.Second, "four times --timeout: endorse, order, commit and a retry")
		assert.Same(t, o, x)
		return nil
	}))

	f.Globals.Timeout = 0
	ctx, cancel := f.Timeout(context.Background())
	_, ok := ctx.Deadline()
	assert.False(t, ok, "--timeout 0 sets no bound")
	cancel()
	assert.Error(t, ctx.Err(), "but the context can still be cancelled")

	require.NoError(t, cmdutil.RunPaged(context.Background(), nil, o, func(ctx context.Context, x *opts) error {
		_, ok := ctx.Deadline()
		assert.False(t, ok, "a paged command is not bounded as a whole")
		return nil
	}))
	got = nil
	require.NoError(t, cmdutil.RunPaged(context.Background(), func(x *opts) error { got = x; return nil }, o, nil))
	assert.Same(t, o, got)
}

func TestSubmitBatch(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1000)
	summary := func(b *model.Batch) string { return "moved " + b.ID }
	run := func(e *cmdtest.Env, format string) error {
		return cmdutil.SubmitBatch(context.Background(), e.F.Ledger, cmdutil.BatchWrite{
			IO: e.IO, Format: format, ID: "PET-1", Summary: summary,
			Write: func(ctx context.Context, c *api.Client) error { return c.Quarantine(ctx, "PET-1", "wet") },
		})
	}

	e := cmdtest.New(t)
	e.Fake.On(api.Quarantine, ledgertest.Nothing).OnJSON(api.ReadBatch, b)
	require.NoError(t, run(e, cmdutil.FormatTable))
	assert.Equal(t, "moved PET-1\n", e.Out.String())
	assert.Equal(t, []ledgertest.Call{{Submit: true, Fn: api.Quarantine, Args: []string{"PET-1", "wet"}}, {Fn: api.ReadBatch, Args: []string{"PET-1"}}}, e.Fake.Calls())
	assert.True(t, e.Fake.Closed)

	e = cmdtest.New(t)
	e.Fake.On(api.Quarantine, ledgertest.Nothing).OnJSON(api.ReadBatch, b)
	require.NoError(t, run(e, cmdutil.FormatJSON))
	var got model.Batch
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, b, got)

	e = cmdtest.New(t)
	e.Fake.OnError(api.Quarantine, ledgertest.Rejection("no"))
	assert.ErrorContains(t, run(e, cmdutil.FormatTable), "rejected by chaincode: no")
	assert.Len(t, e.Fake.Calls(), 1, "nothing is read after a failed submit")

	e = cmdtest.New(t)
	e.Fake.On(api.Quarantine, ledgertest.Nothing).OnError(api.ReadBatch, errors.New("peer down"))
	assert.EqualError(t, run(e, cmdutil.FormatTable), `Quarantine committed, but reading batch "PET-1" back failed: peer down`)
	assert.Empty(t, e.Out.String())
}

// downLedger answers TraceDown from a graph of takes: children[id] are the
// outputs of the processes that took from id, one process each; pages
// hold at most limit edges.
func downLedger(t *testing.T, children map[string][]string) *ledgertest.Fake {
	takes := func(id string) int { return len(children[id]) }
	return ledgertest.New().
		OnJSON(api.ReadBatch, model.Batch{ID: "ROOT", Takes: takes("ROOT")}).
		On(api.TraceDown, func(args []string) ([]byte, error) {
			var q model.DownQuery
			require.NoError(t, json.Unmarshal([]byte(args[0]), &q))
			var edges []model.TraceEdge
			for _, id := range q.IDs {
				for _, c := range children[id] {
					edges = append(edges, model.TraceEdge{From: id, To: c, Tx: "p-" + c})
				}
			}
			start := 0
			if q.Bookmark != "" {
				fmt.Sscan(q.Bookmark, &start)
			}
			end := min(start+q.Limit, len(edges))
			p := model.TracePage{Edges: edges[start:end]}
			for _, e := range p.Edges {
				p.Nodes = append(p.Nodes, model.TraceNode{ID: e.To, Takes: takes(e.To)})
			}
			if end < len(edges) {
				p.Bookmark = fmt.Sprint(end)
			}
			return json.Marshal(p)
		})
}

func TestTraceDown(t *testing.T) {
	children := map[string][]string{
		"ROOT": {"A", "B", "C"},
		"A":    {"A1", "M"},
		"B":    {"M"}, // M is reached twice
		"M":    {"M1"},
	}
	fake := downLedger(t, children)
	tr, pages, err := cmdutil.TraceDown(context.Background(), fake, "ROOT", 2)
	require.NoError(t, err)
	depth := map[string]int{}
	for _, n := range tr.Nodes {
		depth[n.ID] = n.Depth
	}
	assert.Equal(t, map[string]int{"ROOT": 0, "A": 1, "B": 1, "C": 1, "A1": 2, "M": 2, "M1": 3}, depth)
	assert.Len(t, tr.Edges, 7)
	assert.Equal(t, model.Downstream, tr.Direction)
	assert.Equal(t, "ROOT", tr.Nodes[0].ID, "sorted by depth")
	assert.GreaterOrEqual(t, pages, 4, "two pages for the root's three edges, and more below")
	for _, c := range fake.CallsTo(api.TraceDown) {
		var q model.DownQuery
		require.NoError(t, json.Unmarshal([]byte(c.Args[0]), &q))
		assert.Equal(t, 2, q.Limit)
		assert.NotContains(t, q.IDs, "C", "a batch nothing was taken from is not asked for")
	}

	// limit 0 asks for the largest page.
	fake = downLedger(t, children)
	_, _, err = cmdutil.TraceDown(context.Background(), fake, "ROOT", 0)
	require.NoError(t, err)
	var q model.DownQuery
	require.NoError(t, json.Unmarshal([]byte(fake.CallsTo(api.TraceDown)[0].Args[0]), &q))
	assert.Equal(t, model.MaxDownLimit, q.Limit)

	// Errors of the root read and of a page stop the walk.
	fake = ledgertest.New().OnError(api.ReadBatch, errors.New("not found"))
	_, _, err = cmdutil.TraceDown(context.Background(), fake, "ROOT", 0)
	assert.EqualError(t, err, "not found")
	fake = downLedger(t, children).OnError(api.TraceDown, errors.New("page failed"))
	_, _, err = cmdutil.TraceDown(context.Background(), fake, "ROOT", 0)
	assert.EqualError(t, err, "page failed")
}
