// Package approve implements `mtrace registry approve`: one organisation's
// approval of an open registry proposal.
package approve

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

// Options are the inputs of one approval.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdApprove builds the command; runF replaces runApprove in tests.
func NewCmdApprove(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "approve ID",
		Short: "Approve an open registry proposal for your organisation (organisation admins only)",
		Long: `Give your organisation's approval to an open registry proposal. Each
organisation approves once; the approval that reaches a majority of the
member organisations applies the change.`,
		Example: `  mtrace -p recycler-admin registry approve 3f2a9c0d1e4b`,
		Args:    cmdutil.ExactArgs(1, "one proposal ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runApprove)
		},
	}
}

func runApprove(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		v, err := api.New(l).ApproveChange(ctx, opts.ID)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, v)
		}
		if v.Applied {
			_, err = fmt.Fprintf(opts.IO.Out, "Approved %s: %d of %d approvals; the change applied: %s\n", v.Proposal.ID, v.Votes, v.Needed, v.Proposal.Change)
			return err
		}
		_, err = fmt.Fprintf(opts.IO.Out, "Approved %s (%s): %d of %d approvals\n", v.Proposal.ID, v.Proposal.Change, v.Votes, v.Needed)
		return err
	})
}
