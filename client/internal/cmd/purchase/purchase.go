// Package purchase groups the `mtrace purchase` subcommands: batches a
// recycler bought in from outside the consortium.
package purchase

import (
	"github.com/spf13/cobra"

	importcmd "github.com/mtrace/mtrace/client/internal/cmd/purchase/import"
	"github.com/mtrace/mtrace/client/internal/cmd/purchase/register"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdPurchase builds `mtrace purchase`.
func NewCmdPurchase(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "purchase <command>",
		Short: "Register material a recycler bought in from outside the consortium",
		Long: `A recycler takes material from outside the consortium too: pre-consumer
scrap from a factory, bales from a collector that is not a member. It
registers such a batch itself, naming the supplier, the origin class and
the receiving site, with the weighbridge ticket's SHA-256 anchored on the
batch. The registration is the recycler's own signed claim; mtrace verify
shows it as a purchase, not as a municipal collection.`,
		Example: `  mtrace -p recycler purchase register BUY-0042 --material PET --mass 2t \
    --supplier "Akdeniz Ambalaj A.Ş." --origin-class pre-consumer \
    --received-at 2026-11-19T14:00:00+03:00 --ticket WB-0042 --ticket-file wb-0042.pdf
  mtrace -p recycler purchase import purchases.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(register.NewCmdRegister(f, nil), importcmd.NewCmdImport(f, nil))
	return cmd
}
