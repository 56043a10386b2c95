// Package batch groups the `mtrace batch` subcommands.
package batch

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/batch/accept"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/attach"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/cancel"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/get"
	importcmd "github.com/mtrace/mtrace/client/internal/cmd/batch/import"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/list"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/process"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/quarantine"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/register"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/reject"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/release"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/transfer"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdBatch builds `mtrace batch`.
func NewCmdBatch(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "batch <command>",
		Short: "Register, move, transform and inspect batches of material",
		Example: `  mtrace batch register PET-1 --material PET --mass 1250kg --location Kadıköy \
    --collected-at 2026-11-20T09:30:00+03:00 --waste-code "15 01 02"
  mtrace batch transfer PET-1 --to RecyclerMSP
  mtrace batch get PET-1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		register.NewCmdRegister(f, nil),
		importcmd.NewCmdImport(f, nil),
		get.NewCmdGet(f, nil),
		list.NewCmdList(f, nil),
		transfer.NewCmdTransfer(f, nil),
		accept.NewCmdAccept(f, nil),
		reject.NewCmdReject(f, nil),
		cancel.NewCmdCancel(f, nil),
		process.NewCmdProcess(f, nil),
		quarantine.NewCmdQuarantine(f, nil),
		release.NewCmdRelease(f, nil),
		attach.NewCmdAttach(f, nil),
	)
	return cmd
}
