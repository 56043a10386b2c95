// Package reject implements `mtrace batch reject`: the receiver refuses an
// offered batch, which returns to its owner.
package reject

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one rejection.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	Reason string
}

// NewCmdReject builds the command; runF replaces runReject in tests.
func NewCmdReject(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:     "reject ID --reason TEXT",
		Short:   "Refuse a batch offered to your organisation",
		Example: `  mtrace -p recycler batch reject PET-2026-0001 --reason "contaminated with PVC"`,
		Args:    cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if err := model.CheckText("--reason", opts.Reason, true); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runReject)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the batch is refused")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func runReject(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.RejectTransfer(ctx, opts.ID, opts.Reason) },
		Summary: func(b *model.Batch) string {
			return fmt.Sprintf("Rejected %s: it stays with %s, status %s (tx %s)", b.ID, b.Owner, b.Status, b.LastTx)
		},
	})
}
