// Package proposals implements `mtrace registry proposals`: the open
// registry proposals with their approvals.
package proposals

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
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

// NewCmdProposals builds the command; runF replaces runProposals in tests.
func NewCmdProposals(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Now: time.Now}
	return &cobra.Command{
		Use:   "proposals",
		Short: "List the open registry proposals, their approvals and expiry",
		Long: `List the open registry proposals. VOTES counts the approvals of current
members against the majority needed; an expired proposal can no longer be
approved and leaves the list at the next registry change.`,
		Example: `  mtrace registry proposals
  mtrace registry proposals -o json | jq -r '.[].id'`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runProposals)
		},
	}
}

func runProposals(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		reg, err := api.New(l).GetRegistry(ctx)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			ps := reg.Proposals
			if ps == nil {
				ps = []model.Proposal{}
			}
			return render.JSON(opts.IO.Out, ps)
		}
		if len(reg.Proposals) == 0 {
			_, err := fmt.Fprintln(opts.IO.Out, "No open proposals.")
			return err
		}
		return render.Proposals(opts.IO.Out, &reg, opts.Now())
	})
}
