// Package issue implements `mtrace declaration issue`: the owner of an
// offered batch declares what it ships.
package issue

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

// Options are the inputs of one issue.
type Options struct {
	IO      *iostreams.IOStreams
	Ledger  cmdutil.LedgerFunc
	Format  string
	Request model.DeclarationRequest
}

// NewCmdIssue builds the command; runF replaces runIssue in tests.
func NewCmdIssue(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var custody string
	cmd := &cobra.Command{
		Use:   "issue ID --batch BATCH --model MODEL [--certificate REF]",
		Short: "Issue a declaration for a batch you have offered to a customer",
		Long: `Issue batch declaration ID for the transfer of BATCH that you have offered
(mtrace batch transfer). The ledger fills in the rest: you as supplier,
the receiver as recipient, the date (the transaction's time), the
material, the mass offered and both recycled shares. --model is the
chain-of-custody model: identity-preserved, segregated,
controlled-blending or mass-balance. One declaration per transfer.`,
		Example: `  mtrace -p recycler declaration issue DECL-2026-0007 --batch PEL-7 \
    --model mass-balance --certificate ISCC-PLUS-Cert-TR-1234`,
		Args: cmdutil.ExactArgs(1, "one declaration ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Request.ID = args[0]
			if opts.Request.Model, err = model.ParseCustodyModel(custody); err != nil {
				return cmdutil.FlagErrorf("--model: %w", err)
			}
			if err := opts.Request.Validate(); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runIssue)
		},
	}
	cmd.Flags().StringVar(&opts.Request.Batch, "batch", "", "the offered batch")
	cmd.Flags().StringVar(&custody, "model", "", "chain-of-custody model: identity-preserved, segregated, controlled-blending or mass-balance")
	cmd.Flags().StringVar(&opts.Request.Certificate, "certificate", "", "your certificate's reference, such as an ISCC PLUS or RecyClass number")
	_ = cmd.MarkFlagRequired("batch")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

func runIssue(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		d, err := api.New(l).IssueDeclaration(ctx, opts.Request)
		if err != nil {
			return err
		}
		if opts.Format != cmdutil.FormatJSON {
			fmt.Fprintf(opts.IO.Out, "Issued declaration %s for %s to %s (tx %s)\n", d.ID, d.Batch, d.Recipient, d.IssueTx)
		}
		return get.Show(opts.IO.Out, opts.Format, &d)
	})
}
