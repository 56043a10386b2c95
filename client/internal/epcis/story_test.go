package epcis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// story is a small ledger, built the way the chaincode writes it: three
// collections, their handovers (one with a transit loss, one rejected and
// one cancelled first), sorting, an extrusion into two spools with virgin
// material, a certificate, a quarantine and its release, and a print.
type story struct {
	events  []model.Event
	batches Batches
	n       int
}

var (
	muni    = model.Actor{MSP: "MunicipalityMSP", Identity: "User1@municipality"}
	recy    = model.Actor{MSP: "RecyclerMSP", Identity: "User1@recycler"}
	maker   = model.Actor{MSP: "MakerMSP", Identity: "User1@maker"}
	auditor = model.Actor{MSP: "AuditorMSP", Identity: "User1@auditor"}
)

func (s *story) tx(by model.Actor, name, typ, step, disp string) model.Event {
	s.n++
	return model.Event{Name: name, Type: typ, BizStep: step, Disposition: disp, By: by,
		EventTime: time.Date(2026, 11, 21, 8, 0, s.n, 0, time.UTC).Format(time.RFC3339Nano),
		TxID:      fmt.Sprintf("%064x", s.n), Where: model.Where{Org: by.MSP}}
}

func (s *story) add(ev model.Event) model.Event { s.events = append(s.events, ev); return ev }

func (s *story) register(id string, g model.Grams, place, at string) {
	ev := s.tx(muni, model.EvBatchRegistered, model.ObjectEvent, model.BizCollecting, model.DispActive)
	ev.Action, ev.Where.Place, ev.Quantities = "ADD", place, []model.Quantity{model.Qty(id, g)}
	t, _ := time.Parse(time.RFC3339, at)
	s.batches[id] = &model.Batch{ID: id, Material: model.PET, WasteCode: "15 01 02", Form: model.FormWaste,
		InitialMass: g, RemainingMass: g, Owner: muni.MSP, RecycledContent: model.FullRecycled,
		Origin: model.Origin{Collection: &model.Collection{Location: place, CollectedAt: model.FormatTime(t),
			Collector: muni.MSP, ZoneOffset: t.Format("-07:00")}}}
	s.add(ev)
}

func (s *story) handover(id string, from, to model.Actor, received model.Grams) {
	b := s.batches[id]
	offer := s.tx(from, model.EvTransferOffered, model.ObjectEvent, model.BizShipping, model.DispInTransit)
	offer.Action, offer.Source, offer.Destination = "OBSERVE", from.MSP, to.MSP
	offer.Quantities = []model.Quantity{model.Qty(id, b.RemainingMass)}
	s.add(offer)
	acc := s.tx(to, model.EvTransferAccepted, model.ObjectEvent, model.BizReceiving, model.DispActive)
	acc.Action, acc.Source, acc.Destination = "OBSERVE", from.MSP, to.MSP
	acc.Quantities = []model.Quantity{model.Qty(id, received)}
	b.Handovers = append(b.Handovers, model.Handover{From: from.MSP, To: to.MSP, Offered: b.RemainingMass, Received: received, OfferTx: offer.TxID, AcceptTx: acc.TxID})
	b.RemainingMass, b.Owner = received, to.MSP
	s.add(acc)
}

func (s *story) process(by model.Actor, step model.Step, place string, virgin model.Grams, in map[string]model.Grams, outs ...model.ProcessOutput) model.Event {
	ev := s.tx(by, model.EvBatchProcessed, model.TransformationEvent, model.BizTransforming, model.DispActive)
	ev.ProcessStep, ev.Where.Place = string(step), place
	d := &model.Derivation{Step: step, Tx: ev.TxID, By: by, VirginMass: virgin}
	var taken, made model.Grams
	for _, id := range sortedKeys(in) {
		ev.Inputs = append(ev.Inputs, model.Qty(id, in[id]))
		d.Inputs = append(d.Inputs, model.Take{ID: id, Mass: in[id]})
		s.batches[id].RemainingMass -= in[id]
		taken += in[id]
	}
	for _, o := range outs {
		ev.Outputs = append(ev.Outputs, model.Qty(o.ID, o.Mass))
		made += o.Mass
	}
	d.Loss = taken + virgin - made
	for _, o := range outs {
		s.batches[o.ID] = &model.Batch{ID: o.ID, Material: o.Material, Form: o.Form, InitialMass: o.Mass,
			RemainingMass: o.Mass, Owner: by.MSP, RecycledContent: 9000, Origin: model.Origin{Process: d}}
	}
	return s.add(ev)
}

func sortedKeys(m map[string]model.Grams) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func (s *story) object(by model.Actor, name, step, disp, id, reason string) model.Event {
	ev := s.tx(by, name, model.ObjectEvent, step, disp)
	ev.Action, ev.Reason = "OBSERVE", reason
	ev.Quantities = []model.Quantity{model.Qty(id, s.batches[id].RemainingMass)}
	return s.add(ev)
}

func newStory() *story {
	s := &story{batches: Batches{}}
	s.add(s.tx(muni, model.EvRegistryBootstrapped, "", "", ""))
	s.register("K-1", 1_250_000, "Kadıköy, Istanbul", "2026-11-20T09:30:00+03:00")
	s.register("U-1", 980_000, "Üsküdar, Istanbul", "2026-11-20T10:15:00+03:00")
	s.register("B-1", 1_100_000, "Beşiktaş, Istanbul", "2026-11-20T11:05:30.25+03:00")
	s.handover("K-1", muni, recy, 1_240_000)
	s.handover("U-1", muni, recy, 980_000)
	// B-1 is offered, rejected, offered again, cancelled, and handed over.
	rej := s.object(recy, model.EvTransferRejected, model.BizReceiving, model.DispReturned, "B-1", "wet bales")
	rej.Source, rej.Destination = muni.MSP, recy.MSP
	s.events[len(s.events)-1] = rej
	can := s.object(muni, model.EvTransferCancelled, model.BizShipping, model.DispActive, "B-1", "")
	can.Source, can.Destination = muni.MSP, recy.MSP
	s.events[len(s.events)-1] = can
	s.handover("B-1", muni, recy, 1_100_000)
	s.process(recy, model.StepSorting, "Tuzla sorting line", 0,
		map[string]model.Grams{"K-1": 1_240_000, "U-1": 980_000, "B-1": 1_100_000},
		model.ProcessOutput{ID: "S-1", Material: model.PET, Form: model.FormSorted, Mass: 3_200_000})
	s.process(recy, model.StepExtrusion, "", 200,
		map[string]model.Grams{"S-1": 2_200},
		model.ProcessOutput{ID: "F-1", Material: model.PET, Form: model.FormFilament, Mass: 1_000},
		model.ProcessOutput{ID: "F-2", Material: model.PET, Form: model.FormFilament, Mass: 1_000})
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	s.batches["F-1"].Documents = []model.Document{{Name: "lab certificate", SHA256: sha, URI: "https://lab.example.org/r/1", Tx: fmt.Sprintf("%064x", s.n+1)}}
	s.object(recy, model.EvDocumentAttached, model.BizInspecting, model.DispActive, "F-1", "lab certificate")
	s.object(auditor, model.EvBatchQuarantined, model.BizHolding, model.DispNonConformant, "U-1", "contamination")
	s.object(auditor, model.EvBatchReleased, model.BizReleasing, "inactive", "U-1", "contamination")
	s.handover("F-1", recy, maker, 1_000)
	s.process(maker, model.StepPrinting, "Kadıköy makerspace", 0,
		map[string]model.Grams{"F-1": 350},
		model.ProcessOutput{ID: "VASE-1", Material: model.PET, Form: model.FormProduct, Mass: 310})
	return s
}

const base = Base("https://id.recycling.example.org/")

// export maps and writes the story's events into one document.
func export(t *testing.T, s *story) ([]byte, []*Event) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	var evs []*Event
	for _, ev := range s.events {
		e, ok, err := base.Map(ev, s.batches)
		require.NoError(t, err, ev.Name)
		if !ok {
			continue
		}
		require.NoError(t, w.Write(e))
		evs = append(evs, e)
	}
	require.NoError(t, w.Close())
	return buf.Bytes(), evs
}

func TestStoryExportValidates(t *testing.T) {
	doc, evs := export(t, newStory())
	if err := Validate(bytes.NewReader(doc)); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	// One EPCIS event per ledger event but the registry's.
	assert.Len(t, evs, len(newStory().events)-1)
	// The same ledger exports the same IDs; every ID is distinct.
	_, again := export(t, newStory())
	ids := map[string]bool{}
	for i, e := range evs {
		assert.Equal(t, again[i].EventID, e.EventID)
		assert.False(t, ids[e.EventID], "duplicate %s", e.EventID)
		ids[e.EventID] = true
	}
}

// find returns the exported events with the given bizStep.
func find(evs []*Event, step string) []*Event {
	var out []*Event
	for _, e := range evs {
		if e.BizStep == step {
			out = append(out, e)
		}
	}
	return out
}

func TestStoryMapping(t *testing.T) {
	s := newStory()
	doc, evs := export(t, s)

	col := find(evs, "collecting")
	require.Len(t, col, 3)
	k := col[0]
	assert.Equal(t, "ObjectEvent", k.Type)
	assert.Equal(t, "ADD", k.Action)
	assert.Equal(t, "active", k.Disposition)
	assert.Equal(t, "2026-11-20T09:30:00+03:00", k.EventTime, "the collector's own offset is kept")
	assert.Equal(t, "+03:00", k.EventTimeZoneOffset)
	assert.Equal(t, "2026-11-21T08:00:02Z", k.RecordTime)
	assert.Equal(t, "2026-11-20T11:05:30.25+03:00", col[2].EventTime)
	assert.Equal(t, []Quantity{{EPCClass: "https://id.recycling.example.org/batch/K-1", Quantity: "1250", UOM: "KGM"}}, k.QuantityList)
	assert.Equal(t, &Ref{ID: "https://id.recycling.example.org/place/Kad%C4%B1k%C3%B6y%2C%20Istanbul"}, k.ReadPoint)
	assert.Equal(t, k.ReadPoint, k.BizLocation)
	assert.Equal(t, &ILMD{Material: "PET", Form: "waste", WasteCode: "15 01 02"}, k.ILMD)
	assert.Equal(t, "https://id.recycling.example.org/org/MunicipalityMSP", k.Actor)
	assert.Equal(t, s.events[1].TxID, k.FabricTx)

	ship := find(evs, "shipping")
	require.Len(t, ship, 4)
	assert.Equal(t, "in_transit", ship[0].Disposition)
	assert.Equal(t, []Party{{Type: OwningParty, Source: base.Org("MunicipalityMSP")}, {Type: PossessingParty, Source: base.Org("MunicipalityMSP")}}, ship[0].SourceList)
	assert.Equal(t, []Party{{Type: OwningParty, Destination: base.Org("RecyclerMSP")}, {Type: PossessingParty, Destination: base.Org("RecyclerMSP")}}, ship[0].DestinationList)

	recv := find(evs, "receiving")
	require.Len(t, recv, 5)
	assert.Equal(t, json.Number("1240"), recv[0].QuantityList[0].Quantity, "received")
	assert.Equal(t, &Mass{Quantity: "1250", UOM: "KGM"}, recv[0].Offered, "offered")
	rejected := recv[2]
	assert.Equal(t, "returned", rejected.Disposition)
	assert.Equal(t, "wet bales", rejected.Reason)
	assert.Nil(t, rejected.Offered)
	require.Len(t, find(evs, "void_shipping"), 1)

	ext := find(evs, "mt:extrusion")
	require.Len(t, ext, 1)
	x := ext[0]
	assert.Equal(t, "TransformationEvent", x.Type)
	assert.Empty(t, x.Action)
	assert.Equal(t, base.Process(x.FabricTx), x.TransformationID)
	assert.Equal(t, []Quantity{{EPCClass: base.Batch("S-1"), Quantity: "2.2", UOM: "KGM"}}, x.InputQuantityList)
	assert.Equal(t, []Quantity{{EPCClass: base.Batch("F-1"), Quantity: "1", UOM: "KGM"}, {EPCClass: base.Batch("F-2"), Quantity: "1", UOM: "KGM"}}, x.OutputQuantityList)
	assert.Equal(t, &Mass{Quantity: "0.2", UOM: "KGM"}, x.VirginMass)
	assert.Equal(t, &Mass{Quantity: "0.4", UOM: "KGM"}, x.Loss)
	assert.Equal(t, json.Number("9000"), *x.RecycledContent)
	assert.Equal(t, []Lot{{Batch: base.Batch("F-1"), Material: "PET", Form: "filament"}, {Batch: base.Batch("F-2"), Material: "PET", Form: "filament"}}, x.ILMD.Outputs)
	assert.Nil(t, x.ReadPoint, "the extrusion named no place")
	sorting := find(evs, "mt:sorting")[0]
	assert.Len(t, sorting.InputQuantityList, 3)
	assert.Equal(t, &Ref{ID: base.Place("Tuzla sorting line")}, sorting.BizLocation)

	insp := find(evs, "inspecting")
	require.Len(t, insp, 1)
	assert.Equal(t, "ni:///sha-256;n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", insp[0].CertificationInfo)
	assert.Equal(t, &DocumentRef{Name: "lab certificate", SHA256: s.batches["F-1"].Documents[0].SHA256, URI: "https://lab.example.org/r/1"}, insp[0].Document)

	hold := find(evs, "holding")
	require.Len(t, hold, 1)
	assert.Equal(t, "unavailable", hold[0].Disposition)
	assert.Equal(t, "contamination", hold[0].Reason)
	rel := find(evs, "mt:releasing")
	require.Len(t, rel, 1)
	assert.Equal(t, "available", rel[0].Disposition)

	// Places are named in the master data, once each, sorted by URI.
	var d struct {
		Context []any  `json:"@context"`
		Header  Header `json:"epcisHeader"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	assert.Equal(t, []any{ContextURL, map[string]any{"mt": Vocab}}, d.Context)
	voc := d.Header.MasterData.VocabularyList
	require.Len(t, voc, 1)
	assert.Equal(t, VTypeBusinessLocation, voc[0].Type)
	var names []any
	for _, el := range voc[0].Elements {
		names = append(names, el.Attributes[0].Attribute)
		assert.Equal(t, base.Place(el.Attributes[0].Attribute.(string)), el.ID)
	}
	assert.ElementsMatch(t, []any{"Kadıköy, Istanbul", "Üsküdar, Istanbul", "Beşiktaş, Istanbul", "Tuzla sorting line", "Kadıköy makerspace"}, names)
}

func TestMapErrors(t *testing.T) {
	s := newStory()
	reg := s.events[1]
	_, _, err := base.Map(reg, Batches{})
	assert.ErrorContains(t, err, `batch "K-1" not read`)
	unknown := reg
	unknown.Name = "SomethingNew"
	_, _, err = base.Map(unknown, s.batches)
	assert.ErrorContains(t, err, `ledger event "SomethingNew"`)
	_, ok, err := base.Map(s.events[0], nil)
	assert.NoError(t, err)
	assert.False(t, ok, "the registry's events move no material")
	_, ok, err = base.Map(model.Event{Name: "BatchMigrated", Type: model.ObjectEvent, TxID: "m"}, nil)
	assert.NoError(t, err)
	assert.False(t, ok, "a change that names no quantity is no EPCIS event")
}

// TestMapAuditorDocument: a document an auditor anchored under a key of
// its own maps like one on the batch.
func TestMapAuditorDocument(t *testing.T) {
	s := newStory()
	ev := s.tx(auditor, model.EvDocumentAttached, model.ObjectEvent, model.BizInspecting, model.DispActive)
	ev.Action, ev.Reason, ev.Quantities = "OBSERVE", "lab report", []model.Quantity{model.Qty("U-1", 980_000)}
	_, _, err := base.Map(ev, s.batches)
	assert.ErrorContains(t, err, `batch "U-1" has no document anchored by tx`)
	sha := strings.Repeat("cd", 32)
	s.batches["U-1"].AuditorDocuments = []model.AuditorDocument{{Batch: "U-1",
		Document: model.Document{Name: "lab report", SHA256: sha, AnchoredBy: auditor, Tx: ev.TxID}, Event: ev}}
	e, ok, err := base.Map(ev, s.batches)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, e.Document)
	assert.Equal(t, sha, e.Document.SHA256)
	assert.Equal(t, "lab report", e.Document.Name)
}

func TestLegacyCollectionStaysUTC(t *testing.T) {
	s := newStory()
	s.batches["K-1"].Origin.Collection.ZoneOffset = ""
	e, _, err := base.Map(s.events[1], s.batches)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-20T06:30:00Z", e.EventTime)
	assert.Equal(t, "+00:00", e.EventTimeZoneOffset)
}

func TestBase(t *testing.T) {
	for _, bad := range []string{"https://x.example.org/id", "not a uri/", "id/"} {
		_, err := ParseBase(bad)
		assert.Error(t, err, bad)
	}
	b, err := ParseBase(DefaultBase)
	require.NoError(t, err)
	assert.Equal(t, "urn:mtrace:id:batch/PET-1", b.Batch("PET-1"))
	assert.Equal(t, "Kadıköy, Istanbul", b.PlaceName(b.Place("Kadıköy, Istanbul")))
	assert.Equal(t, "RecyclerMSP", b.MSP(b.Org("RecyclerMSP")))
	assert.Equal(t, "urn:epc:class:lgtin:4012345.011111.4444", b.BatchID("urn:epc:class:lgtin:4012345.011111.4444"))
	assert.NoError(t, CheckURI(b.Place("Kadıköy, Istanbul \"x\" 100%")))
	assert.Regexp(t, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, EventID("tx", "PET-1"))
	assert.NotEqual(t, EventID("tx", "PET-1"), EventID("tx", "PET-2"))
}
