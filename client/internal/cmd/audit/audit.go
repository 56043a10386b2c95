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
	// Since is a checkpoint file: check only what changed after it.
	Since string
	// Checkpoint is where a clean audit records its checkpoint.
	Checkpoint string
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
Prints each organisation's balance and every violation; exits 1 on any.

With --checkpoint FILE, a clean audit records in FILE the block height it
covered, that block's hash and the ledger-wide totals. With --since FILE,
the audit reads only the blocks after that checkpoint, finds the batches,
processes, takes and holds they wrote, and re-checks those batches, the
parents of the processes involved, and the totals and balances, with the
same rules: its cost depends on what was written since, not on the size of
the ledger. A chain that no longer holds the checkpoint's block is an
error; a change of the registry since the checkpoint makes it a full audit.`,
		Example: `  mtrace -p auditor audit
  mtrace audit -o json | jq .violations
  mtrace -p auditor audit --checkpoint audit.ckpt
  mtrace -p auditor audit --since audit.ckpt --checkpoint audit.ckpt`,
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
	cmd.Flags().StringVar(&opts.Since, "since", "", "check only what was written after the checkpoint in `file`")
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "after a clean audit, record a checkpoint in `file`")
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
	var cp *Checkpoint
	if opts.Since != "" {
		var err error
		if cp, err = LoadCheckpoint(opts.Since); err != nil {
			return err
		}
	}
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		var (
			r      model.AuditReport
			sc     *Scope
			next   *Checkpoint
			chk    []model.Batch // batches whose signatures to check
			isFull = cp == nil
		)
		if cp != nil {
			rep, scope, n, full, err := since(ctx, l, cp)
			if err != nil {
				return err
			}
			if full {
				fmt.Fprintln(opts.IO.ErrOut, "The registry changed since the checkpoint: auditing the whole ledger.")
				isFull = true
			} else {
				r, sc, next = rep, &scope, n
				if chk, err = checkedBatches(ctx, l, &r, sc); err != nil {
					return err
				}
			}
		}
		if isFull {
			var err error
			if r, chk, next, err = fullAudit(ctx, l, opts.Checkpoint != ""); err != nil {
				return err
			}
		}
		if !opts.NoSignatures && (sc == nil || len(chk) > 0) {
			if err := checkSignatures(ctx, l, chk, &r); err != nil {
				return err
			}
		}
		var err error
		if opts.Format == cmdutil.FormatJSON {
			err = render.JSON(opts.IO.Out, sinceJSON{AuditReport: r, Since: sc})
		} else {
			err = printReport(opts, &r, sc)
		}
		if err != nil {
			return err
		}
		if !r.OK {
			return &cmdutil.SilentError{Reason: fmt.Sprintf("%d violation(s)", len(r.Violations))}
		}
		if opts.Checkpoint != "" && next != nil {
			return next.Save(opts.Checkpoint)
		}
		return nil
	})
}

// sinceJSON is the JSON report: the audit report and, for --since, what
// it covered.
type sinceJSON struct {
	model.AuditReport
	Since *Scope `json:"since,omitempty"`
}

// fullAudit audits every batch. With checkpoint set it also returns the
// checkpoint of the audit, reading the chain's head before and after the
// batches so that the totals are those of the blocks it names.
func fullAudit(ctx context.Context, l ledger.Ledger, checkpoint bool) (model.AuditReport, []model.Batch, *Checkpoint, error) {
	const rounds = 5
	for i := 0; i < rounds; i++ {
		var h uint64
		var hash []byte
		if checkpoint {
			var err error
			if h, hash, err = chainHead(ctx, l); err != nil {
				return model.AuditReport{}, nil, nil, err
			}
		}
		batches, reg, err := Fetch(ctx, l)
		if err != nil {
			return model.AuditReport{}, nil, nil, err
		}
		r := model.Audit(batches, reg)
		if !checkpoint {
			return r, batches, nil, nil
		}
		h2, err := l.Height(ctx)
		if err != nil {
			return model.AuditReport{}, nil, nil, err
		}
		if h2 == h {
			cp := &Checkpoint{Version: CheckpointVersion, Chaincode: l.Chaincode(), Height: h, BlockHash: hashHex(hash), Totals: totalsOf(&r)}
			return r, batches, cp, nil
		}
	}
	return model.AuditReport{}, nil, nil, fmt.Errorf("the ledger kept growing while it was read (%d rounds); try again", rounds)
}

// checkedBatches are the batches an incremental audit re-checked, for the
// signatures check: those written since the checkpoint.
func checkedBatches(ctx context.Context, l ledger.Ledger, r *model.AuditReport, sc *Scope) ([]model.Batch, error) {
	if len(sc.written) == 0 {
		return nil, nil
	}
	var out []model.Batch
	for ids := sc.written; len(ids) > 0; {
		n := min(len(ids), model.MaxListLimit)
		bs, err := api.New(l).ReadBatches(ctx, ids[:n])
		if err != nil {
			return nil, fmt.Errorf("read batches: %w", err)
		}
		for _, b := range bs {
			if b != nil {
				out = append(out, *b)
			}
		}
		ids = ids[n:]
	}
	return out, nil
}

func printReport(opts *Options, r *model.AuditReport, sc *Scope) error {
	w := opts.IO.Out
	if sc != nil {
		fmt.Fprintf(w, "Since the checkpoint: blocks %d to %d, %d transactions writing %d keys; re-checked %d batches (%d written) and %d processes\n",
			sc.FromBlock, sc.ToBlock, sc.Transactions, sc.Keys, sc.Checked, sc.Written, sc.Processes)
	}
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
