package contract

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// A transfer is two transactions. The owner offers the batch to another
// organisation; while the offer is pending, the batch key needs the
// endorsement of both organisations. The receiver then accepts (stating
// the mass it received), or rejects; the owner may cancel before that.

// OfferTransfer offers the whole remaining mass of a batch to another
// registered organisation.
func (c *Contract) OfferTransfer(ctx contractapi.TransactionContextInterface, id string, to string) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	_, reg, err := t.requireRole("offer transfers", model.RoleCollector, model.RoleRecycler, model.RoleMaker)
	if err != nil {
		return err
	}
	if err := model.CheckMSP("to", to); err != nil {
		return err
	}
	old, b, err := t.load(id)
	if err != nil {
		return err
	}
	if err := t.requireOwner(b); err != nil {
		return err
	}
	if err := requireUsable(b); err != nil {
		return err
	}
	if err := requireNoHolds(t.stub, b.ID); err != nil {
		return err
	}
	p, ok := reg.Lookup(to)
	switch {
	case !ok:
		return &model.RuleError{Field: "to", Rule: fmt.Sprintf("%s is not a registered participant", to)}
	case p.Role == model.RoleAuditor:
		return &model.RuleError{Field: "to", Rule: fmt.Sprintf("%s is an auditor and may not hold batches", to)}
	case to == b.Owner:
		return &model.RuleError{Field: "to", Rule: fmt.Sprintf("%s already owns batch %q", to, b.ID)}
	}
	b.Pending = &model.Transfer{To: to, Mass: b.RemainingMass, OfferedBy: t.actor, OfferedAt: t.at, OfferTx: t.id}
	b.Status = model.StatusInTransit
	ev := t.event(model.EvTransferOffered, model.ObjectEvent, model.BizShipping, model.DispInTransit)
	ev.Action = "OBSERVE"
	ev.Source, ev.Destination = b.Owner, to
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// AcceptTransfer takes custody of an offered batch at the receiver's
// default site. receivedMass is what arrived, from 1 g to the offered
// mass; 0 means all that was offered. The difference is recorded as
// transit loss. It keeps the arguments of contracts before 0.6.0, so that
// their clients work on.
func (c *Contract) AcceptTransfer(ctx contractapi.TransactionContextInterface, id string, receivedMass int64) error {
	return c.AcceptTransferAt(ctx, id, receivedMass, "")
}

// AcceptTransferAt is AcceptTransfer at a named site of the receiver's
// (empty for its default site).
func (c *Contract) AcceptTransferAt(ctx contractapi.TransactionContextInterface, id string, receivedMass int64, site string) error {
	t, old, b, err := pendingFor(ctx, id, true)
	if err != nil {
		return err
	}
	at, err := t.site("site", site)
	if err != nil {
		return err
	}
	offered := b.Pending.Mass
	received := model.Grams(receivedMass)
	if received == 0 {
		received = offered
	}
	if received < model.MinMass || received > offered {
		return &model.RuleError{Field: "receivedMass", Rule: fmt.Sprintf("must be from %s to the %s offered, got %d g", model.MinMass, offered, receivedMass)}
	}
	from := b.Owner
	b.Handovers = append(b.Handovers, model.Handover{
		From: from, To: b.Pending.To,
		Offered: offered, Received: received,
		OfferTx: b.Pending.OfferTx, AcceptTx: t.id,
		AcceptedBy: t.actor, AcceptedAt: t.at,
		Site: at, Declaration: b.Pending.Declaration,
	})
	b.Site = at
	b.TransitLoss += offered - received
	b.RemainingMass = received
	b.Owner = b.Pending.To
	b.Status = model.StatusActive
	b.Pending = nil
	ev := t.event(model.EvTransferAccepted, model.ObjectEvent, model.BizReceiving, model.DispActive)
	ev.Action = "OBSERVE"
	ev.Source, ev.Destination = from, b.Owner
	ev.Where.Site = at
	ev.Declaration = b.Handovers[len(b.Handovers)-1].Declaration
	ev.Quantities = []model.Quantity{model.Qty(b.ID, received)}
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// RejectTransfer refuses an offered batch; custody stays with the owner.
func (c *Contract) RejectTransfer(ctx contractapi.TransactionContextInterface, id string, reason string) error {
	if err := model.CheckText("reason", reason, true); err != nil {
		return err
	}
	t, old, b, err := pendingFor(ctx, id, true)
	if err != nil {
		return err
	}
	ev := t.event(model.EvTransferRejected, model.ObjectEvent, model.BizReceiving, model.DispReturned)
	ev.Action = "OBSERVE"
	ev.Reason = reason
	return t.endOffer(old, b, ev)
}

// CancelTransfer withdraws an offer that the receiver has not answered.
func (c *Contract) CancelTransfer(ctx contractapi.TransactionContextInterface, id string) error {
	t, old, b, err := pendingFor(ctx, id, false)
	if err != nil {
		return err
	}
	ev := t.event(model.EvTransferCancelled, model.ObjectEvent, model.BizShipping, model.DispActive)
	ev.Action = "OBSERVE"
	return t.endOffer(old, b, ev)
}

// endOffer returns a batch with a pending offer to its owner.
func (t *txn) endOffer(old, b *model.Batch, ev model.Event) error {
	ev.Source, ev.Destination = b.Owner, b.Pending.To
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	b.Pending = nil
	b.Status = model.StatusActive
	if err := t.save(old, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// pendingFor loads a batch with a pending offer, checking that the caller
// is its receiver (receiver true) or its owner, and that the batch is not
// quarantined, nor under an auditor's hold.
func pendingFor(ctx contractapi.TransactionContextInterface, id string, receiver bool) (*txn, *model.Batch, *model.Batch, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, _, err := t.requireRole("take part in transfers", model.RoleCollector, model.RoleRecycler, model.RoleMaker); err != nil {
		return nil, nil, nil, err
	}
	old, b, err := t.load(id)
	if err != nil {
		return nil, nil, nil, err
	}
	if b.Status == model.StatusQuarantined {
		return nil, nil, nil, requireUsable(b)
	}
	if b.Status != model.StatusInTransit || b.Pending == nil {
		return nil, nil, nil, fmt.Errorf("batch %q has no pending transfer (status %s)", b.ID, b.Status)
	}
	if err := requireNoHolds(t.stub, b.ID); err != nil {
		return nil, nil, nil, err
	}
	if receiver && t.actor.MSP != b.Pending.To {
		return nil, nil, nil, fmt.Errorf("caller %s is not the receiver of batch %q (offered to %s)", t.actor.MSP, b.ID, b.Pending.To)
	}
	if !receiver {
		if err := t.requireOwner(b); err != nil {
			return nil, nil, nil, err
		}
	}
	return t, old, b, nil
}

// requireUsable checks that a batch may be offered or processed: active,
// with mass left.
func requireUsable(b *model.Batch) error {
	switch b.Status {
	case model.StatusActive:
	case model.StatusQuarantined:
		reason := ""
		if b.Quarantine != nil {
			reason = ": " + b.Quarantine.Reason
		}
		return fmt.Errorf("batch %q is quarantined%s", b.ID, reason)
	case model.StatusInTransit:
		return fmt.Errorf("batch %q is in transit to %s", b.ID, pendingTo(b))
	default:
		return fmt.Errorf("batch %q is %s", b.ID, b.Status)
	}
	if b.RemainingMass <= 0 {
		return fmt.Errorf("batch %q has no mass remaining", b.ID)
	}
	return nil
}

func pendingTo(b *model.Batch) string {
	if b.Pending == nil {
		return "nobody"
	}
	return b.Pending.To
}
