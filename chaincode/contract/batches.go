package contract

import (
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// RegisterBatch records a batch of collected waste. Only a collector may
// register, and an id may be used once.
func (c *Contract) RegisterBatch(ctx contractapi.TransactionContextInterface, req model.RegisterRequest) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	if _, _, err := t.requireRole("register batches", model.RoleCollector); err != nil {
		return err
	}
	if err := req.Validate(t.now); err != nil {
		return err
	}
	collected, _ := time.Parse(time.RFC3339, req.CollectedAt) // validated above
	site, err := t.site("site", req.Site)
	if err != nil {
		return err
	}
	if err := t.requireNew(req.ID); err != nil {
		return err
	}
	shares := model.ClassShares(req.Class())
	ev := t.event(model.EvBatchRegistered, model.ObjectEvent, model.BizCollecting, model.DispActive)
	ev.Action = "ADD"
	ev.Where.Place = req.Location
	ev.Where.Site = site
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
			ZoneOffset:  collected.Format("-07:00"),
			OriginClass: req.Class(),
			Site:        site,
		}},
		RecycledContent: shares.Bp(),
		Shares:          &shares,
		Site:            site,
		CreatedAt:       t.at,
		CreatedTx:       t.id,
	}
	if err := t.save(nil, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// ReadBatch returns the current version of a batch.
func (c *Contract) ReadBatch(ctx contractapi.TransactionContextInterface, id string) (*model.Batch, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	b, err := getBatch(ctx.GetStub(), id)
	if err != nil {
		return nil, err
	}
	return b, oversee(ctx.GetStub(), b)
}

// BatchExists reports whether a batch with this id exists.
func (c *Contract) BatchExists(ctx contractapi.TransactionContextInterface, id string) (bool, error) {
	if err := model.CheckID("id", id); err != nil {
		return false, err
	}
	return exists(ctx.GetStub(), id)
}

// exists reads whether a batch with this id is stored.
func exists(stub shim.ChaincodeStubInterface, id string) (bool, error) {
	key, err := batchKey(id)
	if err != nil {
		return false, err
	}
	raw, err := stub.GetState(key)
	if err != nil {
		return false, fmt.Errorf("read batch %q: %w", id, err)
	}
	return raw != nil, nil
}

// requireNew fails if a batch with this id exists.
func (t *txn) requireNew(id string) error {
	found, err := exists(t.stub, id)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("batch %q already exists", id)
	}
	return nil
}

// save stamps b with this transaction and writes it with its indexes.
// When b is new, or the organisations that must endorse its changes
// differ from old's (custodians), it sets the batch's key-level policy
// anew. It does not emit the event: a transaction emits one event for all
// the batches it writes.
func (t *txn) save(old, b *model.Batch, ev model.Event) error {
	if err := t.upgrade(b); err != nil {
		return err
	}
	b.UpdatedAt = t.at
	b.LastTx = t.id
	b.Format = model.CurrentFormat
	b.UpdatedBy = t.actor
	b.Event = ev
	if err := putBatch(t.stub, old, b); err != nil {
		return err
	}
	if old != nil && slices.Equal(custodians(old), custodians(b)) {
		return nil
	}
	return t.guardBatch(b)
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

// clone copies a batch's fields, so that the stored version keeps the
// owner, status, material and form that its index entries were made from.
// Changes replace fields or append to lists, never edit a shared element,
// so a shallow copy is enough.
func clone(b *model.Batch) *model.Batch {
	c := *b
	return &c
}

// Quarantine holds a batch: it can then not be offered, accepted or
// processed until released. The owner organisation or any auditor may
// hold a batch in any status; the hold remembers who did it. The owner's
// hold is kept on the batch. An auditor's hold is stored under a key of
// its own (oversight.go) and needs no endorsement of the owner, so a
// dishonest owner's peer, refusing or down, cannot stop it.
func (c *Contract) Quarantine(ctx contractapi.TransactionContextInterface, id string, reason string) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	p, _, err := t.member()
	if err != nil {
		return err
	}
	if err := model.CheckText("reason", reason, true); err != nil {
		return err
	}
	old, b, err := t.load(id)
	if err != nil {
		return err
	}
	role, err := t.holdRole(p, b)
	if err != nil {
		return err
	}
	if role == model.HeldByAuditor {
		return t.auditorHold(b, reason)
	}
	if b.Status == model.StatusQuarantined {
		return fmt.Errorf("batch %q is already quarantined", b.ID)
	}
	b.Quarantine = &model.Quarantine{By: t.actor, ByRole: role, Reason: reason, At: t.at, Tx: t.id, PreviousStatus: b.Status}
	b.Status = model.StatusQuarantined
	ev := t.event(model.EvBatchQuarantined, model.ObjectEvent, model.BizHolding, model.DispNonConformant)
	ev.Action = "OBSERVE"
	ev.Reason = reason
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// Release lifts a hold. Only the role that placed it may: the owner
// organisation for an owner's hold; for an auditor's hold, the auditor
// organisation that placed it (its key's policy needs that organisation).
// A hold an auditor placed on the batch itself before contract 0.5.0, and
// not yet migrated, any auditor may release, as before.
func (c *Contract) Release(ctx contractapi.TransactionContextInterface, id string) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	p, _, err := t.member()
	if err != nil {
		return err
	}
	if err := model.CheckID("id", id); err != nil {
		return err
	}
	if p.Role == model.RoleAuditor {
		done, err := t.auditorRelease(id)
		if err != nil || done {
			return err
		}
	}
	old, b, err := t.load(id)
	if err != nil {
		return err
	}
	if b.Status != model.StatusQuarantined || b.Quarantine == nil {
		hs, err := holdsOf(t.stub, b.ID)
		if err != nil {
			return err
		}
		if len(hs) > 0 {
			return fmt.Errorf("batch %q is held by auditor %s; only %s may release it", b.ID, hs[0].By.MSP, hs[0].By.MSP)
		}
		return fmt.Errorf("batch %q is not quarantined (status %s)", b.ID, b.Status)
	}
	q := b.Quarantine
	switch q.ByRole {
	case model.HeldByAuditor:
		if p.Role != model.RoleAuditor {
			return fmt.Errorf("batch %q was quarantined by auditor %s; only an auditor may release it", b.ID, q.By.MSP)
		}
	default:
		if t.actor.MSP != b.Owner {
			return fmt.Errorf("batch %q was quarantined by its owner %s; only the owner may release it", b.ID, b.Owner)
		}
	}
	b.Status = q.PreviousStatus
	b.Quarantine = nil
	ev := t.event(model.EvBatchReleased, model.ObjectEvent, model.BizReleasing, disposition(b.Status))
	ev.Action = "OBSERVE"
	ev.Reason = q.Reason
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// AttachDocument anchors a document's SHA-256 on a batch: a lab report,
// a waste transfer note, a certificate. The file itself stays off the
// ledger; uri may say where it is. The owner's documents are kept on the
// batch; an auditor's under a key of its own (oversight.go), without the
// owner's endorsement.
func (c *Contract) AttachDocument(ctx contractapi.TransactionContextInterface, id string, name string, sha256 string, uri string) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	p, _, err := t.member()
	if err != nil {
		return err
	}
	if err := model.CheckText("name", name, true); err != nil {
		return err
	}
	if err := model.CheckSHA256("sha256", sha256); err != nil {
		return err
	}
	if err := model.CheckText("uri", uri, false); err != nil {
		return err
	}
	old, b, err := t.load(id)
	if err != nil {
		return err
	}
	role, err := t.holdRole(p, b)
	if err != nil {
		return err
	}
	for _, d := range b.Documents {
		if d.SHA256 == sha256 {
			return fmt.Errorf("document %s is already anchored on batch %q (as %q)", sha256, b.ID, d.Name)
		}
	}
	if role == model.HeldByAuditor {
		return t.auditorDocument(b, name, sha256, uri)
	}
	if err := t.requireNewDocument(b.ID, sha256); err != nil {
		return err
	}
	b.Documents = append(b.Documents, model.Document{Name: name, SHA256: sha256, URI: uri, AnchoredBy: t.actor, AnchoredAt: t.at, Tx: t.id})
	ev := t.event(model.EvDocumentAttached, model.ObjectEvent, model.BizInspecting, disposition(b.Status))
	ev.Action = "OBSERVE"
	ev.Reason = name
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// holdRole says in which capacity the caller acts on b: as its owner, or
// as an auditor. Anyone else is refused.
func (t *txn) holdRole(p model.Participant, b *model.Batch) (string, error) {
	switch {
	case b.Owner == t.actor.MSP:
		return model.HeldByOwner, nil
	case p.Role == model.RoleAuditor:
		return model.HeldByAuditor, nil
	}
	return "", t.requireOwner(b)
}

// disposition maps a status to its CBV disposition.
func disposition(s model.Status) string {
	switch s {
	case model.StatusInTransit:
		return model.DispInTransit
	case model.StatusQuarantined:
		return model.DispNonConformant
	case model.StatusConsumed:
		return "inactive"
	}
	return model.DispActive
}
