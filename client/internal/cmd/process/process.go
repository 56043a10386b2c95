// Package process implements `mtrace process`: show the record of one
// process transaction.
package process

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one lookup.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	Tx     string
}

// NewCmdProcess builds the command; runF replaces runProcess in tests.
func NewCmdProcess(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "process TX",
		Short: "Show a process record: every input taken, every output made, virgin mass and loss",
		Long: `Show the record of the process that transaction TX ran. A batch made by a
process names that transaction in its origin (mtrace batch get ID); the
record lists all of the process's inputs and outputs, which balance:
inputs + virgin = outputs + loss.`,
		Example: `  mtrace process "$(mtrace batch get SPOOL-1 -o json | jq -r .origin.process.tx)"
  mtrace process 3f9c...e1 -o json | jq '.outputs[].id'`,
		Args: cmdutil.ExactArgs(1, "one transaction ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Tx = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runProcess)
		},
	}
}

func runProcess(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		p, err := api.New(l).GetProcess(ctx, opts.Tx)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, p)
		}
		return render.Process(opts.IO.Out, &p)
	})
}
