package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Batch writes one batch as aligned "field  value" lines. children are
// the first of its takes, oldest first; when the batch has more takes,
// a last line says how many were left out.
func Batch(w io.Writer, b *model.Batch, children []model.Take) error {
	t := NewTable(w)
	t.Row("ID", b.ID)
	t.Row("Material", string(b.Material))
	t.Row("Form", string(b.Form))
	status := string(b.Status)
	if n := len(b.Holds); n > 0 {
		status = fmt.Sprintf("%s (stored status %s; %d auditor's hold(s) in force)", model.StatusQuarantined, b.Status, n)
	}
	t.Row("Status", status)
	t.Row("Owner", b.Owner)
	mass := fmt.Sprintf("%s remaining of %s", b.RemainingMass, b.InitialMass)
	if b.TransitLoss > 0 {
		mass += fmt.Sprintf(" (transit loss %s)", b.TransitLoss)
	}
	if b.TakenMass > 0 {
		mass += fmt.Sprintf(" (%s taken into processes)", b.TakenMass)
	}
	t.Row("Mass", mass)
	t.Row("Recycled content", model.Percent(b.RecycledContent))
	t.Row("Recycled shares", model.SharesOf(b).String())
	if b.Site != "" {
		t.Row("Site", b.Site)
	}
	if b.WasteCode != "" {
		t.Row("Waste code", b.WasteCode)
	}
	if c := b.Origin.Collection; c != nil {
		t.Row("Collected", fmt.Sprintf("%s, %s, by %s", c.Location, c.CollectedAt, c.Collector))
	}
	if p := b.Origin.Purchase; p != nil {
		supplier := p.Supplier
		if p.SupplierID != "" {
			supplier += " (" + p.SupplierID + ")"
		}
		t.Row("Bought in", fmt.Sprintf("from %s, received %s by %s: its own claim, weighbridge ticket %s sha256:%s", supplier, p.ReceivedAt, p.Purchaser, p.Ticket, p.TicketSHA256))
	}
	if class, ok := b.Origin.RegisteredClass(); ok {
		t.Row("Origin class", string(class))
	}
	if p := b.Origin.Process; p != nil {
		t.Row("Process", fmt.Sprintf("%s by %s at %s (tx %s)", p.Step, p.By.MSP, p.At, p.Tx))
		t.Row("  inputs", takes(p.Inputs))
		t.Row("  virgin / loss", fmt.Sprintf("%s / %s", p.VirginMass, p.Loss))
		if p.Location != "" {
			t.Row("  location", p.Location)
		}
	}
	if p := b.Pending; p != nil {
		pending := fmt.Sprintf("%s to %s, offered by %s at %s", p.Mass, p.To, p.OfferedBy.MSP, p.OfferedAt)
		if p.Declaration != "" {
			pending += ", declaration " + p.Declaration
		}
		t.Row("Pending transfer", pending)
	}
	if q := b.Quarantine; q != nil {
		t.Row("Quarantine", fmt.Sprintf("held by %s %s at %s: %s", q.ByRole, q.By.MSP, q.At, q.Reason))
	}
	for i, h := range b.Holds {
		label := ""
		if i == 0 {
			label = "Auditor's hold"
		}
		t.Row(label, fmt.Sprintf("held by auditor %s (%s) at %s: %s, tx %s", h.By.MSP, h.By.Person(), h.At, h.Reason, h.Tx))
	}
	for i, h := range b.Handovers {
		label := ""
		if i == 0 {
			label = "Handovers"
		}
		line := fmt.Sprintf("%s -> %s, %s offered, %s received, %s", h.From, h.To, h.Offered, h.Received, h.AcceptedAt)
		if h.Site != "" {
			line += ", site " + h.Site
		}
		if h.Declaration != "" {
			line += ", declaration " + h.Declaration
		}
		t.Row(label, line)
	}
	for i, c := range children {
		label := ""
		if i == 0 {
			label = "Children"
		}
		t.Row(label, fmt.Sprintf("%s %s, tx %s, %s", c.ID, c.Mass, c.Tx, c.At))
	}
	if more := b.Takes - len(children); more > 0 {
		label := ""
		if len(children) == 0 {
			label = "Children"
		}
		t.Row(label, fmt.Sprintf("and %d more (of %d)", more, b.Takes))
	}
	for i, d := range b.Documents {
		label := ""
		if i == 0 {
			label = "Documents"
		}
		doc := fmt.Sprintf("%s sha256:%s", d.Name, d.SHA256)
		if d.URI != "" {
			doc += " " + d.URI
		}
		t.Row(label, doc)
	}
	for i, d := range b.AuditorDocuments {
		label := ""
		if i == 0 {
			label = "Auditor documents"
		}
		doc := fmt.Sprintf("%s sha256:%s by %s at %s", d.Name, d.SHA256, d.AnchoredBy.MSP, d.AnchoredAt)
		if d.URI != "" {
			doc += " " + d.URI
		}
		t.Row(label, doc)
	}
	t.Row("Created", fmt.Sprintf("%s by %s (%s)", b.CreatedAt, b.Submitter.MSP, b.Submitter.Identity))
	t.Row("Updated", fmt.Sprintf("%s by %s (%s), %s, tx %s", b.UpdatedAt, b.UpdatedBy.MSP, b.UpdatedBy.Identity, b.Event.Name, b.LastTx))
	return t.Flush()
}

// Process writes a process record as aligned "field  value" lines.
func Process(w io.Writer, p *model.Process) error {
	t := NewTable(w)
	t.Row("Process", fmt.Sprintf("%s by %s (%s) at %s", p.Step, p.By.MSP, p.By.Identity, p.At))
	t.Row("Transaction", p.Tx)
	if p.Location != "" {
		t.Row("Location", p.Location)
	}
	t.Row("Inputs", fmt.Sprintf("%s: %s", model.Total(p.Inputs), takes(p.Inputs)))
	t.Row("Virgin", p.VirginMass.String())
	t.Row("Outputs", fmt.Sprintf("%s: %s", model.Total(p.Outputs), takes(p.Outputs)))
	t.Row("Loss", p.Loss.String())
	t.Row("Recycled content", model.Percent(p.RecycledContent))
	return t.Flush()
}

func takes(ts []model.Take) string {
	parts := make([]string, len(ts))
	for i, x := range ts {
		parts[i] = fmt.Sprintf("%s %s", x.ID, x.Mass)
	}
	return strings.Join(parts, ", ")
}

// Batches writes a list of batches, one per row.
func Batches(w io.Writer, bs []model.Batch) error {
	t := NewTable(w)
	t.Row("ID", "MATERIAL", "FORM", "STATUS", "OWNER", "REMAINING", "INITIAL", "RECYCLED", "UPDATED")
	for _, b := range bs {
		t.Row(b.ID, string(b.Material), string(b.Form), string(b.EffectiveStatus()), b.Owner,
			b.RemainingMass.String(), b.InitialMass.String(), model.Percent(b.RecycledContent), b.UpdatedAt)
	}
	return t.Flush()
}
