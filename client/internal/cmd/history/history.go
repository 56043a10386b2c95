// Package history implements `mtrace history`: every version of a batch,
// who wrote it, and what changed.
package history

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one history.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	ID     string
}

// NewCmdHistory builds the command; runF replaces runHistory in tests.
func NewCmdHistory(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	return &cobra.Command{
		Use:   "history ID",
		Short: "List every version of a batch: transaction, time, who, and what changed",
		Long: `List every committed version of a batch, oldest first: the transaction, its
time, the organisation and the person who submitted it (their enrolment ID and
mtrace.role; versions written before contract 0.4.0 name only the
certificate's common name), the event it recorded,
and the fields that changed from the version before (status, owner, remaining
mass, transit loss, pending transfer, quarantine, documents, children). An
auditor's holds, their releases and the documents auditors anchored are kept
under keys of their own (contract 0.5.0) and are listed among the versions
by time.`,
		Example: `  mtrace history PET-2026-0001
  mtrace history PET-2026-0001 -o json`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runHistory)
		},
	}
}

func runHistory(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		entries, err := api.New(l).GetHistory(ctx, opts.ID)
		if err != nil {
			return err
		}
		if entries == nil {
			entries = []model.HistoryEntry{}
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, entries)
		}
		if len(entries) == 0 {
			_, err := fmt.Fprintf(opts.IO.Out, "No history for %s.\n", opts.ID)
			return err
		}
		t := render.NewTable(opts.IO.Out)
		t.Row("TIME", "TX", "ORGANISATION", "PERSON", "ROLE", "EVENT", "CHANGES")
		var prev *model.Batch
		for _, e := range entries {
			if o := e.Oversight; o != nil {
				by, what := oversight(o)
				t.Row(e.Timestamp, e.TxID, by.MSP, by.Person(), render.Or(string(by.Role), "-"), render.Or(o.Event().Name, o.Kind), what)
				continue
			}
			if e.IsDelete || e.Batch == nil {
				t.Row(e.Timestamp, e.TxID, "-", "-", "-", "deleted", "")
				prev = nil
				continue
			}
			b := e.Batch
			event := render.Or(b.Event.Name, "-")
			if b.Event.BizStep != "" {
				event += " (" + b.Event.BizStep + ")"
			}
			by := b.UpdatedBy
			t.Row(e.Timestamp, e.TxID, by.MSP, by.Person(), render.Or(string(by.Role), "-"), event, strings.Join(Changes(prev, b), "; "))
			prev = b
		}
		return t.Flush()
	})
}

// oversight says who did an auditor's act in a batch's history, and what.
func oversight(o *model.Oversight) (model.Actor, string) {
	switch {
	case o.Kind == model.OversightRelease && o.Hold != nil && o.Hold.Released != nil:
		return o.Hold.Released.By, fmt.Sprintf("auditor's hold of tx %s lifted", model.ShortTx(o.Hold.Tx))
	case o.Hold != nil:
		return o.Hold.By, fmt.Sprintf("held by auditor %s: %s", o.Hold.By.MSP, o.Hold.Reason)
	case o.Document != nil:
		d := o.Document
		return d.AnchoredBy, fmt.Sprintf("auditor's document %s (sha256 %.12s...)", d.Name, d.SHA256)
	}
	return model.Actor{}, o.Kind
}

// Changes describes what differs from prev to cur; prev nil means cur is
// the first version.
func Changes(prev, cur *model.Batch) []string {
	if prev == nil {
		return []string{fmt.Sprintf("created: %s %s %s, owner %s, status %s", cur.InitialMass, cur.Material, cur.Form, cur.Owner, cur.Status)}
	}
	if cur.Event.Name == model.EvBatchesMigrated {
		s := fmt.Sprintf("migrated to stored format %d", cur.Format)
		if prev.Format < model.TakesFormat {
			s += fmt.Sprintf(": %d takes, %s taken, moved to keys of their own", cur.Takes, cur.TakenMass)
		}
		if prev.Shares == nil && cur.Shares != nil {
			s += "; shares " + cur.Shares.String()
		}
		if prev.Site != cur.Site {
			s += "; site " + cur.Site
		}
		if prev.Format < model.OwnerStatusFormat && cur.Format >= model.OwnerStatusFormat {
			s += "; indexed by owner and status"
		}
		return []string{s}
	}
	var out []string
	change := func(field, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %s -> %s", field, a, b))
		}
	}
	change("status", string(prev.Status), string(cur.Status))
	change("owner", prev.Owner, cur.Owner)
	change("remaining", prev.RemainingMass.String(), cur.RemainingMass.String())
	change("transit loss", prev.TransitLoss.String(), cur.TransitLoss.String())
	change("recycled", model.Percent(prev.RecycledContent), model.Percent(cur.RecycledContent))
	change("site", prev.Site, cur.Site)
	if prev.Pending != nil && cur.Pending != nil && prev.Pending.Declaration == "" && cur.Pending.Declaration != "" {
		out = append(out, "declaration "+cur.Pending.Declaration+" issued")
	}
	switch {
	case prev.Pending == nil && cur.Pending != nil:
		out = append(out, fmt.Sprintf("offered %s to %s", cur.Pending.Mass, cur.Pending.To))
	case prev.Pending != nil && cur.Pending == nil:
		out = append(out, "offer to "+prev.Pending.To+" closed")
	}
	switch {
	case prev.Quarantine == nil && cur.Quarantine != nil:
		out = append(out, fmt.Sprintf("held by %s %s: %s", cur.Quarantine.ByRole, cur.Quarantine.By.MSP, cur.Quarantine.Reason))
	case prev.Quarantine != nil && cur.Quarantine == nil:
		out = append(out, "hold lifted")
	}
	for _, h := range cur.Handovers[min(len(prev.Handovers), len(cur.Handovers)):] {
		out = append(out, fmt.Sprintf("handover %s -> %s: %s received of %s", h.From, h.To, h.Received, h.Offered))
	}
	if n := cur.Takes - prev.Takes; n > 0 {
		out = append(out, fmt.Sprintf("%s taken by process %s", cur.TakenMass-prev.TakenMass, cur.LastTx))
	}
	for _, d := range cur.Documents[min(len(prev.Documents), len(cur.Documents)):] {
		out = append(out, fmt.Sprintf("document %s (sha256 %.12s...)", d.Name, d.SHA256))
	}
	if len(out) == 0 {
		out = append(out, "no field changed")
	}
	return out
}
