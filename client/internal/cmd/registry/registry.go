// Package registry groups the `mtrace registry` subcommands: the
// consortium's member organisations and their governed changes.
package registry

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/registry/approve"
	"github.com/mtrace/mtrace/client/internal/cmd/registry/proposals"
	"github.com/mtrace/mtrace/client/internal/cmd/registry/propose"
	"github.com/mtrace/mtrace/client/internal/cmd/registry/reject"
	"github.com/mtrace/mtrace/client/internal/cmd/registry/show"
	"github.com/mtrace/mtrace/client/internal/cmd/registry/withdraw"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdRegistry builds `mtrace registry`.
func NewCmdRegistry(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry <command>",
		Short: "Show the consortium's members and change them by majority vote of their admins",
		Long: `The registry lists the member organisations and their roles (collector,
recycler, maker, auditor). It changes only through proposals: an admin of a
member organisation proposes a change, and it applies when admins of a
majority of the member organisations have approved it, each with their own
transaction. Proposals expire (7 days unless --ttl says otherwise), can be
withdrawn by the proposing organisation, and are closed when admins of a
majority reject them. Each organisation may have 4 proposals open at once.`,
		Example: `  mtrace -p maker-admin registry propose --msp KaunasMSP --role collector --name "Kaunas waste services"
  mtrace -p municipality-admin registry approve 3f2a9c0d1e4b
  mtrace registry proposals`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		show.NewCmdShow(f, nil),
		proposals.NewCmdProposals(f, nil),
		propose.NewCmdPropose(f, nil),
		approve.NewCmdApprove(f, nil),
		reject.NewCmdReject(f, nil),
		withdraw.NewCmdWithdraw(f, nil),
	)
	return cmd
}
