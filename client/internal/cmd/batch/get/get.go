// Package get implements `mtrace batch get`: show one batch.
package get

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one get.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdGet builds the command; runF replaces runGet in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one batch: mass, owner, status, origin, handovers, documents",
		Example: `  mtrace batch get PET-2026-0001
  mtrace batch get PET-2026-0001 -o json | jq .remainingMass`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runGet)
		},
	}
}

func runGet(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		b, err := cmdutil.Query[model.Batch](ctx, l, "ReadBatch", opts.ID)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, b)
		}
		return render.Batch(opts.IO.Out, &b)
	})
}
