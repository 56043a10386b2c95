// Package declarations implements `mtrace report declarations`: the
// batch declarations issued and claimed, per site and period.
package declarations

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/report/balance"
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
	Now      func() time.Time
}

// NewCmdDeclarations builds the command; runF replaces runDeclarations
// in tests.
func NewCmdDeclarations(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "declarations --db URL [--site GLN] [--from DATE] [--to DATE]",
		Short: "Batch declarations issued and claimed, per site and period",
		Long: `Every batch declaration issued at the site (for a batch leaving it) or
claimed there within the period, with the transactions that issued and
claimed it, and per site: how many were issued (and of those, how many
are still unclaimed) and claimed, their mass and post-consumer grams.
Without --site, all sites; without --from or --to, no bound on that
side. Dates are whole UTC days, both included.`,
		Example: `  mtrace report declarations --db sqlite:mtrace.db --site 8690000000029 --from 2026-10-01 --to 2026-12-31`,
		Args:    cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.DB == "" {
				return cmdutil.FlagErrorf("--db is required: sqlite:PATH or postgres://...")
			}
			if opts.Site != "" {
				if err := model.CheckGLN("--site", opts.Site); err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
			}
			for _, d := range []struct{ flag, v string }{{"--from", opts.From}, {"--to", opts.To}} {
				if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
					return cmdutil.FlagErrorf("%s %q: want a date, YYYY-MM-DD", d.flag, d.v)
				}
			}
			if err := balance.Format(f, &opts.Format); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runDeclarations(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DB, "db", "", "projection database: sqlite:PATH or postgres://...")
	cmd.Flags().StringVar(&opts.Site, "site", "", "only declarations issued or claimed at this site (GLN)")
	cmd.Flags().StringVar(&opts.From, "from", "", "first day, YYYY-MM-DD (UTC)")
	cmd.Flags().StringVar(&opts.To, "to", "", "last day, YYYY-MM-DD (UTC)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "table, json, csv or html (default: -o's, table)")
	return cmd
}

func runDeclarations(ctx context.Context, opts *Options) error {
	db, err := projection.OpenReader(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := report.DeclarationsOf(ctx, db, opts.Site, opts.From, opts.To, opts.Now())
	if err != nil {
		return err
	}
	return report.Render(opts.IO.Out, opts.Format, r)
}
