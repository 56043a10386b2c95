// Package root assembles the mtrace command tree.
package root

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/audit"
	"github.com/mtrace/mtrace/client/internal/cmd/batch"
	"github.com/mtrace/mtrace/client/internal/cmd/completion"
	"github.com/mtrace/mtrace/client/internal/cmd/declaration"
	"github.com/mtrace/mtrace/client/internal/cmd/epcis"
	"github.com/mtrace/mtrace/client/internal/cmd/events"
	"github.com/mtrace/mtrace/client/internal/cmd/history"
	"github.com/mtrace/mtrace/client/internal/cmd/identity"
	"github.com/mtrace/mtrace/client/internal/cmd/migrate"
	"github.com/mtrace/mtrace/client/internal/cmd/passport"
	"github.com/mtrace/mtrace/client/internal/cmd/process"
	"github.com/mtrace/mtrace/client/internal/cmd/project"
	"github.com/mtrace/mtrace/client/internal/cmd/proof"
	"github.com/mtrace/mtrace/client/internal/cmd/purchase"
	"github.com/mtrace/mtrace/client/internal/cmd/registry"
	"github.com/mtrace/mtrace/client/internal/cmd/report"
	"github.com/mtrace/mtrace/client/internal/cmd/site"
	"github.com/mtrace/mtrace/client/internal/cmd/trace"
	"github.com/mtrace/mtrace/client/internal/cmd/verify"
	"github.com/mtrace/mtrace/client/internal/cmd/version"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdRoot builds `mtrace` and every subcommand.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mtrace <command>",
		Short: "Trace recycled material from collection to product on a Fabric ledger",
		Long: `mtrace records where recycled material came from: a municipality registers
collected waste, a recycler sorts, washes, shreds, pelletises and extrudes it
into filament, a maker prints products, and anyone in the consortium can trace
and verify a product back to its collection points.

Connection profiles come from the config file (--config, $MTRACE_CONFIG or
$XDG_CONFIG_HOME/mtrace/config.yaml); choose one with -p/--profile.`,
		Example: `  export MTRACE_CONFIG=$PWD/.mtrace/config.yaml
  mtrace -p municipality batch register PET-1 --material PET --mass 1250kg \
    --location "Kadıköy, Istanbul" --collected-at 2026-11-20T09:30:00+03:00 --waste-code "15 01 02"
  mtrace -p maker verify CUP-1`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmdutil.AddGlobalFlags(cmd, f.Globals)
	cmd.AddCommand(
		batch.NewCmdBatch(f),
		purchase.NewCmdPurchase(f),
		declaration.NewCmdDeclaration(f),
		site.NewCmdSite(f),
		history.NewCmdHistory(f, nil),
		process.NewCmdProcess(f, nil),
		trace.NewCmdTrace(f, nil),
		verify.NewCmdVerify(f, nil),
		proof.NewCmdProof(f),
		passport.NewCmdPassport(f, nil),
		events.NewCmdEvents(f, nil),
		audit.NewCmdAudit(f, nil),
		migrate.NewCmdMigrate(f, nil),
		project.NewCmdProject(f, nil),
		report.NewCmdReport(f),
		epcis.NewCmdEPCIS(f),
		registry.NewCmdRegistry(f),
		identity.NewCmdIdentity(f),
		version.NewCmdVersion(f, nil),
		completion.NewCmdCompletion(f, nil),
	)
	return cmd
}
