package epcis

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// CBV terms that the ledger's own event does not carry as such.
const (
	bizVoidShipping = "void_shipping"
	bizReleasing    = Prefix + ":releasing"
	// A declaration's issue and claim, in mtrace's own vocabulary.
	bizDeclaring    = Prefix + ":declaring"
	bizClaiming     = Prefix + ":claiming_declaration"
	dispUnavailable = "unavailable"
	dispAvailable   = "available"
	utcOffset       = "+00:00"
)

// Batches are the current versions of the batches a ledger event names, by
// id. Mapping reads from them what the event itself does not hold: the
// collection time and waste code, the mass offered before an acceptance,
// the anchored document, and the material and form of a process's outputs.
type Batches map[string]*model.Batch

// Needs lists the batches that Map needs for ev.
func Needs(ev model.Event) []string {
	switch ev.Name {
	case model.EvBatchProcessed:
		ids := make([]string, len(ev.Outputs))
		for i, q := range ev.Outputs {
			ids[i] = q.Batch
		}
		return ids
	case model.EvBatchRegistered, model.EvBatchPurchased, model.EvTransferAccepted, model.EvDocumentAttached:
		if len(ev.Quantities) > 0 {
			return []string{ev.Quantities[0].Batch}
		}
	}
	return nil
}

// Map turns one ledger event into its EPCIS event. ok is false for the
// events that name no batch quantity: the participant registry's, and any
// other change that moves no material.
func (b Base) Map(ev model.Event, bs Batches) (e *Event, ok bool, err error) {
	if len(ev.Quantities)+len(ev.Inputs)+len(ev.Outputs) == 0 {
		return nil, false, nil
	}
	e = &Event{
		Type:                ev.Type,
		EventTime:           ev.EventTime,
		EventTimeZoneOffset: utcOffset,
		RecordTime:          ev.EventTime,
		Action:              ev.Action,
		BizStep:             ev.BizStep,
		Disposition:         ev.Disposition,
		Actor:               b.Org(ev.By.MSP),
		FabricTx:            ev.TxID,
		Reason:              ev.Reason,
	}
	if ev.Where.Place != "" {
		e.place(b, ev.Where.Place)
	}
	e.QuantityList = b.quantities(ev.Quantities)
	subject := ""
	if len(ev.Quantities) > 0 {
		subject = ev.Quantities[0].Batch
	}
	e.EventID = EventID(ev.TxID, subject)
	need := func(id string) (*model.Batch, error) {
		if x := bs[id]; x != nil {
			return x, nil
		}
		return nil, fmt.Errorf("event %s of tx %s: batch %q not read", ev.Name, ev.TxID, id)
	}
	switch ev.Name {
	case model.EvBatchRegistered:
		x, err := need(subject)
		if err != nil {
			return nil, false, err
		}
		c := x.Origin.Collection
		if c == nil {
			return nil, false, fmt.Errorf("batch %q was registered but has no collection", subject)
		}
		if e.EventTime, e.EventTimeZoneOffset, err = localTime(c.CollectedAt, c.ZoneOffset); err != nil {
			return nil, false, fmt.Errorf("batch %q: %w", subject, err)
		}
		e.place(b, c.Location)
		e.ILMD = &ILMD{Material: string(x.Material), Form: string(model.FormWaste), WasteCode: x.WasteCode}
		e.DestinationList = b.parties(false, ev.By.MSP)
		class, _ := x.Origin.RegisteredClass()
		e.OriginClass = string(class)
	case model.EvBatchPurchased:
		x, err := need(subject)
		if err != nil {
			return nil, false, err
		}
		p := x.Origin.Purchase
		if p == nil {
			return nil, false, fmt.Errorf("batch %q was bought in but has no purchase", subject)
		}
		if e.EventTime, e.EventTimeZoneOffset, err = localTime(p.ReceivedAt, p.ZoneOffset); err != nil {
			return nil, false, fmt.Errorf("batch %q: %w", subject, err)
		}
		e.ILMD = &ILMD{Material: string(x.Material), Form: string(model.FormWaste), WasteCode: x.WasteCode}
		e.SourceList = []Party{{Type: OwningParty, Source: b.Supplier(p.Supplier)}, {Type: PossessingParty, Source: b.Supplier(p.Supplier)}}
		e.DestinationList = b.parties(false, ev.By.MSP)
		e.Supplier, e.OriginClass = p.Supplier, string(p.OriginClass)
		e.Document = &DocumentRef{Name: "weighbridge ticket " + p.Ticket, SHA256: p.TicketSHA256}
		e.CertificationInfo = niURI(p.TicketSHA256)
	case model.EvDeclarationIssued, model.EvDeclarationClaimed:
		// Steps of their own, not shipping and receiving: a capture must
		// not take a declaration for a second offer or acceptance.
		e.BizStep = bizDeclaring
		if ev.Name == model.EvDeclarationClaimed {
			e.BizStep = bizClaiming
		}
		e.SourceList, e.DestinationList = b.parties(true, ev.Source), b.parties(false, ev.Destination)
	case model.EvTransferOffered, model.EvTransferRejected, model.EvTransferCancelled:
		e.SourceList, e.DestinationList = b.parties(true, ev.Source), b.parties(false, ev.Destination)
		if ev.Name == model.EvTransferCancelled {
			e.BizStep = bizVoidShipping
		}
	case model.EvTransferAccepted:
		e.SourceList, e.DestinationList = b.parties(true, ev.Source), b.parties(false, ev.Destination)
		x, err := need(subject)
		if err != nil {
			return nil, false, err
		}
		for _, h := range x.Handovers {
			if h.AcceptTx == ev.TxID {
				e.Offered = &Mass{Quantity: json.Number(h.Offered.Kg()), UOM: "KGM"}
			}
		}
	case model.EvBatchQuarantined:
		e.Disposition = dispUnavailable
	case model.EvBatchReleased:
		e.BizStep, e.Disposition = bizReleasing, dispAvailable
	case model.EvDocumentAttached:
		x, err := need(subject)
		if err != nil {
			return nil, false, err
		}
		// The owner's documents are on the batch, an auditor's under keys
		// of their own (contract 0.5.0), read with the batch.
		docs := slices.Clone(x.Documents)
		for _, d := range x.AuditorDocuments {
			docs = append(docs, d.Document)
		}
		for _, d := range docs {
			if d.Tx == ev.TxID {
				e.Document = &DocumentRef{Name: d.Name, SHA256: d.SHA256, URI: d.URI}
				e.CertificationInfo = niURI(d.SHA256)
			}
		}
		if e.Document == nil {
			return nil, false, fmt.Errorf("batch %q has no document anchored by tx %s", subject, ev.TxID)
		}
		e.Reason = ""
	case model.EvBatchProcessed:
		if err := b.transformation(e, ev, need); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, fmt.Errorf("ledger event %q of tx %s has no EPCIS mapping", ev.Name, ev.TxID)
	}
	if ev.Declaration != "" {
		e.Declaration = ev.Declaration
		e.CertificationInfo = b.Declaration(ev.Declaration)
	}
	if ev.Where.Site != "" {
		e.BizLocation = &Ref{ID: Site(ev.Where.Site)}
		if e.ReadPoint == nil {
			e.ReadPoint = e.BizLocation
		}
	}
	return e, true, nil
}

func (b Base) transformation(e *Event, ev model.Event, need func(string) (*model.Batch, error)) error {
	e.EventID = EventID(ev.TxID, "")
	e.BizStep = Prefix + ":" + ev.ProcessStep
	e.TransformationID = b.Process(ev.TxID)
	e.InputQuantityList = b.quantities(ev.Inputs)
	e.OutputQuantityList = b.quantities(ev.Outputs)
	e.ILMD = &ILMD{}
	for i, q := range ev.Outputs {
		x, err := need(q.Batch)
		if err != nil {
			return err
		}
		e.ILMD.Outputs = append(e.ILMD.Outputs, Lot{Batch: b.Batch(x.ID), Material: string(x.Material), Form: string(x.Form)})
		if i > 0 {
			continue
		}
		d := x.Origin.Process
		if d == nil || d.Tx != ev.TxID {
			return fmt.Errorf("batch %q is an output of tx %s but not derived by it", x.ID, ev.TxID)
		}
		e.VirginMass = &Mass{Quantity: json.Number(d.VirginMass.Kg()), UOM: "KGM"}
		e.Loss = &Mass{Quantity: json.Number(d.Loss.Kg()), UOM: "KGM"}
		rc := json.Number(strconv.FormatInt(x.RecycledContent, 10))
		e.RecycledContent = &rc
		if x.Shares != nil {
			post, pre := json.Number(strconv.FormatInt(x.Shares.PostConsumer, 10)), json.Number(strconv.FormatInt(x.Shares.PreConsumer, 10))
			e.PostConsumer, e.PreConsumer = &post, &pre
		}
	}
	return nil
}

// place sets the event's read point and business location.
func (e *Event) place(b Base, name string) {
	uri := b.Place(name)
	e.ReadPoint, e.BizLocation = &Ref{ID: uri}, &Ref{ID: uri}
	if e.places == nil {
		e.places = map[string]string{}
	}
	e.places[uri] = name
}

func (b Base) quantities(qs []model.Quantity) []Quantity {
	out := make([]Quantity, len(qs))
	for i, q := range qs {
		out[i] = Quantity{EPCClass: b.Batch(q.Batch), Quantity: json.Number(q.Grams.Kg()), UOM: "KGM"}
	}
	return out
}

// parties names an organisation as both owning and possessing party, as a
// source or as a destination.
func (b Base) parties(source bool, msp string) []Party {
	if msp == "" {
		return nil
	}
	uri := b.Org(msp)
	out := []Party{{Type: OwningParty}, {Type: PossessingParty}}
	for i := range out {
		if source {
			out[i].Source = uri
		} else {
			out[i].Destination = uri
		}
	}
	return out
}

// localTime writes a UTC ledger time in the given offset; an empty offset
// (a batch registered before offsets were kept) stays UTC.
func localTime(utc, offset string) (string, string, error) {
	t, err := time.Parse(time.RFC3339Nano, utc)
	if err != nil {
		return "", "", fmt.Errorf("collection time %q: %w", utc, err)
	}
	if offset == "" {
		return t.UTC().Format(time.RFC3339Nano), utcOffset, nil
	}
	z, err := time.Parse("-07:00", offset)
	if err != nil {
		return "", "", fmt.Errorf("time-zone offset %q: %w", offset, err)
	}
	_, secs := z.Zone()
	return t.In(time.FixedZone(offset, secs)).Format(time.RFC3339Nano), offset, nil
}

// niURI is the RFC 6920 named-information URI of a SHA-256 digest.
func niURI(sha string) string {
	raw, err := hex.DecodeString(sha)
	if err != nil {
		return ""
	}
	return "ni:///sha-256;" + base64.RawURLEncoding.EncodeToString(raw)
}
