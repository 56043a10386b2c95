// Package accept implements `mtrace batch accept`: the receiver of an
// offered batch takes custody, recording the mass that arrived.
package accept

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one acceptance.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	// Received is the mass weighed on arrival; 0 means all that was offered.
	Received model.Grams
	// Site is the GLN of the receiving site; empty for the default site.
	Site string
}

// NewCmdAccept builds the command; runF replaces runAccept in tests.
func NewCmdAccept(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var received string
	cmd := &cobra.Command{
		Use:   "accept ID [--received-mass MASS] [--site GLN]",
		Short: "Accept a batch offered to your organisation",
		Long: `Accept a batch offered to your organisation and take custody of it. Give
the mass weighed on arrival with --received-mass; the difference from the
offered mass is recorded as transit loss. Without it, all of the offered
mass is taken as received. --site names the site that took the batch in
(a site of your organisation, see mtrace site list); without it, your
organisation's default site.`,
		Example: `  mtrace -p recycler batch accept PET-2026-0001
  mtrace -p recycler batch accept PET-2026-0001 --received-mass 1240kg`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if opts.Site != "" {
				if err := model.CheckGLN("--site", opts.Site); err != nil {
					return cmdutil.FlagErrorf("%v", err)
				}
			}
			if received != "" {
				if opts.Received, err = cmdutil.ParseMass("--received-mass", received); err != nil {
					return err
				}
				if opts.Received == 0 {
					return cmdutil.FlagErrorf("--received-mass: must be at least 1 g; leave it out to accept all that was offered")
				}
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runAccept)
		},
	}
	cmd.Flags().StringVar(&opts.Site, "site", "", "GLN of the receiving site (default: your organisation's default site)")
	cmd.Flags().StringVar(&received, "received-mass", "", "mass weighed on arrival, such as 1240kg (default: all that was offered)")
	return cmd
}

func runAccept(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error {
			if opts.Site != "" {
				return c.AcceptTransferAt(ctx, opts.ID, int64(opts.Received), opts.Site)
			}
			// Without a site, the call of every contract version: a client
			// of this release keeps working before the upgrade.
			return c.AcceptTransfer(ctx, opts.ID, int64(opts.Received))
		},
		Summary: func(b *model.Batch) string {
			s := fmt.Sprintf("Accepted %s: now owned by %s, %s received", b.ID, b.Owner, b.RemainingMass)
			if n := len(b.Handovers); n > 0 {
				h := b.Handovers[n-1]
				s = fmt.Sprintf("Accepted %s from %s: %s received of %s offered", b.ID, h.From, h.Received, h.Offered)
				if loss := h.Offered - h.Received; loss > 0 {
					s += fmt.Sprintf(" (transit loss %s)", loss)
				}
				s += "; owner " + b.Owner
			}
			return s + fmt.Sprintf(" (tx %s)", b.LastTx)
		},
	})
}
