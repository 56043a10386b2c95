package epcis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Item is one event of a captured document: the ledger request it maps
// to and the organisation that must submit it, or why it cannot be
// mapped.
type Item struct {
	// Index is the event's position in the document's eventList, from 0.
	Index   int
	EventID string
	Request *model.CaptureRequest
	// Actor is the MSP ID that must submit the request; "" lets the
	// caller's own profile submit it.
	Actor string
	// Refused says why the event has no ledger transaction.
	Refused string
}

// Captured is one document of a captured stream.
type Captured struct {
	// Index counts the documents of the stream from 1.
	Index int
	Items []Item
	// Err is set when the document is not a valid EPCIS 2.0 document;
	// then none of its events is mapped.
	Err error
}

// ReadDocuments reads each JSON document of r, checks it against GS1's
// schema and maps its events, calling fn once per document in order. It
// stops at text that is not JSON, or when fn fails.
func (b Base) ReadDocuments(r io.Reader, fn func(Captured) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for i := 1; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			if i == 1 {
				return errors.New("no JSON document")
			}
			return nil
		} else if err != nil {
			return fmt.Errorf("document %d: not JSON: %w", i, err)
		}
		if err := fn(b.readDocument(i, raw)); err != nil {
			return err
		}
	}
}

// document is the part of an EPCISDocument that capture reads.
type document struct {
	Type    string          `json:"type"`
	Context json.RawMessage `json:"@context"`
	Header  Header          `json:"epcisHeader"`
	Body    struct {
		EventList []json.RawMessage `json:"eventList"`
	} `json:"epcisBody"`
}

func (b Base) readDocument(i int, raw json.RawMessage) Captured {
	c := Captured{Index: i}
	v, err := decodeAny(raw)
	if err == nil {
		err = ValidateValue(v)
	}
	var doc document
	if err == nil {
		err = json.Unmarshal(raw, &doc)
	}
	if err == nil && doc.Type != "EPCISDocument" {
		err = fmt.Errorf("is an %s, not an EPCISDocument", doc.Type)
	}
	if err == nil {
		err = checkPrefix(doc.Context)
	}
	if err != nil {
		c.Err = err
		return c
	}
	places := map[string]string{}
	if md := doc.Header.MasterData; md != nil {
		for _, voc := range md.VocabularyList {
			for _, el := range voc.Elements {
				for _, a := range el.Attributes {
					if name, ok := a.Attribute.(string); ok && a.ID == AttrName {
						places[el.ID] = name
					}
				}
			}
		}
	}
	for j, rawEv := range doc.Body.EventList {
		var e Event
		it := Item{Index: j}
		if err := json.Unmarshal(rawEv, &e); err != nil {
			it.Refused = "unreadable event: " + err.Error()
		} else {
			it.EventID = e.EventID
			req, actor, err := b.request(&e, rawEv, places)
			if err != nil {
				it.Refused = err.Error()
			} else {
				it.Request, it.Actor = req, actor
			}
		}
		c.Items = append(c.Items, it)
	}
	return c
}

func decodeAny(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// checkPrefix refuses a document that declares the mt prefix as something
// else than mtrace's vocabulary, since its mt: keys would mean other terms.
func checkPrefix(ctx json.RawMessage) error {
	var list []any
	if err := json.Unmarshal(ctx, &list); err != nil {
		list = []any{}
	}
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if v, ok := m[Prefix]; ok && v != Vocab {
			return fmt.Errorf("@context declares the prefix %s as %v, not mtrace's %s", Prefix, v, Vocab)
		}
	}
	return nil
}

// CBV's web URI forms of the terms capture reads.
const (
	cbvBizStep = "https://ref.gs1.org/cbv/BizStep-"
	cbvDisp    = "https://ref.gs1.org/cbv/Disp-"
)

func term(s, web string) string {
	if rest, ok := strings.CutPrefix(s, web); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(s, Vocab); ok {
		return Prefix + ":" + rest
	}
	return s
}

// request maps one event to its ledger request and the MSP that submits
// it.
func (b Base) request(e *Event, raw json.RawMessage, places map[string]string) (*model.CaptureRequest, string, error) {
	if e.EventID == "" {
		return nil, "", errors.New("no eventID: capture needs one to recognise an event it has already captured")
	}
	var extra struct {
		InputEPCs  []string `json:"inputEPCList"`
		OutputEPCs []string `json:"outputEPCList"`
		EPCs       []string `json:"epcList"`
	}
	_ = json.Unmarshal(raw, &extra) // the schema has checked the shapes
	if len(extra.EPCs)+len(extra.InputEPCs)+len(extra.OutputEPCs) > 0 {
		return nil, "", errors.New("names instances (EPC lists): mtrace tracks lots by mass, in quantity lists")
	}
	step := term(e.BizStep, cbvBizStep)
	disp := term(e.Disposition, cbvDisp)
	req := &model.CaptureRequest{EventID: e.EventID, Reason: e.Reason}
	actor := b.MSPOf(e.Actor)
	party := func(ps []Party, source bool) string {
		for _, p := range ps {
			if term(p.Type, "https://ref.gs1.org/cbv/SDT-") == OwningParty {
				if source {
					return b.MSP(p.Source)
				}
				return b.MSP(p.Destination)
			}
		}
		return ""
	}
	from, to := party(e.SourceList, true), party(e.DestinationList, false)
	if e.Type == "TransformationEvent" {
		p, err := b.processRequest(e, step, places)
		if err != nil {
			return nil, "", err
		}
		req.Kind, req.Process = model.CaptureProcess, p
		return req, actor, nil
	}
	if e.Type != "ObjectEvent" {
		return nil, "", fmt.Errorf("%s has no mtrace transaction (capture maps ObjectEvents and TransformationEvents)", e.Type)
	}
	if len(e.QuantityList) != 1 {
		return nil, "", fmt.Errorf("has %d quantityList entries: an mtrace event concerns exactly one batch", len(e.QuantityList))
	}
	q := e.QuantityList[0]
	req.Batch = b.BatchID(q.EPCClass)
	if err := model.CheckID("epcClass", req.Batch); err != nil {
		return nil, "", err
	}
	var err error
	if q.Quantity != "" {
		if req.Mass, err = grams("quantityList[0]", q.Quantity, q.UOM); err != nil {
			return nil, "", err
		}
	}
	switch {
	case e.Action == "ADD" && step == "collecting":
		r, err := b.registerRequest(e, req.Batch, req.Mass, places)
		if err != nil {
			return nil, "", err
		}
		r.Site = siteOf(e)
		if e.OriginClass != "" {
			if r.OriginClass, err = model.ParseOriginClass(e.OriginClass); err != nil {
				return nil, "", fmt.Errorf("mt:originClass: %w", err)
			}
		}
		*req = model.CaptureRequest{EventID: e.EventID, Kind: model.CaptureRegister, Register: r}
		return req, or(actor, to), nil
	case e.Action == "ADD" || e.Action == "DELETE":
		return nil, "", fmt.Errorf("ObjectEvent with action %s and bizStep %q has no mtrace transaction (only a collecting event may ADD)", e.Action, e.BizStep)
	case step == "shipping":
		if to == "" {
			return nil, "", errors.New("shipping needs a destinationList owning_party: the receiving organisation")
		}
		req.Kind, req.To = model.CaptureOffer, to
		return req, or(actor, from), nil
	case step == "receiving" && disp == "returned":
		req.Kind, req.Mass = model.CaptureReject, 0
		if req.Reason == "" {
			req.Reason = "returned to the sender"
		}
		return req, or(actor, to), nil
	case step == "receiving":
		req.Kind = model.CaptureAccept
		req.Site = siteOf(e)
		return req, or(actor, to), nil
	case step == "void_shipping":
		req.Kind, req.Mass = model.CaptureCancel, 0
		return req, or(actor, from), nil
	case step == "holding":
		req.Kind, req.Mass = model.CaptureQuarantine, 0
		if req.Reason == "" {
			return nil, "", errors.New("holding needs mt:reason: why the batch is held")
		}
		return req, actor, nil
	case step == bizReleasing:
		req.Kind, req.Mass = model.CaptureRelease, 0
		return req, actor, nil
	case step == "inspecting" && e.Document != nil:
		req.Kind, req.Mass, req.Reason = model.CaptureAttach, 0, ""
		req.Document = &model.DocumentRequest{Name: e.Document.Name, SHA256: e.Document.SHA256, URI: e.Document.URI}
		return req, actor, nil
	}
	return nil, "", fmt.Errorf("ObjectEvent with bizStep %q has no mtrace transaction", e.BizStep)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MSPOf is the MSP ID of an organisation URI, "" for none.
func (b Base) MSPOf(uri string) string {
	if uri == "" {
		return ""
	}
	return b.MSP(uri)
}

func (b Base) registerRequest(e *Event, id string, mass model.Grams, places map[string]string) (*model.RegisterRequest, error) {
	if mass == 0 {
		return nil, errors.New("a collection needs its mass in quantityList (uom KGM or GRM)")
	}
	if e.ILMD == nil || e.ILMD.Material == "" {
		return nil, errors.New("a collection needs ilmd mt:material (PET, HDPE, ...)")
	}
	if e.ILMD.WasteCode == "" {
		return nil, errors.New(`a collection needs ilmd mt:wasteCode (a List of Waste code such as "15 01 02")`)
	}
	place := b.placeOf(e, places)
	if place == "" {
		return nil, errors.New("a collection needs its place as bizLocation or readPoint")
	}
	at, err := localEventTime(e)
	if err != nil {
		return nil, err
	}
	return &model.RegisterRequest{ID: id, Material: model.Material(e.ILMD.Material), WasteCode: e.ILMD.WasteCode,
		Mass: mass, Location: place, CollectedAt: at}, nil
}

func (b Base) processRequest(e *Event, step string, places map[string]string) (*model.ProcessRequest, error) {
	s := model.StepOther
	if name, ok := strings.CutPrefix(step, Prefix+":"); ok {
		var err error
		if s, err = model.ParseStep(name); err != nil {
			return nil, fmt.Errorf("bizStep %s: %w", e.BizStep, err)
		}
	}
	p := &model.ProcessRequest{Step: s, Location: b.placeOf(e, places), Site: siteOf(e)}
	for i, q := range e.InputQuantityList {
		g, err := grams(fmt.Sprintf("inputQuantityList[%d]", i), q.Quantity, q.UOM)
		if err != nil {
			return nil, err
		}
		p.Inputs = append(p.Inputs, model.ProcessInput{ID: b.BatchID(q.EPCClass), Mass: g})
	}
	lots := map[string]Lot{}
	if e.ILMD != nil {
		for _, l := range e.ILMD.Outputs {
			lots[l.Batch] = l
		}
	}
	for i, q := range e.OutputQuantityList {
		f := fmt.Sprintf("outputQuantityList[%d]", i)
		g, err := grams(f, q.Quantity, q.UOM)
		if err != nil {
			return nil, err
		}
		l, ok := lots[q.EPCClass]
		if !ok {
			return nil, fmt.Errorf("%s: ilmd mt:outputs names no mt:material and mt:form for %s", f, q.EPCClass)
		}
		p.Outputs = append(p.Outputs, model.ProcessOutput{ID: b.BatchID(q.EPCClass), Material: model.Material(l.Material), Form: model.Form(l.Form), Mass: g})
	}
	if e.VirginMass != nil {
		g, err := grams("mt:virginMass", e.VirginMass.Quantity, e.VirginMass.UOM)
		if err != nil {
			return nil, err
		}
		p.VirginMass = g
	}
	return p, nil
}

// placeOf names the event's place: the business location, else the read
// point, by its master data name or the text its URI encodes.
// A site's GS1 Digital Link names a site (siteOf), not a place.
func (b Base) placeOf(e *Event, places map[string]string) string {
	for _, ref := range []*Ref{e.BizLocation, e.ReadPoint} {
		if ref == nil {
			continue
		}
		if _, site := SiteOf(ref.ID); site {
			continue
		}
		if name, ok := places[ref.ID]; ok {
			return name
		}
		return b.PlaceName(ref.ID)
	}
	return ""
}

// siteOf is the GLN of the event's site: its business location, else its
// read point, when written as a site's GS1 Digital Link; "" when neither
// is.
func siteOf(e *Event) string {
	for _, ref := range []*Ref{e.BizLocation, e.ReadPoint} {
		if ref == nil {
			continue
		}
		if gln, ok := SiteOf(ref.ID); ok {
			return gln
		}
	}
	return ""
}

// localEventTime writes the event time in the event's own time-zone
// offset, as a collector would give it.
func localEventTime(e *Event) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, e.EventTime)
	if err != nil {
		return "", fmt.Errorf("eventTime %q: %w", e.EventTime, err)
	}
	z, err := time.Parse("-07:00", e.EventTimeZoneOffset)
	if err != nil {
		return "", fmt.Errorf("eventTimeZoneOffset %q: %w", e.EventTimeZoneOffset, err)
	}
	_, secs := z.Zone()
	return t.In(time.FixedZone(e.EventTimeZoneOffset, secs)).Format(time.RFC3339Nano), nil
}

// units maps UN/ECE Rec 20 mass units to ParseMass's.
var units = map[string]string{"KGM": "kg", "GRM": "g", "TNE": "t"}

// grams reads an EPCIS quantity exactly, refusing what is not a whole
// number of grams.
func grams(field string, q json.Number, uom string) (model.Grams, error) {
	u, ok := units[uom]
	if !ok {
		return 0, fmt.Errorf("%s: uom %q is not a mass unit mtrace reads (KGM, GRM or TNE)", field, uom)
	}
	if q == "" {
		return 0, fmt.Errorf("%s: no quantity", field)
	}
	g, err := model.ParseMass(string(q) + u)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return g, nil
}
