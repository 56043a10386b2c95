package model

// Event is one change to the ledger in GS1 EPCIS 2.0 and CBV terms, so that
// an EPCIS export is a mapping of fields, not a redesign. The chaincode
// emits it whole as the transaction's chaincode event (named by Name), and
// stores on every batch version the transaction writes the part of it that
// concerns that batch (see For).
type Event struct {
	Name string `json:"name"` // BatchRegistered, TransferOffered, ...
	// Type is the EPCIS event type: ObjectEvent or TransformationEvent.
	Type string `json:"type"`
	// Action is the EPCIS action of an ObjectEvent: ADD, OBSERVE or DELETE.
	Action    string `json:"action,omitempty" metadata:",optional"`
	EventTime string `json:"eventTime"`
	// BizStep is a CBV business step: collecting, shipping, receiving,
	// transforming, inspecting, holding, releasing, ...
	BizStep string `json:"bizStep"`
	// ProcessStep names the transformation for bizStep transforming.
	ProcessStep string `json:"processStep,omitempty" metadata:",optional"`
	// Disposition is a CBV disposition: active, in_transit, returned,
	// non_conformant, ...
	Disposition string `json:"disposition"`
	Where       Where  `json:"where"`
	// Quantities are the batches an ObjectEvent concerns, in kilograms.
	Quantities []Quantity `json:"quantityList,omitempty" metadata:",optional"`
	// Inputs and Outputs are a TransformationEvent's quantities.
	Inputs  []Quantity `json:"inputQuantityList,omitempty" metadata:",optional"`
	Outputs []Quantity `json:"outputQuantityList,omitempty" metadata:",optional"`
	// Source and Destination are the owning parties of a handover.
	Source      string `json:"source,omitempty" metadata:",optional"`
	Destination string `json:"destination,omitempty" metadata:",optional"`
	Reason      string `json:"reason,omitempty" metadata:",optional"`
	// Declaration is the batch declaration the event issued, claimed or
	// carried (EPCIS certificationInfo).
	Declaration string `json:"declaration,omitempty" metadata:",optional"`
	TxID        string `json:"txId"`
	By          Actor  `json:"by"`
}

// For returns the event as one batch's version records it: the quantity
// lists keep only that batch's own entries. A transformation with n inputs
// and m outputs would otherwise store all n+m quantities on each of its n+m
// batches; the whole event stays in the chaincode event, and the process
// record of every output keeps the links.
func (e Event) For(id string) Event {
	e.Quantities = only(e.Quantities, id)
	e.Inputs = only(e.Inputs, id)
	e.Outputs = only(e.Outputs, id)
	return e
}

func only(qs []Quantity, id string) []Quantity {
	var out []Quantity
	for _, q := range qs {
		if q.Batch == id {
			out = append(out, q)
		}
	}
	return out
}

// Where is an EPCIS read point: the organisation and, when known, the place.
type Where struct {
	Org   string `json:"org"`
	Place string `json:"place,omitempty" metadata:",optional"`
	// Site is the GLN of the organisation's site, when known.
	Site string `json:"site,omitempty" metadata:",optional"`
}

// Quantity is an EPCIS quantity element: a batch (the EPC class) and its
// mass as an exact decimal number of kilograms (unit of measure KGM), with
// the integer grams beside it for exact arithmetic.
type Quantity struct {
	Batch    string `json:"epcClass"`
	Quantity string `json:"quantity"`
	UOM      string `json:"uom"`
	Grams    Grams  `json:"grams"`
}

// Qty builds the EPCIS quantity of mass g of batch id.
func Qty(id string, g Grams) Quantity {
	return Quantity{Batch: id, Quantity: g.Kg(), UOM: "KGM", Grams: g}
}

// Event names, one per kind of transaction.
const (
	EvRegistryBootstrapped = "RegistryBootstrapped"
	EvChangeProposed       = "RegistryChangeProposed"
	EvChangeApproved       = "RegistryChangeApproved" // an approval short of a majority
	EvRegistryChanged      = "RegistryChanged"        // the approval that applied a change
	EvChangeWithdrawn      = "RegistryChangeWithdrawn"
	EvChangeRejected       = "RegistryChangeRejected" // a rejection short of a majority
	EvChangeDropped        = "RegistryChangeDropped"  // the rejection that closed a proposal
	EvBatchRegistered      = "BatchRegistered"
	EvTransferOffered      = "TransferOffered"
	EvTransferAccepted     = "TransferAccepted"
	EvTransferRejected     = "TransferRejected"
	EvTransferCancelled    = "TransferCancelled"
	EvBatchProcessed       = "BatchProcessed"
	EvBatchQuarantined     = "BatchQuarantined"
	EvBatchReleased        = "BatchReleased"
	EvDocumentAttached     = "DocumentAttached"
	EvBatchesMigrated      = "BatchesMigrated"
	EvBatchPurchased       = "BatchPurchased"
	EvSiteSet              = "SiteSet"
	EvDeclarationIssued    = "DeclarationIssued"
	EvDeclarationClaimed   = "DeclarationClaimed"
)

// EPCIS event types.
const (
	ObjectEvent         = "ObjectEvent"
	TransformationEvent = "TransformationEvent"
)

// CBV business steps and dispositions used by mtrace.
const (
	BizCollecting   = "collecting"
	BizShipping     = "shipping"
	BizReceiving    = "receiving"
	BizTransforming = "transforming"
	BizInspecting   = "inspecting"
	BizHolding      = "holding"
	BizReleasing    = "releasing"

	DispActive        = "active"
	DispInTransit     = "in_transit"
	DispReturned      = "returned"
	DispNonConformant = "non_conformant"
	DispConformant    = "conformant"
)

// ChaincodeEvent is the payload of every chaincode event: the EPCIS event
// and the ids of every batch the transaction wrote.
type ChaincodeEvent struct {
	Event   Event    `json:"event"`
	Batches []string `json:"batches"`
}
