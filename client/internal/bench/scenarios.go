package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// Scenario names.
const (
	Register = "register"
	Transfer = "transfer"
	Process  = "process"
	Mixed    = "mixed"
	TraceUp  = "trace"
	Verify   = "verify"
	Silo     = "silo"
	Recall   = "recall"
	Baseline = "baseline"
)

// Scenarios lists the scenarios the command accepts, in the order it runs
// them.
var Scenarios = []string{Register, Transfer, Process, Mixed, TraceUp, Verify, Silo, Recall, Probe, City, CLI}

// queryScenarios are the scenarios that are not throughput runs.
var queryScenarios = []string{TraceUp, Verify, Silo, Recall}

// splitWidth is how many process inputs one fixture batch is split into.
const splitWidth = 25

// mixedSteps is the length of one mixed unit: register, offer, accept,
// sort (1 -> 1), extrude (1 -> 2).
const mixedSteps = 5

// env is what the scenarios share: the two identities, the collector's
// connection to the baseline chaincode, the run's id prefix and the
// process shape.
type env struct {
	col, rec    Client
	base        Client
	recMSP      string
	prefix      string
	c           int
	in, out     int
	pad         int
	collectedAt string
	log         io.Writer
}

// txScenario is a throughput scenario: fixtures, then units of one or more
// transactions each.
type txScenario struct {
	perUnit int
	prepare func(ctx context.Context, units int) error
	unit    Unit
}

func (e *env) id(parts ...any) string {
	s := e.prefix
	for _, p := range parts {
		s += "-" + fmt.Sprint(p)
	}
	return s
}

// baselineValue is the baseline Put's value: a small JSON object, padded to
// e.pad bytes when asked.
func (e *env) baselineValue() string {
	v := `{"bench":true}`
	if e.pad > len(v)+12 {
		v = `{"pad":"` + strings.Repeat("x", e.pad-12) + `"}`
	}
	return v
}

func (e *env) register(ctx context.Context, id string, mass model.Grams) Sample {
	return e.col.Submit(ctx, api.RegisterBatch, cmdutil.MarshalArg(model.RegisterRequest{
		ID: id, Material: model.PET, WasteCode: "15 01 02", Mass: mass,
		Location: "bench", CollectedAt: e.collectedAt,
	}))
}

func (e *env) offer(ctx context.Context, id string) Sample {
	return e.col.Submit(ctx, api.OfferTransfer, id, e.recMSP)
}

// accept is the recycler's acceptance of an offer. The offer's commit
// status came from the collector's peer; the recycler's peer may commit
// that block a moment later, and until then it answers that there is no
// pending transfer (or, for a batch registered a moment ago, that it is
// not found). Like a client that waits for the offer's event on its
// own peer, accept tries again for up to lagLimit; the sample's latency
// includes the wait and Retries counts the tries.
func (e *env) accept(ctx context.Context, id string) Sample {
	start := time.Now()
	for retries := 0; ; retries++ {
		s := e.rec.Submit(ctx, api.AcceptTransfer, id, "0")
		if lagging(s) && time.Since(start) < lagLimit && ctx.Err() == nil {
			time.Sleep(lagPause)
			continue
		}
		s.Total, s.Retries = time.Since(start), retries
		return s
	}
}

// lagging reports whether the recycler's peer refused an acceptance
// because it has not yet committed the batch's registration or offer.
func lagging(s Sample) bool {
	return s.Code == "ENDORSE_ERROR" &&
		(strings.Contains(s.Err, "has no pending transfer") || strings.Contains(s.Err, "not found"))
}

// mismatch reports whether the endorsing peers simulated against different
// versions, which writes nothing.
func mismatch(s Sample) bool {
	return s.Code == "ENDORSE_ERROR" && strings.Contains(s.Err, "ProposalResponsePayloads do not match")
}

// How long and how often accept waits for the recycler's peer to see an
// offer. On a loaded machine a peer can commit a block seconds after
// another (2 s was too short at a load average of 20).
const (
	lagLimit = 30 * time.Second
	lagPause = 5 * time.Millisecond
)

func (e *env) process(ctx context.Context, by Client, step model.Step, form model.Form, ins []model.ProcessInput, outs []string, each model.Grams) Sample {
	req := model.ProcessRequest{Step: step, Inputs: ins}
	for _, o := range outs {
		req.Outputs = append(req.Outputs, model.ProcessOutput{ID: o, Material: model.PET, Form: form, Mass: each})
	}
	return by.Submit(ctx, api.Process, cmdutil.MarshalArg(req))
}

// fixture runs units outside the timed window and stops at the first
// failure. Every write needs a second organisation's peer, which may not
// have committed the block a fixture just wrote (it answers "not found")
// or may endorse against a newer one (the endorsements differ): such a
// unit is tried again for up to lagLimit.
func (e *env) fixture(ctx context.Context, what string, units int, u func(ctx context.Context, i int) Sample) error {
	if units == 0 {
		return nil
	}
	start := time.Now()
	samples, _ := Run(ctx, units, e.c, func(ctx context.Context, i int) []Sample {
		first := time.Now()
		for {
			s := u(ctx, i)
			if (lagging(s) || mismatch(s)) && time.Since(first) < lagLimit && ctx.Err() == nil {
				time.Sleep(lagPause)
				continue
			}
			return []Sample{s}
		}
	})
	for _, s := range samples {
		if s.Code != "" {
			return fmt.Errorf("prepare %s: %s", what, s.Err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("prepare %s: %w", what, err)
	}
	fmt.Fprintf(e.log, "  prepared %d × %s in %.1f s\n", units, what, time.Since(start).Seconds())
	return nil
}

func (e *env) scenario(name string) txScenario {
	none := func(context.Context, int) error { return nil }
	switch name {
	case Baseline:
		return txScenario{perUnit: 1, prepare: none, unit: func(ctx context.Context, i int) []Sample {
			return []Sample{e.base.Submit(ctx, BaselineFn, e.id("bl", i), e.baselineValue())}
		}}
	case Register:
		return txScenario{perUnit: 1, prepare: none, unit: func(ctx context.Context, i int) []Sample {
			return []Sample{e.register(ctx, e.id("r", i), 100_000)}
		}}
	case Transfer:
		return txScenario{perUnit: 2,
			prepare: func(ctx context.Context, units int) error {
				return e.fixture(ctx, "register", units, func(ctx context.Context, i int) Sample {
					return e.register(ctx, e.id("t", i), 100_000)
				})
			},
			unit: func(ctx context.Context, i int) []Sample {
				id := e.id("t", i)
				s := []Sample{e.offer(ctx, id)}
				if s[0].Code != "" {
					return append(s, skipped())
				}
				return append(s, e.accept(ctx, id))
			}}
	case Process:
		return txScenario{perUnit: 1, prepare: e.prepareProcess, unit: func(ctx context.Context, i int) []Sample {
			ins := make([]model.ProcessInput, e.in)
			for j := range ins {
				k := i*e.in + j
				ins[j] = model.ProcessInput{ID: e.id("ps", k/splitWidth, k%splitWidth), Mass: 1000}
			}
			outs := make([]string, e.out)
			for j := range outs {
				outs[j] = e.id("po", i, j)
			}
			return []Sample{e.process(ctx, e.rec, model.StepShredding, model.FormFlakes, ins, outs, model.Grams(1000*e.in/e.out))}
		}}
	case Mixed:
		return txScenario{perUnit: mixedSteps, prepare: none, unit: e.mixed}
	}
	panic("bench: unknown scenario " + name)
}

// prepareProcess gives the recycler e.in one-kilogram batches for each
// process unit: collections of splitWidth kg, handed over and split.
func (e *env) prepareProcess(ctx context.Context, units int) error {
	sources := (units*e.in + splitWidth - 1) / splitWidth
	src := func(i int) string { return e.id("pin", i) }
	if err := e.fixture(ctx, "register", sources, func(ctx context.Context, i int) Sample {
		return e.register(ctx, src(i), 1000*splitWidth)
	}); err != nil {
		return err
	}
	if err := e.fixture(ctx, "offer", sources, func(ctx context.Context, i int) Sample { return e.offer(ctx, src(i)) }); err != nil {
		return err
	}
	if err := e.fixture(ctx, "accept", sources, func(ctx context.Context, i int) Sample { return e.accept(ctx, src(i)) }); err != nil {
		return err
	}
	return e.fixture(ctx, "split", sources, func(ctx context.Context, i int) Sample {
		outs := make([]string, splitWidth)
		for j := range outs {
			outs[j] = e.id("ps", i, j)
		}
		return e.process(ctx, e.rec, model.StepSplitting, model.FormSorted,
			[]model.ProcessInput{{ID: src(i), Mass: 1000 * splitWidth}}, outs, 1000)
	})
}

// mixed plays one short story: the municipality registers and hands a
// batch to the recycler, which sorts it and extrudes it into two spools.
// A failed step skips the rest of the story; the skipped steps count as
// failed.
func (e *env) mixed(ctx context.Context, i int) []Sample {
	id := e.id("m", i)
	steps := []func() Sample{
		func() Sample { return e.register(ctx, id, 10_000) },
		func() Sample { return e.offer(ctx, id) },
		func() Sample { return e.accept(ctx, id) },
		func() Sample {
			return e.process(ctx, e.rec, model.StepSorting, model.FormSorted,
				[]model.ProcessInput{{ID: id, Mass: 10_000}}, []string{id + "-s"}, 10_000)
		},
		func() Sample {
			return e.process(ctx, e.rec, model.StepExtrusion, model.FormFilament,
				[]model.ProcessInput{{ID: id + "-s", Mass: 10_000}}, []string{id + "-f1", id + "-f2"}, 5_000)
		},
	}
	var out []Sample
	for _, step := range steps {
		if len(out) > 0 && out[len(out)-1].Code != "" {
			out = append(out, skipped())
			continue
		}
		out = append(out, step())
	}
	return out
}

func skipped() Sample { return Sample{Code: "SKIPPED", Err: "an earlier step of the unit failed"} }

// Levels splits total nodes into depth+1 levels for an ancestry: one root,
// then levels growing by a near-constant fan-in. Each level is at least as
// large as the one above it, so every node above the leaves has at least
// one input, and no node has more than model.MaxProcessIOs.
func Levels(total, depth int) ([]int, error) {
	if depth < 0 || total < depth+1 {
		return nil, fmt.Errorf("--nodes %d with --depth %d: need at least depth+1 nodes", total, depth)
	}
	if depth == 0 {
		if total != 1 {
			return nil, fmt.Errorf("--depth 0 holds only 1 node, not %d", total)
		}
		return []int{1}, nil
	}
	sizes := func(f float64) ([]int, int) {
		s := make([]int, depth+1)
		sum := 0
		for k := range s {
			s[k] = max(1, int(math.Round(min(math.Pow(f, float64(k)), float64(total)))))
			if k > 0 {
				s[k] = max(s[k], s[k-1])
			}
			sum += s[k]
		}
		return s, sum
	}
	lo, hi := 1.0, float64(model.MaxProcessIOs)
	for range 100 {
		mid := (lo + hi) / 2
		if _, sum := sizes(mid); sum <= total {
			lo = mid
		} else {
			hi = mid
		}
	}
	s, sum := sizes(lo)
	s[depth] += total - sum
	for k := 1; k <= depth; k++ {
		if fan := (s[k] + s[k-1] - 1) / s[k-1]; fan > model.MaxProcessIOs {
			return nil, fmt.Errorf("--nodes %d with --depth %d needs a fan-in of %d, above the %d inputs a process may take; raise --depth", total, depth, fan, model.MaxProcessIOs)
		}
	}
	return s, nil
}

// MaxAncestry caps a generated ancestry, below the chaincode's limit on
// the size of a trace.
const MaxAncestry = 20000

// TreeSize is the number of batches in a full tree of the given fan-in
// and depth: 1 + f + f^2 + ... + f^depth.
func TreeSize(fanIn, depth int) int {
	n, level := 0, 1
	for range depth + 1 {
		n += level
		if n > MaxAncestry {
			return n
		}
		level *= fanIn
	}
	return n
}

// Parent returns the index, in the level above, of node j of a level of
// size below under a level of size above.
func Parent(j, above, below int) int { return j * above / below }

// ancestry builds a graph of the given level sizes on the ledger, leaves
// first, as the collector: leaves are one-kilogram collections, and each
// node above merges its inputs. It returns the root's id.
func (e *env) ancestry(ctx context.Context, levels []int) (string, error) {
	total := 0
	for _, n := range levels {
		total += n
	}
	node := func(k, j int) string { return e.id("a"+strconv.Itoa(total), k, j) }
	depth := len(levels) - 1
	mass := make([][]model.Grams, len(levels))
	mass[depth] = make([]model.Grams, levels[depth])
	for j := range mass[depth] {
		mass[depth][j] = 1000
	}
	if err := e.fixture(ctx, fmt.Sprintf("collection (ancestry of %d)", total), levels[depth], func(ctx context.Context, j int) Sample {
		return e.register(ctx, node(depth, j), 1000)
	}); err != nil {
		return "", err
	}
	for k := depth - 1; k >= 0; k-- {
		inputs := make([][]model.ProcessInput, levels[k])
		mass[k] = make([]model.Grams, levels[k])
		for j := range levels[k+1] {
			p := Parent(j, levels[k], levels[k+1])
			inputs[p] = append(inputs[p], model.ProcessInput{ID: node(k+1, j), Mass: mass[k+1][j]})
			mass[k][p] += mass[k+1][j]
		}
		if err := e.fixture(ctx, fmt.Sprintf("merge at depth %d (ancestry of %d)", k, total), levels[k], func(ctx context.Context, j int) Sample {
			return e.process(ctx, e.col, model.StepMerging, model.FormSorted, inputs[j], []string{node(k, j)}, mass[k][j])
		}); err != nil {
			return "", err
		}
	}
	return node(0, 0), nil
}

// query times calls sequential evaluations of fn on root and checks the
// answer's size with count.
func (e *env) query(ctx context.Context, name, fn string, calls int, args []string, count func([]byte) (int, error)) (Result, int, error) {
	samples := make([]Sample, 0, calls)
	nodes := 0
	start := time.Now()
	for range calls {
		res, s := e.col.Evaluate(ctx, fn, args...)
		if s.Code == "" && nodes == 0 {
			n, err := count(res)
			if err != nil {
				return Result{}, 0, fmt.Errorf("%s: %w", name, err)
			}
			nodes = n
		}
		samples = append(samples, s)
	}
	return Summarise(name, 1, samples, time.Since(start)), nodes, nil
}

func countTrace(b []byte) (int, error) {
	var t model.Trace
	if err := json.Unmarshal(b, &t); err != nil {
		return 0, fmt.Errorf("decode Trace answer: %w", err)
	}
	return len(t.Nodes), nil
}

func countVerdict(b []byte) (int, error) {
	var v model.Verdict
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("decode VerifyProvenance answer: %w", err)
	}
	return v.Nodes, nil
}
