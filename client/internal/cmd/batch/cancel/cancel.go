// Package cancel implements `mtrace batch cancel`: the owner withdraws a
// transfer offer that has not been accepted.
package cancel

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one cancellation.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdCancel builds the command; runF replaces runCancel in tests.
func NewCmdCancel(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:     "cancel ID",
		Short:   "Withdraw your transfer offer before it is accepted",
		Example: `  mtrace batch cancel PET-2026-0001`,
		Args:    cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runCancel)
		},
	}
}

func runCancel(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.CancelTransfer(ctx, opts.ID) },
		Summary: func(b *model.Batch) string {
			return fmt.Sprintf("Cancelled the transfer of %s: owner %s, status %s (tx %s)", b.ID, b.Owner, b.Status, b.LastTx)
		},
	})
}
