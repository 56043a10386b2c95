// Package epcis groups the `mtrace epcis` subcommands: GS1 EPCIS 2.0
// export, validation and capture.
package epcis

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/epcis/capture"
	"github.com/mtrace/mtrace/client/internal/cmd/epcis/export"
	"github.com/mtrace/mtrace/client/internal/cmd/epcis/validate"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdEPCIS builds `mtrace epcis`.
func NewCmdEPCIS(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "epcis <command>",
		Short: "Exchange the ledger's events as GS1 EPCIS 2.0 JSON-LD",
		Example: `  mtrace epcis export VASE-1 --file vase.jsonld
  mtrace epcis validate vase.jsonld
  mtrace epcis capture plant.jsonld`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		export.NewCmdExport(f, nil),
		validate.NewCmdValidate(f, nil),
		capture.NewCmdCapture(f, nil),
	)
	return cmd
}
