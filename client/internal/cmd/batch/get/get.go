// Package get implements `mtrace batch get`: show one batch.
package get

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one get.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	// Children is how many of the batch's takes to show, oldest first;
	// 0 shows them all.
	Children int
}

// DefaultChildren is how many takes batch get shows unless told.
const DefaultChildren = 20

// shown is a batch with the first of its takes, as -o json prints it.
type shown struct {
	model.Batch
	Children []model.Take `json:"children"`
}

// NewCmdGet builds the command; runF replaces runGet in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "get ID [--children N]",
		Short: "Show one batch: mass, owner, status, origin, handovers, children, documents",
		Long: `Show one batch. Its children (what each process that took from it took,
oldest first) are read page by page; the first 20 are shown, and the last line
says how many more there are. --children 0 shows them all.`,
		Example: `  mtrace batch get PET-2026-0001
  mtrace batch get SILO-1 --children 0
  mtrace batch get PET-2026-0001 -o json | jq .remainingMass`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if opts.Children < 0 {
				return cmdutil.FlagErrorf("--children: must be 0 (all) or more, got %d", opts.Children)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runGet)
		},
	}
	cmd.Flags().IntVar(&opts.Children, "children", DefaultChildren, "how many children to show, oldest first (0: all)")
	return cmd
}

func runGet(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		b, err := api.New(l).ReadBatch(ctx, opts.ID)
		if err != nil {
			return err
		}
		children, err := Children(ctx, l, &b, opts.Children)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, shown{Batch: b, Children: children})
		}
		return render.Batch(opts.IO.Out, &b, children)
	})
}

// Children reads the first n takes of b (all for n = 0), page by page.
func Children(ctx context.Context, l ledger.Ledger, b *model.Batch, n int) ([]model.Take, error) {
	out := []model.Take{}
	if b.Takes == 0 {
		return out, nil
	}
	bookmark := ""
	for n == 0 || len(out) < n {
		size := model.MaxListLimit
		if n > 0 {
			size = min(size, n-len(out))
		}
		p, err := api.New(l).ListTakes(ctx, b.ID, bookmark, size)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Takes...)
		if p.Bookmark == "" {
			break
		}
		bookmark = p.Bookmark
	}
	return out, nil
}
