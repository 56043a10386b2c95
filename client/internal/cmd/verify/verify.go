// Package verify implements `mtrace verify`: check a batch's provenance
// from its records and their signed transactions, and exit 1 if it does
// not hold.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/batch/attach"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/client/internal/proofnet"
	"github.com/mtrace/mtrace/client/internal/render"
	"github.com/mtrace/mtrace/client/internal/signatures"
)

// Options are the inputs of one verification.
type Options struct {
	IO       *iostreams.IOStreams
	Ledger   cmdutil.LedgerFunc
	Format   string
	ID       string
	Document string
	// NoSignatures skips the signatures check and the proof's checks.
	NoSignatures bool
	// Collect gathers the proof of a batch's provenance through l (blocks)
	// and peers of two organisations (signed answers), and returns it with
	// the genesis hash the profile pins.
	Collect func(ctx context.Context, l ledger.Ledger, id string) (*proof.Proof, string, error)
}

// NewCmdVerify builds the command; runF replaces runVerify in tests.
func NewCmdVerify(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Collect: func(ctx context.Context, l ledger.Ledger, id string) (*proof.Proof, string, error) {
		prof, err := f.Profile()
		if err != nil {
			return nil, "", err
		}
		c, err := proofnet.NewCollector(l, prof)
		if err != nil {
			return nil, "", err
		}
		defer c.Close()
		p, err := c.Collect(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return p, prof.Genesis, p.StripKeepFlags()
	}}
	cmd := &cobra.Command{
		Use:   "verify ID [--document FILE]",
		Short: "Check a batch's provenance back to its collections; exit 1 if it fails",
		Long: `Check, on the ledger, that a batch's whole upstream graph holds together:
every path ends at a registration (a collector's collection, or material
a recycler bought in from outside the consortium, listed apart as the
recycler's own signed claim), every process and handover balances,
custody passed only by acceptance, nothing on the path is quarantined,
and the post- and pre-consumer shares claimed are those recomputed. Every
batch declaration a handover on the path names is read and must agree
with that handover and the batch's shares (declarations).

The signatures check (on unless --no-signatures) then holds every record of
the graph against the signed transaction that wrote it, read from your own
peer's blocks and verified here against the channel's MSPs: the transaction
is valid, its creator is the organisation (and person) the record names as
collector, offerer, receiver, processor or holder, the organisations the
rules require endorsed it, and it wrote what the record says. A record
forged by organisations in another's name fails this check even when it
passed validation.

No single peer is trusted either: the records are those that peers of your
organisation and of another sign alike (state), every block read is checked
back to the genesis block your profile pins (genesis, config-chain,
block-hash, data-hash, orderer-signature), and each transaction's validity
is what peers of both organisations sign (validity), the checks of
'mtrace proof verify' (docs/explanation/proof.md).

With --document, also check that FILE's SHA-256 is anchored on the batch or
one of its ancestors. The exit status is 0 when provenance holds, 1 when not.`,
		Example: `  mtrace verify CUP-1
  mtrace verify FIL-1 --document lab-report.pdf
  mtrace verify CUP-1 -o json | jq .recycledContentBp`,
		Args: cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runVerify)
		},
	}
	cmd.Flags().StringVar(&opts.Document, "document", "", "also check that this file's SHA-256 is anchored")
	cmd.Flags().BoolVar(&opts.NoSignatures, "no-signatures", false, "skip checking each record against its signed transaction")
	return cmd
}

func runVerify(ctx context.Context, opts *Options) error {
	var sum string
	if opts.Document != "" {
		var err error
		if sum, err = attach.HashFile(opts.Document); err != nil {
			return err
		}
	}
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		var v model.Verdict
		var err error
		if opts.NoSignatures {
			// The chaincode's own verdict: one call, no records sent.
			if v, err = api.New(l).VerifyProvenance(ctx, opts.ID, sum); err != nil {
				return err
			}
		} else {
			// The records themselves: the verdict is computed here, by
			// the same pure model.Verify the chaincode runs, from the same
			// records the signatures check then holds against their
			// transactions, so the peer's chaincode is trusted for neither.
			// The records are those peers of two organisations sign
			// alike, and the proof's checks are added to the verdict.
			p, genesis, err := opts.Collect(ctx, l, opts.ID)
			if err != nil {
				return err
			}
			raw, err := p.State[0].ResponsePayload()
			if err != nil {
				return err
			}
			var ev model.Evidence
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("decode evidence of %q: %w", opts.ID, err)
			}
			v = ev.Verify(opts.ID, sum)
			// The signatures check reads the blocks the proof holds, the
			// bytes its checks below verify.
			c, err := signatures.Check(ctx, proofnet.Pinned(l, p), &ev)
			if err != nil {
				return fmt.Errorf("signatures check: %w", err)
			}
			v.Add(c)
			for _, c := range p.Authenticity(genesis).Checks {
				if c.Name != proof.CheckFormat {
					v.Add(c)
				}
			}
		}
		if err := declarations(ctx, api.New(l), &v); err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			err = render.JSON(opts.IO.Out, v)
		} else {
			err = printVerdict(opts, &v)
		}
		if err != nil {
			return err
		}
		if !v.OK {
			return &cmdutil.SilentError{Reason: "provenance does not hold"}
		}
		return nil
	})
}

// declarations reads the declarations the graph's handovers name and adds
// the declarations check to the verdict; a graph without any gets none.
func declarations(ctx context.Context, c *api.Client, v *model.Verdict) error {
	if len(v.Declared) == 0 {
		return nil
	}
	found := make(map[string]*model.Declaration, len(v.Declared))
	for _, r := range v.Declared {
		if _, done := found[r.ID]; done {
			continue
		}
		d, err := c.ReadDeclaration(ctx, r.ID)
		var ee *ledger.EndorseError
		switch {
		case errors.As(err, &ee) && ee.Chaincode && strings.Contains(ee.Message, "not found"):
			found[r.ID] = nil
			continue
		case err != nil:
			return fmt.Errorf("read declaration %q: %w", r.ID, err)
		}
		found[r.ID] = &d
		v.Declarations = append(v.Declarations, d)
	}
	v.Add(model.CheckDeclarations(v.Declared, found))
	return nil
}

func printVerdict(opts *Options, v *model.Verdict) error {
	w := opts.IO.Out
	verdict := "holds"
	if !v.OK {
		verdict = "DOES NOT HOLD"
	}
	fmt.Fprintf(w, "Provenance of %s %s (%d batches checked)\n\n", v.BatchID, verdict, v.Nodes)
	t := render.NewTable(w)
	for _, c := range v.Checks {
		mark := "ok"
		if !c.OK {
			mark = "FAIL"
		}
		t.Row(mark, c.Name, c.Detail)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRecycled content: %s\n", model.Percent(v.RecycledContent))
	if v.Shares != nil {
		fmt.Fprintf(w, "Recycled shares: %s\n", v.Shares)
	}
	var collections, purchases []model.Source
	for _, s := range v.Sources {
		if s.Kind == model.SourcePurchase {
			purchases = append(purchases, s)
		} else {
			collections = append(collections, s)
		}
	}
	fmt.Fprintf(w, "Collection sources (%d):\n", len(collections))
	t = render.NewTable(w)
	t.Row("  ID", "LOCATION", "COLLECTED", "COLLECTOR", "WASTE CODE", "CLASS", "MASS")
	for _, s := range collections {
		t.Row("  "+s.ID, s.Location, s.CollectedAt, s.Collector, render.Or(s.WasteCode, "-"), render.Or(string(s.OriginClass), string(model.PostConsumer)), s.Mass.String())
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if len(purchases) > 0 {
		fmt.Fprintf(w, "Bought in from outside the consortium (%d; each the purchaser's own signed claim):\n", len(purchases))
		t = render.NewTable(w)
		t.Row("  ID", "SUPPLIER", "CLASS", "RECEIVED", "PURCHASER", "SITE", "MASS", "TICKET SHA-256")
		for _, s := range purchases {
			t.Row("  "+s.ID, s.Supplier+supplierID(s.SupplierID), string(s.OriginClass), s.CollectedAt, s.Collector, render.Or(s.Site, "-"), s.Mass.String(), s.Ticket)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if len(v.Declarations) > 0 {
		fmt.Fprintf(w, "Declarations (%d):\n", len(v.Declarations))
		t = render.NewTable(w)
		t.Row("  ID", "BATCH", "SUPPLIER", "RECIPIENT", "DATE", "MASS", "POST-CONSUMER", "PRE-CONSUMER", "MODEL", "CERTIFICATE", "CLAIMED")
		for _, d := range v.Declarations {
			claimed := "no"
			if d.Claim != nil {
				claimed = d.Claim.At
			}
			t.Row("  "+d.ID, d.Batch, d.Supplier, d.Recipient, d.IssuedAt, d.Mass.String(), model.PPM(d.Shares.PostConsumer),
				model.PPM(d.Shares.PreConsumer), string(d.Model), render.Or(d.Certificate, "-"), claimed)
		}
		return t.Flush()
	}
	return nil
}

func supplierID(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}
