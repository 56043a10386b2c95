// Package bench is mtrace-bench: it drives a live mtrace network with many
// concurrent transactions and reports committed throughput, latency
// percentiles and failures by validation code, optionally against the
// platform baseline measured in the same run: the Put of mtrace-baseline, a
// chaincode of its own that only bench networks deploy
// (test/bench/baselinecc).
//
// It is a separate program (client/cmd/mtrace-bench), not a command of the
// mtrace CLI: it opens its own Fabric Gateway connections
// (ledger.Connect) and times endorsement, ordering and commit apart.
package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// BaselineChaincode is the baseline chaincode's default name on a bench
// network, and BaselineFn its one function.
const (
	BaselineChaincode = "mtrace-baseline"
	BaselineFn        = "Put"
)

// Options are the inputs of one bench run.
type Options struct {
	Out, Log  io.Writer
	Format    string
	Scenarios []string
	N, C      int
	Baseline  bool
	Collector string
	Recycler  string
	Inputs    int
	Outputs   int
	Nodes     []int
	Depths    []int
	FanIn     int
	Calls     int
	Rounds    int
	// Silo takes -n kilograms one at a time; recall traces a tree of
	// Descendants batches RecallDepth levels deep.
	Descendants int
	RecallDepth int
	Prefix      string
	// BaselineBytes pads the baseline's value, to measure the platform's
	// cost per byte written.
	BaselineBytes int
	// BaselineChaincode names the baseline chaincode on the channel.
	BaselineChaincode string
	// The connection: config file, time bound of each call, and the
	// organisations whose peers must endorse every submit (none: the
	// gateway chooses by the endorsement policy).
	ConfigPath    string
	Timeout       time.Duration
	EndorsingOrgs []string
	// The city scenarios (probe, city, cli): the maker's profile (each
	// organisation's admin profile is its profile's name and "-admin"),
	// the load's size, seed, wave and state file, and for cli the runs
	// per command and the mtrace binary (the other network is Against).
	Maker   string
	Batches int
	Seed    uint64
	Wave    int
	State   string
	Runs    int
	MTrace  string
	// configFile is --config, or $MTRACE_CONFIG.
	configFile string
	// Open connects to chaincode ("" for the profile's own) as the named
	// profile and returns the profile's MSP ID.
	Open func(profile, chaincode string) (Client, string, func() error, error)
	// Against is the config file of a second network (--against): the
	// throughput scenarios then run on both, in alternating slices, and
	// Labels name the two networks; cli compares each command on the
	// empty-ledger network it names. OpenAgainst is Open on that network.
	Against     string
	Labels      []string
	OpenAgainst func(profile, chaincode string) (Client, string, func() error, error)
}

// NewCommand builds the mtrace-bench command. getenv finds the config file
// ($MTRACE_CONFIG); runF replaces the run in tests.
func NewCommand(out, log io.Writer, getenv config.Getenv, runF func(*Options) error) *cobra.Command {
	opts := &Options{Out: out, Log: log}
	cmd := &cobra.Command{
		Use:   "mtrace-bench SCENARIO...",
		Short: "Benchmark an mtrace network: throughput, latency and failures per scenario",
		Long: `Drive a live mtrace network through the Fabric Gateway and report committed
transactions per second, end-to-end and endorse latency percentiles, and failed
transactions by validation code.

Scenarios:
  register   the collector registers batches (one transaction each)
  transfer   the collector offers, the recycler accepts (two transactions)
  process    the recycler turns --inputs batches into --outputs batches
  mixed      a short story: register, offer, accept, sort, extrude
  trace      upstream trace of generated ancestries (--nodes, --depth)
  verify     provenance verification of the same ancestries
  silo       one batch, -n takes of 1 kg, one at a time: latency and committed
             bytes per tenth of the takes, and the last tenth over the first
  recall     downstream trace, page by page, of a generated tree of
             --descendants batches (--recall-depth levels), --calls times

The year of a city (run on their own, in this order):
  probe      the fixed probe set the user commands are timed on: a
             100-batch ancestry, a batch with a history, 300 batches to list
  city       a year of a city's flows, at least --batches batches:
             collections at four transfer stations, sorted into bales of 50,
             handed to the recycler's two plants, washed with bought-in
             pre-consumer scrap, extruded into filament lots, handed to the
             maker with declarations (claimed) and printed into products;
             planned from --seed, loaded in waves of --wave units of 537
             batches, resumable with --state
  cli        each user command (batch get, batch list first page and page 5,
             history, trace and verify of the probe's ancestry) as a whole
             mtrace process, --runs times on this network and on the one of
             --against's config, alternating; medians, p90 and ratios

Fixtures (batches to hand over, inputs to process, ancestries) are made
before the timed window under a prefix unique to the run. With --baseline the
same invocation also measures the platform baseline: the Put of the
mtrace-baseline chaincode (one small key, no checks), which a bench network
deploys beside mtrace (scripts/bench.sh does), at the same -n and -c; every
scenario's ratio is tps/baseline. Each scenario then runs in --rounds slices
with a baseline slice before each and after the last, and its ratio is
against those baseline slices, so that load from outside the benchmark
weighs on both sides alike. Every throughput scenario also reports the mean
committed size of its transactions (bytes/tx, read back from the ledger for
up to 100 of them), so that ledger growth shows next to tx/s.

With --against CONFIG the throughput scenarios run on two networks in one
invocation: the one of --config (or $MTRACE_CONFIG) and the one of CONFIG, the
same profiles on each, at the same -n and -c, in --rounds slices that alternate
which network goes first (A B, B A, A B). Each line then names its network
(--labels), the first network's line has the ratio of its tx/s over the
second's, and both report what their committed blocks weigh: block bytes per
transaction, transactions and orderer signatures per block (read back for up
to 20 blocks). scripts/bench.sh compares a BFT and a Raft network so.

Connection profiles come from the mtrace config file (--config or
$MTRACE_CONFIG), as for mtrace.`,
		Example: `  mtrace-bench register --baseline -n 3000 -c 64 -o json
  mtrace-bench register transfer process mixed --baseline -n 2000 -c 64
  mtrace-bench trace verify --nodes 10,100,1000 --depth 3,5,8 --calls 20
  mtrace-bench register transfer process --against raft/config.yaml --labels bft,raft`,
		Args:          cobra.MinimumNArgs(1),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Scenarios = args
			if opts.FanIn != 0 && cmd.Flags().Changed("nodes") {
				return cmdutil.FlagErrorf("--fan-in and --nodes: give one or the other")
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			if opts.Prefix == "" {
				opts.Prefix = "bench" + strconv.FormatInt(time.Now().UnixNano()/int64(time.Millisecond), 36)
			}
			opts.configFile = opts.ConfigPath
			if opts.configFile == "" {
				opts.configFile = getenv("MTRACE_CONFIG")
			}
			if opts.Open == nil {
				opts.Open = gatewayOpener(opts, getenv)
			}
			if opts.Against != "" && opts.OpenAgainst == nil {
				other := *opts
				other.ConfigPath = opts.Against
				opts.OpenAgainst = gatewayOpener(&other, getenv)
			}
			if runF != nil {
				return runF(opts)
			}
			return runBench(cmd.Context(), opts)
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.FlagErrorf("%w", err) })
	fl := cmd.Flags()
	fl.StringVarP(&opts.Format, "output", "o", cmdutil.FormatTable, "output format: table or json")
	fl.StringVar(&opts.ConfigPath, "config", "", "mtrace config file (default $MTRACE_CONFIG)")
	fl.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "timeout for each call to the network")
	fl.StringSliceVar(&opts.EndorsingOrgs, "endorsing-orgs", nil, "MSP IDs whose peers must endorse every submit (default: as the endorsement policy needs)")
	fl.IntVarP(&opts.N, "n", "n", 1000, "transactions per scenario")
	fl.IntVarP(&opts.C, "concurrency", "c", 64, "transactions in flight")
	fl.BoolVar(&opts.Baseline, "baseline", false, "also measure the baseline chaincode's Put at the same -n and -c and report ratios")
	fl.StringVar(&opts.BaselineChaincode, "baseline-chaincode", BaselineChaincode, "name of the baseline chaincode on the channel")
	fl.IntVar(&opts.BaselineBytes, "baseline-bytes", 0, "pad the baseline's value to this many bytes (cost per byte written)")
	fl.StringVar(&opts.Collector, "as-collector", "municipality", "profile that registers and offers batches, and writes the baseline")
	fl.StringVar(&opts.Recycler, "as-recycler", "recycler", "profile that accepts and processes batches")
	fl.IntVar(&opts.Inputs, "inputs", 10, "process: inputs per transaction")
	fl.IntVar(&opts.Outputs, "outputs", 10, "process: outputs per transaction")
	fl.IntSliceVar(&opts.Nodes, "nodes", []int{1000}, "trace/verify: ancestry sizes in batches")
	fl.IntSliceVar(&opts.Depths, "depth", []int{8}, "trace/verify: ancestry depths, one for all sizes or one per size")
	fl.IntVar(&opts.FanIn, "fan-in", 0, "trace/verify: inputs per process; sizes become full trees of --depth (replaces --nodes)")
	fl.IntVar(&opts.Calls, "calls", 20, "trace/verify: sequential calls per size")
	fl.IntVar(&opts.Rounds, "rounds", 3, "with --baseline: slices of each scenario, each between two baseline slices")
	fl.StringVar(&opts.Prefix, "prefix", "", "batch id prefix (default: unique per run)")
	fl.StringVar(&opts.Against, "against", "", "config file of a second network: run the throughput scenarios on both, in alternating slices (cli: the empty-ledger network)")
	fl.StringSliceVar(&opts.Labels, "labels", []string{"first", "second"}, "with --against: names of the two networks")
	fl.IntVar(&opts.Descendants, "descendants", 5000, "recall: batches under the root")
	fl.IntVar(&opts.RecallDepth, "recall-depth", 3, "recall: levels under the root")
	fl.StringVar(&opts.Maker, "as-maker", "maker", "city: profile that receives filament lots and prints")
	fl.IntVar(&opts.Batches, "batches", 250_000, "city: batches to load, at least")
	fl.Uint64Var(&opts.Seed, "seed", 2026, "city: seed of the plan")
	fl.IntVar(&opts.Wave, "wave", 20, "city: units per wave")
	fl.StringVar(&opts.State, "state", "", "city: state file to resume from and record progress in")
	fl.IntVar(&opts.Runs, "runs", 30, "cli: timed runs of each command on each network")
	fl.StringVar(&opts.MTrace, "mtrace", "", "cli: the mtrace binary (default: mtrace beside mtrace-bench)")
	return cmd
}

// Validate checks the scenario names and the numeric flags.
func (o *Options) Validate() error {
	switch o.Format {
	case cmdutil.FormatTable, cmdutil.FormatJSON:
	case "":
		o.Format = cmdutil.FormatTable
	default:
		return cmdutil.FlagErrorf("--output: must be table or json, got %q", o.Format)
	}
	seen := map[string]bool{}
	city := 0
	for _, s := range o.Scenarios {
		if slices.Contains(cityScenarios, s) {
			city++
		}
		if !slices.Contains(Scenarios, s) {
			return cmdutil.FlagErrorf("unknown scenario %q: must be one of %s", s, strings.Join(Scenarios, ", "))
		}
		if o.Against != "" && slices.Contains(queryScenarios, s) {
			return cmdutil.FlagErrorf("--against: %s is not a throughput scenario; compare register, transfer, process or mixed", s)
		}
		if seen[s] {
			return cmdutil.FlagErrorf("scenario %q named twice", s)
		}
		seen[s] = true
	}
	switch {
	case city > 0 && city < len(o.Scenarios):
		return cmdutil.FlagErrorf("%s run on their own, not with other scenarios", strings.Join(cityScenarios, ", "))
	case slices.Contains(o.Scenarios, City) && (o.Batches < 1 || o.Wave < 1):
		return cmdutil.FlagErrorf("--batches and --wave: must be at least 1, got %d and %d", o.Batches, o.Wave)
	case slices.Contains(o.Scenarios, CLI) && (o.Against == "" || o.Runs < 1):
		return cmdutil.FlagErrorf("cli: needs --against (the empty network's config file) and --runs of at least 1")
	case o.N < 1:
		return cmdutil.FlagErrorf("-n: must be at least 1, got %d", o.N)
	case o.C < 1:
		return cmdutil.FlagErrorf("-c: must be at least 1, got %d", o.C)
	case o.Inputs < 1 || o.Inputs > 100:
		return cmdutil.FlagErrorf("--inputs: must be from 1 to 100, got %d", o.Inputs)
	case o.Outputs < 1 || o.Outputs > 100:
		return cmdutil.FlagErrorf("--outputs: must be from 1 to 100, got %d", o.Outputs)
	case o.Rounds < 1:
		return cmdutil.FlagErrorf("--rounds: must be at least 1, got %d", o.Rounds)
	case o.BaselineBytes < 0:
		return cmdutil.FlagErrorf("--baseline-bytes: must be at least 0, got %d", o.BaselineBytes)
	case o.Baseline && o.BaselineChaincode == "":
		return cmdutil.FlagErrorf("--baseline-chaincode: must name the baseline chaincode")
	case o.Against != "" && o.Baseline:
		return cmdutil.FlagErrorf("--against and --baseline: compare two networks or one against its baseline, not both at once")
	case o.Against != "" && len(o.Labels) != 2:
		return cmdutil.FlagErrorf("--labels: give two names, one per network, got %d", len(o.Labels))
	case o.Against != "" && o.Labels[0] == o.Labels[1]:
		return cmdutil.FlagErrorf("--labels: the two networks need different names, got %q twice", o.Labels[0])
	case o.Calls < 1:
		return cmdutil.FlagErrorf("--calls: must be at least 1, got %d", o.Calls)
	case slices.Contains(o.Scenarios, Recall) && (o.Descendants < 1 || o.RecallDepth < 1):
		return cmdutil.FlagErrorf("--descendants and --recall-depth: must be at least 1, got %d and %d", o.Descendants, o.RecallDepth)
	case o.FanIn == 0 && len(o.Depths) != 1 && len(o.Depths) != len(o.Nodes):
		return cmdutil.FlagErrorf("--depth: give one depth or one per --nodes size (%d), got %d", len(o.Nodes), len(o.Depths))
	}
	if o.FanIn != 0 {
		if o.FanIn < 1 || o.FanIn > model.MaxProcessIOs {
			return cmdutil.FlagErrorf("--fan-in: must be from 1 to %d, got %d", model.MaxProcessIOs, o.FanIn)
		}
		o.Nodes = make([]int, len(o.Depths))
		for i, d := range o.Depths {
			o.Nodes[i] = TreeSize(o.FanIn, d)
			if o.Nodes[i] > MaxAncestry {
				return cmdutil.FlagErrorf("--fan-in %d with --depth %d makes %d batches, more than %d", o.FanIn, d, o.Nodes[i], MaxAncestry)
			}
		}
	}
	if o.Prefix != "" {
		if err := checkPrefix(o.Prefix); err != nil {
			return err
		}
	}
	for i, n := range o.Nodes {
		if _, err := Levels(n, o.depth(i)); err != nil {
			return cmdutil.FlagErrorf("%w", err)
		}
	}
	if slices.Contains(o.Scenarios, Recall) {
		if _, err := Levels(o.Descendants+1, o.RecallDepth); err != nil {
			return cmdutil.FlagErrorf("--descendants: %w", err)
		}
	}
	return nil
}

func checkPrefix(p string) error {
	if len(p) > 32 {
		return cmdutil.FlagErrorf("--prefix: must be at most 32 characters, got %d", len(p))
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return cmdutil.FlagErrorf("--prefix: must be letters, digits, . or _, got %q", p)
		}
	}
	return nil
}

func (o *Options) depth(i int) int {
	if len(o.Depths) == 1 {
		return o.Depths[0]
	}
	return o.Depths[i]
}

// gatewayOpener connects to the network as named profiles of the config.
func gatewayOpener(o *Options, getenv config.Getenv) func(string, string) (Client, string, func() error, error) {
	return func(name, chaincode string) (Client, string, func() error, error) {
		p, err := config.Resolve(o.ConfigPath, name, getenv)
		if err != nil {
			return nil, "", nil, err
		}
		gw, closeFn, err := ledger.Connect(p, o.Timeout)
		if err != nil {
			return nil, "", nil, err
		}
		if chaincode == "" {
			chaincode = p.Chaincode
		}
		nw := gw.GetNetwork(p.Channel)
		c := &gatewayClient{contract: nw.GetContract(chaincode), qscc: nw.GetContract("qscc"), channel: p.Channel, orgs: o.EndorsingOrgs,
			commitOf: func(txID string) (*client.Commit, error) { return ledger.CommitOf(gw, p, txID) }}
		return c, p.MSPID, closeFn, nil
	}
}

func runBench(ctx context.Context, o *Options) error {
	if slices.Contains(cityScenarios, o.Scenarios[0]) {
		return runCity(ctx, o)
	}
	e, closeEnv, err := o.env(o.Open)
	if err != nil {
		return err
	}
	defer closeEnv()
	if o.Against != "" {
		f, closeF, err := o.env(o.OpenAgainst)
		if err != nil {
			return fmt.Errorf("--against %s: %w", o.Against, err)
		}
		defer closeF()
		vs, err := Compare(ctx, []*env{e, f}, o.Labels, o)
		if err != nil {
			return err
		}
		if o.Format == cmdutil.FormatJSON {
			return WriteVersusJSON(o.Out, vs)
		}
		return WriteVersusTable(o.Out, vs)
	}
	results, err := Measure(ctx, e, o)
	if err != nil {
		return err
	}
	if o.Format == cmdutil.FormatJSON {
		return WriteJSON(o.Out, results)
	}
	return WriteTable(o.Out, results)
}

// env connects the collector, the recycler and (with --baseline) the
// baseline chaincode through open, and returns them with the function
// that closes them.
func (o *Options) env(open func(string, string) (Client, string, func() error, error)) (*env, func(), error) {
	var closers []func() error
	closeAll := func() {
		for _, c := range slices.Backward(closers) {
			_ = c()
		}
	}
	col, _, closeCol, err := open(o.Collector, "")
	if err != nil {
		return nil, nil, fmt.Errorf("--as-collector %s: %w", o.Collector, err)
	}
	closers = append(closers, closeCol)
	rec, recMSP, closeRec, err := open(o.Recycler, "")
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("--as-recycler %s: %w", o.Recycler, err)
	}
	closers = append(closers, closeRec)
	e := &env{
		col: col, rec: rec, recMSP: recMSP, prefix: o.Prefix, c: o.C,
		in: o.Inputs, out: o.Outputs, pad: o.BaselineBytes,
		collectedAt: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		log:         o.Log,
	}
	if o.Baseline {
		base, _, closeBase, err := open(o.Collector, o.BaselineChaincode)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("--baseline-chaincode %s: %w", o.BaselineChaincode, err)
		}
		closers = append(closers, closeBase)
		e.base = base
	}
	return e, closeAll, nil
}

// Measure runs each scenario and returns one result per scenario (per
// size for trace and verify).
//
// With o.Baseline, each transaction scenario runs in o.Rounds slices, and
// a slice of the baseline runs before each slice and after the last one:
// B S B S ... S B. The scenario's ratio is its throughput over all its
// slices against the baseline's over the slices around them, so that load
// from outside the benchmark, which comes and goes on a shared machine,
// weighs on both sides of the ratio alike. The baseline's own line sums
// every baseline slice of the run.
func Measure(ctx context.Context, e *env, o *Options) ([]Result, error) {
	var results []Result
	var tx []string
	for _, name := range o.Scenarios {
		if !slices.Contains(queryScenarios, name) {
			tx = append(tx, name)
		}
	}
	rounds := max(1, o.Rounds)
	var all sliced
	if o.Baseline && len(tx) > 0 {
		// Warm the chaincode and the peers' caches outside the measurement.
		Run(ctx, min(o.N, 200), o.C, func(ctx context.Context, i int) []Sample {
			return []Sample{e.base.Submit(ctx, BaselineFn, e.id("warm", i), e.baselineValue())}
		})
		results = append(results, Result{})
	}
	next := 0 // next baseline unit, so that every baseline write has its own key
	baseline := func(n int) (sliced, error) {
		s := e.scenario(Baseline)
		samples, wall := Run(ctx, n, o.C, func(ctx context.Context, i int) []Sample { return s.unit(ctx, next+i) })
		next += n
		if err := ctx.Err(); err != nil {
			return sliced{}, fmt.Errorf("baseline: %w", err)
		}
		return sliced{samples, wall}, nil
	}
	for _, name := range tx {
		s := e.scenario(name)
		units := max(1, o.N/s.perUnit)
		fmt.Fprintf(e.log, "%s: %d transactions, concurrency %d", name, units*s.perUnit, e.c)
		if o.Baseline {
			fmt.Fprintf(e.log, ", in %d slices between baseline slices", rounds)
		}
		fmt.Fprintln(e.log)
		if err := s.prepare(ctx, units); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		k := 1
		if o.Baseline {
			k = rounds
		}
		var mine, base sliced
		for r := 0; r < k; r++ {
			lo, hi := r*units/k, (r+1)*units/k
			if o.Baseline && r == 0 {
				b, err := baseline((hi - lo) * s.perUnit)
				if err != nil {
					return nil, err
				}
				base.add(b)
			}
			samples, wall := Run(ctx, hi-lo, o.C, func(ctx context.Context, i int) []Sample { return s.unit(ctx, lo+i) })
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			mine.add(sliced{samples, wall})
			if o.Baseline {
				b, err := baseline((hi - lo) * s.perUnit)
				if err != nil {
					return nil, err
				}
				base.add(b)
			}
		}
		r := Summarise(name, e.c, mine.samples, mine.wall)
		var err error
		if r.BytesPerTx, r.BytesRead, err = e.bytesPerTx(ctx, mine.samples); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if o.Baseline {
			r.SetBaseline(Summarise(Baseline, e.c, base.samples, base.wall).TPS)
			all.add(base)
		}
		results = append(results, r)
	}
	if o.Baseline && len(tx) > 0 {
		results[0] = Summarise(Baseline, o.C, all.samples, all.wall)
		var err error
		if results[0].BytesPerTx, results[0].BytesRead, err = e.bytesPerTx(ctx, all.samples); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	if slices.Contains(o.Scenarios, TraceUp) || slices.Contains(o.Scenarios, Verify) {
		rs, err := e.traces(ctx, o)
		if err != nil {
			return nil, err
		}
		results = append(results, rs...)
	}
	for _, name := range []string{Silo, Recall} {
		if !slices.Contains(o.Scenarios, name) {
			continue
		}
		run := e.silo
		if name == Recall {
			run = e.recall
		}
		r, err := run(ctx, o)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// sliced gathers the samples and wall time of several runs.
type sliced struct {
	samples []Sample
	wall    time.Duration
}

func (s *sliced) add(o sliced) {
	s.samples = append(s.samples, o.samples...)
	s.wall += o.wall
}

// traces builds one ancestry per size and times the trace and verify
// calls on its root, then fits each one's growth exponent.
func (e *env) traces(ctx context.Context, o *Options) ([]Result, error) {
	var results []Result
	for i, n := range o.Nodes {
		levels, err := Levels(n, o.depth(i))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(e.log, "ancestry of %d batches, depth %d, levels %v\n", n, o.depth(i), levels)
		root, err := e.ancestry(ctx, levels)
		if err != nil {
			return nil, err
		}
		for _, name := range []string{TraceUp, Verify} {
			if !slices.Contains(o.Scenarios, name) {
				continue
			}
			fn, args, count := api.Trace, []string{root, "up"}, countTrace
			if name == Verify {
				fn, args, count = api.VerifyProvenance, []string{root, ""}, countVerdict
			}
			r, nodes, err := e.query(ctx, name, fn, o.Calls, args, count)
			if err != nil {
				return nil, err
			}
			if nodes != n && r.Failed["EVALUATE_ERROR"] == 0 {
				return nil, fmt.Errorf("%s: ancestry %s has %d batches, want %d", name, root, nodes, n)
			}
			r.Nodes, r.Depth, r.Root = n, o.depth(i), root
			results = append(results, r)
		}
	}
	for _, name := range []string{TraceUp, Verify} {
		var nodes []int
		var lat []float64
		for _, r := range results {
			if r.Scenario == name {
				nodes, lat = append(nodes, r.Nodes), append(lat, r.P50)
			}
		}
		k, err := FitExponent(nodes, lat)
		if err != nil {
			continue // one size: nothing to fit
		}
		for i := range results {
			if results[i].Scenario == name {
				results[i].Exponent = &k
			}
		}
	}
	return results, nil
}
