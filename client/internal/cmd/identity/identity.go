// Package identity groups the `mtrace identity` subcommands: the people of
// an organisation, their in-house roles, their certificates and their
// revocation.
package identity

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/enroll"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/list"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/register"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/revoke"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdIdentity builds `mtrace identity`.
func NewCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity <command>",
		Short: "Register, enrol, list and revoke the people of your organisation",
		Long: `Every person has a certificate of their own from their organisation's
Fabric CA (the ca section of the profile), carrying the attribute
mtrace.role: operator, viewer (reads only) or admin. The chaincode checks it
on every transaction and records the person on every version.

An organisation admin registers a person (register), who enrols on their
own machine (enroll) and gets a profile of their own. list shows every
identity and certificate with its expiry; revoke revokes a person on the
whole network through the channel configuration.`,
		Example: `  mtrace -p recycler-admin identity register derya --role operator
  mtrace -p recycler identity enroll derya --secret 8f2k...
  mtrace -p recycler-admin identity list
  mtrace -p recycler-admin identity revoke derya --reason keycompromise`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		register.NewCmdRegister(f, nil),
		enroll.NewCmdEnroll(f, nil),
		list.NewCmdList(f, nil),
		revoke.NewCmdRevoke(f, nil),
	)
	return cmd
}
