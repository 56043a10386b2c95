package contract

import (
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// objCapture keys the record of a captured EPCIS event:
//
//	capture     ("capture", msp, eventID)  a model.Captured as JSON, once per event per capturing organisation
//
// Contract 0.4.0 keyed records by event ID alone, ("capture", eventID), so
// that the first organisation to capture an ID kept every other from
// capturing it. Those records stay where they are and are read as the
// record of the organisation they name (legacyCaptureKey): a record of
// another organisation neither blocks nor hides a capture, one of the
// caller's own still says the event was captured. No migration moves
// them: a record cannot be rewritten without its organisation and a
// witness (its key-level policy), and reading both layouts costs one
// more GetState per capture.
const objCapture = "capture"

func captureKey(msp, eventID string) (string, error) {
	k, err := shim.CreateCompositeKey(objCapture, []string{msp, eventID})
	if err != nil {
		return "", &model.RuleError{Field: "eventId", Rule: err.Error()}
	}
	return k, nil
}

// legacyCaptureKey is the key contract 0.4.0 stored a capture record under.
func legacyCaptureKey(eventID string) (string, error) {
	k, err := shim.CreateCompositeKey(objCapture, []string{eventID})
	if err != nil {
		return "", &model.RuleError{Field: "eventId", Rule: err.Error()}
	}
	return k, nil
}

// Capture runs the transaction that a captured EPCIS event maps to and
// records the event's ID, with the request's digest, under the capturing
// organisation in the same transaction. An event that organisation
// captured already is refused, so feeding a document twice writes nothing
// twice; an event the ledger's rules refuse writes nothing at all, not
// even its record. Another organisation's record under the same event ID
// does not matter. The mapped transaction checks the caller and its own
// rules as if it had been called directly, and emits its own chaincode
// event.
func (c *Contract) Capture(ctx contractapi.TransactionContextInterface, req model.CaptureRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	who, err := identify(ctx)
	if err != nil {
		return err
	}
	stub := ctx.GetStub()
	key, err := captureKey(who.actor.MSP, req.EventID)
	if err != nil {
		return err
	}
	if prev, err := ownCapture(stub, who.actor.MSP, req.EventID); err != nil {
		return err
	} else if prev != nil {
		return fmt.Errorf("event %s was already captured by %s in transaction %s", req.EventID, prev.By.MSP, prev.Tx)
	}
	if err := c.captured(ctx, req); err != nil {
		return err
	}
	// begin has been called by the transaction above; calling it again
	// reads the same transaction and keeps its open write batch.
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	// Like every key mtrace writes: the capturing organisation and a
	// witness must endorse any later change of the record.
	rec := model.Captured{EventID: req.EventID, Kind: req.Kind, Tx: t.id, By: t.actor, At: t.at, Digest: req.Digest()}
	return t.putGuarded(key, "capture record of event "+req.EventID, rec, t.actor.MSP)
}

// ownCapture reads organisation msp's record of an event: under its own
// key, else a record of contract 0.4.0 that msp made. nil when there is
// none.
func ownCapture(stub shim.ChaincodeStubInterface, msp, eventID string) (*model.Captured, error) {
	key, err := captureKey(msp, eventID)
	if err != nil {
		return nil, err
	}
	rec, err := getCaptured(stub, key, eventID)
	if err != nil || rec != nil {
		return rec, err
	}
	legacy, err := legacyCaptureKey(eventID)
	if err != nil {
		return nil, err
	}
	rec, err = getCaptured(stub, legacy, eventID)
	if err != nil || rec == nil || rec.By.MSP != msp {
		return nil, err
	}
	return rec, nil
}

// captured runs the transaction of a capture request.
func (c *Contract) captured(ctx contractapi.TransactionContextInterface, req model.CaptureRequest) error {
	switch req.Kind {
	case model.CaptureRegister:
		return c.RegisterBatch(ctx, *req.Register)
	case model.CaptureOffer:
		if req.Mass != 0 {
			b, err := getBatch(ctx.GetStub(), req.Batch)
			if err != nil {
				return err
			}
			if b.RemainingMass != req.Mass {
				return &model.RuleError{Field: "mass", Rule: fmt.Sprintf("ships %s but batch %q has %s remaining; a batch is offered whole", req.Mass, b.ID, b.RemainingMass)}
			}
		}
		return c.OfferTransfer(ctx, req.Batch, req.To)
	case model.CaptureAccept:
		return c.AcceptTransferAt(ctx, req.Batch, int64(req.Mass), req.Site)
	case model.CaptureReject:
		return c.RejectTransfer(ctx, req.Batch, req.Reason)
	case model.CaptureCancel:
		return c.CancelTransfer(ctx, req.Batch)
	case model.CaptureProcess:
		_, err := process(ctx, *req.Process)
		return err
	case model.CaptureQuarantine:
		return c.Quarantine(ctx, req.Batch, req.Reason)
	case model.CaptureRelease:
		return c.Release(ctx, req.Batch)
	case model.CaptureAttach:
		return c.AttachDocument(ctx, req.Batch, req.Document.Name, req.Document.SHA256, req.Document.URI)
	}
	return &model.RuleError{Field: "kind", Rule: fmt.Sprintf("unknown kind %q", req.Kind)}
}

// GetCapture returns the caller's organisation's record of a captured
// event, a model.Captured as JSON; an event it never captured is an error
// naming it, whatever other organisations captured under that ID.
func (c *Contract) GetCapture(ctx contractapi.TransactionContextInterface, eventID string) (string, error) {
	if err := model.CheckText("eventId", eventID, true); err != nil {
		return "", err
	}
	who, err := identify(ctx)
	if err != nil {
		return "", err
	}
	rec, err := ownCapture(ctx.GetStub(), who.actor.MSP, eventID)
	if err != nil {
		return "", err
	}
	if rec == nil {
		return "", fmt.Errorf("event %s not captured by %s", eventID, who.actor.MSP)
	}
	return encoded("capture record", rec)
}

func getCaptured(stub shim.ChaincodeStubInterface, key, eventID string) (*model.Captured, error) {
	raw, err := stub.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read capture record of event %s: %w", eventID, err)
	}
	if raw == nil {
		return nil, nil
	}
	var rec model.Captured
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode capture record of event %s: %w", eventID, err)
	}
	return &rec, nil
}
