// Package list implements `mtrace batch list`: page through batches,
// filtered by owner, status, material or form.
package list

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one list.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	Query  model.ListQuery
}

// NewCmdList builds the command; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var status, material, form string
	cmd := &cobra.Command{
		Use:   "list [--owner MSP] [--status S] [--material M] [--form F] [--limit N] [--page TOKEN]",
		Short: "List batches, one page at a time",
		Long: `List batches matching every filter given. Results come in pages of --limit
batches (default 50, at most 1000); when more remain, the last line gives the
token to pass to --page for the next one (in JSON, the "bookmark" field).

A list by both --owner and --status reads an index of owner and status
together (contract 0.7.0), so it costs the same however many other batches
the owner holds. After an upgrade from contract 0.6.0 or older it leaves out
batches not yet migrated: run mtrace migrate after the upgrade.`,
		Example: `  mtrace batch list --owner RecyclerMSP --status active
  mtrace batch list --material PET --form filament --limit 10
  mtrace batch list --limit 10 --page g1AAAA...`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			q := &opts.Query
			if status != "" {
				if q.Status, err = model.ParseStatus(status); err != nil {
					return cmdutil.FlagErrorf("--status: %w", err)
				}
			}
			if material != "" {
				if q.Material, err = model.ParseMaterial(material); err != nil {
					return cmdutil.FlagErrorf("--material: %w", err)
				}
			}
			if form != "" {
				if q.Form, err = model.ParseForm(form); err != nil {
					return cmdutil.FlagErrorf("--form: %w", err)
				}
			}
			if q.Limit < 1 || q.Limit > model.MaxListLimit {
				return cmdutil.FlagErrorf("--limit: must be from 1 to %d, got %d", model.MaxListLimit, q.Limit)
			}
			if err := q.Validate(); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runList)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Query.Owner, "owner", "", "owner MSP ID, such as RecyclerMSP")
	fl.StringVar(&status, "status", "", "active, in_transit, consumed or quarantined")
	fl.StringVar(&material, "material", "", "PET, HDPE, PVC, LDPE, PP, PS, PLA, ABS, PETG or OTHER")
	fl.StringVar(&form, "form", "", "waste, sorted, flakes, pellets, filament or product")
	fl.IntVar(&opts.Query.Limit, "limit", model.DefaultListLim, "batches per page (1-1000)")
	fl.StringVar(&opts.Query.Bookmark, "page", "", "page token printed by the previous page")
	return cmd
}

func runList(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		page, err := api.New(l).ListBatches(ctx, opts.Query)
		if err != nil {
			return err
		}
		if page.Batches == nil {
			page.Batches = []model.Batch{}
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, page)
		}
		if len(page.Batches) == 0 {
			_, err := fmt.Fprintln(opts.IO.Out, "No batches match.")
			return err
		}
		if err := render.Batches(opts.IO.Out, page.Batches); err != nil {
			return err
		}
		if page.Bookmark != "" {
			_, err = fmt.Fprintf(opts.IO.Out, "Next page: --page %s\n", page.Bookmark)
		}
		return err
	})
}
