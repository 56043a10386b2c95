// Package register implements `mtrace batch register`: a collector records
// a batch of collected waste.
package register

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of one register.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string

	Request model.RegisterRequest
}

// NewCmdRegister builds the command; runF replaces runRegister in tests.
func NewCmdRegister(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var material, mass, class string
	cmd := &cobra.Command{
		Use:   "register ID --material M --mass MASS --location TEXT --collected-at TIME --waste-code CODE [--origin-class C] [--site GLN]",
		Short: "Register a batch of collected waste (collectors only)",
		Long: `Register a batch of collected waste on the ledger. Only an organisation
with the collector role may do so. The batch starts as form "waste",
owned by your organisation, 100% of its origin class: post-consumer
(household and municipal collections, the default) or pre-consumer
(manufacturing scrap), given with --origin-class. --site names the
receiving site (a GLN your organisation lists, see mtrace site list);
without it, your organisation's default site.

Masses take a unit: 1250kg, 1.25t or 900g. Times are RFC 3339.`,
		Example: `  mtrace batch register PET-2026-0001 --material PET --mass 1250kg \
    --location "Kadıköy, Istanbul" --collected-at 2026-11-20T09:30:00+03:00 \
    --waste-code "15 01 02"`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Request.ID = args[0]
			if opts.Request.Material, err = model.ParseMaterial(material); err != nil {
				return cmdutil.FlagErrorf("--material: %w", err)
			}
			if opts.Request.Mass, err = cmdutil.ParseMass("--mass", mass); err != nil {
				return err
			}
			if class != "" {
				if opts.Request.OriginClass, err = model.ParseOriginClass(class); err != nil {
					return cmdutil.FlagErrorf("--origin-class: %w", err)
				}
			}
			if opts.Request.Site != "" {
				if err := model.CheckGLN("--site", opts.Request.Site); err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runRegister)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&material, "material", "", "polymer: PET, HDPE, PVC, LDPE, PP, PS, PLA, ABS, PETG or OTHER")
	fl.StringVar(&mass, "mass", "", "collected mass with a unit, such as 1250kg")
	fl.StringVar(&opts.Request.Location, "location", "", "where the waste was collected")
	fl.StringVar(&opts.Request.CollectedAt, "collected-at", "", "collection time, RFC 3339")
	fl.StringVar(&opts.Request.WasteCode, "waste-code", "", `European List of Waste code, such as "15 01 02"`)
	fl.StringVar(&class, "origin-class", "", "post-consumer (default) or pre-consumer")
	fl.StringVar(&opts.Request.Site, "site", "", "GLN of the receiving site (default: your organisation's default site)")
	for _, n := range []string{"material", "mass", "location", "collected-at", "waste-code"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runRegister(ctx context.Context, opts *Options) error {
	return cmdutil.SubmitBatch(ctx, opts.Ledger, cmdutil.BatchWrite{
		IO: opts.IO, Format: opts.Format, ID: opts.Request.ID,
		Write: func(ctx context.Context, c *api.Client) error { return c.RegisterBatch(ctx, opts.Request) },
		Summary: func(b *model.Batch) string {
			return fmt.Sprintf("Registered %s: %s %s %s, owner %s (tx %s)", b.ID, b.InitialMass, b.Material, b.Form, b.Owner, b.LastTx)
		},
	})
}
