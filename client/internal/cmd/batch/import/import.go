// Package importcmd implements `mtrace batch import`: register many
// collected batches from a CSV file, concurrently.
package importcmd

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Columns is the CSV header an import file must have, in any order.
var Columns = []string{"id", "material", "mass", "location", "collected_at", "waste_code"}

// Options are the inputs of one import.
type Options struct {
	IO          *iostreams.IOStreams
	Ledger      cmdutil.LedgerFunc
	Format      string
	File        string
	Concurrency int
	// Now is the clock used to pre-check collection times.
	Now func() time.Time
}

// Row is one data line of the file: a request, or why it is unusable.
type Row struct {
	Line int
	Req  model.RegisterRequest
	Err  error
}

// Failure is a row that was not registered.
type Failure struct {
	Line  int    `json:"line"`
	ID    string `json:"id"`
	Error string `json:"error"`
}

// Result is the outcome of an import; its JSON is the -o json output.
type Result struct {
	Registered int       `json:"registered"`
	Skipped    int       `json:"skipped"`
	Failed     int       `json:"failed"`
	SkippedIDs []string  `json:"skippedIds"`
	Failures   []Failure `json:"failures"`
}

// NewCmdImport builds the command; runF replaces runImport in tests.
func NewCmdImport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--concurrency N]",
		Short: "Register collected batches from a CSV file",
		Long: `Register every row of a CSV file as a batch of collected waste. The header
names the columns, in any order:

  id,material,mass,location,collected_at,waste_code

Rows are submitted concurrently. A batch id already on the ledger is
skipped, so an interrupted import can simply be run again. Failed rows are
listed by line number with their cause, and the exit status is 1 if any
row failed.`,
		Example: `  mtrace -p municipality batch import collections.csv
  mtrace batch import week48.csv --concurrency 32 -o json`,
		Args: cmdutil.ExactArgs(1, "one CSV file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.File = args[0]
			if opts.Concurrency < 1 || opts.Concurrency > 256 {
				return cmdutil.FlagErrorf("--concurrency: must be from 1 to 256, got %d", opts.Concurrency)
			}
			if runF != nil {
				return runF(opts)
			}
			return runImport(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 16, "transactions in flight at once")
	return cmd
}

// ReadRows parses the CSV. A malformed file is an error; a malformed row
// is a Row with Err set.
func ReadRows(r io.Reader, now time.Time) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: want a header line " + strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range Columns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("header: missing column %q (want %s)", c, strings.Join(Columns, ","))
		}
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				rows = append(rows, Row{Line: pe.Line, Err: fmt.Errorf("has %d fields, the header has %d", len(rec), len(header))})
				continue
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, parseRow(line, rec, col, now))
	}
	if len(rows) == 0 {
		return nil, errors.New("no rows after the header")
	}
	return rows, nil
}

func parseRow(line int, rec []string, col map[string]int, now time.Time) Row {
	get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
	row := Row{Line: line, Req: model.RegisterRequest{
		ID: get("id"), WasteCode: get("waste_code"), Location: get("location"), CollectedAt: get("collected_at"),
	}}
	var err error
	if row.Req.Material, err = model.ParseMaterial(get("material")); err != nil {
		row.Err = err
		return row
	}
	if row.Req.Mass, err = model.ParseMass(get("mass")); err != nil {
		row.Err = fmt.Errorf("mass: %w", err)
		return row
	}
	row.Err = row.Req.Validate(now)
	return row
}

func runImport(ctx context.Context, opts *Options) error {
	file, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	rows, err := ReadRows(file, opts.Now())
	file.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	l, err := opts.Ledger(ctx)
	if err != nil {
		return err
	}
	defer l.Close()

	res := importRows(ctx, l, rows, opts.Concurrency, newProgress(opts.IO, len(rows)))
	if err := ctx.Err(); err != nil {
		return err
	}
	if opts.Format == cmdutil.FormatJSON {
		if err := render.JSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Failures {
			fmt.Fprintf(opts.IO.ErrOut, "line %d (%s): %s\n", f.Line, render.Or(f.ID, "no id"), f.Error)
		}
		fmt.Fprintf(opts.IO.Out, "registered %d, skipped %d, failed %d\n", res.Registered, res.Skipped, res.Failed)
	}
	if res.Failed > 0 {
		return &cmdutil.SilentError{Reason: fmt.Sprintf("%d row(s) failed", res.Failed)}
	}
	return nil
}

type outcome int

const (
	registered outcome = iota
	skipped
	failed
)

// importRows registers the rows with n workers and tallies the outcomes.
func importRows(ctx context.Context, l ledger.Ledger, rows []Row, n int, p *progress) Result {
	res := Result{SkippedIDs: []string{}, Failures: []Failure{}}
	var mu sync.Mutex
	record := func(r Row, o outcome, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch o {
		case registered:
			res.Registered++
		case skipped:
			res.Skipped++
			res.SkippedIDs = append(res.SkippedIDs, r.Req.ID)
		case failed:
			res.Failed++
			res.Failures = append(res.Failures, Failure{Line: r.Line, ID: r.Req.ID, Error: err.Error()})
		}
		p.step()
	}
	jobs := make(chan Row)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				o, err := importRow(ctx, l, r)
				record(r, o, err)
			}
		}()
	}
	for _, r := range rows {
		if r.Err != nil {
			record(r, failed, r.Err)
			continue
		}
		select {
		case jobs <- r:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	p.done()
	sort.Strings(res.SkippedIDs)
	sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Line < res.Failures[j].Line })
	return res
}

// importRow registers one row. An id already on the ledger is refused by
// the chaincode at endorsement, before anything is ordered, so there is no
// separate existence check: it would cost every new row a second round trip
// and could still race with another importer.
func importRow(ctx context.Context, l ledger.Ledger, r Row) (outcome, error) {
	err := api.New(l).RegisterBatch(ctx, r.Req)
	var ee *ledger.EndorseError
	switch {
	case err == nil:
		return registered, nil
	case errors.As(err, &ee) && ee.Chaincode && strings.Contains(ee.Message, "already exists"):
		return skipped, nil // on the ledger already, or listed twice in the file
	}
	return failed, err
}

// progress draws a bar on the error stream when it is a terminal.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func newProgress(io *iostreams.IOStreams, total int) *progress {
	if !io.IsStderrTerminal() {
		return &progress{total: total}
	}
	return &progress{w: io.ErrOut, total: total}
}

func (p *progress) step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.w == nil {
		return
	}
	const width = 30
	filled := width * p.n / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total)
}

func (p *progress) done() {
	if p.w != nil {
		fmt.Fprint(p.w, "\n")
	}
}
