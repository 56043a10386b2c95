package contract

import (
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Process transforms input batches held by the caller into new output
// batches: sorting, washing, shredding, extrusion, printing, splitting or
// merging. It stores the process record (model.Process) once, under the
// transaction id, and returns it as JSON.
//
// Links: each input gets a take under a key of its own, ("take", input,
// time, tx), naming the first output, the mass taken and the custody at
// the time; the input itself only adds the mass to TakenMass and counts
// the take, so a process costs the same on a batch's first take as on its
// thousandth. Every output stores its Derivation (the record without the
// outputs) as its origin. A trace upstream follows the derivations;
// downstream it range-reads an input's takes, then the records they name,
// then every output.
func (c *Contract) Process(ctx contractapi.TransactionContextInterface, req model.ProcessRequest) (string, error) {
	rec, err := process(ctx, req)
	if err != nil {
		return "", err
	}
	return encoded("process record", rec)
}

func process(ctx contractapi.TransactionContextInterface, req model.ProcessRequest) (*model.Process, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.requireRole("process batches", model.RoleCollector, model.RoleRecycler, model.RoleMaker); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}

	// One read for every input and every output id.
	ids := make([]string, 0, len(req.Inputs)+len(req.Outputs))
	for _, in := range req.Inputs {
		ids = append(ids, in.ID)
	}
	for _, out := range req.Outputs {
		ids = append(ids, out.ID)
	}
	found, err := getBatches(t.stub, ids)
	if err != nil {
		return nil, err
	}
	inputs, existing := found[:len(req.Inputs)], found[len(req.Inputs):]
	for i, in := range req.Inputs {
		b := inputs[i]
		if b == nil {
			return nil, fmt.Errorf("batch %q not found", in.ID)
		}
		if err := t.requireOwner(b); err != nil {
			return nil, err
		}
		if err := requireUsable(b); err != nil {
			return nil, err
		}
		if err := requireNoHolds(t.stub, b.ID); err != nil {
			return nil, err
		}
		if in.Mass > b.RemainingMass {
			return nil, &model.RuleError{
				Field: fmt.Sprintf("inputs[%d].mass", i),
				Rule:  fmt.Sprintf("takes %s but batch %q has only %s remaining", in.Mass, b.ID, b.RemainingMass),
			}
		}
	}
	for i, out := range req.Outputs {
		if existing[i] != nil {
			return nil, fmt.Errorf("batch %q already exists", out.ID)
		}
	}

	site, err := t.site("site", req.Site)
	if err != nil {
		return nil, err
	}
	taken, made := req.Totals()
	rec := &model.Process{
		Derivation: model.Derivation{
			Step:       req.Step,
			Tx:         t.id,
			By:         t.actor,
			At:         t.at,
			Location:   req.Location,
			Site:       site,
			Inputs:     make([]model.Take, len(req.Inputs)),
			VirginMass: req.VirginMass,
			Loss:       taken + req.VirginMass - made,
		},
		Outputs: make([]model.Take, len(req.Outputs)),
	}
	portions := make([]model.Portion, len(req.Inputs))
	ev := t.event(model.EvBatchProcessed, model.TransformationEvent, model.BizTransforming, model.DispActive)
	ev.ProcessStep = string(req.Step)
	ev.Where.Place = req.Location
	ev.Where.Site = site
	ev.Inputs = make([]model.Quantity, len(req.Inputs))
	ev.Outputs = make([]model.Quantity, len(req.Outputs))
	for i, in := range req.Inputs {
		rec.Inputs[i] = model.Take{ID: in.ID, Mass: in.Mass}
		portions[i] = model.Portion{Mass: in.Mass, Shares: model.SharesOf(inputs[i])}
		ev.Inputs[i] = model.Qty(in.ID, in.Mass)
	}
	for i, out := range req.Outputs {
		rec.Outputs[i] = model.Take{ID: out.ID, Mass: out.Mass}
		ev.Outputs[i] = model.Qty(out.ID, out.Mass)
	}
	shares := model.Blend(portions, req.VirginMass)
	rec.Shares = &shares
	rec.RecycledContent = shares.Bp()
	first := req.Outputs[0].ID

	// begin started a write batch; the shim sends it when the call returns.
	if err := t.putProcess(rec); err != nil {
		return nil, err
	}
	written := make([]string, 0, len(ids))
	for i, in := range req.Inputs {
		old, b := inputs[i], clone(inputs[i])
		take := model.Take{ID: first, Mass: in.Mass, Tx: t.id, Handovers: len(b.Handovers), At: t.at}
		if err := t.putTake(b.ID, take); err != nil {
			return nil, err
		}
		b.TakenMass += in.Mass
		b.Takes++
		b.RemainingMass -= in.Mass
		if b.RemainingMass == 0 {
			b.Status = model.StatusConsumed
		}
		if err := t.save(old, b, ev.For(b.ID)); err != nil {
			return nil, err
		}
		written = append(written, b.ID)
	}
	d := rec.Derivation
	origin := model.Origin{Process: &d}
	for _, out := range req.Outputs {
		b := &model.Batch{
			ID:              out.ID,
			Material:        out.Material,
			Form:            out.Form,
			InitialMass:     out.Mass,
			RemainingMass:   out.Mass,
			Owner:           t.actor.MSP,
			Submitter:       t.actor,
			Status:          model.StatusActive,
			Origin:          origin,
			RecycledContent: rec.RecycledContent,
			Shares:          &shares,
			Site:            site,
			CreatedAt:       t.at,
			CreatedTx:       t.id,
		}
		if err := t.save(nil, b, ev.For(b.ID)); err != nil {
			return nil, err
		}
		written = append(written, b.ID)
	}
	return rec, t.emit(ev, written...)
}

// putProcess stores a process record under its transaction id. Its
// key-level policy is the processing organisation and a witness, so that
// neither another organisation nor the processor alone can change it.
func (t *txn) putProcess(rec *model.Process) error {
	key, err := processKey(rec.Tx)
	if err != nil {
		return err
	}
	return t.putGuarded(key, "process record "+rec.Tx, rec, rec.By.MSP)
}

// putTake stores what a process took from parent. It is written once,
// by the process's own transaction, and has no key-level policy of its
// own: like an index entry it falls under the chaincode-level policy (two
// organisations), and what it says is held against the records that do
// carry policies. The parent's owner-guarded Takes and TakenMass count
// and sum its takes, the process record it names lists the parent and
// the output, and the signatures check holds it against the transaction
// that wrote it (docs/explanation/trust-model.md). A policy per take
// cost a tenth of a process's throughput
// (docs/design/2026-12-06-performance-history.md, "Cost that does not
// grow with history").
func (t *txn) putTake(parent string, take model.Take) error {
	key, err := takeKey(parent, take.At, take.Tx)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(take)
	if err != nil {
		return fmt.Errorf("encode take of batch %q: %w", parent, err)
	}
	if err := t.stub.PutState(key, raw); err != nil {
		return fmt.Errorf("write take of batch %q: %w", parent, err)
	}
	return nil
}

// putGuarded writes v as JSON under key and guards the key for by and a
// witness (guardKey); what names the value in errors.
func (t *txn) putGuarded(key, what string, v any, by string) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := t.stub.PutState(key, raw); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return t.guardKey(key, what, by)
}

// GetProcess returns the record of the process that transaction tx ran,
// a model.Process as JSON.
func (c *Contract) GetProcess(ctx contractapi.TransactionContextInterface, tx string) (string, error) {
	if err := model.CheckID("tx", tx); err != nil {
		return "", err
	}
	recs, err := getProcesses(ctx.GetStub(), []string{tx})
	if err != nil {
		return "", err
	}
	if recs[0] == nil {
		return "", fmt.Errorf("process record %q not found", tx)
	}
	return encoded("process record", recs[0])
}
