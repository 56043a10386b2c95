package projection

import (
	"fmt"
	"time"
)

// Movement kinds: what changed a site's stock (stock_movements.kind).
const (
	// MoveCollection is a registered collection at the collector's site
	// (delta +initial mass, origin_class its class).
	MoveCollection = "collection"
	// MovePurchase is a batch bought in from outside the consortium
	// (delta +initial mass, origin_class its class).
	MovePurchase = "purchase"
	// MoveReceipt is an accepted handover into the receiver's site (delta
	// +received mass).
	MoveReceipt = "receipt"
	// MoveDispatch is an accepted handover out of the sender's site
	// (delta -offered mass: the transit loss is lost between the sites).
	MoveDispatch = "dispatch"
	// MoveProcessIn is the mass a process took from an input, at the
	// input's site (delta -taken).
	MoveProcessIn = "process_in"
	// MoveProcessOut is an output a process made, at the process's site
	// (delta +made).
	MoveProcessOut = "process_out"
	// MovePlaced is a batch placed at a site by a write that is not a
	// receipt: a batch written before its owner listed a site (contract
	// 0.5.0 and before) placed at the owner's default site by the
	// migration or its first later write (delta +remaining); MoveMovedOut
	// takes it from where it was (site "" for no site).
	MovePlaced   = "placed"
	MoveMovedOut = "moved_out"
)

const (
	postConsumer    = "post-consumer"
	evAccepted      = "TransferAccepted"
	wholePPM        = 1_000_000
	movementTimeFmt = "2006-01-02T15:04:05.000000000Z"
)

// MovementTime writes t as stock_movements.at: fixed width, UTC, so that
// comparing the text compares the times.
func MovementTime(t time.Time) string { return t.UTC().Format(movementTimeFmt) }

func (b *batch) shares() shares {
	if b.Shares != nil {
		return *b.Shares
	}
	// A batch of contract 0.5.0 and before: its basis points, all
	// post-consumer.
	return shares{Post: b.RecycledContent * 100}
}

func (p *process) shares() shares {
	if p.Shares != nil {
		return *p.Shares
	}
	return shares{Post: p.RecycledContent * 100}
}

func (b *batch) prior() Prior {
	sh := b.shares()
	return Prior{Site: b.Site, Material: b.Material, Remaining: b.RemainingMass, PostPPM: sh.Post, PrePPM: sh.Pre}
}

// moves gathers what one transaction wrote that moves stock: its batch
// versions and its process record.
type moves struct {
	tx      Tx
	at      func(map[string]any) map[string]any
	batches map[string]*batch // nil for a deleted batch
	order   []string
	process *process
}

func (m *moves) batch(id string, b *batch) {
	if m.batches == nil {
		m.batches = map[string]*batch{}
	}
	if _, ok := m.batches[id]; !ok {
		m.order = append(m.order, id)
	}
	m.batches[id] = b
}

// rows are the transaction's stock movements: first what each batch
// version says (a registration, a purchase, an accepted handover, a
// placement), in write order, then the process's inputs and outputs.
func (m *moves) rows(prior func(string) (Prior, bool, error)) ([]Row, error) {
	at, err := time.Parse(time.RFC3339Nano, m.tx.Time)
	if err != nil {
		return nil, fmt.Errorf("transaction time %q: %w", m.tx.Time, err)
	}
	when := MovementTime(at)
	var out []Row
	add := func(site, org, material, id, kind string, delta int64, class string, sh shares, party, ref string) {
		out = append(out, Row{Table: movements.name, Values: m.at(map[string]any{
			"seq": int64(len(out)), "at": when, "site": site, "org": org, "material": material, "batch_id": id,
			"kind": kind, "delta": delta, "origin_class": class, "post_ppm": sh.Post, "pre_ppm": sh.Pre,
			"counterparty": party, "ref": ref})})
	}
	for _, id := range m.order {
		b := m.batches[id]
		if b == nil {
			continue
		}
		sh := b.shares()
		before, had, err := prior(id)
		if err != nil {
			return nil, fmt.Errorf("batch %s before the transaction: %w", id, err)
		}
		created := b.CreatedTx == m.tx.ID || (b.CreatedTx == "" && !had)
		switch {
		case created && b.Origin.Purchase != nil:
			p := b.Origin.Purchase
			add(b.Site, b.Owner, b.Material, id, MovePurchase, b.InitialMass, p.OriginClass, sh, p.Supplier, "")
		case created && b.Origin.Collection != nil:
			class := b.Origin.Collection.OriginClass
			if class == "" {
				class = postConsumer
			}
			add(b.Site, b.Owner, b.Material, id, MoveCollection, b.InitialMass, class, sh, "", "")
		case created:
			// A process output: the process record's rows below.
		case b.Event.Name == evAccepted && len(b.Handovers) > 0:
			h := b.Handovers[len(b.Handovers)-1]
			ref := h.Declaration
			from := before.Site
			if !had {
				from = ""
			}
			add(from, h.From, b.Material, id, MoveDispatch, -h.Offered, "", sh, h.To, ref)
			add(h.Site, h.To, b.Material, id, MoveReceipt, h.Received, "", sh, h.From, ref)
		case had && b.Site != before.Site:
			// From where it was, which is "" (no site known) for a batch
			// written before its organisation listed one.
			add(before.Site, b.Owner, b.Material, id, MoveMovedOut, -before.Remaining, "", sh, "", "")
			add(b.Site, b.Owner, b.Material, id, MovePlaced, before.Remaining, "", sh, "", "")
		}
	}
	if p := m.process; p != nil {
		for _, in := range p.Inputs {
			site, material, sh := "", "", shares{}
			if b := m.batches[in.ID]; b != nil {
				site, material, sh = b.Site, b.Material, b.shares()
			} else {
				before, had, err := prior(in.ID)
				if err != nil {
					return nil, fmt.Errorf("input %s: %w", in.ID, err)
				}
				if had {
					site, material, sh = before.Site, before.Material, shares{Post: before.PostPPM, Pre: before.PrePPM}
				}
			}
			add(site, p.By.MSP, material, in.ID, MoveProcessIn, -in.Mass, "", sh, "", m.tx.ID)
		}
		for _, o := range p.Outputs {
			material, sh := "", p.shares()
			if b := m.batches[o.ID]; b != nil {
				material, sh = b.Material, b.shares()
			}
			add(p.Site, p.By.MSP, material, o.ID, MoveProcessOut, o.Mass, "", sh, "", m.tx.ID)
		}
	}
	return out, nil
}
