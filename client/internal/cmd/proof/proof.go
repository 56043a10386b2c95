// Package proof groups the `mtrace proof` subcommands: export a batch's
// provenance as a proof file, and check one offline.
package proof

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/proof/export"
	"github.com/mtrace/mtrace/client/internal/cmd/proof/verify"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdProof builds `mtrace proof`.
func NewCmdProof(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proof <command>",
		Short: "Export a batch's provenance as a proof file, and check one offline",
		Long: `A proof holds everything needed to check a batch's provenance without the
network: the records, the transactions that wrote them in the orderers'
signed blocks, the channel's config blocks back to its genesis block, and
peers' signed answers from two organisations on each transaction's validity
and on the records. Anyone can check it with the genesis block's hash alone
(docs/explanation/proof.md).`,
		Example: `  mtrace -p maker proof export CUP-1 --file cup-1.proof
  mtrace proof verify cup-1.proof --genesis 0e6aee…`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(export.NewCmdExport(f, nil), verify.NewCmdVerify(f, nil))
	return cmd
}
