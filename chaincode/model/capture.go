package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// CaptureKind names the transaction a captured EPCIS event maps to.
type CaptureKind string

// Capture kinds, one per transaction that an EPCIS event can stand for.
const (
	CaptureRegister   CaptureKind = "register"   // collecting ObjectEvent, action ADD
	CaptureOffer      CaptureKind = "offer"      // shipping
	CaptureAccept     CaptureKind = "accept"     // receiving
	CaptureReject     CaptureKind = "reject"     // receiving, disposition returned
	CaptureCancel     CaptureKind = "cancel"     // void_shipping
	CaptureProcess    CaptureKind = "process"    // TransformationEvent
	CaptureQuarantine CaptureKind = "quarantine" // holding
	CaptureRelease    CaptureKind = "release"    // releasing
	CaptureAttach     CaptureKind = "attach"     // inspecting with a certificate
)

// CaptureKinds lists every kind.
var CaptureKinds = []CaptureKind{CaptureRegister, CaptureOffer, CaptureAccept, CaptureReject, CaptureCancel,
	CaptureProcess, CaptureQuarantine, CaptureRelease, CaptureAttach}

// CaptureRequest is an EPCIS event from another system, as the ledger
// transaction it maps to. The chaincode runs that transaction and records
// EventID in the same write set, so that the event is captured once.
type CaptureRequest struct {
	EventID  string           `json:"eventId"`
	Kind     CaptureKind      `json:"kind"`
	Register *RegisterRequest `json:"register,omitempty" metadata:",optional"`
	Process  *ProcessRequest  `json:"process,omitempty" metadata:",optional"`
	// Batch is the batch of every other kind.
	Batch string `json:"batch,omitempty" metadata:",optional"`
	// To is the receiver of an offer.
	To string `json:"to,omitempty" metadata:",optional"`
	// Mass is what the event says was shipped (it must be the batch's
	// remaining mass: a batch is offered whole) or received; 0 when the
	// event gives no quantity.
	Mass   Grams  `json:"mass,omitempty" metadata:",optional"`
	Reason string `json:"reason,omitempty" metadata:",optional"`
	// Site is the receiving site of an accept (the receiver's default
	// site when empty).
	Site string `json:"site,omitempty" metadata:",optional"`
	// Document is what an attach anchors.
	Document *DocumentRequest `json:"document,omitempty" metadata:",optional"`
}

// DocumentRequest names a document to anchor.
type DocumentRequest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	URI    string `json:"uri,omitempty" metadata:",optional"`
}

// Captured is the record of a captured event, stored under the capturing
// organisation's MSP ID and the event ID: each organisation's captures are
// its own, so another member capturing something under the same event ID
// neither blocks nor hides one's own.
type Captured struct {
	EventID string      `json:"eventId"`
	Kind    CaptureKind `json:"kind"`
	Tx      string      `json:"tx"`
	By      Actor       `json:"by"`
	At      string      `json:"at"`
	// Digest is the request's Digest: a rerun of the same event matches
	// it, another event under the same ID does not. Records written before
	// contract 0.5.0 have none.
	Digest string `json:"digest,omitempty" metadata:",optional"`
}

// Digest is the hex SHA-256 of the request's JSON encoding: what a
// capture record keeps to tell a rerun of the same event from a different
// event under the same ID. The client and the chaincode compute it from
// the same type, so they agree on the bytes.
func (r CaptureRequest) Digest() string {
	raw, err := json.Marshal(r)
	if err != nil { // a struct of strings, numbers and such structs: cannot fail
		panic(fmt.Sprintf("encode capture request: %v", err))
	}
	d := sha256.Sum256(raw)
	return hex.EncodeToString(d[:])
}

// Validate checks that the request names an event and carries what its
// kind needs; the transaction it maps to checks the rest.
func (r CaptureRequest) Validate() error {
	if err := CheckText("eventId", r.EventID, true); err != nil {
		return err
	}
	if strings.ContainsAny(r.EventID, "\x00\U0010FFFF") {
		return &RuleError{Field: "eventId", Rule: "must not contain U+0000 or U+10FFFF"}
	}
	if _, err := parseEnum("kind", string(r.Kind), CaptureKinds); err != nil {
		return err
	}
	switch r.Kind {
	case CaptureRegister:
		if r.Register == nil {
			return &RuleError{Field: "register", Rule: "is required for kind register"}
		}
	case CaptureProcess:
		if r.Process == nil {
			return &RuleError{Field: "process", Rule: "is required for kind process"}
		}
	default:
		if err := CheckID("batch", r.Batch); err != nil {
			return err
		}
	}
	switch {
	case r.Kind == CaptureOffer && r.To == "":
		return &RuleError{Field: "to", Rule: "is required for kind offer"}
	case r.Kind == CaptureAttach && r.Document == nil:
		return &RuleError{Field: "document", Rule: "is required for kind attach"}
	case r.Mass < 0 || r.Mass > MaxMass:
		return &RuleError{Field: "mass", Rule: fmt.Sprintf("must be from 0 g to %s, got %d g", MaxMass, int64(r.Mass))}
	}
	return nil
}
