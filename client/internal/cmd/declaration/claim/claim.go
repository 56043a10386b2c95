// Package claim implements `mtrace declaration claim`: the recipient uses
// a declaration, once.
package claim

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/declaration/get"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// Options are the inputs of one claim.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdClaim builds the command; runF replaces runClaim in tests.
func NewCmdClaim(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "claim ID",
		Short: "Claim a declaration issued to your organisation (once, after accepting the batch)",
		Long: `Claim batch declaration ID for your organisation. Only the recipient may,
after accepting the transfer the declaration came with, and only once: a
second claim is refused, so a declaration's recycled content is counted
once.`,
		Example: `  mtrace -p maker declaration claim DECL-2026-0007`,
		Args:    cmdutil.ExactArgs(1, "one declaration ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if err := model.CheckID("ID", opts.ID); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runClaim)
		},
	}
}

func runClaim(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		d, err := api.New(l).ClaimDeclaration(ctx, opts.ID)
		if err != nil {
			return err
		}
		if opts.Format != cmdutil.FormatJSON && d.Claim != nil {
			fmt.Fprintf(opts.IO.Out, "Claimed declaration %s for %s (tx %s)\n", d.ID, d.Recipient, d.Claim.Tx)
		}
		return get.Show(opts.IO.Out, opts.Format, &d)
	})
}
