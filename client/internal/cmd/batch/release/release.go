// Package release implements `mtrace batch release`: lift a quarantine.
package release

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one release.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdRelease builds the command; runF replaces runRelease in tests.
func NewCmdRelease(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:     "release ID",
		Short:   "Release a quarantined batch (the role that held it only)",
		Example: `  mtrace -p auditor batch release FLK-7`,
		Args:    cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runRelease)
		},
	}
}

func runRelease(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.Release(ctx, opts.ID) },
		Summary: func(b *model.Batch) string {
			return fmt.Sprintf("Released %s: status %s (tx %s)", b.ID, b.Status, b.LastTx)
		},
	})
}
