package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The output formats.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
	FormatHTML  = "html"
)

// Formats lists them, for flag help and checks.
var Formats = []string{FormatTable, FormatJSON, FormatCSV, FormatHTML}

// CheckFormat refuses a format that is not one of Formats.
func CheckFormat(f string) error {
	for _, g := range Formats {
		if f == g {
			return nil
		}
	}
	return fmt.Errorf("--format: must be one of %s, got %q", strings.Join(Formats, ", "), f)
}

// Render writes statement s (a *Balance, *PPWR or *Declarations) in
// format f.
func Render(w io.Writer, f string, s any) error {
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	case FormatHTML:
		return HTML(w, s)
	case FormatCSV:
		cw := csv.NewWriter(w)
		switch v := s.(type) {
		case *Balance:
			balanceCSV(cw, v)
		case *PPWR:
			ppwrCSV(cw, v)
		case *Declarations:
			declCSV(cw, v)
		}
		cw.Flush()
		return cw.Error()
	case FormatTable:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		switch v := s.(type) {
		case *Balance:
			balanceTable(tw, v)
		case *PPWR:
			ppwrTable(tw, v)
		case *Declarations:
			declTable(tw, v)
		}
		return tw.Flush()
	}
	return CheckFormat(f)
}

// LineLabel names a balance line for people.
func LineLabel(l Line) string {
	var s string
	switch l.Kind {
	case KindCollection:
		s = "collected"
	case KindPurchase:
		s = "bought in"
	case KindReceipt:
		s = "received from members"
	case KindPlaced:
		s = "placed here (records older than sites)"
	case KindVirgin:
		s = "virgin material added by processes"
	case KindProcessOut:
		s = "made by processes of other materials or sites"
	case KindDispatch:
		s = "handed over to members"
	case KindMovedOut:
		s = "moved to another site"
	case KindProcessIn:
		s = "taken by processes of other materials or sites"
	case KindProcessLoss:
		s = "process loss"
	default:
		s = l.Kind
	}
	if l.Class != "" {
		s += " (" + l.Class + ")"
	}
	return s
}

func height(b Basis) string {
	s := fmt.Sprintf("Ledger height %d (blocks 0 to %d projected)", b.Height, b.Height-1)
	if b.LastTxAt != "" {
		s += ", last transaction " + b.LastTxAt
	}
	return s + "; made " + b.Generated
}

func txList(refs []Ref) string {
	if len(refs) == 0 {
		return "-"
	}
	ids := make([]string, 0, len(refs))
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.Tx] {
			seen[r.Tx] = true
			ids = append(ids, r.Tx)
		}
	}
	return strings.Join(ids, " ")
}

func balanceTable(w io.Writer, b *Balance) {
	fmt.Fprintf(w, "Mass balance of site %s (%s, %s), %s to %s\n", b.Site, b.SiteName, b.Org, b.Period.From, b.Period.To)
	fmt.Fprintln(w, height(b.Basis))
	if b.Negative {
		fmt.Fprintln(w, "NEGATIVE BALANCE: the stock of a material fell below zero within the period (see below).")
	}
	if len(b.Materials) == 0 {
		fmt.Fprintln(w, "No stock and no movements at this site in the period.")
	}
	for _, m := range b.Materials {
		fmt.Fprintf(w, "\n%s\n", m.Material)
		fmt.Fprintln(w, "\tFIGURE\tMASS\tPOST-CONSUMER\tPRE-CONSUMER\tTRANSACTIONS")
		fmt.Fprintf(w, "\topening stock\t%s\t\t\t-\n", Kg(m.Opening))
		for _, sec := range []struct {
			sign  string
			lines []Line
		}{{"+", m.Inputs}, {"-", m.Outputs}, {"-", m.Losses}} {
			for _, l := range sec.lines {
				fmt.Fprintf(w, "\t%s %s\t%s\t%s\t%s\t%s\n", sec.sign, LineLabel(l), Kg(l.Mass), Kg(l.PostConsumer), Kg(l.PreConsumer), txList(l.Refs))
			}
		}
		fmt.Fprintf(w, "\t= closing stock\t%s\t\t\t-\n", Kg(m.Closing))
		if m.LowestAt != nil {
			fmt.Fprintf(w, "\tlowest balance\t%s\t\t\tafter %s (block %d, %s)\n", Kg(m.Lowest), m.LowestAt.Tx, m.LowestAt.Block, m.LowestAt.At)
		}
		for _, p := range m.Negative {
			fmt.Fprintf(w, "\tNEGATIVE\t%s\t\t\tafter %s (block %d, %s)\n", Kg(p.Balance), or(p.Tx, "opening"), p.Block, p.At)
		}
	}
}

func or(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

func ppwrTable(w io.Writer, r *PPWR) {
	fmt.Fprintf(w, "Post-consumer content (PPWR Art. 7) of plant %s (%s, %s), year %d\n", r.Plant, r.PlantName, r.Org, r.Year)
	fmt.Fprintln(w, height(r.Basis))
	if len(r.Materials) == 0 {
		fmt.Fprintln(w, "No output made at this plant in the year.")
		return
	}
	fmt.Fprintln(w, "MATERIAL\tOUTPUTS\tMASS\tPOST-CONSUMER\tPOST-CONSUMER SHARE\tPRE-CONSUMER (not counted)\tTRANSACTIONS")
	for _, l := range r.Materials {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", l.Material, l.Outputs, Kg(l.Mass), Kg(l.PostConsumer), Percent(l.PostConsumerPpm), Kg(l.PreConsumer), txList(l.Refs))
	}
}

func declTable(w io.Writer, r *Declarations) {
	where := "all sites"
	if r.Site != "" {
		where = "site " + r.Site
	}
	period := "all time"
	if r.From != "" || r.To != "" {
		period = or(r.From, "the start") + " to " + or(r.To, "now")
	}
	fmt.Fprintf(w, "Batch declarations issued or claimed at %s, %s\n", where, period)
	fmt.Fprintln(w, height(r.Basis))
	if len(r.Declarations) == 0 {
		fmt.Fprintln(w, "No declarations.")
		return
	}
	fmt.Fprintln(w, "SITE\tISSUED\tISSUED MASS\tOF WHICH UNCLAIMED\tCLAIMED\tCLAIMED MASS\tCLAIMED POST-CONSUMER")
	for _, t := range r.Sites {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%s\t%s\n", or(t.Site, "(no site)"), t.Issued, Kg(t.IssuedMass), t.Unclaimed, t.Claimed, Kg(t.ClaimedMass), Kg(t.ClaimedPost))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DECLARATION\tBATCH\tFROM\tTO\tMASS\tPOST\tPRE\tMODEL\tISSUED (TX, BLOCK)\tCLAIMED (TX, BLOCK)")
	for _, d := range r.Declarations {
		claim := "unclaimed"
		if d.Claim != nil {
			claim = fmt.Sprintf("%s by %s at %s (%s, %d)", d.ClaimedAt, d.ClaimedBy, or(d.ClaimSite, "-"), d.Claim.Tx, d.Claim.Block)
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t%s (%s, %d)\t%s\n", d.ID, d.Batch, d.Supplier, or(d.Site, "-"), d.Recipient, Kg(d.Mass),
			Percent(d.PostPpm), Percent(d.PrePpm), d.Model, d.IssuedAt, d.Issue.Tx, d.Issue.Block, claim)
	}
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

var balanceHeader = []string{"record", "site", "material", "figure", "origin_class", "mass_g", "post_consumer_g", "pre_consumer_g",
	"block", "tx_index", "tx", "at", "batch", "movement_g", "height"}

func balanceCSV(w *csv.Writer, b *Balance) {
	h := i64(b.Height)
	w.Write(balanceHeader)
	fig := func(m, name, class string, mass, post, pre int64) {
		w.Write([]string{"figure", b.Site, m, name, class, i64(mass), i64(post), i64(pre), "", "", "", "", "", "", h})
	}
	for _, m := range b.Materials {
		fig(m.Material, "opening", "", m.Opening, 0, 0)
		for _, ls := range [][]Line{m.Inputs, m.Outputs, m.Losses} {
			for _, l := range ls {
				fig(m.Material, l.Kind, l.Class, l.Mass, l.PostConsumer, l.PreConsumer)
				for _, r := range l.Refs {
					w.Write([]string{"transaction", b.Site, m.Material, l.Kind, l.Class, "", "", "", i64(r.Block), i64(r.TxIndex), r.Tx, r.At, r.Batch, i64(r.Mass), h})
				}
			}
		}
		fig(m.Material, "closing", "", m.Closing, 0, 0)
		fig(m.Material, "lowest", "", m.Lowest, 0, 0)
		for _, p := range m.Negative {
			w.Write([]string{"negative", b.Site, m.Material, "balance", "", i64(p.Balance), "", "", i64(p.Block), "", p.Tx, p.At, "", "", h})
		}
	}
}

func ppwrCSV(w *csv.Writer, r *PPWR) {
	h := i64(r.Height)
	w.Write([]string{"record", "plant", "year", "material", "outputs", "mass_g", "post_consumer_g", "pre_consumer_g", "post_consumer_ppm",
		"block", "tx_index", "tx", "at", "batch", "height"})
	y := strconv.Itoa(r.Year)
	for _, l := range r.Materials {
		w.Write([]string{"figure", r.Plant, y, l.Material, strconv.Itoa(l.Outputs), i64(l.Mass), i64(l.PostConsumer), i64(l.PreConsumer), i64(l.PostConsumerPpm), "", "", "", "", "", h})
		for _, ref := range l.Refs {
			w.Write([]string{"transaction", r.Plant, y, l.Material, "", i64(ref.Mass), "", "", "", i64(ref.Block), i64(ref.TxIndex), ref.Tx, ref.At, ref.Batch, h})
		}
	}
}

func declCSV(w *csv.Writer, r *Declarations) {
	h := i64(r.Height)
	w.Write([]string{"id", "batch", "supplier", "site", "recipient", "claim_site", "material", "mass_g", "post_consumer_ppm", "pre_consumer_ppm",
		"model", "certificate", "issued_at", "issue_tx", "issue_block", "claimed_by", "claimed_at", "claim_tx", "claim_block", "height"})
	for _, d := range r.Declarations {
		ctx, cb := "", ""
		if d.Claim != nil {
			ctx, cb = d.Claim.Tx, i64(d.Claim.Block)
		}
		w.Write([]string{d.ID, d.Batch, d.Supplier, d.Site, d.Recipient, d.ClaimSite, d.Material, i64(d.Mass), i64(d.PostPpm), i64(d.PrePpm),
			d.Model, d.Certificate, d.IssuedAt, d.Issue.Tx, i64(d.Issue.Block), d.ClaimedBy, d.ClaimedAt, ctx, cb, h})
	}
}
