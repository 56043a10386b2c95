package model

import (
	"fmt"
	"sort"
	"time"
)

// AuditReport is the outcome of Audit: ledger-wide totals, the balance of
// every organisation, and every violation found, each naming the batch or
// organisation and the numbers involved.
type AuditReport struct {
	OK          bool         `json:"ok"`
	Batches     int          `json:"batches"`
	Registered  Grams        `json:"registered"`  // initial mass of every collected batch
	Virgin      Grams        `json:"virgin"`      // virgin mass added by processes
	Remaining   Grams        `json:"remaining"`   // remaining mass of every batch
	TransitLoss Grams        `json:"transitLoss"` // lost in handovers
	ProcessLoss Grams        `json:"processLoss"` // lost in processes
	Orgs        []OrgBalance `json:"orgs"`
	Violations  []string     `json:"violations"`
	// Signatures is the client's signatures check, when it ran.
	Signatures *Check `json:"signatures,omitempty"`
	// Holds are the auditors' holds in force, by batch: not violations,
	// but what no one may use until the auditor releases it.
	Holds []Hold `json:"holds,omitempty"`
}

// OrgBalance is one organisation's mass account. It balances when
// Registered + Received - TransitLoss + Produced - Shipped - Taken equals
// OnHand. Received and Shipped count the offered mass of each accepted
// handover; TransitLoss is what the organisation's received handovers lost
// on the way. Virgin and ProcessLoss describe its processes: Produced is
// what they took plus Virgin, less ProcessLoss.
type OrgBalance struct {
	MSP         string `json:"msp"`
	Registered  Grams  `json:"registered"`
	Received    Grams  `json:"received"`
	Produced    Grams  `json:"produced"`
	Shipped     Grams  `json:"shipped"`
	Taken       Grams  `json:"taken"`
	TransitLoss Grams  `json:"transitLoss"`
	Virgin      Grams  `json:"virgin"`
	ProcessLoss Grams  `json:"processLoss"`
	OnHand      Grams  `json:"onHand"`
	Registry    bool   `json:"inRegistry"` // listed in the registry
}

// Expected is the on-hand mass the organisation's flows account for.
func (o OrgBalance) Expected() Grams {
	return o.Registered + o.Received - o.TransitLoss + o.Produced - o.Shipped - o.Taken
}

// Audit checks ledger-wide invariants over every batch and the registry:
// mass conservation, no negative or excess remaining mass, every parent
// present, every owner registered, and every organisation's balance. It
// is pure and deterministic: the same batches give the same report.
func Audit(batches []Batch, reg Registry) AuditReport {
	bs := append([]Batch(nil), batches...)
	sort.Slice(bs, func(i, j int) bool { return bs[i].ID < bs[j].ID })
	byID := make(map[string]*Batch, len(bs))
	for i := range bs {
		byID[bs[i].ID] = &bs[i]
	}
	r := AuditReport{Batches: len(bs), Orgs: []OrgBalance{}, Violations: []string{}}
	orgs := map[string]*OrgBalance{}
	org := func(msp string) *OrgBalance {
		o, ok := orgs[msp]
		if !ok {
			o = &OrgBalance{MSP: msp}
			orgs[msp] = o
		}
		return o
	}
	for _, p := range reg.Participants {
		org(p.MSP).Registry = true
	}
	violate := func(format string, a ...any) { r.Violations = append(r.Violations, fmt.Sprintf(format, a...)) }

	processes := map[string]bool{}
	taken := map[string]Grams{} // by parent: what the processes of the ledger took
	for i := range bs {
		b := &bs[i]
		r.Remaining += b.RemainingMass
		r.TransitLoss += b.TransitLoss
		r.Violations = append(r.Violations, BatchFaults(b, reg, func(id string) bool { return byID[id] != nil })...)
		switch {
		case b.Origin.Process != nil:
			p := b.Origin.Process
			org(b.Submitter.MSP).Produced += b.InitialMass
			if !processes[p.Tx] {
				processes[p.Tx] = true
				r.Virgin += p.VirginMass
				r.ProcessLoss += p.Loss
				o := org(p.By.MSP)
				o.Virgin += p.VirginMass
				o.ProcessLoss += p.Loss
				// The processor held every input (Verify's custody check),
				// so what the process took leaves its account.
				for _, in := range p.Inputs {
					o.Taken += in.Mass
					taken[in.ID] += in.Mass
				}
			}
		case b.Origin.Collection != nil, b.Origin.Purchase != nil:
			r.Registered += b.InitialMass
			org(b.Submitter.MSP).Registered += b.InitialMass
		}
		for _, h := range b.Handovers {
			org(h.From).Shipped += h.Offered
			to := org(h.To)
			to.Received += h.Offered
			to.TransitLoss += h.Offered - h.Received
		}
		org(b.Owner).OnHand += b.RemainingMass
	}

	// A batch under an auditor's hold may not be used: a process that
	// took from it, or a handover accepted, after the hold was placed
	// could only commit with a dishonest witness.
	used := map[[2]string]bool{} // process tx and input checked
	for i := range bs {
		b := &bs[i]
		r.Holds = append(r.Holds, b.Holds...)
		r.Violations = append(r.Violations, HandoverHoldFaults(b)...)
		if p := b.Origin.Process; p != nil {
			for _, in := range p.Inputs {
				parent := byID[in.ID]
				if parent == nil || used[[2]string{p.Tx, in.ID}] {
					continue
				}
				used[[2]string{p.Tx, in.ID}] = true
				r.Violations = append(r.Violations, TakeHoldFaults(parent, p.Tx, in.Mass, p.At)...)
			}
		}
	}

	for i := range bs {
		if b := &bs[i]; taken[b.ID] != b.TakenMass {
			violate("batch %q: processes took %s from it, but it records %s taken", b.ID, taken[b.ID], b.TakenMass)
		}
	}

	r.Conclude(orgs)
	return r
}

// Conclude finishes a report whose totals are summed: it checks mass
// conservation and each organisation's balance, lists the organisations
// in MSP order and sets OK.
func (r *AuditReport) Conclude(orgs map[string]*OrgBalance) {
	supplied := r.Registered + r.Virgin
	accounted := r.Remaining + r.TransitLoss + r.ProcessLoss
	if supplied != accounted {
		how := fmt.Sprintf("%s created from nothing", accounted-supplied)
		if accounted < supplied {
			how = fmt.Sprintf("%s unaccounted for", supplied-accounted)
		}
		r.Violations = append(r.Violations, fmt.Sprintf("mass conservation: %s registered + %s virgin != %s accounted (%s)", r.Registered, r.Virgin, accounted, how))
	}
	names := make([]string, 0, len(orgs))
	for n := range orgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := *orgs[n]
		r.Orgs = append(r.Orgs, o)
		if want := o.Expected(); want != o.OnHand {
			r.Violations = append(r.Violations, fmt.Sprintf("organisation %s: flows account for %s on hand, but it holds %s", n, want, o.OnHand))
		}
	}
	r.OK = len(r.Violations) == 0
}

// BatchFaults lists what is wrong with one batch on its own: its remaining
// mass, its stored format, an owner the registry does not know, and an
// origin that is missing or names a parent that exists does not know.
func BatchFaults(b *Batch, reg Registry, exists func(id string) bool) []string {
	var v []string
	violate := func(format string, a ...any) { v = append(v, fmt.Sprintf(format, a...)) }
	if b.RemainingMass < 0 {
		violate("batch %q: remaining mass %s is negative", b.ID, b.RemainingMass)
	} else if b.RemainingMass > b.InitialMass {
		violate("batch %q: remaining mass %s exceeds its initial mass %s", b.ID, b.RemainingMass, b.InitialMass)
	}
	switch {
	case b.Format > CurrentFormat:
		violate("batch %q: stored format %d, which this contract does not know", b.ID, b.Format)
	case b.Format != CurrentFormat:
		violate("batch %q: migration pending: stored in the format of contract %s (format %d); an admin must migrate it (mtrace migrate)", b.ID, FormatContract(b.Format), b.Format)
	}
	if _, ok := reg.Lookup(b.Owner); !ok {
		violate("batch %q: owner %s is not a registered organisation", b.ID, b.Owner)
	}
	switch {
	case b.Origin.Process != nil:
		for _, in := range b.Origin.Process.Inputs {
			if !exists(in.ID) {
				violate("batch %q: parent %q does not exist", b.ID, in.ID)
			}
		}
	case b.Origin.Collection != nil, b.Origin.Purchase != nil:
	default:
		violate("batch %q: has neither a collection nor a process origin", b.ID)
	}
	return v
}

// HandoverHoldFaults lists the handovers of b accepted while an auditor's
// hold on it was in force.
func HandoverHoldFaults(b *Batch) []string {
	var v []string
	for _, h := range b.Holds {
		for _, x := range b.Handovers {
			if after(x.AcceptedAt, h.At) {
				v = append(v, fmt.Sprintf("batch %q: handed over to %s at %s, while auditor %s's hold of %s (tx %s) was in force", b.ID, x.To, x.AcceptedAt, h.By.MSP, h.At, ShortTx(h.Tx)))
			}
		}
	}
	return v
}

// TakeHoldFaults reports a process (tx, at the ledger time at) that took
// mass from parent while an auditor's hold on it was in force.
func TakeHoldFaults(parent *Batch, tx string, mass Grams, at string) []string {
	var v []string
	for _, h := range parent.Holds {
		if after(at, h.At) {
			v = append(v, fmt.Sprintf("batch %q: process %s took %s from it at %s, while auditor %s's hold of %s (tx %s) was in force", parent.ID, ShortTx(tx), mass, at, h.By.MSP, h.At, ShortTx(h.Tx)))
		}
	}
	return v
}

// after reports whether ledger time a is not before b; times that do not
// parse are not compared.
func after(a, b string) bool {
	ta, err := time.Parse(time.RFC3339Nano, a)
	if err != nil {
		return false
	}
	tb, err := time.Parse(time.RFC3339Nano, b)
	return err == nil && !ta.Before(tb)
}

// FormatContract names the contracts that wrote batches in stored format
// f, for a format older than CurrentFormat.
func FormatContract(f int) string {
	switch {
	case f < TakesFormat:
		return "0.2.0"
	case f < SharesFormat:
		return "0.3.0 to 0.5.0"
	case f < OwnerStatusFormat:
		return "0.6.0"
	}
	return "0.7.0 or later"
}
