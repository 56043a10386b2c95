// Package transfer implements `mtrace batch transfer`: the owner offers a
// batch to another organisation, which must accept it.
package transfer

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one transfer offer.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	To     string
}

// NewCmdTransfer builds the command; runF replaces runTransfer in tests.
func NewCmdTransfer(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "transfer ID --to MSP",
		Short: "Offer a batch you own to another organisation",
		Long: `Offer a batch to another organisation. The batch is in transit until the
receiver accepts it (mtrace batch accept), rejects it, or you cancel the
offer. Custody moves only when the receiver accepts.`,
		Example: `  mtrace batch transfer PET-2026-0001 --to RecyclerMSP`,
		Args:    cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if err := model.CheckMSP("--to", opts.To); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runTransfer)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "MSP ID of the receiving organisation")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func runTransfer(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.OfferTransfer(ctx, opts.ID, opts.To) },
		Summary: func(b *model.Batch) string {
			mass := b.RemainingMass
			if b.Pending != nil {
				mass = b.Pending.Mass
			}
			return fmt.Sprintf("Offered %s (%s) to %s; it stays in transit until %s accepts (tx %s)",
				b.ID, mass, opts.To, opts.To, b.LastTx)
		},
	})
}
