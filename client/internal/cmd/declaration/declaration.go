// Package declaration groups the `mtrace declaration` subcommands: batch
// declarations a supplier issues with a shipment and its customer claims
// once.
package declaration

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/declaration/claim"
	"github.com/mtrace/mtrace/client/internal/cmd/declaration/get"
	"github.com/mtrace/mtrace/client/internal/cmd/declaration/issue"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdDeclaration builds `mtrace declaration`.
func NewCmdDeclaration(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "declaration <command>",
		Short: "Issue, claim and show batch declarations of recycled content",
		Long: `A batch declaration travels with a shipment: when a batch leaves a site,
its owner declares to the receiver the material, the mass, the post- and
pre-consumer shares, the chain-of-custody model and a certificate
reference. The receiver claims it once, after accepting the batch; a
second claim, or a claim by anyone else, is refused.`,
		Example: `  mtrace -p recycler batch transfer PEL-7 --to MakerMSP
  mtrace -p recycler declaration issue DECL-2026-0007 --batch PEL-7 --model mass-balance --certificate ISCC-PLUS-123
  mtrace -p maker batch accept PEL-7
  mtrace -p maker declaration claim DECL-2026-0007`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(issue.NewCmdIssue(f, nil), claim.NewCmdClaim(f, nil), get.NewCmdGet(f, nil))
	return cmd
}
