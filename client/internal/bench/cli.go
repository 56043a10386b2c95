package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// The probe set: the same batches on every network the user commands are
// timed on, built by the probe scenario under ProbePrefix. The prefix
// sorts before every other id the benchmarks write (upper case before
// lower), so that the first pages of an unfiltered batch list are the
// probe's batches on every network: the same page, on ledgers of any
// size.
const (
	ProbePrefix = "PROBE"
	// ProbeNodes and ProbeDepth shape the ancestry that trace and verify
	// read.
	ProbeNodes = 100
	ProbeDepth = 5
	// ProbeHistory is a batch with a few versions: registered, offered,
	// accepted, then taken from twice.
	ProbeHistory = ProbePrefix + "-h"
	// ProbeListed batches are registered for the list pages.
	ProbeListed = 300
	// ProbeListPage is the later list page timed (1-based), reached by
	// following the bookmarks of the pages before it.
	ProbeListPage = 5
)

// ProbeRoot is the root of the probe's ancestry (as env.ancestry names it).
var ProbeRoot = fmt.Sprintf("%s-a%d-0-0", ProbePrefix, ProbeNodes)

func probeListed(i int) string { return fmt.Sprintf("%s-l-%03d", ProbePrefix, i) }

// ProbeResult says what the probe scenario built.
type ProbeResult struct {
	Scenario string `json:"scenario"`
	Root     string `json:"root"`
	Nodes    int    `json:"nodes"`
	History  string `json:"history"`
	Listed   int    `json:"listed"`
	Built    bool   `json:"built"` // false: it was there already
	// The city's sites, which the probe adds first (so that the probe's
	// batches are alike on every network) and the reports are run for.
	Stations []string `json:"stations"`
	Plants   []string `json:"plants"`
	Workshop string   `json:"workshop"`
}

// probe builds the probe set unless its last batch exists.
func (e *env) probe(ctx context.Context) (ProbeResult, error) {
	res := ProbeResult{Scenario: Probe, Root: ProbeRoot, Nodes: ProbeNodes, History: ProbeHistory, Listed: ProbeListed,
		Stations: CityStations, Plants: CityPlants, Workshop: CityWorkshop}
	if batchExists(ctx, e.col, probeListed(ProbeListed-1)) {
		return res, nil
	}
	res.Built = true
	levels, err := Levels(ProbeNodes, ProbeDepth)
	if err != nil {
		return res, err
	}
	root, err := e.ancestry(ctx, levels)
	if err != nil {
		return res, err
	}
	if root != ProbeRoot {
		return res, fmt.Errorf("probe: the ancestry's root is %s, want %s", root, ProbeRoot)
	}
	h := ProbeHistory
	steps := []struct {
		what string
		fn   func(ctx context.Context, _ int) Sample
	}{
		{"register", func(ctx context.Context, _ int) Sample { return e.register(ctx, h, 25_000) }},
		{"offer", func(ctx context.Context, _ int) Sample { return e.offer(ctx, h) }},
		{"accept", func(ctx context.Context, _ int) Sample { return e.accept(ctx, h) }},
		{"take 1", func(ctx context.Context, _ int) Sample {
			return e.process(ctx, e.rec, model.StepSorting, model.FormSorted, []model.ProcessInput{{ID: h, Mass: 5_000}}, []string{h + "-1"}, 5_000)
		}},
		{"take 2", func(ctx context.Context, _ int) Sample {
			return e.process(ctx, e.rec, model.StepSorting, model.FormSorted, []model.ProcessInput{{ID: h, Mass: 5_000}}, []string{h + "-2"}, 5_000)
		}},
	}
	for _, s := range steps {
		if err := e.fixture(ctx, "history batch: "+s.what, 1, s.fn); err != nil {
			return res, err
		}
	}
	if err := e.fixture(ctx, "listed batches", ProbeListed, func(ctx context.Context, i int) Sample {
		return e.register(ctx, probeListed(i), 10_000)
	}); err != nil {
		return res, err
	}
	return res, nil
}

// CLIStats are the wall times of one command's runs on one network.
type CLIStats struct {
	Runs   int     `json:"runs"`
	Median float64 `json:"median_ms"`
	P90    float64 `json:"p90_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
}

// CLIComparison is one user command timed on both networks.
type CLIComparison struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Empty   CLIStats `json:"empty"`
	City    CLIStats `json:"city"`
	// Ratio is the city's median over the empty ledger's; Within says
	// whether it is at most MaxRatio.
	Ratio  float64 `json:"ratio"`
	Within bool    `json:"within"`
}

// CLIResult is the cli scenario's report.
type CLIResult struct {
	Scenario string          `json:"scenario"`
	Runs     int             `json:"runs"`
	Profile  string          `json:"profile"`
	MaxRatio float64         `json:"max_ratio"`
	Commands []CLIComparison `json:"commands"`
}

// MaxRatio is how much slower a user command may be on the city's ledger
// than on an empty one.
const MaxRatio = 1.2

// Median is the middle of xs (the mean of the two middle values for an
// even count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Quantile is the q-th (0-1) quantile of xs by the nearest-rank method;
// 0 for none.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// StatsOf summarises wall times in milliseconds.
func StatsOf(ms []float64) CLIStats {
	if len(ms) == 0 {
		return CLIStats{}
	}
	r2 := func(f float64) float64 { return math.Round(f*100) / 100 }
	return CLIStats{Runs: len(ms), Median: r2(Median(ms)), P90: r2(Quantile(ms, 0.9)), Min: r2(slices.Min(ms)), Max: r2(slices.Max(ms))}
}

// CompareCLI builds the comparison of a command from its runs on each
// network.
func CompareCLI(name string, args []string, empty, city []float64) CLIComparison {
	c := CLIComparison{Command: name, Args: args, Empty: StatsOf(empty), City: StatsOf(city)}
	if c.Empty.Median > 0 {
		c.Ratio = math.Round(c.City.Median/c.Empty.Median*1000) / 1000
		c.Within = c.Ratio <= MaxRatio
	}
	return c
}

// Order is the order in which run i visits the two networks: the empty
// ledger first on even runs, the city's first on odd ones, so that a
// drift in the machine's load weighs on both alike.
func Order(i int) [2]int {
	if i%2 == 0 {
		return [2]int{0, 1}
	}
	return [2]int{1, 0}
}

// cliCommand is one user command: its name and its arguments on each
// network (a list page's token differs between them).
type cliCommand struct {
	name string
	args [2][]string
}

// cliRunner runs the mtrace CLI against a network's config file.
type cliRunner struct {
	mtrace  string
	profile string
	configs [2]string
}

// run runs mtrace once on network n and returns its wall time and its
// standard output. A failure (any exit status but 0) is an error.
func (c *cliRunner) run(ctx context.Context, n int, args []string, out io.Writer) (time.Duration, error) {
	full := append([]string{"--config", c.configs[n], "-p", c.profile}, args...)
	cmd := exec.CommandContext(ctx, c.mtrace, full...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("mtrace %v on %s: %w: %s", args, c.configs[n], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return d, nil
}

// pageToken follows the bookmarks of `mtrace batch list` to the token
// of page page (1-based; page 1 needs none).
func (c *cliRunner) pageToken(ctx context.Context, n, page int) (string, error) {
	token := ""
	for p := 1; p < page; p++ {
		args := []string{"batch", "list", "-o", "json"}
		if token != "" {
			args = append(args, "--page", token)
		}
		var out bytes.Buffer
		if _, err := c.run(ctx, n, args, &out); err != nil {
			return "", err
		}
		var pg model.BatchPage
		if err := json.Unmarshal(out.Bytes(), &pg); err != nil {
			return "", fmt.Errorf("batch list page %d: %w", p, err)
		}
		if pg.Bookmark == "" {
			return "", fmt.Errorf("batch list on %s has only %d pages, want %d", c.configs[n], p, page)
		}
		token = pg.Bookmark
	}
	return token, nil
}

// compareCLI times each user command runs times on each network, in
// alternating order, after one untimed run of each.
func compareCLI(ctx context.Context, c *cliRunner, runs int, log *logWriter) (CLIResult, error) {
	res := CLIResult{Scenario: CLI, Runs: runs, Profile: c.profile, MaxRatio: MaxRatio}
	var tokens [2]string
	for n := range 2 {
		t, err := c.pageToken(ctx, n, ProbeListPage)
		if err != nil {
			return res, err
		}
		tokens[n] = t
	}
	same := func(args ...string) [2][]string { return [2][]string{args, args} }
	cmds := []cliCommand{
		{"batch get", same("batch", "get", ProbeHistory)},
		{"batch list (first page)", same("batch", "list")},
		{fmt.Sprintf("batch list (page %d)", ProbeListPage), [2][]string{{"batch", "list", "--page", tokens[0]}, {"batch", "list", "--page", tokens[1]}}},
		// The owner-and-status index: on the city's ledger the range
		// holds every collection the municipality ever made (consumed by
		// sorting); the first page is the probe's consumed ancestry there
		// as on the empty ledger.
		{"batch list --owner --status", same("batch", "list", "--owner", "MunicipalityMSP", "--status", "consumed")},
		{"history", same("history", ProbeHistory)},
		{fmt.Sprintf("trace (%d batches)", ProbeNodes), same("trace", ProbeRoot)},
		{fmt.Sprintf("verify (%d batches, signatures)", ProbeNodes), same("verify", ProbeRoot)},
	}
	for _, cmd := range cmds {
		var times [2][]float64
		for n := range 2 {
			if _, err := c.run(ctx, n, cmd.args[n], io.Discard); err != nil {
				return res, err
			}
		}
		for i := range runs {
			for _, n := range Order(i) {
				d, err := c.run(ctx, n, cmd.args[n], io.Discard)
				if err != nil {
					return res, err
				}
				times[n] = append(times[n], float64(d.Microseconds())/1000)
			}
		}
		cmp := CompareCLI(cmd.name, cmd.args[1], times[0], times[1])
		res.Commands = append(res.Commands, cmp)
		log.printf("cli: %-32s empty %8.1f ms (p90 %8.1f)  city %8.1f ms (p90 %8.1f)  ratio %.3f", cmd.name, cmp.Empty.Median, cmp.Empty.P90, cmp.City.Median, cmp.City.P90, cmp.Ratio)
	}
	return res, nil
}
