// Package reject implements `mtrace registry reject`: one organisation's
// vote against an open registry proposal.
package reject

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

// Options are the inputs of one rejection.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdReject builds the command; runF replaces runReject in tests.
func NewCmdReject(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "reject ID",
		Short: "Vote against an open registry proposal for your organisation (organisation admins only)",
		Long: `Vote against an open registry proposal for your organisation, whoever
made it. Each organisation votes once, to approve or to reject; the
rejection that reaches a majority of the member organisations closes the
proposal unapplied and frees the proposer's slot.`,
		Example: `  mtrace -p recycler-admin registry reject 3f2a9c0d1e4b`,
		Args:    cmdutil.ExactArgs(1, "one proposal ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runReject)
		},
	}
}

func runReject(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		v, err := api.New(l).RejectChange(ctx, opts.ID)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, v)
		}
		if v.Dropped {
			_, err = fmt.Fprintf(opts.IO.Out, "Rejected %s: %d of %d rejections; the proposal is closed: %s\n", v.Proposal.ID, v.Votes, v.Needed, v.Proposal.Change)
			return err
		}
		_, err = fmt.Fprintf(opts.IO.Out, "Rejected %s (%s): %d of %d rejections\n", v.Proposal.ID, v.Proposal.Change, v.Votes, v.Needed)
		return err
	})
}
