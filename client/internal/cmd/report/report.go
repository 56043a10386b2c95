// Package report groups the `mtrace report` subcommands: the auditor's
// period statements, read from the SQL projection.
package report

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/report/balance"
	"github.com/mtrace/mtrace/client/internal/cmd/report/declarations"
	"github.com/mtrace/mtrace/client/internal/cmd/report/ppwr"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// NewCmdReport builds `mtrace report`.
func NewCmdReport(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report <command>",
		Short: "Period statements for auditors: mass balance, PPWR content, declarations",
		Long: `Statements an auditor signs, computed from the SQL projection that
mtrace project keeps (--db): a site's mass balance over a period of at
most three months, a plant's post-consumer content per material and
year as the PPWR counts it, and the batch declarations issued and
claimed. Each states the ledger height it reflects and lists the
transactions behind every figure. Formats: table, json, csv and html (a
self-contained page with a chart and a sign-off block).

No network is needed: reports read the database only. Run
mtrace project --db URL --once first to bring it up to the ledger.`,
		Example: `  mtrace report balance --db sqlite:mtrace.db --site 8690000000029 --from 2026-10-01 --to 2026-12-31
  mtrace report ppwr --db sqlite:mtrace.db --plant 8690000000043 --year 2026 --format html > ppwr.html
  mtrace report declarations --db sqlite:mtrace.db --site 8690000000029 --format csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(balance.NewCmdBalance(f, nil), ppwr.NewCmdPPWR(f, nil), declarations.NewCmdDeclarations(f, nil))
	return cmd
}
