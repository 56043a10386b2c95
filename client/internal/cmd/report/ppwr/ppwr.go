// Package ppwr implements `mtrace report ppwr`: a plant's post-consumer
// content per material and year, as Article 7 of the PPWR counts it.
package ppwr

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
	IO     *iostreams.IOStreams
	DB     string
	Plant  string
	Year   int
	Format string
	Now    func() time.Time
}

// NewCmdPPWR builds the command; runF replaces runPPWR in tests.
func NewCmdPPWR(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "ppwr --db URL --plant GLN --year YEAR",
		Short: "A plant's post-consumer content per material and year (PPWR Art. 7)",
		Long: `Per material, what the processes at the plant (a site, by GLN) made in
the calendar year (UTC): the number of outputs, their mass, the grams
of post-consumer material in them (from each output's share, rounded
down per output) and the average post-consumer share, rounded down. The
PPWR (Regulation (EU) 2025/40, Article 7) counts post-consumer content
only, as an average per manufacturing plant and year; pre-consumer
content is shown apart and not counted.`,
		Example: `  mtrace report ppwr --db sqlite:mtrace.db --plant 8690000000043 --year 2026`,
		Args:    cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.DB == "" {
				return cmdutil.FlagErrorf("--db is required: sqlite:PATH or postgres://...")
			}
			if err := model.CheckGLN("--plant", opts.Plant); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if opts.Year < 2000 || opts.Year > 9998 {
				return cmdutil.FlagErrorf("--year is required: a year such as 2026")
			}
			if err := balance.Format(f, &opts.Format); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runPPWR(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DB, "db", "", "projection database: sqlite:PATH or postgres://...")
	cmd.Flags().StringVar(&opts.Plant, "plant", "", "the plant's site GLN")
	cmd.Flags().IntVar(&opts.Year, "year", 0, "the calendar year")
	cmd.Flags().StringVar(&opts.Format, "format", "", "table, json, csv or html (default: -o's, table)")
	return cmd
}

func runPPWR(ctx context.Context, opts *Options) error {
	db, err := projection.OpenReader(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := report.PPWROf(ctx, db, opts.Plant, opts.Year, opts.Now())
	if err != nil {
		return err
	}
	return report.Render(opts.IO.Out, opts.Format, r)
}
