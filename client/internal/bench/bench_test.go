package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// parse runs mtrace-bench's command line up to the run, with no
// environment, and returns the options it would run with.
func parse(args ...string) (*Options, error) {
	var got *Options
	cmd := NewCommand(io.Discard, io.Discard, func(string) string { return "" }, func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	d := durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	assert.Equal(t, 5*time.Millisecond, Percentile(d, 50))
	assert.Equal(t, 10*time.Millisecond, Percentile(d, 95))
	assert.Equal(t, 10*time.Millisecond, Percentile(d, 99))
	assert.Equal(t, 1*time.Millisecond, Percentile(d, 0))
	assert.Equal(t, 7*time.Millisecond, Percentile(durations(7), 99))
	assert.Equal(t, time.Duration(0), Percentile(nil, 50))
	// 100 values: p95 is the 95th, p99 the 99th.
	var h []int
	for i := 1; i <= 100; i++ {
		h = append(h, i)
	}
	assert.Equal(t, 95*time.Millisecond, Percentile(durations(h...), 95))
	assert.Equal(t, 99*time.Millisecond, Percentile(durations(h...), 99))
}

func TestSummariseCountsOnlyCommittedTransactions(t *testing.T) {
	var samples []Sample
	for i := 1; i <= 8; i++ {
		samples = append(samples, Sample{Total: time.Duration(i*10) * time.Millisecond, Endorse: time.Duration(i) * time.Millisecond, Retries: i % 2})
	}
	samples = append(samples,
		Sample{Code: "MVCC_READ_CONFLICT", Err: "tx1 failed validation: MVCC_READ_CONFLICT", Total: time.Second},
		Sample{Code: "MVCC_READ_CONFLICT", Total: time.Second},
		Sample{Code: "ENDORSE_ERROR", Err: "second"})
	r := Summarise("register", 64, samples, 2*time.Second)
	assert.Equal(t, "register", r.Scenario)
	assert.Equal(t, 11, r.N)
	assert.Equal(t, 64, r.Concurrency)
	assert.Equal(t, 4.0, r.TPS, "8 committed in 2 s")
	assert.Equal(t, 40.0, r.P50)
	assert.Equal(t, 80.0, r.P95)
	assert.Equal(t, 80.0, r.P99)
	assert.Equal(t, 4.0, r.EndorseP50)
	assert.Equal(t, map[string]int{"MVCC_READ_CONFLICT": 2, "ENDORSE_ERROR": 1}, r.Failed)
	assert.Equal(t, "tx1 failed validation: MVCC_READ_CONFLICT", r.FirstError)
	assert.Equal(t, 4, r.LagRetries)
}

func TestSetBaselineRatio(t *testing.T) {
	r := Result{TPS: 270}
	r.SetBaseline(300)
	require.NotNil(t, r.Ratio)
	assert.Equal(t, 0.9, *r.Ratio)
	assert.Equal(t, 300.0, *r.BaselineTPS)

	zero := Result{TPS: 10}
	zero.SetBaseline(0)
	assert.Nil(t, zero.Ratio, "no ratio against a baseline that committed nothing")
}

func TestFitExponent(t *testing.T) {
	nodes := []int{10, 100, 1000, 5000}
	lin := []float64{2, 20, 200, 1000}
	k, err := FitExponent(nodes, lin)
	require.NoError(t, err)
	assert.InDelta(t, 1.0, k, 0.001)

	sq := make([]float64, len(nodes))
	for i, n := range nodes {
		sq[i] = float64(n*n) / 1000
	}
	k, err = FitExponent(nodes, sq)
	require.NoError(t, err)
	assert.InDelta(t, 2.0, k, 0.001)

	_, err = FitExponent([]int{10}, []float64{1})
	assert.ErrorContains(t, err, "need two sizes")
	_, err = FitExponent([]int{10, 10}, []float64{1, 2})
	assert.ErrorContains(t, err, "same node count")
	_, err = FitExponent([]int{10, 100}, []float64{1})
	assert.Error(t, err)
}

func TestJSONShape(t *testing.T) {
	r := Summarise("transfer", 64, []Sample{{Total: time.Millisecond}}, time.Second)
	r.SetBaseline(2)
	plain := Summarise("register", 64, nil, time.Second)
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, []Result{r, plain}))
	var got []map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	require.Len(t, got, 2)
	for _, k := range []string{"scenario", "n", "concurrency", "tps", "p50_ms", "p95_ms", "p99_ms", "failed", "baseline_tps", "ratio"} {
		assert.Contains(t, got[0], k)
	}
	assert.Equal(t, 0.5, got[0]["ratio"])
	assert.Equal(t, map[string]any{}, got[1]["failed"], "failed is an empty map, not null")
	assert.NotContains(t, got[1], "ratio")
	assert.NotContains(t, got[1], "baseline_tps")
	assert.NotContains(t, got[1], "nodes")

	buf.Reset()
	require.NoError(t, WriteJSON(&buf, nil))
	assert.Equal(t, "[]\n", buf.String())
}

func TestLevels(t *testing.T) {
	for _, c := range []struct{ nodes, depth int }{{10, 3}, {100, 5}, {1000, 8}, {5000, 10}, {1, 0}, {2, 1}, {101, 1}, {7, 6}} {
		s, err := Levels(c.nodes, c.depth)
		require.NoError(t, err, "%+v", c)
		require.Len(t, s, c.depth+1)
		assert.Equal(t, 1, s[0])
		sum := 0
		for k, n := range s {
			sum += n
			if k > 0 {
				assert.GreaterOrEqual(t, n, s[k-1], "level %d of %v", k, s)
				assert.LessOrEqual(t, (n+s[k-1]-1)/s[k-1], model.MaxProcessIOs)
			}
		}
		assert.Equal(t, c.nodes, sum, "%v", s)
	}
	_, err := Levels(5, 6)
	assert.ErrorContains(t, err, "at least depth+1")
	_, err = Levels(1000, 1)
	assert.ErrorContains(t, err, "raise --depth")
}

func TestFanInMakesFullTrees(t *testing.T) {
	assert.Equal(t, 1+3+9+27, TreeSize(3, 3))
	assert.Equal(t, 4, TreeSize(1, 3))
	assert.Greater(t, TreeSize(100, 5), MaxAncestry)
	s, err := Levels(TreeSize(4, 5), 5)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 4, 16, 64, 256, 1024}, s)

	got, err := parse("trace", "--fan-in", "3", "--depth", "2,4")
	require.NoError(t, err)
	assert.Equal(t, []int{13, 121}, got.Nodes)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "--fan-in", "3", "--nodes", "100"}, "give one or the other"},
		{[]string{"trace", "--fan-in", "101"}, "--fan-in: must be from 1 to 100"},
		{[]string{"trace", "--fan-in", "10", "--depth", "6"}, "more than 20000"},
	} {
		_, err := parse(c.args...)
		require.Error(t, err, "%v", c.args)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestParentCoversEveryNode(t *testing.T) {
	s, err := Levels(1000, 8)
	require.NoError(t, err)
	for k := 0; k+1 < len(s); k++ {
		children := make([]int, s[k])
		for j := range s[k+1] {
			p := Parent(j, s[k], s[k+1])
			require.Less(t, p, s[k])
			children[p]++
		}
		for p, n := range children {
			assert.Positive(t, n, "node %d at depth %d has no input", p, k)
		}
	}
}

func TestFlags(t *testing.T) {
	got, err := parse("register", "process", "--baseline", "-n", "3000", "-c", "32",
		"--inputs", "5", "--outputs", "20", "--as-recycler", "rec2", "-o", "json",
		"--endorsing-orgs", "MunicipalityMSP,RecyclerMSP", "--timeout", "7s", "--baseline-bytes", "512")
	require.NoError(t, err)
	assert.Equal(t, []string{"register", "process"}, got.Scenarios)
	assert.True(t, got.Baseline)
	assert.Equal(t, 3000, got.N)
	assert.Equal(t, 32, got.C)
	assert.Equal(t, 5, got.Inputs)
	assert.Equal(t, 20, got.Outputs)
	assert.Equal(t, "municipality", got.Collector)
	assert.Equal(t, "rec2", got.Recycler)
	assert.Equal(t, cmdutil.FormatJSON, got.Format)
	assert.Regexp(t, `^bench[0-9a-z]+$`, got.Prefix)
	assert.Equal(t, []string{"MunicipalityMSP", "RecyclerMSP"}, got.EndorsingOrgs)
	assert.Equal(t, 7*time.Second, got.Timeout)
	assert.Equal(t, 512, got.BaselineBytes)
	assert.Equal(t, BaselineChaincode, got.BaselineChaincode)

	got, err = parse("trace", "verify", "--nodes", "10,100", "--depth", "2,4", "--calls", "3")
	require.NoError(t, err)
	assert.Equal(t, []int{10, 100}, got.Nodes)
	assert.Equal(t, []int{2, 4}, got.Depths)
	assert.Equal(t, 3, got.Calls)
	assert.Equal(t, 1000, got.N, "default -n")
	assert.Equal(t, 64, got.C, "default -c")
	assert.Equal(t, cmdutil.FormatTable, got.Format)
	assert.Equal(t, 30*time.Second, got.Timeout)
	assert.Empty(t, got.EndorsingOrgs)
}

func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "requires at least 1 arg"},
		{[]string{"teleport"}, `unknown scenario "teleport"`},
		{[]string{"register", "register"}, "named twice"},
		{[]string{"register", "-n", "0"}, "-n: must be at least 1"},
		{[]string{"register", "-c", "0"}, "-c: must be at least 1"},
		{[]string{"register", "--rounds", "0"}, "--rounds: must be at least 1"},
		{[]string{"process", "--inputs", "101"}, "--inputs: must be from 1 to 100"},
		{[]string{"trace", "--nodes", "10,100", "--depth", "1,2,3"}, "--depth: give one depth or one per --nodes size"},
		{[]string{"trace", "--nodes", "5000", "--depth", "1"}, "raise --depth"},
		{[]string{"register", "--prefix", "a-b"}, "--prefix: must be letters"},
		{[]string{"register", "-o", "yaml"}, "--output: must be table or json"},
		{[]string{"register", "--baseline-bytes", "-1"}, "--baseline-bytes: must be at least 0"},
		{[]string{"register", "--baseline", "--baseline-chaincode", ""}, "--baseline-chaincode: must name"},
		{[]string{"register", "--no-such-flag"}, "unknown flag: --no-such-flag"},
	} {
		got, err := parse(c.args...)
		require.Error(t, err, "%v", c.args)
		assert.Nil(t, got, "ran despite bad flags")
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestNeedsAConfigFile(t *testing.T) {
	// Without --config, $MTRACE_CONFIG or a config under $HOME, the run
	// stops at the first connection and says why.
	cmd := NewCommand(io.Discard, io.Discard, func(string) string { return "" }, nil)
	cmd.SetArgs([]string{"register", "-n", "1"})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--as-collector municipality: no config file")
}

// fakeClient commits every transaction instantly unless fail says
// otherwise, records the calls and answers Trace and VerifyProvenance
// with the node count named in the root id.
type fakeClient struct {
	mu    sync.Mutex
	msp   string
	calls []string
	fail  func(fn string, args []string) string
	lag   int                 // AcceptTransfer answers "no pending transfer" this many times
	kids  map[string][]string // process outputs by input, for TraceDown
	// sigs is how many orderer signatures each of its blocks carries
	// (of 70 bytes each); every 10 transactions make a block of 5000 bytes.
	sigs int
	// name and journal: when set, every RegisterBatch writes name to the
	// journal shared with another network's fakes, so a test can see the
	// order in which networks ran.
	name    string
	journal *journal
}

type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.entries = append(j.entries, s)
	j.mu.Unlock()
}

func (f *fakeClient) Submit(_ context.Context, fn string, args ...string) Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fn+" "+strings.Join(args, " "))
	if f.journal != nil && fn == api.RegisterBatch {
		f.journal.add(f.name + " " + args[0])
	}
	if fn == api.Process {
		var req model.ProcessRequest
		_ = json.Unmarshal([]byte(args[0]), &req)
		if f.kids == nil {
			f.kids = map[string][]string{}
		}
		for _, in := range req.Inputs {
			for _, o := range req.Outputs {
				f.kids[in.ID] = append(f.kids[in.ID], o.ID)
			}
		}
	}
	if fn == api.AcceptTransfer && f.lag > 0 {
		f.lag--
		return Sample{Code: "ENDORSE_ERROR", Err: `batch "x" has no pending transfer (status active)`}
	}
	if f.fail != nil {
		if code := f.fail(fn, args); code != "" {
			return Sample{Code: code, Err: fn + " failed"}
		}
	}
	// The id carries the size TxBytes answers: the call's, plus 1000.
	id := fmt.Sprintf("tx%d/%d", len(f.calls), 1000+len(f.calls[len(f.calls)-1]))
	return Sample{Total: time.Millisecond, Endorse: time.Millisecond / 2, TxID: id}
}

func (f *fakeClient) TxBytes(_ context.Context, id string) (int, error) {
	_, size, ok := strings.Cut(id, "/")
	n, err := strconv.Atoi(size)
	if !ok || err != nil {
		return 0, fmt.Errorf("no transaction %q", id)
	}
	return n, nil
}

func (f *fakeClient) Block(_ context.Context, id string) (Block, error) {
	var n, size int
	if _, err := fmt.Sscanf(id, "tx%d/%d", &n, &size); err != nil {
		return Block{}, fmt.Errorf("no transaction %q", id)
	}
	return Block{Number: uint64(n / 10), Bytes: 5000, Txs: 10, Sigs: f.sigs, SigBytes: 70 * f.sigs}, nil
}

func (f *fakeClient) Evaluate(_ context.Context, fn string, args ...string) ([]byte, Sample) {
	f.mu.Lock()
	f.calls = append(f.calls, fn+" "+strings.Join(args, " "))
	f.mu.Unlock()
	switch fn {
	case api.ReadBatch:
		f.mu.Lock()
		b, _ := json.Marshal(model.Batch{ID: args[0], Takes: len(f.kids[args[0]])})
		f.mu.Unlock()
		return b, Sample{}
	case api.TraceDown:
		var q model.DownQuery
		_ = json.Unmarshal([]byte(args[0]), &q)
		p := model.TracePage{}
		f.mu.Lock()
		for _, id := range q.IDs {
			for _, k := range f.kids[id] {
				p.Edges = append(p.Edges, model.TraceEdge{From: id, To: k})
				p.Nodes = append(p.Nodes, model.TraceNode{ID: k, Takes: len(f.kids[k])})
			}
		}
		f.mu.Unlock()
		b, _ := json.Marshal(p)
		return b, Sample{}
	}
	// Root ids read PREFIX-a<total>-0-0.
	parts := strings.Split(args[0], "-")
	n, _ := strconv.Atoi(strings.TrimPrefix(parts[1], "a"))
	var v any = model.Verdict{Nodes: n}
	if fn == api.Trace {
		v = model.Trace{Nodes: make([]model.TraceNode, n)}
	}
	b, _ := json.Marshal(v)
	return b, Sample{Total: time.Duration(n) * time.Microsecond}
}

func (f *fakeClient) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func fakeEnv(col, rec *fakeClient) *env {
	return &env{col: col, rec: rec, base: &fakeClient{}, recMSP: "RecyclerMSP", prefix: "bx", c: 4, in: 10, out: 10,
		collectedAt: "2026-11-20T09:30:00Z", log: &bytes.Buffer{}}
}

func TestMeasureWithFakes(t *testing.T) {
	col, rec := &fakeClient{msp: "MunicipalityMSP"}, &fakeClient{msp: "RecyclerMSP", lag: 3}
	o := &Options{Scenarios: []string{Register, Transfer, Process, Mixed, TraceUp, Verify}, N: 50, C: 4, Baseline: true,
		Inputs: 10, Outputs: 10, Nodes: []int{10, 100}, Depths: []int{2, 4}, Calls: 3, Rounds: 3}
	e := fakeEnv(col, rec)
	base := e.base.(*fakeClient)
	rs, err := Measure(context.Background(), e, o)
	require.NoError(t, err)
	var names []string
	for _, r := range rs {
		names = append(names, r.Scenario)
		assert.Empty(t, r.Failed, r.Scenario)
	}
	assert.Equal(t, []string{Baseline, Register, Transfer, Process, Mixed, TraceUp, Verify, TraceUp, Verify}, names)
	for _, r := range rs[:5] {
		assert.Greater(t, r.BytesPerTx, 1000.0, "%s: committed bytes read back", r.Scenario)
		assert.Positive(t, r.BytesRead, r.Scenario)
	}
	for _, r := range rs[1:5] {
		require.NotNil(t, r.Ratio, r.Scenario)
		require.NotNil(t, r.BaselineTPS, r.Scenario)
		assert.Positive(t, *r.BaselineTPS)
		assert.InDelta(t, r.TPS / *r.BaselineTPS, *r.Ratio, 0.001)
	}
	assert.Nil(t, rs[0].Ratio)
	assert.Equal(t, 50, rs[1].N)
	assert.Equal(t, 50, rs[2].N, "25 offers and 25 accepts")
	assert.Equal(t, 3, rs[2].LagRetries)
	assert.Equal(t, 50, rs[4].N, "10 stories of 5 steps")
	// 50 process transactions of 10 one-kilogram inputs: 20 collections of
	// 25 kg, handed over and split, before the timed window.
	assert.Equal(t, 50, col.count(`RegisterBatch {"id":"bx-r-`))
	assert.Equal(t, 25, col.count(`RegisterBatch {"id":"bx-t-`))
	assert.Equal(t, 20, col.count(`RegisterBatch {"id":"bx-pin-`))
	assert.Equal(t, 20, col.count(`OfferTransfer bx-pin-`))
	assert.Equal(t, 10, col.count(`RegisterBatch {"id":"bx-m-`))
	assert.Equal(t, 20+10, rec.count(api.Process)-50-10, "splits and mixed extrusions")
	// Warm-up, then per scenario a baseline slice before each of its three
	// slices and one after the last, each as large as the scenario slice:
	// register 16+16+17+17, transfer 2*(8+8+8+9), process as register,
	// mixed 5*(3+3+3+4).
	const baselines = 66 + 66 + 66 + 65
	assert.Equal(t, 50, base.count("Put bx-warm-"))
	assert.Equal(t, baselines, base.count("Put bx-bl-"))
	assert.Len(t, base.calls, 50+baselines, "the baseline chaincode gets only the baseline's writes")
	assert.Zero(t, col.count("Put"), "no baseline write goes to mtrace")
	assert.Equal(t, baselines, rs[0].N, "the baseline line sums its slices")
	keys := map[string]bool{}
	for _, c := range base.calls {
		if strings.HasPrefix(c, "Put bx-bl-") {
			keys[strings.Fields(c)[1]] = true
		}
	}
	assert.Len(t, keys, baselines, "every baseline write has its own key")
	small, _ := Levels(10, 2)
	big, _ := Levels(100, 4)
	assert.Equal(t, small[2]+big[4], col.count(`RegisterBatch {"id":"bx-a`), "leaves of the two ancestries")
	assert.Equal(t, 10-small[2]+100-big[4], col.count(`Process {"step":"merging"`), "one merge per inner node")
	// Trace sizes and their fitted exponent.
	assert.Equal(t, 10, rs[5].Nodes)
	assert.Equal(t, 100, rs[7].Nodes)
	assert.Equal(t, 4, rs[7].Depth)
	assert.Equal(t, "bx-a100-0-0", rs[7].Root)
	require.NotNil(t, rs[5].Exponent)
	assert.InDelta(t, 1.0, *rs[5].Exponent, 0.01)
	assert.Equal(t, 3, rs[5].N)

	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, rs))
	assert.Contains(t, buf.String(), "SCENARIO  N")
	assert.Contains(t, buf.String(), "EXPONENT")
}

func TestProcessUsesDistinctOneKilogramInputs(t *testing.T) {
	col, rec := &fakeClient{}, &fakeClient{}
	e := fakeEnv(col, rec)
	e.in, e.out = 3, 2
	s := e.scenario(Process)
	s.unit(context.Background(), 9)
	require.Len(t, rec.calls, 1)
	var req model.ProcessRequest
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(rec.calls[0], "Process ")), &req))
	require.NoError(t, req.Validate())
	assert.Equal(t, []model.ProcessInput{{ID: "bx-ps-1-2", Mass: 1000}, {ID: "bx-ps-1-3", Mass: 1000}, {ID: "bx-ps-1-4", Mass: 1000}}, req.Inputs)
	assert.Equal(t, "bx-po-9-1", req.Outputs[1].ID)
	assert.Equal(t, model.Grams(1500), req.Outputs[0].Mass)
}

func TestFailuresAreCountedByCode(t *testing.T) {
	col := &fakeClient{fail: func(fn string, args []string) string {
		if fn == api.OfferTransfer && strings.HasSuffix(args[0], "-3") {
			return "MVCC_READ_CONFLICT"
		}
		return ""
	}}
	rec := &fakeClient{}
	o := &Options{Scenarios: []string{Transfer, Mixed}, N: 20, C: 3, Inputs: 1, Outputs: 1, Calls: 1}
	rs, err := Measure(context.Background(), fakeEnv(col, rec), o)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"MVCC_READ_CONFLICT": 1, "SKIPPED": 1}, rs[0].Failed, "the accept after a failed offer is skipped")
	assert.Equal(t, map[string]int{"MVCC_READ_CONFLICT": 1, "SKIPPED": 3}, rs[1].Failed)
	assert.Nil(t, rs[0].Ratio)
}

func TestFixtureFailureStopsTheRun(t *testing.T) {
	col := &fakeClient{fail: func(fn string, _ []string) string {
		if fn == api.RegisterBatch {
			return "ENDORSE_ERROR"
		}
		return ""
	}}
	_, err := Measure(context.Background(), fakeEnv(col, &fakeClient{}), &Options{Scenarios: []string{Transfer}, N: 10, C: 2, Calls: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "transfer: prepare register: RegisterBatch failed")
}

func TestRunBenchPrintsJSON(t *testing.T) {
	var out bytes.Buffer
	col, rec, base := &fakeClient{}, &fakeClient{}, &fakeClient{}
	var opened []string
	o := &Options{Out: &out, Log: io.Discard, Format: cmdutil.FormatJSON, Scenarios: []string{Register}, N: 5, C: 2, Baseline: true, Calls: 1,
		Collector: "municipality", Recycler: "recycler", BaselineChaincode: BaselineChaincode,
		Open: func(p, cc string) (Client, string, func() error, error) {
			opened = append(opened, p+"/"+cc)
			switch {
			case p == "municipality" && cc == "":
				return col, "MunicipalityMSP", func() error { return nil }, nil
			case p == "municipality" && cc == BaselineChaincode:
				return base, "MunicipalityMSP", func() error { return nil }, nil
			case p == "recycler" && cc == "":
				return rec, "RecyclerMSP", func() error { return nil }, nil
			}
			return nil, "", nil, errors.New("no such profile")
		}}
	require.NoError(t, runBench(context.Background(), o))
	assert.Equal(t, []string{"municipality/", "recycler/", "municipality/mtrace-baseline"}, opened)
	var got []Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, 2)
	assert.Equal(t, "register", got[1].Scenario)
	assert.NotNil(t, got[1].Ratio)
	assert.Positive(t, base.count("Put "), "the baseline ran on the baseline chaincode")

	o.Recycler = "ghost"
	err := runBench(context.Background(), o)
	assert.EqualError(t, err, fmt.Sprintf("--as-recycler ghost: %s", "no such profile"))

	o.Recycler, o.BaselineChaincode = "recycler", "absent"
	err = runBench(context.Background(), o)
	assert.EqualError(t, err, "--baseline-chaincode absent: no such profile")
}

// silo takes one kilogram at a time from one batch and reports every
// tenth of the takes; recall traces the tree the fixtures built, page by
// page, and finds every descendant.
func TestSiloAndRecallWithFakes(t *testing.T) {
	col, rec := &fakeClient{msp: "MunicipalityMSP"}, &fakeClient{msp: "RecyclerMSP"}
	o := &Options{Scenarios: []string{Silo, Recall}, N: 40, C: 4, Calls: 2, Descendants: 120, RecallDepth: 2, Inputs: 1, Outputs: 1, Rounds: 1}
	require.NoError(t, o.Validate())
	rs, err := Measure(context.Background(), fakeEnv(col, rec), o)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	s := rs[0]
	assert.Equal(t, Silo, s.Scenario)
	assert.Equal(t, 40, s.N)
	assert.Equal(t, 40, rec.count(api.Process), "one process per take")
	require.Len(t, s.Segments, 10)
	assert.Equal(t, Segment{From: 1, To: 4, P50: 1, Bytes: s.Segments[0].Bytes}, s.Segments[0])
	assert.Equal(t, 37, s.Segments[9].From)
	require.NotNil(t, s.LastFirstBytes)
	assert.InDelta(t, 1.0, *s.LastFirstBytes, 0.01, "the fake's takes differ only in their output id's digits")
	assert.Equal(t, 1.0, *s.LastFirstP50)

	r := rs[1]
	assert.Equal(t, Recall, r.Scenario)
	assert.Equal(t, 121, r.Nodes)
	assert.Equal(t, 2, r.N, "two traces")
	assert.Positive(t, r.Pages)
	assert.Positive(t, r.PeakRSSMB)

	var out bytes.Buffer
	require.NoError(t, WriteTable(&out, rs))
	assert.Contains(t, out.String(), "silo: 40 takes of 1 kg")
	assert.Contains(t, out.String(), "last/first  1.00")
	assert.Contains(t, out.String(), "recall: 121 batches, depth 2")

	o.Descendants = 0
	assert.ErrorContains(t, o.Validate(), "--descendants and --recall-depth: must be at least 1")
}
