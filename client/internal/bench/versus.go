package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
)

// Versus is one throughput scenario measured on two networks in one run
// (--against): a BFT network against a Raft one, say, on the same machine
// under the same load. Ratio is the first network's tx/s over the
// second's.
type Versus struct {
	Scenario string   `json:"scenario"`
	Networks []Result `json:"networks"`
	Ratio    *float64 `json:"ratio,omitempty"`
}

// Block is what one committed block weighs: its size as the block store
// keeps it, its transactions, and the orderers' signatures in its
// metadata (a BFT block carries a quorum of them, a Raft block one).
type Block struct {
	Number   uint64
	Bytes    int
	Txs      int
	SigBytes int
	Sigs     int
}

// BlockSample is how many distinct blocks of a scenario are read back to
// weigh them.
const BlockSample = 20

// blockStats reads the blocks of up to BlockSample committed transactions
// among samples, spread evenly, and sets r's block figures: committed
// block bytes per transaction, transactions and signatures per block, and
// the signatures' bytes per block.
func (e *env) blockStats(ctx context.Context, samples []Sample, r *Result) error {
	var ids []string
	for _, s := range samples {
		if s.Code == "" && s.TxID != "" {
			ids = append(ids, s.TxID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	seen := map[uint64]bool{}
	var bytes, txs, sigBytes, sigs int
	step := max(1, len(ids)/BlockSample)
	for i := 0; i < len(ids) && len(seen) < BlockSample; i += step {
		b, err := e.col.Block(ctx, ids[i])
		if err != nil {
			return err
		}
		if seen[b.Number] {
			continue
		}
		seen[b.Number] = true
		bytes, txs, sigBytes, sigs = bytes+b.Bytes, txs+b.Txs, sigBytes+b.SigBytes, sigs+b.Sigs
	}
	n := float64(len(seen))
	r.BlocksRead = len(seen)
	if txs > 0 {
		r.BlockBytesPerTx = round1(float64(bytes) / float64(txs))
	}
	r.TxPerBlock = round1(float64(txs) / n)
	r.SigBytesPerBlock = round1(float64(sigBytes) / n)
	r.SigsPerBlock = round1(float64(sigs) / n)
	return nil
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Compare runs each throughput scenario of o on the networks of envs (two
// of them, named by labels) in o.Rounds slices each, alternating which
// network goes first (A B, B A, A B, ...), so that load from outside the
// benchmark and any drift over the run weigh on both alike. Fixtures are
// made on both networks before the first slice, and each network is
// warmed with a few registrations first.
func Compare(ctx context.Context, envs []*env, labels []string, o *Options) ([]Versus, error) {
	if len(envs) != 2 || len(labels) != 2 {
		return nil, fmt.Errorf("compare: need two networks and two labels, got %d and %d", len(envs), len(labels))
	}
	for _, name := range o.Scenarios {
		if slices.Contains(queryScenarios, name) {
			return nil, fmt.Errorf("compare: %s is not a throughput scenario", name)
		}
	}
	for i, e := range envs {
		warm := *e
		warm.prefix = e.prefix + "w"
		w := warm.scenario(Register)
		samples, _ := Run(ctx, min(o.N, 100), o.C, func(ctx context.Context, j int) []Sample { return w.unit(ctx, j) })
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r := Summarise("warm", o.C, samples, 0); len(r.Failed) > 0 {
			return nil, fmt.Errorf("%s: warming up: %s", labels[i], r.FirstError)
		}
	}
	rounds := max(1, o.Rounds)
	var out []Versus
	for _, name := range o.Scenarios {
		ss := make([]txScenario, 2)
		units := 0
		for i, e := range envs {
			ss[i] = e.scenario(name)
			units = max(1, o.N/ss[i].perUnit)
			fmt.Fprintf(e.log, "%s on %s: %d transactions, concurrency %d, in %d slices alternating with %s\n",
				name, labels[i], units*ss[i].perUnit, e.c, rounds, labels[1-i])
			if err := ss[i].prepare(ctx, units); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", name, labels[i], err)
			}
		}
		got := make([]sliced, 2)
		for r, order := range Alternation(rounds) {
			lo, hi := r*units/rounds, (r+1)*units/rounds
			for _, i := range order {
				s := ss[i]
				samples, wall := Run(ctx, hi-lo, envs[i].c, func(ctx context.Context, j int) []Sample { return s.unit(ctx, lo+j) })
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("%s on %s: %w", name, labels[i], err)
				}
				got[i].add(sliced{samples, wall})
			}
		}
		v := Versus{Scenario: name}
		for i, e := range envs {
			r := Summarise(name, e.c, got[i].samples, got[i].wall)
			r.Network = labels[i]
			var err error
			if r.BytesPerTx, r.BytesRead, err = e.bytesPerTx(ctx, got[i].samples); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", name, labels[i], err)
			}
			if err := e.blockStats(ctx, got[i].samples, &r); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", name, labels[i], err)
			}
			v.Networks = append(v.Networks, r)
		}
		if v.Networks[1].TPS > 0 {
			ratio := math.Round(v.Networks[0].TPS/v.Networks[1].TPS*1000) / 1000
			v.Ratio = &ratio
		}
		out = append(out, v)
	}
	return out, nil
}

// Alternation is the order of the two networks in each of rounds slices:
// first then second, then second then first, and so on (A B, B A, A B).
func Alternation(rounds int) [][]int {
	out := make([][]int, rounds)
	for r := range out {
		out[r] = []int{0, 1}
		if r%2 == 1 {
			out[r] = []int{1, 0}
		}
	}
	return out
}

// WriteVersusJSON prints the comparisons as one JSON array.
func WriteVersusJSON(w io.Writer, vs []Versus) error {
	if vs == nil {
		vs = []Versus{}
	}
	return writeJSON(w, vs)
}

// WriteVersusTable prints one line per scenario and network: throughput
// and the ratio of the first network's over the second's, latency,
// committed bytes per transaction (the transaction alone, and its share of
// its block) and what a block holds.
func WriteVersusTable(w io.Writer, vs []Versus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tNETWORK\tN\tC\tTX/S\tRATIO\tP50 MS\tP95 MS\tP99 MS\tBYTES/TX\tBLOCK BYTES/TX\tTX/BLOCK\tSIGS/BLOCK\tSIG BYTES/BLOCK\tFAILED")
	for _, v := range vs {
		for i, r := range v.Networks {
			ratio := "-"
			if i == 0 && v.Ratio != nil {
				ratio = fmt.Sprintf("%.2f", *v.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%s\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.1f\t%.1f\t%.0f\t%s\n",
				v.Scenario, r.Network, r.N, r.Concurrency, r.TPS, ratio, r.P50, r.P95, r.P99,
				r.BytesPerTx, r.BlockBytesPerTx, r.TxPerBlock, r.SigsPerBlock, r.SigBytesPerBlock, failed(r.Failed))
		}
	}
	for _, v := range vs {
		for _, r := range v.Networks {
			if r.FirstError != "" {
				fmt.Fprintf(tw, "%s on %s: first failure: %s\n", v.Scenario, r.Network, r.FirstError)
			}
		}
	}
	return tw.Flush()
}
