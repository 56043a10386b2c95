// Package get implements `mtrace declaration get`: show one declaration.
package get

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one lookup.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdGet builds the command; runF replaces runGet in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a batch declaration and whether it was claimed",
		Example: `  mtrace declaration get DECL-2026-0007
  mtrace declaration get DECL-2026-0007 -o json | jq .claim`,
		Args: cmdutil.ExactArgs(1, "one declaration ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			if err := model.CheckID("ID", opts.ID); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runGet)
		},
	}
}

func runGet(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		d, err := api.New(l).ReadDeclaration(ctx, opts.ID)
		if err != nil {
			return err
		}
		return Show(opts.IO.Out, opts.Format, &d)
	})
}

// Show prints a declaration as JSON or as a table of its fields.
func Show(w io.Writer, format string, d *model.Declaration) error {
	if format == cmdutil.FormatJSON {
		return render.JSON(w, d)
	}
	t := render.NewTable(w)
	t.Row("Declaration", d.ID)
	t.Row("Batch", d.Batch)
	t.Row("Supplier", d.Supplier+site(d.Site))
	t.Row("Recipient", d.Recipient)
	t.Row("Date", d.IssuedAt)
	t.Row("Material", string(d.Material))
	t.Row("Mass", d.Mass.String())
	t.Row("Post-consumer", model.PPM(d.Shares.PostConsumer))
	t.Row("Pre-consumer", model.PPM(d.Shares.PreConsumer))
	t.Row("Chain of custody", string(d.Model))
	t.Row("Certificate", render.Or(d.Certificate, "-"))
	t.Row("Issued by", d.IssuedBy.Person()+" ("+d.IssuedBy.MSP+"), tx "+d.IssueTx)
	if c := d.Claim; c != nil {
		t.Row("Claimed", c.At+" by "+c.By.Person()+" ("+c.By.MSP+")"+site(c.Site)+", tx "+c.Tx)
	} else {
		t.Row("Claimed", "not yet")
	}
	return t.Flush()
}

func site(s string) string {
	if s == "" {
		return ""
	}
	return ", site " + s
}
