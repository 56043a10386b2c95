// Package add implements `mtrace site add`: an organisation's admin adds
// a site or renames one.
package add

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/site/list"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one change.
type Options struct {
	IO      *iostreams.IOStreams
	Ledger  cmdutil.LedgerFunc
	Format  string
	Request model.SiteRequest
}

// NewCmdAdd builds the command; runF replaces runAdd in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "add GLN --name NAME [--default]",
		Short: "Add a site to your organisation, or rename one (admin identities only)",
		Long: `Add a site to your organisation's list, or rename a site already listed.
GLN is the site's GS1 Global Location Number: 13 digits, the last the GS1
check digit. The first site is the default; --default makes this one the
default instead. Receipts and processes that name no site happen at the
default site, and the migration to contract 0.6.0 places your existing
batches there. Sites are never removed: records name them.`,
		Example: `  mtrace -p recycler-admin site add 8690000000029 --name "Gebze plant" --default`,
		Args:    cmdutil.ExactArgs(1, "one GLN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Request.ID = args[0]
			if err := opts.Request.Validate(); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runAdd)
		},
	}
	cmd.Flags().StringVar(&opts.Request.Name, "name", "", "the site's name")
	cmd.Flags().BoolVar(&opts.Request.Default, "default", false, "make it your organisation's default site")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func runAdd(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		sites, err := api.New(l).SetSite(ctx, opts.Request)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, sites)
		}
		fmt.Fprintf(opts.IO.Out, "Set site %s (%s) of %s (tx %s)\n", opts.Request.ID, opts.Request.Name, sites.Org, sites.LastTx)
		return list.Table(opts.IO.Out, &sites)
	})
}
