// Package balance implements `mtrace report balance`: a site's mass
// balance over a period of at most three months.
package balance

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/projection"
	"github.com/mtrace/mtrace/client/internal/report"
)

// Options are the inputs of one statement.
type Options struct {
	IO       *iostreams.IOStreams
	DB       string
	Site     string
	From, To string
	Format   string
	// Now is the statement's generation time; time.Now in production.
	Now func() time.Time
	// FailOnNegative makes a negative balance an error (exit status 1)
	// after the statement is written.
	FailOnNegative bool
}

// NewCmdBalance builds the command; runF replaces runBalance in tests.
func NewCmdBalance(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "balance --db URL --site GLN --from DATE --to DATE",
		Short: "A site's mass balance over a period (at most three months)",
		Long: `Per material at the site: the opening stock, the inputs by origin
class (collected, bought in, received from members, virgin material
added), the outputs with their post- and pre-consumer shares (handed
over), the losses of processes, and the closing stock, with the lowest
balance after any transaction of the period. A balance below zero at any
time within the period is flagged (NEGATIVE); with --fail-on-negative the
command then exits with status 1 after writing the statement.

The period is whole UTC days, --from and --to included, at most three
months (ISCC PLUS and Implementing Decision (EU) 2026/1425): a longer one
is refused.`,
		Example: `  mtrace report balance --db sqlite:mtrace.db --site 8690000000029 --from 2026-10-01 --to 2026-12-31
  mtrace report balance --db sqlite:mtrace.db --site 8690000000029 --from 2026-10-01 --to 2026-12-31 --format html > q4.html`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.check(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBalance(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DB, "db", "", "projection database: sqlite:PATH or postgres://...")
	cmd.Flags().StringVar(&opts.Site, "site", "", "the site's GLN")
	cmd.Flags().StringVar(&opts.From, "from", "", "first day of the period, YYYY-MM-DD (UTC)")
	cmd.Flags().StringVar(&opts.To, "to", "", "last day of the period, YYYY-MM-DD (UTC)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "table, json, csv or html (default: -o's, table)")
	cmd.Flags().BoolVar(&opts.FailOnNegative, "fail-on-negative", false, "exit with status 1 when a balance fell below zero")
	return cmd
}

func (o *Options) check(f *cmdutil.Factory) error {
	if o.DB == "" {
		return cmdutil.FlagErrorf("--db is required: sqlite:PATH or postgres://...")
	}
	if err := model.CheckGLN("--site", o.Site); err != nil {
		return cmdutil.FlagErrorf("%w", err)
	}
	if o.From == "" || o.To == "" {
		return cmdutil.FlagErrorf("--from and --to are required: the period's first and last day, YYYY-MM-DD")
	}
	if _, err := report.ParsePeriod(o.From, o.To); err != nil {
		return cmdutil.FlagErrorf("%w", err)
	}
	return Format(f, &o.Format)
}

// Format settles a report's --format: the flag, else -o, else table.
func Format(f *cmdutil.Factory, format *string) error {
	if *format == "" {
		g, err := f.Format()
		if err != nil {
			return err
		}
		*format = g
	}
	if err := report.CheckFormat(*format); err != nil {
		return cmdutil.FlagErrorf("%w", err)
	}
	return nil
}

func runBalance(ctx context.Context, opts *Options) error {
	p, err := report.ParsePeriod(opts.From, opts.To)
	if err != nil {
		return err
	}
	db, err := projection.OpenReader(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	b, err := report.BalanceOf(ctx, db, opts.Site, p, opts.Now())
	if err != nil {
		return err
	}
	if err := report.Render(opts.IO.Out, opts.Format, b); err != nil {
		return err
	}
	if b.Negative && opts.FailOnNegative {
		return &cmdutil.ExitError{Code: 1, Reason: "a balance fell below zero within the period"}
	}
	return nil
}
