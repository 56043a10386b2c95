package export

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/epcis"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

var (
	muni = model.Actor{MSP: "MunicipalityMSP", Identity: "u1"}
	recy = model.Actor{MSP: "RecyclerMSP", Identity: "u2"}
)

// ledgerStory is a registration, a handover and a sorting, as the
// chaincode emits and stores them.
type ledgerStory struct {
	events  []model.ChaincodeEvent
	batches map[string]*model.Batch
	rec     model.Process
}

func newLedgerStory() *ledgerStory {
	s := &ledgerStory{batches: map[string]*model.Batch{}}
	ev := func(n int, by model.Actor, name, typ, step, disp string) model.Event {
		return model.Event{Name: name, Type: typ, BizStep: step, Disposition: disp, By: by, Where: model.Where{Org: by.MSP},
			EventTime: time.Date(2026, 11, 20, 8, n, 0, 0, time.UTC).Format(time.RFC3339Nano), TxID: strings.Repeat(string(rune('a'+n)), 64)}
	}
	reg := ev(1, muni, model.EvBatchRegistered, model.ObjectEvent, model.BizCollecting, model.DispActive)
	reg.Action, reg.Where.Place, reg.Quantities = "ADD", "Kadıköy, Istanbul", []model.Quantity{model.Qty("K-1", 1_250_000)}
	off := ev(2, muni, model.EvTransferOffered, model.ObjectEvent, model.BizShipping, model.DispInTransit)
	off.Action, off.Source, off.Destination, off.Quantities = "OBSERVE", muni.MSP, recy.MSP, []model.Quantity{model.Qty("K-1", 1_250_000)}
	acc := ev(3, recy, model.EvTransferAccepted, model.ObjectEvent, model.BizReceiving, model.DispActive)
	acc.Action, acc.Source, acc.Destination, acc.Quantities = "OBSERVE", muni.MSP, recy.MSP, []model.Quantity{model.Qty("K-1", 1_240_000)}
	pro := ev(4, recy, model.EvBatchProcessed, model.TransformationEvent, model.BizTransforming, model.DispActive)
	pro.ProcessStep = "sorting"
	pro.Inputs, pro.Outputs = []model.Quantity{model.Qty("K-1", 1_240_000)}, []model.Quantity{model.Qty("S-1", 1_200_000)}
	s.rec = model.Process{Derivation: model.Derivation{Step: model.StepSorting, Tx: pro.TxID, By: recy,
		Inputs: []model.Take{{ID: "K-1", Mass: 1_240_000}}, Loss: 40_000}, Outputs: []model.Take{{ID: "S-1", Mass: 1_200_000}}, RecycledContent: 10000}
	for _, e := range []model.Event{reg, off, acc, pro} {
		s.events = append(s.events, model.ChaincodeEvent{Event: e})
	}
	s.batches["K-1"] = &model.Batch{ID: "K-1", Material: model.PET, WasteCode: "15 01 02", Form: model.FormWaste, Owner: recy.MSP,
		Origin:    model.Origin{Collection: &model.Collection{Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T06:30:00Z", ZoneOffset: "+03:00"}},
		Handovers: []model.Handover{{From: muni.MSP, To: recy.MSP, Offered: 1_250_000, Received: 1_240_000, AcceptTx: acc.TxID}}}
	d := s.rec.Derivation
	s.batches["S-1"] = &model.Batch{ID: "S-1", Material: model.PET, Form: model.FormSorted, Owner: recy.MSP, RecycledContent: 10000, Origin: model.Origin{Process: &d}}
	return s
}

// serve answers ReadBatches from the story's batches.
func (s *ledgerStory) serve(f *ledgertest.Fake) {
	f.On(api.ReadBatches, func(args []string) ([]byte, error) {
		var ids []string
		if err := json.Unmarshal([]byte(args[0]), &ids); err != nil {
			return nil, err
		}
		out := make([]*model.Batch, len(ids))
		for i, id := range ids {
			out[i] = s.batches[id]
		}
		return json.Marshal(out)
	})
}

func (s *ledgerStory) replay(f *ledgertest.Fake) {
	for i, ce := range s.events {
		raw, _ := json.Marshal(ce)
		f.AddEvents(ledger.Event{Block: uint64(i + 3), TxID: ce.Event.TxID, Name: ce.Event.Name, Payload: raw})
	}
}

func decode(t *testing.T, doc []byte) []epcis.Event {
	t.Helper()
	require.NoError(t, epcis.Validate(bytes.NewReader(doc)), "%s", doc)
	var d struct {
		Body struct {
			EventList []epcis.Event `json:"eventList"`
		} `json:"epcisBody"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	return d.Body.EventList
}

func TestExportAll(t *testing.T) {
	e := cmdtest.New(t)
	s := newLedgerStory()
	s.serve(e.Fake)
	s.replay(e.Fake)
	require.NoError(t, e.Run(NewCmdExport(e.F, nil), "export", "--all", "--base", "https://id.example.org/"))
	evs := decode(t, e.Out.Bytes())
	require.Len(t, evs, 4)
	steps := []string{}
	for _, ev := range evs {
		steps = append(steps, ev.BizStep)
	}
	assert.Equal(t, []string{"collecting", "shipping", "receiving", "mt:sorting"}, steps, "block order")
	assert.Equal(t, "2026-11-20T09:30:00+03:00", evs[0].EventTime)
	assert.Equal(t, "https://id.example.org/batch/K-1", evs[0].QuantityList[0].EPCClass)
	assert.Equal(t, json.Number("1250"), evs[2].Offered.Quantity)
	assert.Contains(t, e.Out.String(), `"attribute":"Kadıköy, Istanbul"`)
	// One ReadBatches call for the chunk.
	assert.Len(t, e.Fake.CallsTo(api.ReadBatches), 1)
}

func TestExportWindow(t *testing.T) {
	e := cmdtest.New(t)
	s := newLedgerStory()
	s.serve(e.Fake)
	s.replay(e.Fake)
	require.NoError(t, e.Run(NewCmdExport(e.F, nil), "export", "--all", "--since", "2026-11-20T08:02:00Z", "--until", "2026-11-20T11:04:00+03:00"))
	evs := decode(t, e.Out.Bytes())
	require.Len(t, evs, 2)
	assert.Equal(t, "shipping", evs[0].BizStep)
	assert.Equal(t, "receiving", evs[1].BizStep)
	assert.Equal(t, "urn:mtrace:id:batch/K-1", evs[0].QuantityList[0].EPCClass, "the default base")
}

func TestExportProvenance(t *testing.T) {
	e := cmdtest.New(t)
	s := newLedgerStory()
	s.serve(e.Fake)
	// The history holds each version's own part of its event.
	hist := map[string][]model.HistoryEntry{}
	for _, ce := range s.events {
		ev := ce.Event
		for _, id := range []string{"K-1", "S-1"} {
			part := ev.For(id)
			if len(part.Quantities)+len(part.Inputs)+len(part.Outputs) == 0 {
				continue
			}
			b := *s.batches[id]
			b.Event = part
			hist[id] = append(hist[id], model.HistoryEntry{TxID: ev.TxID, Timestamp: ev.EventTime, Batch: &b})
		}
	}
	// A migration rewrites K-1 in a transaction of its own; the version
	// keeps the event before it, which is exported once.
	last := hist["K-1"][len(hist["K-1"])-1]
	hist["K-1"] = append(hist["K-1"], model.HistoryEntry{TxID: "migration-tx", Timestamp: last.Timestamp, Batch: last.Batch})
	// An auditor's hold on S-1 and its release, kept under keys of their
	// own, are in the history with their events.
	aud := model.Actor{MSP: "AuditorMSP", Identity: "u3"}
	holdEv := model.Event{Name: model.EvBatchQuarantined, Type: model.ObjectEvent, BizStep: model.BizHolding, Disposition: model.DispNonConformant,
		Action: "OBSERVE", By: aud, Where: model.Where{Org: aud.MSP}, Reason: "lab: PVC", EventTime: "2026-11-20T09:00:00Z",
		TxID: strings.Repeat("h", 64), Quantities: []model.Quantity{model.Qty("S-1", 1_200_000)}}
	relEv := holdEv
	relEv.Name, relEv.BizStep, relEv.Disposition, relEv.EventTime, relEv.TxID = model.EvBatchReleased, model.BizReleasing, model.DispActive, "2026-11-20T10:00:00Z", strings.Repeat("r", 64)
	held := model.Hold{Batch: "S-1", By: aud, Reason: "lab: PVC", At: holdEv.EventTime, Tx: holdEv.TxID, Event: holdEv,
		Released: &model.Release{By: aud, At: relEv.EventTime, Tx: relEv.TxID, Event: relEv}}
	hist["S-1"] = append(hist["S-1"],
		model.HistoryEntry{TxID: held.Tx, Timestamp: held.At, Oversight: &model.Oversight{Kind: model.OversightHold, Hold: &held}},
		model.HistoryEntry{TxID: relEv.TxID, Timestamp: relEv.EventTime, Oversight: &model.Oversight{Kind: model.OversightRelease, Hold: &held}})
	e.Fake.OnJSON(api.Trace, model.Trace{Root: "S-1", Direction: "up", Nodes: []model.TraceNode{{ID: "S-1"}, {ID: "K-1", Depth: 1}}})
	e.Fake.On(api.GetHistory, func(args []string) ([]byte, error) { return json.Marshal(hist[args[0]]) })
	e.Fake.OnJSON(api.GetProcess, s.rec)
	file := filepath.Join(t.TempDir(), "s1.jsonld")
	require.NoError(t, e.Run(NewCmdExport(e.F, nil), "export", "S-1", "--file", file, "-o", "json"))
	var sum Summary
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &sum))
	assert.Equal(t, Summary{File: file, Events: 6}, sum)
	doc, err := os.ReadFile(file)
	require.NoError(t, err)
	evs := decode(t, doc)
	require.Len(t, evs, 6)
	assert.Equal(t, "collecting", evs[0].BizStep)
	assert.Equal(t, "mt:sorting", evs[3].BizStep)
	assert.Equal(t, "holding", evs[4].BizStep)
	assert.Equal(t, "mt:releasing", evs[5].BizStep)
	assert.Len(t, evs[3].InputQuantityList, 1)
	assert.Len(t, evs[3].OutputQuantityList, 1)
	assert.Equal(t, []string{"S-1", "up"}, e.Fake.CallsTo(api.Trace)[0].Args)

	e2 := cmdtest.New(t)
	e2.Fake.OnJSON(api.Trace, model.Trace{Root: "K-1", Direction: "down", Nodes: []model.TraceNode{{ID: "K-1"}}})
	e2.Fake.OnJSON(api.GetHistory, []model.HistoryEntry{})
	s.serve(e2.Fake)
	require.NoError(t, e2.Run(NewCmdExport(e2.F, nil), "export", "K-1", "--down"))
	assert.Equal(t, []string{"K-1", "down"}, e2.Fake.CallsTo(api.Trace)[0].Args)
	assert.Empty(t, decode(t, e2.Out.Bytes()))
}

func TestExportErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "expected one batch ID or --all"},
		{[]string{"export", "A", "--all"}, "give no batch ID with it"},
		{[]string{"export", "--all", "--down"}, "--down needs a batch ID"},
		{[]string{"export", "a b"}, "ID: must be 1-64 characters"},
		{[]string{"export", "--all", "--base", "https://x.example.org"}, "--base: identifier base"},
		{[]string{"export", "--all", "--since", "yesterday"}, "--since: must be an RFC 3339 time"},
		{[]string{"export", "--all", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-19T00:00:00Z"}, "--since must be before --until"},
		{[]string{"export", "S-1"}, "ledgertest: no answer for Trace"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e := cmdtest.New(t)
			assert.ErrorContains(t, e.Run(NewCmdExport(e.F, nil), tt.args...), tt.want)
		})
	}
}

func TestExportUnreadableEvent(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.AddEvents(ledger.Event{Block: 1, TxID: "tx1", Name: "BatchRegistered", Payload: []byte("{")})
	err := e.Run(NewCmdExport(e.F, nil), "export", "--all")
	assert.ErrorContains(t, err, "event BatchRegistered of tx tx1: unreadable payload")
}
