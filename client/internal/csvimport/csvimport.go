// Package csvimport is what `mtrace batch import` and `mtrace purchase
// import` share: reading a CSV file whose header names its columns, and
// submitting one registration per row concurrently, an id already on the
// ledger counting as skipped, with failures listed by line.
package csvimport

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

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Record is one data line of a file, read by column name.
type Record struct {
	Line   int
	fields []string
	col    map[string]int
}

// Get returns the trimmed value of column c; "" when the file has no such
// (optional) column.
func (r Record) Get(c string) string {
	i, ok := r.col[c]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// Read parses a CSV file whose header must name every column of required
// (in any order, case-insensitive, a byte order mark ignored) and may name
// others. parse turns each record into a row; a record with the wrong
// number of fields becomes bad(line, err). A malformed file is an error.
func Read[R any](r io.Reader, required []string, parse func(Record) R, bad func(int, error) R) ([]R, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: want a header line " + strings.Join(required, ","))
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("header: missing column %q (want %s)", c, strings.Join(required, ","))
		}
	}
	var rows []R
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				rows = append(rows, bad(pe.Line, fmt.Errorf("has %d fields, the header has %d", len(rec), len(header))))
				continue
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, parse(Record{Line: line, fields: rec, col: col}))
	}
	if len(rows) == 0 {
		return nil, errors.New("no rows after the header")
	}
	return rows, nil
}

// Job is one row to submit: its line, the batch id, and the write; Err is
// why the row cannot be submitted.
type Job struct {
	Line  int
	ID    string
	Err   error
	Write func(context.Context, *api.Client) error
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

type outcome int

const (
	registered outcome = iota
	skipped
	failed
)

// Submit runs the jobs with n workers and tallies the outcomes; a
// progress bar is drawn on the error stream when it is a terminal.
func Submit(ctx context.Context, l ledger.Ledger, jobs []Job, n int, ios *iostreams.IOStreams) Result {
	p := newProgress(ios, len(jobs))
	res := Result{SkippedIDs: []string{}, Failures: []Failure{}}
	var mu sync.Mutex
	record := func(j Job, o outcome, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch o {
		case registered:
			res.Registered++
		case skipped:
			res.Skipped++
			res.SkippedIDs = append(res.SkippedIDs, j.ID)
		case failed:
			res.Failed++
			res.Failures = append(res.Failures, Failure{Line: j.Line, ID: j.ID, Error: err.Error()})
		}
		p.step()
	}
	c := api.New(l)
	queue := make(chan Job)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				o, err := run(ctx, c, j)
				record(j, o, err)
			}
		}()
	}
	for _, j := range jobs {
		if j.Err != nil {
			record(j, failed, j.Err)
			continue
		}
		select {
		case queue <- j:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(queue)
	wg.Wait()
	p.done()
	sort.Strings(res.SkippedIDs)
	sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Line < res.Failures[j].Line })
	return res
}

// run submits one job. An id already on the ledger is refused by the
// chaincode at endorsement, before anything is ordered, so there is no
// separate existence check: it would cost every new row a second round
// trip and could still race with another importer.
func run(ctx context.Context, c *api.Client, j Job) (outcome, error) {
	err := j.Write(ctx, c)
	var ee *ledger.EndorseError
	switch {
	case err == nil:
		return registered, nil
	case errors.As(err, &ee) && ee.Chaincode && strings.Contains(ee.Message, "already exists"):
		return skipped, nil // on the ledger already, or listed twice in the file
	}
	return failed, err
}

// Print writes the result as JSON or as a summary line, failures on the
// error stream, and returns a silent error when any row failed.
func Print(ios *iostreams.IOStreams, format string, res Result) error {
	if format == cmdutil.FormatJSON {
		if err := render.JSON(ios.Out, res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Failures {
			fmt.Fprintf(ios.ErrOut, "line %d (%s): %s\n", f.Line, render.Or(f.ID, "no id"), f.Error)
		}
		fmt.Fprintf(ios.Out, "registered %d, skipped %d, failed %d\n", res.Registered, res.Skipped, res.Failed)
	}
	if res.Failed > 0 {
		return &cmdutil.SilentError{Reason: fmt.Sprintf("%d row(s) failed", res.Failed)}
	}
	return nil
}

// progress draws a bar on the error stream when it is a terminal.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func newProgress(ios *iostreams.IOStreams, total int) *progress {
	if !ios.IsStderrTerminal() {
		return &progress{total: total}
	}
	return &progress{w: ios.ErrOut, total: total}
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

// Import reads the jobs of file with read, submits them through the
// ledger open gives (n at a time) and prints the outcome: the whole run
// of an import command.
func Import(ctx context.Context, ios *iostreams.IOStreams, format, file string, n int, open cmdutil.LedgerFunc, read func(io.Reader) ([]Job, error)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	jobs, err := read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	l, err := open(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	res := Submit(ctx, l, jobs, n, ios)
	if err := ctx.Err(); err != nil {
		return err
	}
	return Print(ios, format, res)
}
