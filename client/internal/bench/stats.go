package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Sample is one timed call: a transaction from proposal to commit status,
// or one query.
type Sample struct {
	// Total is the end-to-end latency; Endorse the part spent endorsing.
	Total, Endorse time.Duration
	// Code is "" for a committed (or answered) call; otherwise the
	// validation code name, or ENDORSE_ERROR, SUBMIT_ERROR, STATUS_ERROR or
	// EVALUATE_ERROR when the call failed before validation.
	Code string
	// Err is the failure's message, kept for the report.
	Err string
	// Retries counts endorsements tried again because the endorsing peer
	// had not yet committed the transaction this one depends on.
	Retries int
	// TxID is the transaction's id, once endorsed.
	TxID string
}

// Result is one scenario's line in the report. The JSON names are the
// issue's: scenario, n, concurrency, tps, p50_ms, p95_ms, p99_ms, failed,
// and with --baseline baseline_tps and ratio.
type Result struct {
	Scenario    string         `json:"scenario"`
	N           int            `json:"n"`
	Concurrency int            `json:"concurrency"`
	TPS         float64        `json:"tps"`
	P50         float64        `json:"p50_ms"`
	P95         float64        `json:"p95_ms"`
	P99         float64        `json:"p99_ms"`
	EndorseP50  float64        `json:"endorse_p50_ms"`
	EndorseP95  float64        `json:"endorse_p95_ms"`
	Failed      map[string]int `json:"failed"`
	// LagRetries counts endorsements tried again while a peer caught up.
	LagRetries  int      `json:"lag_retries"`
	BaselineTPS *float64 `json:"baseline_tps,omitempty"`
	Ratio       *float64 `json:"ratio,omitempty"`
	// Trace and verify only: the ancestry measured and the fitted growth
	// exponent of p50 latency over node count across the sizes run.
	Nodes    int      `json:"nodes,omitempty"`
	Depth    int      `json:"depth,omitempty"`
	Root     string   `json:"root,omitempty"`
	Exponent *float64 `json:"exponent,omitempty"`
	// FirstError is one failure message, to say why calls failed.
	FirstError string `json:"first_error,omitempty"`
	// BytesPerTx is the mean size of the committed transactions, read
	// back from the ledger for up to BytesSample of them (BytesRead).
	BytesPerTx float64 `json:"bytes_per_tx,omitempty"`
	BytesRead  int     `json:"bytes_sampled,omitempty"`
	// Silo only: latency and committed bytes per segment of takes, and
	// the last segment's over the first's.
	Segments       []Segment `json:"segments,omitempty"`
	LastFirstBytes *float64  `json:"last_first_bytes,omitempty"`
	LastFirstP50   *float64  `json:"last_first_p50,omitempty"`
	// Recall only: descendants reached, pages read, the cost per 1000
	// nodes, and the bench process's peak resident memory.
	Pages       int     `json:"pages,omitempty"`
	MsPer1000   float64 `json:"ms_per_1000_nodes,omitempty"`
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"`
	HeapAfterMB float64 `json:"heap_after_mb,omitempty"`
	// With --against only: the network's label, and what its blocks
	// weigh, read back for up to BlockSample distinct blocks
	// (BlocksRead): block bytes per transaction, transactions, orderer
	// signatures and their bytes per block.
	Network          string  `json:"network,omitempty"`
	BlockBytesPerTx  float64 `json:"block_bytes_per_tx,omitempty"`
	TxPerBlock       float64 `json:"tx_per_block,omitempty"`
	SigsPerBlock     float64 `json:"signatures_per_block,omitempty"`
	SigBytesPerBlock float64 `json:"signature_bytes_per_block,omitempty"`
	BlocksRead       int     `json:"blocks_sampled,omitempty"`
}

// Segment is one slice of a silo's takes, numbered from 1.
type Segment struct {
	From  int     `json:"from"`
	To    int     `json:"to"`
	P50   float64 `json:"p50_ms"`
	Bytes float64 `json:"bytes_per_tx"`
}

// Percentile returns the p-th percentile (0-100) of sorted durations by
// the nearest-rank method; 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*100) / 100
}

// Summarise turns the samples of a run that took wall time into a
// Result: throughput counts successful calls only; latencies are over
// successful calls; failures are counted by code.
func Summarise(scenario string, concurrency int, samples []Sample, wall time.Duration) Result {
	r := Result{Scenario: scenario, N: len(samples), Concurrency: concurrency, Failed: map[string]int{}}
	var total, endorse []time.Duration
	for _, s := range samples {
		r.LagRetries += s.Retries
		if s.Code != "" {
			r.Failed[s.Code]++
			if r.FirstError == "" {
				r.FirstError = s.Err
			}
			continue
		}
		total = append(total, s.Total)
		endorse = append(endorse, s.Endorse)
	}
	slices.Sort(total)
	slices.Sort(endorse)
	if wall > 0 {
		r.TPS = math.Round(float64(len(total))/wall.Seconds()*10) / 10
	}
	r.P50, r.P95, r.P99 = ms(Percentile(total, 50)), ms(Percentile(total, 95)), ms(Percentile(total, 99))
	r.EndorseP50, r.EndorseP95 = ms(Percentile(endorse, 50)), ms(Percentile(endorse, 95))
	return r
}

// SetBaseline records the baseline throughput and the ratio tps/baseline.
func (r *Result) SetBaseline(baselineTPS float64) {
	b := baselineTPS
	r.BaselineTPS = &b
	if baselineTPS > 0 {
		ratio := math.Round(r.TPS/baselineTPS*1000) / 1000
		r.Ratio = &ratio
	}
}

// FitExponent fits latency = a * nodes^k by least squares on logarithms
// and returns k. It needs at least two distinct positive points.
func FitExponent(nodes []int, latency []float64) (float64, error) {
	if len(nodes) != len(latency) {
		return 0, fmt.Errorf("fit: %d node counts but %d latencies", len(nodes), len(latency))
	}
	var xs, ys []float64
	for i := range nodes {
		if nodes[i] > 0 && latency[i] > 0 {
			xs = append(xs, math.Log(float64(nodes[i])))
			ys = append(ys, math.Log(latency[i]))
		}
	}
	if len(xs) < 2 {
		return 0, fmt.Errorf("fit: need two sizes with positive latency, got %d", len(xs))
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0, fmt.Errorf("fit: every size has the same node count")
	}
	return math.Round(sxy/sxx*1000) / 1000, nil
}

// WriteJSON prints the results as one JSON array, one object per scenario.
func WriteJSON(w io.Writer, rs []Result) error {
	if rs == nil {
		rs = []Result{}
	}
	return writeJSON(w, rs)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteTable prints the throughput results, then the trace and verify
// results, as aligned tables.
func WriteTable(w io.Writer, rs []Result) error {
	var tx, q, silo, recall []Result
	for _, r := range rs {
		switch {
		case r.Scenario == Silo:
			silo = append(silo, r)
		case r.Scenario == Recall:
			recall = append(recall, r)
		case r.Nodes > 0:
			q = append(q, r)
		default:
			tx = append(tx, r)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(tx) > 0 {
		fmt.Fprintln(tw, "SCENARIO\tN\tC\tTX/S\tBASELINE\tRATIO\tBYTES/TX\tP50 MS\tP95 MS\tP99 MS\tENDORSE P50\tFAILED")
		for _, r := range tx {
			base, ratio := "-", "-"
			if r.BaselineTPS != nil {
				base = fmt.Sprintf("%.1f", *r.BaselineTPS)
			}
			if r.Ratio != nil {
				ratio = fmt.Sprintf("%.2f", *r.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\n",
				r.Scenario, r.N, r.Concurrency, r.TPS, base, ratio, r.BytesPerTx, r.P50, r.P95, r.P99, r.EndorseP50, failed(r.Failed))
		}
	}
	for _, r := range silo {
		fmt.Fprintf(tw, "\nsilo: %d takes of 1 kg, %.1f tx/s, %.0f bytes/tx, failed %s\n", r.N, r.TPS, r.BytesPerTx, failed(r.Failed))
		fmt.Fprintln(tw, "TAKES\tP50 MS\tBYTES/TX")
		for _, g := range r.Segments {
			fmt.Fprintf(tw, "%d-%d\t%.1f\t%.0f\n", g.From, g.To, g.P50, g.Bytes)
		}
		fmt.Fprintf(tw, "last/first\t%s\t%s\n", orDash(r.LastFirstP50), orDash(r.LastFirstBytes))
	}
	for _, r := range recall {
		fmt.Fprintf(tw, "\nrecall: %d batches, depth %d, %d pages per trace, p50 %.1f ms (%.1f ms per 1000 nodes) over %d traces, peak RSS %.0f MB, heap after %.0f MB, failed %s\n",
			r.Nodes, r.Depth, r.Pages, r.P50, r.MsPer1000, r.N, r.PeakRSSMB, r.HeapAfterMB, failed(r.Failed))
	}
	if len(q) > 0 {
		if len(tx) > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw, "SCENARIO\tNODES\tDEPTH\tCALLS\tP50 MS\tP95 MS\tMS/1000 NODES\tEXPONENT\tFAILED")
		for _, r := range q {
			exp := "-"
			if r.Exponent != nil {
				exp = fmt.Sprintf("%.2f", *r.Exponent)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%s\t%s\n",
				r.Scenario, r.Nodes, r.Depth, r.N, r.P50, r.P95, r.P50*1000/float64(r.Nodes), exp, failed(r.Failed))
		}
	}
	for _, r := range rs {
		if r.FirstError != "" {
			fmt.Fprintf(tw, "%s: first failure: %s\n", r.Scenario, r.FirstError)
		}
	}
	return tw.Flush()
}

func orDash(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

func failed(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s=%d", c, m[c])
	}
	return strings.Join(parts, ",")
}
