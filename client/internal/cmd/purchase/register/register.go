// Package register implements `mtrace purchase register`: a recycler
// records a batch it bought in from outside the consortium.
package register

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/attach"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one registration.
type Options struct {
	IO      *iostreams.IOStreams
	Ledger  cmdutil.LedgerFunc
	Format  string
	Request model.PurchaseRequest
}

// NewCmdRegister builds the command; runF replaces runRegister in tests.
func NewCmdRegister(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var material, mass, class, ticketFile string
	cmd := &cobra.Command{
		Use:   "register ID --material M --mass MASS --supplier NAME --origin-class C --received-at TIME --ticket NO (--ticket-file FILE | --ticket-sha256 HEX)",
		Short: "Register a batch bought in from outside the consortium (recyclers only)",
		Long: `Register a batch your organisation bought in from a supplier outside the
consortium. Only a recycler may. The batch starts as form "waste", 100%
of its origin class (post-consumer or pre-consumer), at the receiving
site (--site, a GLN your organisation lists; default: its default site).
The weighbridge ticket is anchored by its SHA-256: give the file with
--ticket-file (it is hashed here and never leaves this machine) or the
hash with --ticket-sha256.`,
		Example: `  mtrace -p recycler purchase register BUY-0042 --material PET --mass 2t \
    --supplier "Akdeniz Ambalaj A.Ş." --supplier-id TR-VKN-1234567890 \
    --origin-class pre-consumer --received-at 2026-11-19T14:00:00+03:00 \
    --ticket WB-0042 --ticket-file wb-0042.pdf`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			r := &opts.Request
			r.ID = args[0]
			if r.Material, err = model.ParseMaterial(material); err != nil {
				return cmdutil.FlagErrorf("--material: %w", err)
			}
			if r.Mass, err = cmdutil.ParseMass("--mass", mass); err != nil {
				return err
			}
			if r.OriginClass, err = model.ParseOriginClass(class); err != nil {
				return cmdutil.FlagErrorf("--origin-class: %w", err)
			}
			switch {
			case ticketFile != "" && r.TicketSHA256 != "":
				return cmdutil.FlagErrorf("give --ticket-file or --ticket-sha256, not both")
			case ticketFile != "":
				if r.TicketSHA256, err = attach.HashFile(ticketFile); err != nil {
					return cmdutil.FlagErrorf("--ticket-file: %w", err)
				}
			case r.TicketSHA256 == "":
				return cmdutil.FlagErrorf("the weighbridge ticket: give --ticket-file or --ticket-sha256")
			}
			if r.Site != "" {
				if err := model.CheckGLN("--site", r.Site); err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runRegister)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&material, "material", "", "polymer: PET, HDPE, PVC, LDPE, PP, PS, PLA, ABS, PETG or OTHER")
	fl.StringVar(&mass, "mass", "", "mass received, with a unit, such as 2t")
	fl.StringVar(&opts.Request.Supplier, "supplier", "", "the supplier's name")
	fl.StringVar(&opts.Request.SupplierID, "supplier-id", "", "the supplier's identifier (tax or registration number)")
	fl.StringVar(&class, "origin-class", "", "post-consumer or pre-consumer")
	fl.StringVar(&opts.Request.Site, "site", "", "GLN of the receiving site (default: your organisation's default site)")
	fl.StringVar(&opts.Request.ReceivedAt, "received-at", "", "when the material arrived, RFC 3339")
	fl.StringVar(&opts.Request.Ticket, "ticket", "", "the weighbridge ticket's number")
	fl.StringVar(&ticketFile, "ticket-file", "", "the weighbridge ticket's file, to hash")
	fl.StringVar(&opts.Request.TicketSHA256, "ticket-sha256", "", "the weighbridge ticket's SHA-256, 64 lower-case hex digits")
	fl.StringVar(&opts.Request.WasteCode, "waste-code", "", `European List of Waste code, such as "07 02 13" (optional)`)
	for _, n := range []string{"material", "mass", "supplier", "origin-class", "received-at", "ticket"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runRegister(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.Request.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.RegisterPurchase(ctx, opts.Request) },
		Summary: func(b *model.Batch) string {
			p := b.Origin.Purchase
			if p == nil {
				return fmt.Sprintf("Registered %s (tx %s)", b.ID, b.LastTx)
			}
			return fmt.Sprintf("Registered %s: %s %s %s bought in from %s, site %s, owner %s (tx %s)",
				b.ID, b.InitialMass, p.OriginClass, b.Material, p.Supplier, p.Site, b.Owner, b.LastTx)
		},
	})
}
