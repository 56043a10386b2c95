package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

func TestAlternation(t *testing.T) {
	assert.Equal(t, [][]int{{0, 1}}, Alternation(1))
	assert.Equal(t, [][]int{{0, 1}, {1, 0}, {0, 1}, {1, 0}}, Alternation(4))
}

// runs is the journal's entries for ids with prefix, as the network names
// of each run of consecutive entries and their lengths.
func runs(j *journal, prefix string) ([]string, []int) {
	var names []string
	var lens []int
	for _, e := range j.entries {
		name, arg, _ := strings.Cut(e, " ")
		if !strings.Contains(arg, `"id":"`+prefix) {
			continue
		}
		if len(names) > 0 && names[len(names)-1] == name {
			lens[len(lens)-1]++
			continue
		}
		names, lens = append(names, name), append(lens, 1)
	}
	return names, lens
}

// The two networks' slices alternate A B, B A, A B; each network gets its
// own fixtures and warm-up; the ratio is A's tx/s over B's; each reports
// what its blocks weigh.
func TestCompareWithFakes(t *testing.T) {
	j := &journal{}
	a := fakeEnv(&fakeClient{name: "bft", journal: j, sigs: 3}, &fakeClient{})
	b := fakeEnv(&fakeClient{name: "raft", journal: j, sigs: 1}, &fakeClient{})
	o := &Options{Scenarios: []string{Register, Transfer, Process}, N: 50, C: 1, Inputs: 10, Outputs: 10, Rounds: 3}
	vs, err := Compare(context.Background(), []*env{a, b}, []string{"bft", "raft"}, o)
	require.NoError(t, err)
	require.Len(t, vs, 3)

	// Register: 50 units in slices of 16, 17 and 17, A B | B A | A B.
	names, lens := runs(j, "bx-r-")
	assert.Equal(t, []string{"bft", "raft", "bft", "raft"}, names)
	assert.Equal(t, []int{16, 16 + 17, 17 + 17, 17}, lens)
	for _, e := range []*env{a, b} {
		col := e.col.(*fakeClient)
		assert.Equal(t, 50, col.count(`RegisterBatch {"id":"bx-r-`), "every register unit on each network")
		assert.Equal(t, 50, col.count(`RegisterBatch {"id":"bxw-r-`), "warm-up under a prefix of its own")
		assert.Equal(t, 25, col.count(`RegisterBatch {"id":"bx-t-`), "transfer fixtures on each network")
		assert.Equal(t, 20, col.count(`RegisterBatch {"id":"bx-pin-`), "process fixtures on each network")
		assert.Equal(t, 50+20, e.rec.(*fakeClient).count(api.Process+" "), "50 process units and 20 splits of fixtures")
	}

	for _, v := range vs {
		require.Len(t, v.Networks, 2, v.Scenario)
		assert.Equal(t, "bft", v.Networks[0].Network)
		assert.Equal(t, "raft", v.Networks[1].Network)
		assert.Equal(t, 50, v.Networks[0].N, v.Scenario)
		assert.Equal(t, 50, v.Networks[1].N, v.Scenario)
		require.NotNil(t, v.Ratio, v.Scenario)
		assert.InDelta(t, v.Networks[0].TPS/v.Networks[1].TPS, *v.Ratio, 0.001, v.Scenario)
		for _, r := range v.Networks {
			assert.Empty(t, r.Failed)
			assert.Greater(t, r.BytesPerTx, 1000.0)
			assert.Equal(t, 500.0, r.BlockBytesPerTx, "5000-byte blocks of 10")
			assert.Equal(t, 10.0, r.TxPerBlock)
			assert.Positive(t, r.BlocksRead)
			assert.LessOrEqual(t, r.BlocksRead, BlockSample)
		}
		assert.Equal(t, 3.0, v.Networks[0].SigsPerBlock)
		assert.Equal(t, 210.0, v.Networks[0].SigBytesPerBlock)
		assert.Equal(t, 1.0, v.Networks[1].SigsPerBlock)
	}

	var buf bytes.Buffer
	require.NoError(t, WriteVersusTable(&buf, vs))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 7)
	assert.Regexp(t, `^SCENARIO +NETWORK +N +C +TX/S +RATIO +P50 MS +P95 MS +P99 MS +BYTES/TX +BLOCK BYTES/TX +TX/BLOCK +SIGS/BLOCK +SIG BYTES/BLOCK +FAILED$`, lines[0])
	assert.Regexp(t, `^register +bft +50 +4 +[0-9.]+ +`+regexp.QuoteMeta(fmt.Sprintf("%.2f", *vs[0].Ratio))+` +.* 500 +10\.0 +3\.0 +210 +0$`, lines[1])
	assert.Regexp(t, `^register +raft +50 +4 +[0-9.]+ +- +.* 500 +10\.0 +1\.0 +70 +0$`, lines[2])
}

func TestCompareStopsOnAFailedWarmUpOrFixture(t *testing.T) {
	refuse := &fakeClient{fail: func(fn string, _ []string) string {
		if fn == api.RegisterBatch {
			return "ENDORSE_ERROR"
		}
		return ""
	}}
	o := &Options{Scenarios: []string{Register}, N: 10, C: 2, Rounds: 2}
	_, err := Compare(context.Background(), []*env{fakeEnv(&fakeClient{}, &fakeClient{}), fakeEnv(refuse, &fakeClient{})}, []string{"bft", "raft"}, o)
	assert.EqualError(t, err, "raft: warming up: RegisterBatch failed")

	_, err = Compare(context.Background(), []*env{fakeEnv(&fakeClient{}, &fakeClient{})}, []string{"bft"}, o)
	assert.Error(t, err)
	o.Scenarios = []string{TraceUp}
	_, err = Compare(context.Background(), []*env{fakeEnv(&fakeClient{}, &fakeClient{}), fakeEnv(&fakeClient{}, &fakeClient{})}, []string{"a", "b"}, o)
	assert.EqualError(t, err, "compare: trace is not a throughput scenario")
}

func TestAgainstFlags(t *testing.T) {
	o, err := parse("register", "transfer", "--against", "/r/config.yaml", "--labels", "bft,raft")
	require.NoError(t, err)
	assert.Equal(t, "/r/config.yaml", o.Against)
	assert.Equal(t, []string{"bft", "raft"}, o.Labels)
	require.NotNil(t, o.OpenAgainst)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"register", "--against", "x", "--baseline"}, "--against and --baseline"},
		{[]string{"register", "trace", "--against", "x"}, "--against: trace is not a throughput scenario"},
		{[]string{"register", "--against", "x", "--labels", "a,b,c"}, "--labels: give two names"},
		{[]string{"register", "--against", "x", "--labels", "a,a"}, "--labels: the two networks need different names"},
	} {
		_, err := parse(c.args...)
		var fe *cmdutil.FlagError
		require.ErrorAs(t, err, &fe, c.args)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestRunBenchAgainstPrintsJSON(t *testing.T) {
	var out bytes.Buffer
	nets := map[string]map[string]*fakeClient{
		"bft":  {"municipality": {sigs: 3}, "recycler": {}},
		"raft": {"municipality": {sigs: 1}, "recycler": {}},
	}
	opener := func(net string) func(string, string) (Client, string, func() error, error) {
		return func(p, cc string) (Client, string, func() error, error) {
			if c, ok := nets[net][p]; ok && cc == "" {
				return c, "MSP", func() error { return nil }, nil
			}
			return nil, "", nil, errors.New("no such profile")
		}
	}
	o := &Options{Out: &out, Log: io.Discard, Format: cmdutil.FormatJSON, Scenarios: []string{Register}, N: 6, C: 2, Rounds: 2,
		Collector: "municipality", Recycler: "recycler", Against: "raft.yaml", Labels: []string{"bft", "raft"},
		Open: opener("bft"), OpenAgainst: opener("raft")}
	require.NoError(t, runBench(context.Background(), o))
	var got []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, 1)
	assert.Equal(t, "register", got[0]["scenario"])
	assert.Contains(t, got[0], "ratio")
	ns := got[0]["networks"].([]any)
	require.Len(t, ns, 2)
	for i, want := range []float64{3, 1} {
		n := ns[i].(map[string]any)
		for _, k := range []string{"network", "tps", "p50_ms", "p95_ms", "bytes_per_tx", "block_bytes_per_tx", "tx_per_block", "signatures_per_block", "signature_bytes_per_block"} {
			assert.Contains(t, n, k)
		}
		assert.Equal(t, want, n["signatures_per_block"])
	}
	assert.Equal(t, 6, nets["raft"]["municipality"].count(`RegisterBatch {"id":"`+o.Prefix+`-r-`), "the second network ran the scenario")

	o.Recycler = "ghost"
	assert.EqualError(t, runBench(context.Background(), o), "--as-recycler ghost: no such profile")
	o.Recycler = "recycler"
	delete(nets["raft"], "recycler")
	assert.EqualError(t, runBench(context.Background(), o), "--against raft.yaml: --as-recycler recycler: no such profile")
}
