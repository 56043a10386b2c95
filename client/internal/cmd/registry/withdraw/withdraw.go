// Package withdraw implements `mtrace registry withdraw`: close an open
// proposal unapplied.
package withdraw

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one withdrawal.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdWithdraw builds the command; runF replaces runWithdraw in tests.
func NewCmdWithdraw(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:     "withdraw ID",
		Short:   "Withdraw a registry proposal your organisation made (organisation admins only)",
		Example: `  mtrace -p maker-admin registry withdraw 3f2a9c0d1e4b`,
		Args:    cmdutil.ExactArgs(1, "one proposal ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runWithdraw)
		},
	}
}

func runWithdraw(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		if err := api.New(l).WithdrawChange(ctx, opts.ID); err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, map[string]string{"withdrawn": opts.ID})
		}
		_, err := fmt.Fprintf(opts.IO.Out, "Withdrew proposal %s\n", opts.ID)
		return err
	})
}
