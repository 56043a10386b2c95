package contract

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Oversight: an auditor's holds and documents live under keys of their
// own, never on the batch, so that an auditor acts without the owner's
// endorsement (chaincode/README.md, "Trust model"):
//
//	hold   ("hold", batch, tx)   a model.Hold in force, placed by transaction tx
//	held   ("held", batch, tx)   the same hold once released, with its release
//	doc    ("doc", batch, tx)    a model.AuditorDocument anchored by transaction tx
//
// A new key falls under the chaincode-level policy (any two members: the
// auditor and a witness); the transaction that creates it then guards it
// with AND(auditor's organisation, a witness), so only the auditor's side
// releases a hold. Keyed by the creating transaction's id, a key cannot be
// created by anyone in advance to squat it. Every transaction that uses a
// batch range-reads its holds in force (requireNoHolds): the range goes
// into the read set, so a hold committed first invalidates the use at
// validation (a phantom read), and the cost grows with the holds in force
// on that batch only; a release moves the hold from "hold" to "held".
const (
	objHold = "hold"
	objHeld = "held"
	objDoc  = "doc"
)

func oversightKey(obj, batch, tx string) (string, error) {
	k, err := shim.CreateCompositeKey(obj, []string{batch, tx})
	if err != nil {
		return "", fmt.Errorf("%s key of batch %q: %w", obj, batch, err)
	}
	return k, nil
}

// readUnder reads every value under (obj, batch) in key order, decoded as
// T. The range is a non-paginated one, allowed in submitted transactions
// and recorded in their read set.
func readUnder[T any](stub shim.ChaincodeStubInterface, obj, batch string) ([]T, error) {
	it, err := stub.GetStateByPartialCompositeKey(obj, []string{batch})
	if err != nil {
		return nil, fmt.Errorf("read %ss of batch %q: %w", obj, batch, err)
	}
	defer it.Close()
	var out []T
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read %ss of batch %q: %w", obj, batch, err)
		}
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s %q of batch %q: %w", obj, kv.Key, batch, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// holdsOf reads the auditors' holds in force on a batch, oldest key first.
func holdsOf(stub shim.ChaincodeStubInterface, id string) ([]model.Hold, error) {
	return readUnder[model.Hold](stub, objHold, id)
}

// requireNoHolds refuses the use of a batch while an auditor holds it.
func requireNoHolds(stub shim.ChaincodeStubInterface, id string) error {
	hs, err := holdsOf(stub, id)
	if err != nil {
		return err
	}
	if len(hs) == 0 {
		return nil
	}
	h := hs[0]
	return fmt.Errorf("batch %q is held by auditor %s since %s (tx %s): %s; only %s may release it",
		id, h.By.MSP, h.At, model.ShortTx(h.Tx), h.Reason, h.By.MSP)
}

// holdsInForce reads every auditor's hold in force on the ledger, by
// batch, with one range read. A release moves a hold out of the range, so
// the read grows with the holds in force, not with history; a graph of
// any size costs one read instead of one per batch.
func holdsInForce(stub shim.ChaincodeStubInterface) (map[string][]model.Hold, error) {
	it, err := stub.GetStateByPartialCompositeKey(objHold, nil)
	if err != nil {
		return nil, fmt.Errorf("read holds in force: %w", err)
	}
	defer it.Close()
	out := map[string][]model.Hold{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read holds in force: %w", err)
		}
		var h model.Hold
		if err := json.Unmarshal(kv.Value, &h); err != nil {
			return nil, fmt.Errorf("decode hold %q: %w", kv.Key, err)
		}
		out[h.Batch] = append(out[h.Batch], h)
	}
	return out, nil
}

// overseeHolds fills in the holds in force of each batch for an answer.
// Nil batches are skipped.
func overseeHolds(stub shim.ChaincodeStubInterface, bs ...*model.Batch) error {
	holds, err := holdsInForce(stub)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b != nil {
			b.Holds = holds[b.ID]
		}
	}
	return nil
}

// oversee fills in the holds in force and the auditor documents of each
// batch for an answer: one read for the holds, one range read of
// documents per batch. Nil batches are skipped.
func oversee(stub shim.ChaincodeStubInterface, bs ...*model.Batch) error {
	if err := overseeHolds(stub, bs...); err != nil {
		return err
	}
	for _, b := range bs {
		if b == nil {
			continue
		}
		ds, err := readUnder[model.AuditorDocument](stub, objDoc, b.ID)
		if err != nil {
			return err
		}
		b.AuditorDocuments = ds
	}
	return nil
}

// auditorHold places an auditor's hold on b under a key of its own.
func (t *txn) auditorHold(b *model.Batch, reason string) error {
	hs, err := holdsOf(t.stub, b.ID)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(hs, func(h model.Hold) bool { return h.By.MSP == t.actor.MSP }); i >= 0 {
		return fmt.Errorf("batch %q is already held by %s (tx %s)", b.ID, t.actor.MSP, model.ShortTx(hs[i].Tx))
	}
	if q := b.Quarantine; q != nil && q.ByRole == model.HeldByAuditor && q.By.MSP == t.actor.MSP {
		return fmt.Errorf("batch %q is already quarantined by %s", b.ID, t.actor.MSP)
	}
	ev := t.event(model.EvBatchQuarantined, model.ObjectEvent, model.BizHolding, model.DispNonConformant)
	ev.Action = "OBSERVE"
	ev.Reason = reason
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	h := model.Hold{Batch: b.ID, By: t.actor, Reason: reason, At: t.at, Tx: t.id, Event: ev}
	key, err := oversightKey(objHold, b.ID, t.id)
	if err != nil {
		return err
	}
	if err := t.putGuarded(key, fmt.Sprintf("hold of batch %q", b.ID), h, t.actor.MSP); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// auditorRelease lifts every hold the caller's organisation has in force
// on batch id. ok is false when it has none.
func (t *txn) auditorRelease(id string) (ok bool, err error) {
	hs, err := holdsOf(t.stub, id)
	if err != nil {
		return false, err
	}
	var ev model.Event
	for _, h := range hs {
		if h.By.MSP != t.actor.MSP {
			continue
		}
		if !ok {
			ev = t.event(model.EvBatchReleased, model.ObjectEvent, model.BizReleasing, model.DispActive)
			ev.Action = "OBSERVE"
			ev.Reason = h.Reason
			ev.Quantities = h.Event.Quantities
			ok = true
		}
		from, err := oversightKey(objHold, id, h.Tx)
		if err != nil {
			return false, err
		}
		to, err := oversightKey(objHeld, id, h.Tx)
		if err != nil {
			return false, err
		}
		if err := t.stub.DelState(from); err != nil {
			return false, fmt.Errorf("delete hold of batch %q: %w", id, err)
		}
		h.Released = &model.Release{By: t.actor, At: t.at, Tx: t.id, Event: ev}
		if err := t.putGuarded(to, fmt.Sprintf("released hold of batch %q", id), h, h.By.MSP); err != nil {
			return false, err
		}
	}
	if !ok {
		return false, nil
	}
	return true, t.emit(ev, id)
}

// auditorDocument anchors a document on b under a key of its own. A
// SHA-256 is anchored once per batch, on the batch or under such a key.
func (t *txn) auditorDocument(b *model.Batch, name, sha256, uri string) error {
	if err := t.requireNewDocument(b.ID, sha256); err != nil {
		return err
	}
	ev := t.event(model.EvDocumentAttached, model.ObjectEvent, model.BizInspecting, disposition(b.Status))
	ev.Action = "OBSERVE"
	ev.Reason = name
	ev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
	d := model.AuditorDocument{Batch: b.ID, Document: model.Document{Name: name, SHA256: sha256, URI: uri, AnchoredBy: t.actor, AnchoredAt: t.at, Tx: t.id}, Event: ev}
	key, err := oversightKey(objDoc, b.ID, t.id)
	if err != nil {
		return err
	}
	if err := t.putGuarded(key, fmt.Sprintf("document of batch %q", b.ID), d, t.actor.MSP); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// oversightHistory lists the auditors' acts on batch id as history
// entries, in key order: each hold placed (in force or released), each
// release, each document.
func oversightHistory(stub shim.ChaincodeStubInterface, id string) ([]model.HistoryEntry, error) {
	active, err := holdsOf(stub, id)
	if err != nil {
		return nil, err
	}
	released, err := readUnder[model.Hold](stub, objHeld, id)
	if err != nil {
		return nil, err
	}
	docs, err := readUnder[model.AuditorDocument](stub, objDoc, id)
	if err != nil {
		return nil, err
	}
	var out []model.HistoryEntry
	for _, h := range append(active, released...) {
		placed := h
		placed.Released = nil
		out = append(out, model.HistoryEntry{TxID: h.Tx, Timestamp: h.At, Oversight: &model.Oversight{Kind: model.OversightHold, Hold: &placed}})
		if r := h.Released; r != nil {
			h := h
			out = append(out, model.HistoryEntry{TxID: r.Tx, Timestamp: r.At, Oversight: &model.Oversight{Kind: model.OversightRelease, Hold: &h}})
		}
	}
	for _, d := range docs {
		d := d
		out = append(out, model.HistoryEntry{TxID: d.Tx, Timestamp: d.AnchoredAt, Oversight: &model.Oversight{Kind: model.OversightDocument, Document: &d}})
	}
	return out, nil
}

// requireNewDocument refuses a SHA-256 an auditor anchored on batch id
// already.
func (t *txn) requireNewDocument(id, sha256 string) error {
	ds, err := readUnder[model.AuditorDocument](t.stub, objDoc, id)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.SHA256 == sha256 {
			return fmt.Errorf("document %s is already anchored on batch %q (as %q, by %s)", sha256, id, d.Name, d.AnchoredBy.MSP)
		}
	}
	return nil
}
