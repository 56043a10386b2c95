package epcis

import "encoding/json"

// Event is one EPCIS 2.0 event as mtrace writes and reads it: the standard
// fields it uses, then its mt: extensions. Quantities are JSON numbers,
// kept as their decimal text so that no mass passes through a float.
type Event struct {
	Type                string `json:"type"`
	EventID             string `json:"eventID,omitempty"`
	EventTime           string `json:"eventTime"`
	EventTimeZoneOffset string `json:"eventTimeZoneOffset"`
	RecordTime          string `json:"recordTime,omitempty"`
	Action              string `json:"action,omitempty"`
	BizStep             string `json:"bizStep,omitempty"`
	Disposition         string `json:"disposition,omitempty"`
	ReadPoint           *Ref   `json:"readPoint,omitempty"`
	BizLocation         *Ref   `json:"bizLocation,omitempty"`

	QuantityList       []Quantity `json:"quantityList,omitempty"`
	InputQuantityList  []Quantity `json:"inputQuantityList,omitempty"`
	OutputQuantityList []Quantity `json:"outputQuantityList,omitempty"`
	TransformationID   string     `json:"transformationID,omitempty"`

	SourceList        []Party `json:"sourceList,omitempty"`
	DestinationList   []Party `json:"destinationList,omitempty"`
	CertificationInfo string  `json:"certificationInfo,omitempty"`
	ILMD              *ILMD   `json:"ilmd,omitempty"`

	// Actor is the organisation that submitted the change.
	Actor    string `json:"mt:actor,omitempty"`
	FabricTx string `json:"mt:fabricTx,omitempty"`
	Reason   string `json:"mt:reason,omitempty"`
	// Offered is the mass a receiving event's sender offered; the
	// quantity is what arrived.
	Offered *Mass `json:"mt:offered,omitempty"`
	// VirginMass, Loss and RecycledContent describe a transformation.
	VirginMass      *Mass        `json:"mt:virginMass,omitempty"`
	Loss            *Mass        `json:"mt:loss,omitempty"`
	RecycledContent *json.Number `json:"mt:recycledContentBp,omitempty"`
	Document        *DocumentRef `json:"mt:document,omitempty"`
	// PostConsumer and PreConsumer are a transformation's outputs'
	// recycled shares in parts per million (contract 0.6.0).
	PostConsumer *json.Number `json:"mt:postConsumerPpm,omitempty"`
	PreConsumer  *json.Number `json:"mt:preConsumerPpm,omitempty"`
	// Supplier and OriginClass describe a registration: the supplier
	// outside the consortium of a bought-in batch, and the origin class.
	Supplier    string `json:"mt:supplier,omitempty"`
	OriginClass string `json:"mt:originClass,omitempty"`
	// Declaration is the id of the batch declaration an event issued,
	// claimed or carried; certificationInfo is its URI.
	Declaration string `json:"mt:declaration,omitempty"`

	// places names the place URIs the event uses, for master data.
	places map[string]string
}

// Ref is a readPoint or bizLocation.
type Ref struct {
	ID string `json:"id"`
}

// Quantity is a quantityList element: a batch and its mass.
type Quantity struct {
	EPCClass string      `json:"epcClass"`
	Quantity json.Number `json:"quantity,omitempty"`
	UOM      string      `json:"uom,omitempty"`
}

// Mass is a mass outside a quantity list, in the same units.
type Mass struct {
	Quantity json.Number `json:"quantity"`
	UOM      string      `json:"uom"`
}

// Party is a sourceList or destinationList element. Source is set in a
// sourceList, Destination in a destinationList.
type Party struct {
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
}

// CBV source and destination types.
const (
	OwningParty     = "owning_party"
	PossessingParty = "possessing_party"
)

// ILMD is the lot master data of new batches: a collection's material and
// waste code, or a transformation's outputs.
type ILMD struct {
	Material  string `json:"mt:material,omitempty"`
	Form      string `json:"mt:form,omitempty"`
	WasteCode string `json:"mt:wasteCode,omitempty"`
	Outputs   []Lot  `json:"mt:outputs,omitempty"`
}

// Lot is one output of a transformation.
type Lot struct {
	Batch    string `json:"mt:batch"`
	Material string `json:"mt:material"`
	Form     string `json:"mt:form"`
}

// DocumentRef is a document anchored on a batch.
type DocumentRef struct {
	Name   string `json:"mt:name"`
	SHA256 string `json:"mt:sha256"`
	URI    string `json:"mt:uri,omitempty"`
}
