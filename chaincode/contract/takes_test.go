package contract

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// silo registers a batch and has the recycler take 1 kg from it n times,
// one process each, the clock moving one second per take. It returns the
// process records in the order they ran.
func silo(w *world, id string, n int) []model.Process {
	w.register(id, kg(int64(n)+10))
	w.move(id, w.mun, w.rec, 0)
	recs := make([]model.Process, n)
	for i := range n {
		w.l.Advance(time.Second)
		w.ok(w.rec, &recs[i], "Process", model.ProcessRequest{Step: model.StepShredding,
			Inputs:  []model.ProcessInput{in(id, kg(1))},
			Outputs: []model.ProcessOutput{out(fmt.Sprintf("%s-T%04d", id, i), model.FormFlakes, kg(1))}})
	}
	return recs
}

// allTakes follows ListTakes page by page and returns the takes and the
// size of every page.
func allTakes(w *world, id string, limit int) ([]model.Take, []int) {
	var takes []model.Take
	var sizes []int
	bookmark := ""
	for {
		var p model.TakePage
		w.query(w.out, &p, "ListTakes", id, bookmark, limit)
		takes = append(takes, p.Takes...)
		sizes = append(sizes, len(p.Takes))
		if p.Bookmark == "" {
			return takes, sizes
		}
		bookmark = p.Bookmark
	}
}

func TestTakesAreKeysInTheOrderMade(t *testing.T) {
	w := newWorld(t)
	recs := silo(w, "SILO", 25)
	b := w.batch("SILO")
	assert.Equal(t, kg(25), b.TakenMass)
	assert.Equal(t, 25, b.Takes)
	assert.Equal(t, kg(10), b.RemainingMass)

	want := make([]model.Take, len(recs))
	for i, r := range recs {
		want[i] = model.Take{ID: r.Outputs[0].ID, Mass: kg(1), Tx: r.Tx, Handovers: 1, At: r.At}
	}
	takes, sizes := allTakes(w, "SILO", 10)
	assert.Equal(t, want, takes, "takes come back oldest first, whatever their transaction ids")
	assert.Equal(t, []int{10, 10, 5}, sizes)
	whole, sizes := allTakes(w, "SILO", 0)
	assert.Equal(t, want, whole)
	assert.Equal(t, []int{25}, sizes)
	// Transaction ids are hashes: key order by tx alone would differ.
	byTx := slices.Clone(want)
	slices.SortFunc(byTx, func(a, b model.Take) int { return strings.Compare(a.Tx, b.Tx) })
	assert.NotEqual(t, want, byTx)

	// A bookmark is only good for the batch it came from.
	var p model.TakePage
	w.query(w.out, &p, "ListTakes", "SILO", "", 3)
	w.register("OTHER", kg(1))
	w.queryFail(w.out, "bookmark: is not a bookmark returned for this batch", "ListTakes", "OTHER", p.Bookmark, 3)
	w.queryFail(w.out, "bookmark: is not a bookmark returned for this batch", "ListTakes", "SILO", "%%%", 3)
	w.queryFail(w.out, "limit: must be from 1 to 1000, got 1001", "ListTakes", "SILO", "", 1001)
	w.queryFail(w.out, `batch "NOPE" not found`, "ListTakes", "NOPE", "", 0)
}

// Two takes in the same second keep a stable order (by transaction id),
// and a take made with more handovers records the custody of its time.
func TestTakesSameTimeAndCustody(t *testing.T) {
	w := newWorld(t)
	w.register("S", kg(10))
	w.move("S", w.mun, w.rec, 0)
	for i := range 3 {
		w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSorting,
			Inputs: []model.ProcessInput{in("S", kg(1))}, Outputs: []model.ProcessOutput{out(fmt.Sprintf("O%d", i), model.FormSorted, kg(1))}})
	}
	w.move("S", w.rec, w.mak, 0)
	w.l.Advance(time.Second)
	w.ok(w.mak, nil, "Process", model.ProcessRequest{Step: model.StepPrinting,
		Inputs: []model.ProcessInput{in("S", kg(1))}, Outputs: []model.ProcessOutput{out("O3", model.FormProduct, kg(1))}})
	takes, _ := allTakes(w, "S", 2)
	require.Len(t, takes, 4)
	same := takes[:3]
	assert.True(t, slices.IsSortedFunc(same, func(a, b model.Take) int { return strings.Compare(a.Tx, b.Tx) }), "ties are in transaction id order")
	assert.Equal(t, []int{1, 1, 1, 2}, []int{takes[0].Handovers, takes[1].Handovers, takes[2].Handovers, takes[3].Handovers})
	assert.Equal(t, "O3", takes[3].ID)
	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "O3", "")
	assert.True(t, v.OK, "%+v", v.Checks)
}

// The cost of a take does not grow with the takes before it: the batch a
// process rewrites is the same size on the 2nd and the 200th take.
func TestTakeCostDoesNotGrow(t *testing.T) {
	w := newWorld(t)
	w.register("SILO", kg(1000))
	w.move("SILO", w.mun, w.rec, 0)
	key, err := batchKey("SILO")
	require.NoError(t, err)
	var sizes []int
	for i := range 200 {
		w.l.Advance(time.Second)
		w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepShredding,
			Inputs: []model.ProcessInput{in("SILO", 1)}, Outputs: []model.ProcessOutput{out(fmt.Sprintf("F%04d", i), model.FormFlakes, 1)}})
		sizes = append(sizes, len(w.l.State(key)))
	}
	// Only the digits of the counters and the remaining mass may differ.
	assert.InDelta(t, sizes[1], sizes[199], 4, "batch size after take 2: %d, after take 200: %d", sizes[1], sizes[199])
}

// downAll walks a downstream graph the way the CLI does: level by level,
// each level in chunks, every chunk page by page, each new output once.
func downAll(w *world, root string, limit, chunk int) (*model.Trace, int) {
	var rb model.Batch
	w.query(w.out, &rb, "ReadBatch", root)
	tr := &model.Trace{Root: root, Direction: model.Downstream}
	seen := map[string]bool{root: true}
	edges := map[[3]string]bool{}
	tr.Nodes = append(tr.Nodes, model.NodeOf(&rb, 0))
	level, pages := []string{root}, 0
	for d := 1; len(level) > 0; d++ {
		var next []string
		for lo := 0; lo < len(level); lo += chunk {
			q := model.DownQuery{IDs: level[lo:min(lo+chunk, len(level))], Limit: limit}
			for {
				var p model.TracePage
				w.query(w.out, &p, "TraceDown", q)
				pages++
				if limit > 0 {
					// A page holds whole processes: it may pass the
					// limit only with its first.
					require.True(w.tb, len(p.Edges) <= limit || p.Edges[0].Tx == p.Edges[len(p.Edges)-1].Tx, "page of %d edges for limit %d", len(p.Edges), limit)
				}
				for _, e := range p.Edges {
					k := [3]string{e.From, e.To, e.Tx}
					require.False(w.tb, edges[k], "edge %v on two pages", k)
					edges[k] = true
					tr.Edges = append(tr.Edges, e)
				}
				for _, n := range p.Nodes {
					if !seen[n.ID] {
						seen[n.ID] = true
						n.Depth = d
						tr.Nodes = append(tr.Nodes, n)
						if n.Takes > 0 {
							next = append(next, n.ID)
						}
					}
				}
				if p.Bookmark == "" {
					break
				}
				q.Bookmark = p.Bookmark
			}
		}
		slices.Sort(next)
		level = next
	}
	model.SortTrace(tr)
	return tr, pages
}

// recallWorld: a root split into 30 lots, each lot split into 3, and every
// second pair of those merged again, so the graph has shared descendants.
func recallWorld(t *testing.T) *world {
	w := newWorld(t)
	w.register("ROOT", kg(3000))
	w.move("ROOT", w.mun, w.rec, 0)
	for i := range 30 {
		lot := fmt.Sprintf("LOT-%02d", i)
		w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSplitting,
			Inputs: []model.ProcessInput{in("ROOT", kg(100))}, Outputs: []model.ProcessOutput{out(lot, model.FormFlakes, kg(100))}})
		outs := []model.ProcessOutput{out(lot+"-a", model.FormFlakes, kg(30)), out(lot+"-b", model.FormFlakes, kg(30)), out(lot+"-c", model.FormFlakes, kg(40))}
		w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{in(lot, kg(100))}, Outputs: outs})
		if i%2 == 1 {
			prev := fmt.Sprintf("LOT-%02d", i-1)
			w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepMerging,
				Inputs:  []model.ProcessInput{in(prev+"-a", kg(30)), in(lot+"-a", kg(30))},
				Outputs: []model.ProcessOutput{out(prev+"-M", model.FormFlakes, kg(60))}})
		}
	}
	return w
}

func TestTraceDownPagesMatchTheWholeTrace(t *testing.T) {
	w := recallWorld(t)
	var whole model.Trace
	w.query(w.out, &whole, "Trace", "ROOT", "down")
	require.Len(t, whole.Nodes, 1+30+90+15)
	for _, c := range []struct{ limit, chunk, minPages int }{
		{0, model.MaxDownIDs, 3}, {1, 1, 90}, {2, 7, 45}, {5, 4, 18}, {1000, 1000, 3},
	} {
		got, pages := downAll(w, "ROOT", c.limit, c.chunk)
		assert.Equal(t, &whole, got, "limit %d, chunk %d", c.limit, c.chunk)
		assert.GreaterOrEqual(t, pages, c.minPages, "limit %d, chunk %d", c.limit, c.chunk)
	}

	// Pages have no cap on the graph; the one-call trace has.
	maxTraceNodes = 20
	defer func() { maxTraceNodes = MaxTraceNodes }()
	w.queryFail(w.out, "trace: the graph has more than 20 batches; trace downstream page by page with TraceDown", "Trace", "ROOT", "down")
	got, _ := downAll(w, "ROOT", 10, 10)
	assert.Len(t, got.Nodes, len(whole.Nodes))
}

func TestTraceDownRejects(t *testing.T) {
	w := recallWorld(t)
	var p model.TracePage
	w.query(w.out, &p, "TraceDown", model.DownQuery{IDs: []string{"ROOT", "LOT-00"}, Limit: 3})
	require.NotEmpty(t, p.Bookmark)
	assert.Len(t, p.Edges, 3)
	w.queryFail(w.out, "bookmark: is not a bookmark returned for these ids", "TraceDown", model.DownQuery{IDs: []string{"LOT-01"}, Bookmark: p.Bookmark})
	w.queryFail(w.out, "bookmark: is not a bookmark returned for these ids", "TraceDown", model.DownQuery{IDs: []string{"ROOT"}, Bookmark: "bm90LWEtYm9va21hcms"})
	w.queryFail(w.out, "ids: must list 1 to 1000 batches, got 0", "TraceDown", model.DownQuery{IDs: []string{}})
	w.queryFail(w.out, "ids: must list 1 to 1000 batches, got 1001", "TraceDown", model.DownQuery{IDs: ids("X", 1001)})
	w.queryFail(w.out, "limit: must be from 1 to 5000, got 5001", "TraceDown", model.DownQuery{IDs: []string{"ROOT"}, Limit: 5001})
	w.queryFail(w.out, `batch "NOPE" not found`, "TraceDown", model.DownQuery{IDs: []string{"NOPE"}})
}
