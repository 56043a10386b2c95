// Package site groups the `mtrace site` subcommands: an organisation's
// facilities, named by GLN.
package site

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/site/add"
	"github.com/mtrace/mtrace/client/internal/cmd/site/list"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdSite builds `mtrace site`.
func NewCmdSite(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "site <command>",
		Short: "List and add your organisation's sites (facilities, by GLN)",
		Long: `Every registration, receipt and process records the site where it
happened: a facility of the acting organisation, named by a GS1 GLN
(13 digits, the last the GS1 check digit). Each organisation keeps its own
list; its admin adds sites and picks the default one, without a registry
vote, since a site grants no permission.`,
		Example: `  mtrace -p recycler-admin site add 8690000000029 --name "Gebze plant" --default
  mtrace site list --org RecyclerMSP`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(add.NewCmdAdd(f, nil), list.NewCmdList(f, nil))
	return cmd
}
