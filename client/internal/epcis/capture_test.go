package epcis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func readAll(t *testing.T, doc string) []Captured {
	t.Helper()
	var out []Captured
	require.NoError(t, base.ReadDocuments(strings.NewReader(doc), func(c Captured) error { out = append(out, c); return nil }))
	return out
}

// TestCaptureOwnExport reads the story's export back: every event maps to
// the request that would make the same change, by the same organisation.
func TestCaptureOwnExport(t *testing.T) {
	s := newStory()
	doc, _ := export(t, s)
	docs := readAll(t, string(doc))
	require.Len(t, docs, 1)
	require.NoError(t, docs[0].Err)
	items := docs[0].Items
	require.Len(t, items, len(s.events)-1)
	for i, it := range items {
		ev := s.events[i+1]
		require.Empty(t, it.Refused, "event %d (%s)", i, ev.Name)
		assert.Equal(t, i, it.Index)
		assert.Equal(t, ev.By.MSP, it.Actor, "event %d (%s)", i, ev.Name)
		assert.Equal(t, it.EventID, it.Request.EventID)
	}
	kinds := []model.CaptureKind{}
	for _, it := range items {
		kinds = append(kinds, it.Request.Kind)
	}
	assert.Equal(t, []model.CaptureKind{"register", "register", "register", "offer", "accept", "offer", "accept",
		"reject", "cancel", "offer", "accept", "process", "process", "attach", "quarantine", "release", "offer", "accept", "process"}, kinds)

	assert.Equal(t, &model.RegisterRequest{ID: "K-1", Material: model.PET, WasteCode: "15 01 02", Mass: 1_250_000,
		Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T09:30:00+03:00", OriginClass: model.PostConsumer}, items[0].Request.Register,
		"the export's mt:originClass is kept")
	assert.Equal(t, "2026-11-20T11:05:30.25+03:00", items[2].Request.Register.CollectedAt)
	assert.Equal(t, model.CaptureRequest{EventID: items[3].EventID, Kind: model.CaptureOffer, Batch: "K-1", To: "RecyclerMSP", Mass: 1_250_000}, *items[3].Request)
	assert.Equal(t, model.Grams(1_240_000), items[4].Request.Mass, "received")
	assert.Equal(t, "wet bales", items[7].Request.Reason)
	assert.Equal(t, model.ProcessRequest{Step: model.StepExtrusion, VirginMass: 200,
		Inputs:  []model.ProcessInput{{ID: "S-1", Mass: 2_200}},
		Outputs: []model.ProcessOutput{{ID: "F-1", Material: model.PET, Form: model.FormFilament, Mass: 1_000}, {ID: "F-2", Material: model.PET, Form: model.FormFilament, Mass: 1_000}}},
		*items[12].Request.Process)
	assert.Equal(t, "Tuzla sorting line", items[11].Request.Process.Location)
	assert.Equal(t, &model.DocumentRequest{Name: "lab certificate", SHA256: s.batches["F-1"].Documents[0].SHA256, URI: "https://lab.example.org/r/1"}, items[13].Request.Document)
	assert.Equal(t, "contamination", items[14].Request.Reason)
}

// plant is a valid document; the tests below break it one way each.
const plant = `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"mt":"urn:mtrace:vocab:"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-25T16:00:00+03:00",
"epcisBody":{"eventList":[
{"type":"ObjectEvent","eventID":"urn:uuid:c1","eventTime":"2026-11-25T08:10:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"ADD","bizStep":"https://ref.gs1.org/cbv/BizStep-collecting","bizLocation":{"id":"https://id.recycling.example.org/place/depot%201"},
 "quantityList":[{"epcClass":"https://id.recycling.example.org/batch/C-1","quantity":640.5,"uom":"KGM"}],
 "ilmd":{"mt:material":"PET","mt:wasteCode":"15 01 02"}},
{"type":"ObjectEvent","eventID":"urn:uuid:s1","eventTime":"2026-11-25T11:00:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"OBSERVE","bizStep":"shipping","quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.011111.4444"}],
 "sourceList":[{"type":"owning_party","source":"https://id.recycling.example.org/org/MunicipalityMSP"}],
 "destinationList":[{"type":"owning_party","destination":"https://id.recycling.example.org/org/RecyclerMSP"}]}
]}}`

func TestCapturePlant(t *testing.T) {
	docs := readAll(t, plant+"\n"+plant)
	require.Len(t, docs, 2, "a stream of documents")
	assert.Equal(t, 2, docs[1].Index)
	it := docs[0].Items
	require.Len(t, it, 2)
	assert.Equal(t, &model.RegisterRequest{ID: "C-1", Material: model.PET, WasteCode: "15 01 02", Mass: 640_500,
		Location: "depot 1", CollectedAt: "2026-11-25T08:10:00+03:00"}, it[0].Request.Register)
	assert.Equal(t, "", it[0].Actor, "no actor named: the caller's profile")
	assert.Equal(t, "urn:epc:class:lgtin:4012345.011111.4444", it[1].Request.Batch, "a foreign class id is the batch id")
	assert.Equal(t, model.Grams(0), it[1].Request.Mass)
	assert.Equal(t, "MunicipalityMSP", it[1].Actor)
}

func TestCaptureMalformed(t *testing.T) {
	docErrs := []struct{ name, from, to, want string }{
		{"read point text", `"bizLocation":{"id":"https://id.recycling.example.org/place/depot%201"}`, `"bizLocation":"depot 1"`, "not valid against GS1's EPCIS 2.0 schema: at /epcisBody/eventList/0/bizLocation"},
		{"other mt prefix", `{"mt":"urn:mtrace:vocab:"}`, `{"mt":"https://other.example.org/"}`, "declares the prefix mt as https://other.example.org/"},
		{"a single event", `"type":"EPCISDocument"`, `"type":"EPCISQueryDocument"`, "not valid"},
	}
	for _, tt := range docErrs {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(plant, tt.from, tt.to, 1)
			require.NotEqual(t, plant, doc)
			docs := readAll(t, doc)
			require.Len(t, docs, 1)
			require.Error(t, docs[0].Err)
			assert.Contains(t, docs[0].Err.Error(), tt.want)
			assert.Empty(t, docs[0].Items, "nothing of a refused document is mapped")
		})
	}
	err := base.ReadDocuments(strings.NewReader(plant+"\n{"), func(Captured) error { return nil })
	assert.ErrorContains(t, err, "document 2: not JSON")
	assert.ErrorContains(t, base.ReadDocuments(strings.NewReader(" "), func(Captured) error { return nil }), "no JSON document")

	evErrs := []struct{ name, from, to, want string }{
		{"no event id", `"eventID":"urn:uuid:c1",`, ``, "no eventID"},
		{"fraction of a gram", `"quantity":640.5,`, `"quantity":0.0005,`, "quantityList[0]: malformed mass: \"0.0005kg\" is not a whole number of grams"},
		{"count, not mass", `"quantity":640.5,"uom":"KGM"`, `"quantity":640`, `uom "" is not a mass unit`},
		{"no material", `"mt:material":"PET",`, ``, "needs ilmd mt:material"},
		{"no waste code", `,"mt:wasteCode":"15 01 02"`, ``, "needs ilmd mt:wasteCode"},
		{"no place", `"bizLocation":{"id":"https://id.recycling.example.org/place/depot%201"},`, ``, "needs its place"},
		{"no mass", `,"quantity":640.5,"uom":"KGM"`, ``, "needs its mass"},
		{"instances", `"action":"ADD",`, `"action":"ADD","epcList":["urn:epc:id:sgtin:0614141.107346.2017"],`, "names instances"},
		{"add without collecting", `"bizStep":"https://ref.gs1.org/cbv/BizStep-collecting"`, `"bizStep":"commissioning"`, `action ADD and bizStep "commissioning"`},
		{"two batches", `"quantityList":[{"epcClass":"https://id.recycling.example.org/batch/C-1","quantity":640.5,"uom":"KGM"}]`,
			`"quantityList":[{"epcClass":"https://id.recycling.example.org/batch/C-1","quantity":1,"uom":"KGM"},{"epcClass":"https://id.recycling.example.org/batch/C-2","quantity":1,"uom":"KGM"}]`, "has 2 quantityList entries"},
		{"bad id", `batch/C-1"`, `batch/C%201"`, `epcClass: must be 1-64 characters`},
	}
	for _, tt := range evErrs {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(plant, tt.from, tt.to, 1)
			require.NotEqual(t, plant, doc)
			docs := readAll(t, doc)
			require.NoError(t, docs[0].Err)
			it := docs[0].Items[0]
			assert.Nil(t, it.Request)
			assert.Contains(t, it.Refused, tt.want)
			assert.NotNil(t, docs[0].Items[1].Request, "the next event is still mapped")
		})
	}
}

func TestCaptureOtherEvents(t *testing.T) {
	for _, tt := range []struct{ event, want string }{
		{`{"type":"AggregationEvent","eventID":"urn:uuid:a","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","action":"ADD","parentID":"urn:epc:id:sscc:0614141.1234567890","childQuantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"KGM"}]}`,
			"AggregationEvent has no mtrace transaction"},
		{`{"type":"ObjectEvent","eventID":"urn:uuid:b","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"packing","quantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"KGM"}]}`,
			`bizStep "packing" has no mtrace transaction`},
		{`{"type":"ObjectEvent","eventID":"urn:uuid:c","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"shipping","quantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"KGM"}]}`,
			"shipping needs a destinationList owning_party"},
		{`{"type":"ObjectEvent","eventID":"urn:uuid:d","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"holding","quantityList":[{"epcClass":"urn:x:1"}]}`,
			"holding needs mt:reason"},
		{`{"type":"TransformationEvent","eventID":"urn:uuid:e","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","bizStep":"mt:melting","inputQuantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"KGM"}],"outputQuantityList":[{"epcClass":"urn:x:2","quantity":1,"uom":"KGM"}]}`,
			"bizStep mt:melting: step: must be one of"},
		{`{"type":"TransformationEvent","eventID":"urn:uuid:f","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","bizStep":"commissioning","inputQuantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"KGM"}],"outputQuantityList":[{"epcClass":"urn:x:2","quantity":1,"uom":"KGM"}]}`,
			"outputQuantityList[0]: ilmd mt:outputs names no mt:material"},
	} {
		doc := strings.Replace(plant, `"eventList":[`, `"eventList":[`+tt.event+",", 1)
		docs := readAll(t, doc)
		require.NoError(t, docs[0].Err, tt.event)
		assert.Contains(t, docs[0].Items[0].Refused, tt.want)
	}
}

func TestCaptureStepOther(t *testing.T) {
	ev := `{"type":"TransformationEvent","eventID":"urn:uuid:f","eventTime":"2026-11-25T08:10:00Z","eventTimeZoneOffset":"+00:00","bizStep":"commissioning",
	"inputQuantityList":[{"epcClass":"urn:x:1","quantity":1,"uom":"TNE"}],"outputQuantityList":[{"epcClass":"urn:x:2","quantity":900,"uom":"KGM"}],
	"ilmd":{"mt:outputs":[{"mt:batch":"urn:x:2","mt:material":"PP","mt:form":"pellets"}]}}`
	docs := readAll(t, strings.Replace(plant, `"eventList":[`, `"eventList":[`+ev+",", 1))
	p := docs[0].Items[0].Request.Process
	require.NotNil(t, p)
	assert.Equal(t, model.StepOther, p.Step, "a CBV bizStep is a process of step other")
	assert.Equal(t, []model.ProcessInput{{ID: "urn:x:1", Mass: model.Tonne}}, p.Inputs)
	assert.Equal(t, []model.ProcessOutput{{ID: "urn:x:2", Material: model.PP, Form: model.FormPellets, Mass: 900_000}}, p.Outputs)
}
