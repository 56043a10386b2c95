// Package importcmd implements `mtrace batch import`: register many
// collected batches from a CSV file, concurrently.
package importcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/csvimport"
	"github.com/mtrace/mtrace/client/internal/iostreams"
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

// Failure and Result are the outcome of an import; Result's JSON is the
// -o json output.
type (
	Failure = csvimport.Failure
	Result  = csvimport.Result
)

// NewCmdImport builds the command; runF replaces runImport in tests.
func NewCmdImport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--concurrency N]",
		Short: "Register collected batches from a CSV file",
		Long: `Register every row of a CSV file as a batch of collected waste. The header
names the columns, in any order:

  id,material,mass,location,collected_at,waste_code

and may add origin_class (post-consumer, the default, or pre-consumer)
and site (the GLN of the receiving site; empty for your default site).
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
	return csvimport.Read(r, Columns, func(rec csvimport.Record) Row { return parseRow(rec, now) },
		func(line int, err error) Row { return Row{Line: line, Err: err} })
}

func parseRow(rec csvimport.Record, now time.Time) Row {
	row := Row{Line: rec.Line, Req: model.RegisterRequest{
		ID: rec.Get("id"), WasteCode: rec.Get("waste_code"), Location: rec.Get("location"), CollectedAt: rec.Get("collected_at"),
		Site: rec.Get("site"),
	}}
	var err error
	if row.Req.Material, err = model.ParseMaterial(rec.Get("material")); err != nil {
		row.Err = err
		return row
	}
	if row.Req.Mass, err = model.ParseMass(rec.Get("mass")); err != nil {
		row.Err = fmt.Errorf("mass: %w", err)
		return row
	}
	if c := rec.Get("origin_class"); c != "" {
		if row.Req.OriginClass, err = model.ParseOriginClass(c); err != nil {
			row.Err = err
			return row
		}
	}
	row.Err = row.Req.Validate(now)
	return row
}

func runImport(ctx context.Context, opts *Options) error {
	return csvimport.Import(ctx, opts.IO, opts.Format, opts.File, opts.Concurrency, opts.Ledger, func(r io.Reader) ([]csvimport.Job, error) {
		rows, err := ReadRows(r, opts.Now())
		if err != nil {
			return nil, err
		}
		jobs := make([]csvimport.Job, len(rows))
		for i, row := range rows {
			req := row.Req
			jobs[i] = csvimport.Job{Line: row.Line, ID: req.ID, Err: row.Err,
				Write: func(ctx context.Context, c *api.Client) error { return c.RegisterBatch(ctx, req) }}
		}
		return jobs, nil
	})
}
