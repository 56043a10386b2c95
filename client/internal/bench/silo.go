package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// BytesSample is how many committed transactions of a scenario are read
// back to measure their size.
const BytesSample = 100

// bytesPerTx reads back up to BytesSample of the committed transactions
// among samples, spread evenly, and returns their mean size and how many
// it read.
func (e *env) bytesPerTx(ctx context.Context, samples []Sample) (float64, int, error) {
	var ids []string
	for _, s := range samples {
		if s.Code == "" && s.TxID != "" {
			ids = append(ids, s.TxID)
		}
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	step := max(1, len(ids)/BytesSample)
	total, n := 0, 0
	for i := 0; i < len(ids) && n < BytesSample; i += step {
		b, err := e.col.TxBytes(ctx, ids[i])
		if err != nil {
			return 0, 0, err
		}
		total += b
		n++
	}
	return math.Round(float64(total)/float64(n)*10) / 10, n, nil
}

// Segments is how many slices a silo's takes are reported in.
const Segments = 10

// silo registers one batch of o.N+10 kg, hands it to the recycler, and
// has the recycler take 1 kg from it o.N times, one process after the
// other (every take rewrites the same batch, so they cannot run
// concurrently without conflicts). It reports latency and the committed
// size of every take, per tenth of the takes, and the last tenth's over
// the first's: a take must cost the same whatever the batch's history.
func (e *env) silo(ctx context.Context, o *Options) (Result, error) {
	id := e.id("silo")
	if s := e.register(ctx, id, model.Grams(o.N+10)*model.Kilogram); s.Code != "" {
		return Result{}, fmt.Errorf("silo: register: %s", s.Err)
	}
	if s := e.offer(ctx, id); s.Code != "" {
		return Result{}, fmt.Errorf("silo: offer: %s", s.Err)
	}
	if s := e.accept(ctx, id); s.Code != "" {
		return Result{}, fmt.Errorf("silo: accept: %s", s.Err)
	}
	fmt.Fprintf(e.log, "silo: %d takes of 1 kg from %s, one at a time\n", o.N, id)
	samples := make([]Sample, o.N)
	start := time.Now()
	for i := range o.N {
		samples[i] = e.process(ctx, e.rec, model.StepShredding, model.FormFlakes,
			[]model.ProcessInput{{ID: id, Mass: model.Kilogram}}, []string{e.id("silo", i)}, model.Kilogram)
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("silo: %w", err)
		}
	}
	r := Summarise(Silo, 1, samples, time.Since(start))
	sizes := make([]int, o.N)
	for i, s := range samples {
		if s.Code != "" {
			continue
		}
		b, err := e.col.TxBytes(ctx, s.TxID)
		if err != nil {
			return Result{}, fmt.Errorf("silo: %w", err)
		}
		sizes[i] = b
	}
	segs := min(Segments, o.N)
	for k := range segs {
		lo, hi := k*o.N/segs, (k+1)*o.N/segs
		var lat []time.Duration
		total, n := 0, 0
		for i := lo; i < hi; i++ {
			if samples[i].Code == "" {
				lat = append(lat, samples[i].Total)
				total += sizes[i]
				n++
			}
		}
		slices.Sort(lat)
		seg := Segment{From: lo + 1, To: hi, P50: ms(Percentile(lat, 50))}
		if n > 0 {
			seg.Bytes = math.Round(float64(total)/float64(n)*10) / 10
			r.BytesPerTx += float64(total)
			r.BytesRead += n
		}
		r.Segments = append(r.Segments, seg)
	}
	if r.BytesRead > 0 {
		r.BytesPerTx = math.Round(r.BytesPerTx/float64(r.BytesRead)*10) / 10
	}
	first, last := r.Segments[0], r.Segments[len(r.Segments)-1]
	r.LastFirstBytes, r.LastFirstP50 = ratio(last.Bytes, first.Bytes), ratio(last.P50, first.P50)
	return r, nil
}

func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := math.Round(a/b*1000) / 1000
	return &v
}

// recall builds a tree of o.Descendants batches under one root, o.RecallDepth
// levels deep (the root split, each part split again, as far as the
// leaves), then times o.Calls whole downstream traces of it, read page by
// page as `mtrace trace --down` reads them.
func (e *env) recall(ctx context.Context, o *Options) (Result, error) {
	levels, err := Levels(o.Descendants+1, o.RecallDepth)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(e.log, "recall: a tree of %d descendants, levels %v\n", o.Descendants, levels)
	node := func(k, j int) string { return e.id("d"+strconv.Itoa(o.Descendants), k, j) }
	depth := len(levels) - 1
	mass := make([][]model.Grams, len(levels))
	outs := make([][][]model.ProcessOutput, len(levels)) // by level and parent
	mass[depth] = make([]model.Grams, levels[depth])
	for j := range mass[depth] {
		mass[depth][j] = 1000
	}
	for k := depth - 1; k >= 0; k-- {
		mass[k] = make([]model.Grams, levels[k])
		outs[k] = make([][]model.ProcessOutput, levels[k])
		for j := range levels[k+1] {
			p := Parent(j, levels[k], levels[k+1])
			mass[k][p] += mass[k+1][j]
			outs[k][p] = append(outs[k][p], model.ProcessOutput{ID: node(k+1, j), Material: model.PET, Form: model.FormFlakes, Mass: mass[k+1][j]})
		}
	}
	root := node(0, 0)
	if s := e.register(ctx, root, mass[0][0]); s.Code != "" {
		return Result{}, fmt.Errorf("recall: register: %s", s.Err)
	}
	for k := 0; k < depth; k++ {
		err := e.fixture(ctx, fmt.Sprintf("split at depth %d (recall of %d)", k, o.Descendants), levels[k], func(ctx context.Context, j int) Sample {
			req := model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{{ID: node(k, j), Mass: mass[k][j]}}, Outputs: outs[k][j]}
			return e.col.Submit(ctx, api.Process, cmdutil.MarshalArg(req))
		})
		if err != nil {
			return Result{}, err
		}
	}
	l := queryLedger{c: e.col}
	var lat []time.Duration
	var pages, nodes int
	var heap runtime.MemStats
	start := time.Now()
	for range o.Calls {
		t0 := time.Now()
		tr, p, err := cmdutil.TraceDown(ctx, l, root, 0)
		if err != nil {
			return Result{}, fmt.Errorf("recall: %w", err)
		}
		lat = append(lat, time.Since(t0))
		pages, nodes = p, len(tr.Nodes)
		runtime.ReadMemStats(&heap)
	}
	wall := time.Since(start)
	if nodes != o.Descendants+1 {
		return Result{}, fmt.Errorf("recall: the trace of %s has %d batches, want %d", root, nodes, o.Descendants+1)
	}
	samples := make([]Sample, len(lat))
	for i, d := range lat {
		samples[i] = Sample{Total: d}
	}
	r := Summarise(Recall, 1, samples, wall)
	r.Nodes, r.Depth, r.Root, r.Pages = nodes, depth, root, pages
	r.MsPer1000 = math.Round(r.P50*1000/float64(nodes)*10) / 10
	r.HeapAfterMB = math.Round(float64(heap.HeapAlloc)/(1<<20)*10) / 10
	r.PeakRSSMB = peakRSS()
	return r, nil
}

// peakRSS is the process's peak resident memory in MB (VmHWM), 0 where
// /proc does not say.
func peakRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				return math.Round(kb/1024*10) / 10
			}
		}
	}
	return 0
}

// queryLedger lets the CLI's paged reads (cmdutil.TraceDown, which only
// evaluates) run on a bench client. The embedded Ledger is nil: nothing
// else of it may be called.
type queryLedger struct {
	ledger.Ledger
	c Client
}

func (q queryLedger) Evaluate(ctx context.Context, fn string, args ...string) ([]byte, error) {
	b, s := q.c.Evaluate(ctx, fn, args...)
	if s.Code != "" {
		return nil, errors.New(s.Err)
	}
	return b, nil
}
