// Package process implements `mtrace batch process`: transform input
// batches you own into new output batches in one step.
package process

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one process step.
type Options struct {
	IO      *iostreams.IOStreams
	Ledger  cmdutil.LedgerFunc
	Format  string
	Request model.ProcessRequest
}

// NewCmdProcess builds the command; runF replaces runProcess in tests.
func NewCmdProcess(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var step, virgin string
	var ins, outs []string
	cmd := &cobra.Command{
		Use:   "process --step STEP --in ID:MASS... --out ID:MATERIAL:FORM:MASS... [--virgin MASS] [--location TEXT] [--site GLN]",
		Short: "Transform batches you own into new batches (sort, wash, shred, pelletise, extrude, print)",
		Long: `Record one processing step: take a mass from each input batch and create the
output batches. The outputs may not weigh more than the inputs taken plus any
virgin material added; the difference is recorded as process loss. Each
output carries the mass-weighted post-consumer and pre-consumer shares of
its inputs, diluted by the virgin material (each rounded down, in parts
per million). --site names the site where the step ran (a GLN your
organisation lists); without it, your organisation's default site.

Steps: sorting, washing, shredding, pelletising, extrusion, printing,
splitting, merging, other.`,
		Example: `  mtrace -p recycler batch process --step shredding \
    --in PET-1:1240kg --in PET-2:800kg \
    --out FLK-1:PET:flakes:1950kg
  mtrace -p recycler batch process --step extrusion --in FLK-1:1000kg \
    --out FIL-1:PET:filament:480kg --out FIL-2:PET:filament:480kg --virgin 0g`,
		Args: cmdutil.ExactArgs(0, "no arguments (use --in and --out)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			req := &opts.Request
			if req.Step, err = model.ParseStep(step); err != nil {
				return cmdutil.FlagErrorf("--step: %w", err)
			}
			req.Inputs, req.Outputs = nil, nil
			for _, s := range ins {
				in, err := ParseIn(s)
				if err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
				req.Inputs = append(req.Inputs, in)
			}
			for _, s := range outs {
				out, err := ParseOut(s)
				if err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
				req.Outputs = append(req.Outputs, out)
			}
			if virgin != "" {
				if req.VirginMass, err = model.ParseMass(virgin); err != nil {
					return cmdutil.FlagErrorf("--virgin: %w", err)
				}
			}
			if err := req.Validate(); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runProcess)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&step, "step", "", "process step, such as extrusion")
	fl.StringArrayVar(&ins, "in", nil, "input ID:MASS taken (repeat for each input)")
	fl.StringArrayVar(&outs, "out", nil, "output ID:MATERIAL:FORM:MASS created (repeat for each output)")
	fl.StringVar(&virgin, "virgin", "", "virgin material added, such as 20kg (default 0)")
	fl.StringVar(&opts.Request.Location, "location", "", "where the step took place")
	fl.StringVar(&opts.Request.Site, "site", "", "GLN of the site where the step ran (default: your organisation's default site)")
	for _, n := range []string{"step", "in", "out"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runProcess(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		c := api.New(l)
		rec, err := c.Process(ctx, opts.Request)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			// As every batch command, JSON prints the batches written: the
			// outputs, read back from the peer that committed them.
			outs := make([]model.Batch, 0, len(rec.Outputs))
			for _, o := range rec.Outputs {
				b, err := c.ReadBatch(ctx, o.ID)
				if err != nil {
					return fmt.Errorf("Process committed (tx %s), but reading output %q back failed: %w", rec.Tx, o.ID, err)
				}
				outs = append(outs, b)
			}
			return render.JSON(opts.IO.Out, outs)
		}
		in, out := model.Total(rec.Inputs), model.Total(rec.Outputs)
		line := fmt.Sprintf("Processed (%s): took %s from %d input(s)", rec.Step, in, len(rec.Inputs))
		if rec.VirginMass > 0 {
			line += fmt.Sprintf(" + %s virgin", rec.VirginMass)
		}
		line += fmt.Sprintf(", made %s in %d output(s), loss %s", out, len(rec.Outputs), rec.Loss)
		if rec.Site != "" {
			line += ", site " + rec.Site
		}
		line += fmt.Sprintf(" (tx %s)", rec.Tx)
		if _, err := fmt.Fprintln(opts.IO.Out, line); err != nil {
			return err
		}
		// The record lists the outputs as the request named them; material
		// and form are the request's.
		kinds := make(map[string]model.ProcessOutput, len(opts.Request.Outputs))
		for _, o := range opts.Request.Outputs {
			kinds[o.ID] = o
		}
		t := render.NewTable(opts.IO.Out)
		shares := model.Shares{PostConsumer: rec.RecycledContent * 100}
		if rec.Shares != nil {
			shares = *rec.Shares
		}
		t.Row("ID", "MATERIAL", "FORM", "MASS", "POST-CONSUMER", "PRE-CONSUMER", "OWNER")
		for _, o := range rec.Outputs {
			k := kinds[o.ID]
			t.Row(o.ID, string(k.Material), string(k.Form), o.Mass.String(), model.PPM(shares.PostConsumer), model.PPM(shares.PreConsumer), rec.By.MSP)
		}
		return t.Flush()
	})
}
