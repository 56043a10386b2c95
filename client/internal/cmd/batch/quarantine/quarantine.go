// Package quarantine implements `mtrace batch quarantine`: the owner or an
// auditor holds a batch so that it can be neither moved nor processed.
package quarantine

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one hold.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
	Reason string
}

// NewCmdQuarantine builds the command; runF replaces runQuarantine in tests.
func NewCmdQuarantine(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "quarantine ID --reason TEXT",
		Short: "Hold a batch (owner or auditor); only the same role may release it",
		Example: `  mtrace -p auditor batch quarantine FLK-7 --reason "lab test: lead above limit"
  mtrace -p auditor batch release FLK-7`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if err := model.CheckText("--reason", opts.Reason, true); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runQuarantine)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the batch is held")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func runQuarantine(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.Quarantine(ctx, opts.ID, opts.Reason) },
		Summary: func(b *model.Batch) string {
			by := ""
			if q := b.Quarantine; q != nil {
				by = fmt.Sprintf(" by %s %s", q.ByRole, q.By.MSP)
			}
			return fmt.Sprintf("Quarantined %s%s: %s (tx %s)", b.ID, by, opts.Reason, b.LastTx)
		},
	})
}
