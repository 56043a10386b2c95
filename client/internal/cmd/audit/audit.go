// Package audit implements `mtrace audit`: read every batch and check the
// ledger-wide invariants with model.Audit.
package audit

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
	"github.com/mtrace/mtrace/client/internal/signatures"
)

// PageSize is how many batches each ListBatches call reads.
const PageSize = model.MaxListLimit

// Options are the inputs of one audit.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	// NoSignatures skips the signatures check.
	NoSignatures bool
}

// NewCmdAudit builds the command; runF replaces runAudit in tests.
func NewCmdAudit(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check ledger-wide invariants: mass conservation and every organisation's balance",
		Long: `Read every batch and the participant registry, and check that:
  - mass is conserved: collected + virgin = remaining + transit and process losses;
  - no batch has negative remaining mass, or more than it started with;
  - every derived batch's parents exist;
  - every owner is a registered organisation;
  - every organisation's flows (registered, received, produced, shipped,
    taken into processes, losses) account for what it holds;
  - every record's claims (collector, offerer, receiver, processor, holder)
    match the signed transaction that made them (unless --no-signatures;
    see mtrace verify --help).
Prints each organisation's balance and every violation; exits 1 on any.`,
		Example: `  mtrace -p auditor audit
  mtrace audit -o json | jq .violations`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runAudit(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoSignatures, "no-signatures", false, "skip checking each record against its signed transaction")
	return cmd
}

// Fetch reads every batch, page by page, and the registry.
func Fetch(ctx context.Context, l ledger.Ledger) ([]model.Batch, model.Registry, error) {
	var all []model.Batch
	q := model.ListQuery{Limit: PageSize}
	for {
		page, err := api.New(l).ListBatches(ctx, q)
		if err != nil {
			return nil, model.Registry{}, err
		}
		all = append(all, page.Batches...)
		if page.Bookmark == "" {
			break
		}
		if page.Bookmark == q.Bookmark {
			return nil, model.Registry{}, fmt.Errorf("ListBatches: the page token %q repeats", q.Bookmark)
		}
		q.Bookmark = page.Bookmark
	}
	reg, err := api.New(l).GetRegistry(ctx)
	return all, reg, err
}

func runAudit(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		batches, reg, err := Fetch(ctx, l)
		if err != nil {
			return err
		}
		r := model.Audit(batches, reg)
		if !opts.NoSignatures {
			if err := checkSignatures(ctx, l, batches, &r); err != nil {
				return err
			}
		}
		if opts.Format == cmdutil.FormatJSON {
			err = render.JSON(opts.IO.Out, r)
		} else {
			err = printReport(opts, &r)
		}
		if err != nil {
			return err
		}
		if !r.OK {
			return &cmdutil.SilentError{Reason: fmt.Sprintf("%d violation(s)", len(r.Violations))}
		}
		return nil
	})
}

func printReport(opts *Options, r *model.AuditReport) error {
	w := opts.IO.Out
	fmt.Fprintf(w, "Audited %d batches: in %s registered, %s virgin; out %s remaining, %s transit loss, %s process loss\n\n",
		r.Batches, r.Registered, r.Virgin, r.Remaining, r.TransitLoss, r.ProcessLoss)
	t := render.NewTable(w)
	t.Row("ORGANISATION", "REGISTERED", "RECEIVED", "PRODUCED", "SHIPPED", "TAKEN", "TRANSIT LOSS", "VIRGIN", "PROCESS LOSS", "ON HAND", "BALANCE")
	for _, o := range r.Orgs {
		bal := "ok"
		if want := o.Expected(); want != o.OnHand {
			bal = fmt.Sprintf("off by %s", o.OnHand-want)
		}
		name := o.MSP
		if !o.Registry {
			name += " (unregistered)"
		}
		t.Row(name, o.Registered.String(), o.Received.String(), o.Produced.String(), o.Shipped.String(), o.Taken.String(),
			o.TransitLoss.String(), o.Virgin.String(), o.ProcessLoss.String(), o.OnHand.String(), bal)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if r.Signatures != nil && r.Signatures.OK {
		fmt.Fprintf(w, "\nSignatures: %s\n", r.Signatures.Detail)
	}
	if len(r.Holds) > 0 {
		fmt.Fprintf(w, "\nAuditors' holds in force (%d):\n", len(r.Holds))
		for _, h := range r.Holds {
			fmt.Fprintf(w, "  - batch %q held by %s since %s (tx %s): %s\n", h.Batch, h.By.MSP, h.At, model.ShortTx(h.Tx), h.Reason)
		}
	}
	if r.OK {
		_, err := fmt.Fprintln(w, "\nNo violations.")
		return err
	}
	fmt.Fprintf(w, "\nViolations (%d):\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  - %s\n", v)
	}
	return nil
}

// checkSignatures holds every batch's claims, and those of the process
// records they name, against their signed transactions, and adds each
// failure to the report as a violation.
func checkSignatures(ctx context.Context, l ledger.Ledger, batches []model.Batch, r *model.AuditReport) error {
	var txs []string
	seen := map[string]bool{}
	for _, b := range batches {
		if d := b.Origin.Process; d != nil && !seen[d.Tx] {
			seen[d.Tx] = true
			txs = append(txs, d.Tx)
		}
	}
	recs, err := signatures.Records(ctx, l, txs)
	if err != nil {
		return err
	}
	ev := model.Evidence{Batches: batches, Processes: recs}
	c, err := signatures.Check(ctx, l, &ev)
	if err != nil {
		return fmt.Errorf("signatures check: %w", err)
	}
	r.Signatures = &c
	if !c.OK {
		r.OK = false
		r.Violations = append(r.Violations, "signatures: "+c.Detail)
	}
	return nil
}
