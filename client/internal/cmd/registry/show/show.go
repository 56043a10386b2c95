// Package show implements `mtrace registry show`: the member
// organisations, their roles and the open proposals.
package show

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one lookup.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Now    func() time.Time
	Format string
}

// NewCmdShow builds the command; runF replaces runShow in tests.
func NewCmdShow(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Now: time.Now}
	return &cobra.Command{
		Use:   "show",
		Short: "Show the member organisations, their roles and the open proposals",
		Example: `  mtrace registry show
  mtrace registry show -o json | jq -r '.participants[] | "\(.msp) \(.role)"'`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runShow)
		},
	}
}

func runShow(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		reg, err := api.New(l).GetRegistry(ctx)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, reg)
		}
		return render.Registry(opts.IO.Out, &reg, opts.Now())
	})
}
