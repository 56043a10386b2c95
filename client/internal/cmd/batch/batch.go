// Package batch groups the `mtrace batch` subcommands.
package batch

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/batch/get"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/register"
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
	}
	cmd.AddCommand(
		register.NewCmdRegister(f, nil),
		get.NewCmdGet(f, nil),
	)
	return cmd
}
