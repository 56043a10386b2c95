// Package list implements `mtrace site list`: an organisation's sites.
package list

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one listing.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	// Org is the organisation whose sites to list.
	Org string
}

// NewCmdList builds the command; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "list [--org MSP]",
		Short: "List an organisation's sites (default: your own)",
		Example: `  mtrace site list
  mtrace site list --org RecyclerMSP -o json`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Org == "" {
				p, err := f.Profile()
				if err != nil {
					return err
				}
				opts.Org = p.MSPID
			}
			if err := model.CheckMSP("--org", opts.Org); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runList)
		},
	}
	cmd.Flags().StringVar(&opts.Org, "org", "", "MSP ID of the organisation (default: your profile's)")
	return cmd
}

func runList(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		sites, err := api.New(l).GetSites(ctx, opts.Org)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, sites)
		}
		return Table(opts.IO.Out, &sites)
	})
}

// Table prints a site list, the default site marked.
func Table(w io.Writer, l *model.SiteList) error {
	if len(l.Sites) == 0 {
		_, err := io.WriteString(w, l.Org+" lists no sites.\n")
		return err
	}
	t := render.NewTable(w)
	t.Row("SITE (GLN)", "NAME", "DEFAULT", "ADDED")
	for _, s := range l.Sites {
		def := ""
		if s.Default {
			def = "yes"
		}
		t.Row(s.ID, s.Name, def, s.AddedAt)
	}
	return t.Flush()
}
