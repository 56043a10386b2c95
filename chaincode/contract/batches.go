package contract

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// RegisterBatch records a batch of collected waste. Only a collector may
// register, and an id may be used once.
func (c *Contract) RegisterBatch(ctx contractapi.TransactionContextInterface, req model.RegisterRequest) (*model.Batch, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.requireRole("register batches", model.RoleCollector); err != nil {
		return nil, err
	}
	if err := req.Validate(t.now); err != nil {
		return nil, err
	}
	collected, _ := time.Parse(time.RFC3339, req.CollectedAt) // validated above
	if err := t.requireNew(req.ID); err != nil {
		return nil, err
	}
	ev := t.event(model.EvBatchRegistered, model.ObjectEvent, model.BizCollecting, model.DispActive)
	ev.Action = "ADD"
	ev.Where.Place = req.Location
	ev.Quantities = []model.Quantity{model.Qty(req.ID, req.Mass)}
	b := &model.Batch{
		ID:            req.ID,
		Material:      req.Material,
		WasteCode:     req.WasteCode,
		Form:          model.FormWaste,
		InitialMass:   req.Mass,
		RemainingMass: req.Mass,
		Owner:         t.actor.MSP,
		Submitter:     t.actor,
		Status:        model.StatusActive,
		Origin: model.Origin{Collection: &model.Collection{
			Location:    req.Location,
			CollectedAt: model.FormatTime(collected),
			Collector:   t.actor.MSP,
		}},
		RecycledContent: model.FullRecycled,
		CreatedAt:       t.at,
	}
	if err := t.save(nil, b, ev, b.Owner); err != nil {
		return nil, err
	}
	return b, t.emit(ev, b.ID)
}

// ReadBatch returns the current version of a batch.
func (c *Contract) ReadBatch(ctx contractapi.TransactionContextInterface, id string) (*model.Batch, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	return getBatch(ctx.GetStub(), id)
}

// BatchExists reports whether a batch with this id exists.
func (c *Contract) BatchExists(ctx contractapi.TransactionContextInterface, id string) (bool, error) {
	if err := model.CheckID("id", id); err != nil {
		return false, err
	}
	key, err := batchKey(id)
	if err != nil {
		return false, err
	}
	raw, err := ctx.GetStub().GetState(key)
	if err != nil {
		return false, fmt.Errorf("read batch %q: %w", id, err)
	}
	return raw != nil, nil
}

// requireNew fails if a batch with this id exists.
func (t *txn) requireNew(id string) error {
	key, err := batchKey(id)
	if err != nil {
		return err
	}
	raw, err := t.stub.GetState(key)
	if err != nil {
		return fmt.Errorf("read batch %q: %w", id, err)
	}
	if raw != nil {
		return fmt.Errorf("batch %q already exists", id)
	}
	return nil
}

// save stamps b with this transaction, writes it with its indexes and,
// when orgs are given, sets its endorsement policy to those organisations.
// It does not emit the event: a transaction emits one event for all the
// batches it writes.
func (t *txn) save(old, b *model.Batch, ev model.Event, orgs ...string) error {
	b.UpdatedAt = t.at
	b.LastTx = t.id
	b.UpdatedBy = t.actor
	b.Event = ev
	if err := putBatch(t.stub, old, b); err != nil {
		return err
	}
	if len(orgs) > 0 {
		return setBatchPolicy(t.stub, b.ID, orgs...)
	}
	return nil
}

// load reads a batch for a change, after checking its id. It returns the
// stored version and a copy to modify.
func (t *txn) load(id string) (old, b *model.Batch, err error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, nil, err
	}
	old, err = getBatch(t.stub, id)
	if err != nil {
		return nil, nil, err
	}
	return old, clone(old), nil
}

// clone deep-copies a batch through its JSON form, the form it is stored in.
func clone(b *model.Batch) *model.Batch {
	raw, _ := json.Marshal(b) // a Batch always encodes
	var c model.Batch
	_ = json.Unmarshal(raw, &c)
	return &c
}
