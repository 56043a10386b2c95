package audit

import (
	"fmt"
	"sort"

	"github.com/mtrace/mtrace/chaincode/model"
)

// source gives the incremental audit the records it asks for. For a batch
// it returns the version at the checkpoint (before) and the current one
// (after), nil when absent; for a batch not written since the checkpoint
// both are the current version.
type source interface {
	batch(id string) (before, after *model.Batch, err error)
	// process returns the process record of transaction tx, nil when
	// there is none.
	process(tx string) (*model.Process, error)
	// takes lists what processes took from batch id.
	takes(id string) ([]model.Take, error)
}

// Scope is what an incremental audit covered.
type Scope struct {
	FromBlock    uint64 `json:"fromBlock"`
	ToBlock      uint64 `json:"toBlock"` // last block checked; FromBlock-1 when none
	Transactions int    `json:"transactions"`
	Keys         int    `json:"keys"`
	// Written are the batches whose records were written; Checked adds
	// their neighbours (the parents of the processes involved).
	Written   int `json:"written"`
	Checked   int `json:"checked"`
	Processes int `json:"processes"`

	written []string
}

// incremental re-checks, from a clean checkpoint's totals, the batches
// written since (written), the processes they or the new process records
// name (processes), and the parents of those processes, with the checks
// of model.Audit: it finds the same violations a full audit of the
// current ledger finds, given that the full audit at the checkpoint found
// none and the registry did not change.
func incremental(t Totals, reg model.Registry, written, processes []string, src source) (model.AuditReport, Scope, error) {
	r := model.AuditReport{Batches: t.Batches, Registered: t.Registered, Virgin: t.Virgin, Remaining: t.Remaining,
		TransitLoss: t.TransitLoss, ProcessLoss: t.ProcessLoss, Orgs: []model.OrgBalance{}, Violations: []string{}}
	orgs := map[string]*model.OrgBalance{}
	for _, o := range t.Orgs {
		o := o
		orgs[o.MSP] = &o
	}
	org := func(msp string) *model.OrgBalance {
		o, ok := orgs[msp]
		if !ok {
			_, reg := reg.Lookup(msp)
			o = &model.OrgBalance{MSP: msp, Registry: reg}
			orgs[msp] = o
		}
		return o
	}
	violate := func(format string, a ...any) { r.Violations = append(r.Violations, fmt.Sprintf(format, a...)) }

	type images struct{ before, after *model.Batch }
	imgs := map[string]images{}
	get := func(id string) (images, error) {
		if im, ok := imgs[id]; ok {
			return im, nil
		}
		b, a, err := src.batch(id)
		if err != nil {
			return images{}, err
		}
		imgs[id] = images{b, a}
		return imgs[id], nil
	}

	// The batches' own terms: what each written batch adds to the totals
	// now, less what it added at the checkpoint.
	touched := map[string]bool{}
	for _, tx := range processes {
		touched[tx] = true
	}
	for _, id := range written {
		im, err := get(id)
		if err != nil {
			return r, Scope{}, err
		}
		for sign, b := range map[model.Grams]*model.Batch{-1: im.before, 1: im.after} {
			if b == nil {
				continue
			}
			if p := b.Origin.Process; p != nil {
				touched[p.Tx] = true
			}
			r.Batches += int(sign)
			r.Remaining += sign * b.RemainingMass
			r.TransitLoss += sign * b.TransitLoss
			switch {
			case b.Origin.Process != nil:
				org(b.Submitter.MSP).Produced += sign * b.InitialMass
			case b.Origin.Collection != nil, b.Origin.Purchase != nil:
				r.Registered += sign * b.InitialMass
				org(b.Submitter.MSP).Registered += sign * b.InitialMass
			}
			for _, h := range b.Handovers {
				org(h.From).Shipped += sign * h.Offered
				to := org(h.To)
				to.Received += sign * h.Offered
				to.TransitLoss += sign * (h.Offered - h.Received)
			}
			org(b.Owner).OnHand += sign * b.RemainingMass
		}
	}

	// The processes' terms, counted once per transaction from the batch
	// of lowest id that names it, as model.Audit does: the batches that
	// can name a process are its outputs and the batches written since.
	isWritten := map[string]bool{}
	for _, id := range written {
		isWritten[id] = true
	}
	check := map[string]bool{} // batches to check
	for _, id := range written {
		check[id] = true
	}
	// A batch deleted since: the outputs of the processes that took from
	// it now name a parent that does not exist.
	for _, id := range written {
		if im := imgs[id]; im.before == nil || im.after != nil {
			continue
		}
		ts, err := src.takes(id)
		if err != nil {
			return r, Scope{}, err
		}
		for _, t := range ts {
			rec, err := src.process(t.Tx)
			if err != nil {
				return r, Scope{}, err
			}
			if rec != nil {
				for _, o := range rec.Outputs {
					check[o.ID] = true
				}
			}
		}
	}
	takenDelta := map[string]model.Grams{}
	txs := sortedKeys(touched)
	for _, tx := range txs {
		rec, err := src.process(tx)
		if err != nil {
			return r, Scope{}, err
		}
		cands := append([]string(nil), written...)
		if rec != nil {
			for _, o := range rec.Outputs {
				if !isWritten[o.ID] {
					cands = append(cands, o.ID)
				}
			}
		}
		sort.Strings(cands)
		var was, is *model.Derivation
		for _, id := range cands {
			im, err := get(id)
			if err != nil {
				return r, Scope{}, err
			}
			if b := im.before; was == nil && b != nil && b.Origin.Process != nil && b.Origin.Process.Tx == tx {
				was = b.Origin.Process
			}
			if b := im.after; is == nil && b != nil && b.Origin.Process != nil && b.Origin.Process.Tx == tx {
				is = b.Origin.Process
			}
		}
		for sign, p := range map[model.Grams]*model.Derivation{-1: was, 1: is} {
			if p == nil {
				continue
			}
			r.Virgin += sign * p.VirginMass
			r.ProcessLoss += sign * p.Loss
			o := org(p.By.MSP)
			o.Virgin += sign * p.VirginMass
			o.ProcessLoss += sign * p.Loss
			for _, in := range p.Inputs {
				o.Taken += sign * in.Mass
				takenDelta[in.ID] += sign * in.Mass
				check[in.ID] = true
			}
		}
	}

	ids := sortedKeys(check)
	cur := map[string]*model.Batch{}
	for _, id := range ids {
		im, err := get(id)
		if err != nil {
			return r, Scope{}, err
		}
		if im.after != nil {
			cur[id] = im.after
		}
	}
	exists := func(id string) (*model.Batch, error) {
		if b, ok := cur[id]; ok {
			return b, nil
		}
		im, err := get(id)
		return im.after, err
	}

	// Each batch's own checks.
	for _, id := range ids {
		b := cur[id]
		if b == nil {
			continue
		}
		var ferr error
		r.Violations = append(r.Violations, model.BatchFaults(b, reg, func(id string) bool {
			p, err := exists(id)
			if err != nil && ferr == nil {
				ferr = err
			}
			return p != nil
		})...)
		if ferr != nil {
			return r, Scope{}, ferr
		}
	}

	// Holds: handovers of a held batch, and processes that took from a
	// held batch, after the hold.
	used := map[[2]string]bool{}
	took := func(tx, parent string, mass model.Grams, at string) error {
		if used[[2]string{tx, parent}] {
			return nil
		}
		p, err := exists(parent)
		if err != nil || p == nil {
			return err
		}
		used[[2]string{tx, parent}] = true
		r.Violations = append(r.Violations, model.TakeHoldFaults(p, tx, mass, at)...)
		return nil
	}
	for _, id := range ids {
		b := cur[id]
		if b == nil {
			continue
		}
		r.Holds = append(r.Holds, b.Holds...)
		r.Violations = append(r.Violations, model.HandoverHoldFaults(b)...)
		if p := b.Origin.Process; p != nil {
			for _, in := range p.Inputs {
				if err := took(p.Tx, in.ID, in.Mass, p.At); err != nil {
					return r, Scope{}, err
				}
			}
		}
	}
	// A hold placed since the checkpoint on a batch processes took from
	// before: those takes, by the batch's take records.
	for _, id := range ids {
		if b := cur[id]; b != nil && isWritten[id] && len(b.Holds) > 0 {
			ts, err := src.takes(id)
			if err != nil {
				return r, Scope{}, err
			}
			for _, t := range ts {
				if err := took(t.Tx, id, t.Mass, t.At); err != nil {
					return r, Scope{}, err
				}
			}
		}
	}

	// What processes took from each batch: its taken mass at the (clean)
	// checkpoint, plus what the processes since took.
	for _, id := range ids {
		b := cur[id]
		if b == nil {
			continue
		}
		var taken model.Grams
		if im, _ := get(id); im.before != nil {
			taken = im.before.TakenMass
		}
		taken += takenDelta[id]
		if taken != b.TakenMass {
			violate("batch %q: processes took %s from it, but it records %s taken", b.ID, taken, b.TakenMass)
		}
	}

	for n, o := range orgs {
		if *o == (model.OrgBalance{MSP: o.MSP}) {
			delete(orgs, n) // only ever named by a version that is gone
		}
	}
	r.Conclude(orgs)
	return r, Scope{Written: len(written), Checked: len(cur), Processes: len(txs), written: written}, nil
}
