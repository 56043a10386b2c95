// Package trace implements `mtrace trace`: the provenance graph of a
// batch, upstream to its collections or downstream to every descendant.
package trace

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one trace.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	ID     string
	Down   bool
	// Format is tree, json, dot or mermaid.
	Format string
	// PageSize is the edges per page of a downstream trace (0: the
	// chaincode's default).
	PageSize int
}

// NewCmdTrace builds the command; runF replaces runTrace in tests.
func NewCmdTrace(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "trace ID [--down] [--format tree|json|dot|mermaid]",
		Short: "Show where a batch came from, or (--down) everything made from it",
		Long: `Show the provenance graph of a batch. Upstream (the default) follows the
process inputs back to the collected waste; --down follows every process the
batch went into, which is what a recall must reach. Each edge is the mass
taken from the parent by the process that made the child.

A downstream trace is read page by page (the chaincode's TraceDown), so a
recall of any size completes: every descendant is printed. dot and mermaid
draw at most 500 batches and say what they left out; tree and json hold
everything.

Formats: tree (default), json (the model's Trace), dot (Graphviz) and
mermaid (a flowchart). -o json is the same as --format json.`,
		Example: `  mtrace trace CUP-1
  mtrace trace PET-1 --down
  mtrace trace CUP-1 --format dot | dot -Tsvg > cup.svg
  mtrace trace CUP-1 --format mermaid`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := f.Format()
			if err != nil {
				return err
			}
			opts.ID = args[0]
			opts.Format = strings.ToLower(opts.Format)
			if opts.Format == "" {
				opts.Format = render.TraceTree
				if out == cmdutil.FormatJSON {
					opts.Format = render.TraceJSON
				}
			}
			if !slices.Contains(render.TraceFormats, opts.Format) {
				return cmdutil.FlagErrorf("--format: must be one of %s, got %q", strings.Join(render.TraceFormats, ", "), opts.Format)
			}
			if opts.PageSize < 0 || opts.PageSize > model.MaxDownLimit {
				return cmdutil.FlagErrorf("--page-size: must be from 1 to %d, got %d", model.MaxDownLimit, opts.PageSize)
			}
			if opts.Down {
				return cmdutil.RunPaged(cmd.Context(), runF, opts, runTrace)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runTrace)
		},
	}
	cmd.Flags().BoolVar(&opts.Down, "down", false, "trace downstream, to every batch made from this one")
	cmd.Flags().StringVar(&opts.Format, "format", "", "tree, json, dot or mermaid (default tree)")
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 0, "edges per page of a downstream trace (default 5000, the most the chaincode serves)")
	return cmd
}

func runTrace(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		if opts.Down {
			t, _, err := cmdutil.TraceDown(ctx, l, opts.ID, opts.PageSize)
			if err != nil {
				return err
			}
			if err := render.Trace(opts.IO.Out, t, opts.Format); err != nil {
				return err
			}
			// A recall that lost takes must not pass for a whole one.
			if missing := model.MissingTakes(t); len(missing) > 0 {
				for _, m := range missing {
					fmt.Fprintln(opts.IO.ErrOut, "incomplete:", m)
				}
				return &cmdutil.SilentError{Reason: fmt.Sprintf("recall incomplete: %d batch(es) lost takes", len(missing))}
			}
			return nil
		}
		t, err := api.New(l).Trace(ctx, opts.ID, model.Upstream)
		if err != nil {
			return err
		}
		return render.Trace(opts.IO.Out, &t, opts.Format)
	})
}
