package epcis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

// storyLedger serves the story's events as chaincode events and its
// batches through ReadBatches.
func storyLedger(t *testing.T, s *story) *ledgertest.Fake {
	f := ledgertest.New()
	for i, ev := range s.events {
		raw, err := json.Marshal(model.ChaincodeEvent{Event: ev})
		require.NoError(t, err)
		f.AddEvents(ledger.Event{Block: uint64(i + 1), TxID: ev.TxID, Name: ev.Name, Payload: raw})
	}
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
	return f
}

func TestExportAll(t *testing.T) {
	s := newStory()
	_, want := export(t, s)
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	x := &Exporter{Ledger: storyLedger(t, s), Base: base}
	require.NoError(t, x.All(context.Background(), w))
	require.NoError(t, w.Close())
	assert.Equal(t, len(want), w.Count(), "every event that moves material")
	require.NoError(t, Validate(bytes.NewReader(buf.Bytes())))
	checked, err := ValidateStream(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Len(t, checked, 1)
	assert.Equal(t, Checked{Index: 1, Type: "EPCISDocument", Events: len(want), Valid: true}, checked[0])

	// A window of ledger time: the story's events are a second apart.
	buf.Reset()
	w = NewWriter(&buf, time.Now())
	x.Since = time.Date(2026, 11, 21, 8, 0, 2, 0, time.UTC)
	x.Until = time.Date(2026, 11, 21, 8, 0, 4, 0, time.UTC)
	require.NoError(t, x.All(context.Background(), w))
	assert.Equal(t, 2, w.Count(), "the registrations at seconds 2 and 3")
}

func TestExportAllErrors(t *testing.T) {
	s := newStory()
	f := storyLedger(t, s).AddEvents(ledger.Event{Block: 99, TxID: "bad", Name: "X", Payload: []byte("{")})
	x := &Exporter{Ledger: f, Base: base}
	err := x.All(context.Background(), NewWriter(&bytes.Buffer{}, time.Now()))
	assert.ErrorContains(t, err, "event X of tx bad: unreadable payload: ")

	f = storyLedger(t, s).OnError(api.ReadBatches, errors.New("peer down"))
	x = &Exporter{Ledger: f, Base: base}
	assert.EqualError(t, x.All(context.Background(), NewWriter(&bytes.Buffer{}, time.Now())), "peer down")

	// An event time that is not a time fails a windowed export.
	odd := newStory()
	odd.events[1].EventTime = "yesterday"
	x = &Exporter{Ledger: storyLedger(t, odd), Base: base, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	assert.ErrorContains(t, x.All(context.Background(), NewWriter(&bytes.Buffer{}, time.Now())), `time "yesterday"`)
}

// Provenance gathers the events of a trace's batches from their histories
// and writes them in ledger time order, a process whole.
func TestExportProvenance(t *testing.T) {
	s := newStory()
	f := storyLedger(t, s)
	// VASE-1's upstream: the print, the spool's handover, extrusion, ...
	f.OnJSON(api.Trace, model.Trace{Root: "VASE-1", Nodes: []model.TraceNode{{ID: "VASE-1"}, {ID: "F-1"}}})
	histories := map[string][]model.HistoryEntry{}
	for _, ev := range s.events {
		for _, q := range append(append(append([]model.Quantity{}, ev.Quantities...), ev.Inputs...), ev.Outputs...) {
			if q.Batch == "VASE-1" || q.Batch == "F-1" {
				b := *s.batches[q.Batch]
				b.Event = ev
				histories[q.Batch] = append(histories[q.Batch], model.HistoryEntry{TxID: ev.TxID, Batch: &b})
			}
		}
	}
	// A version without an event, and a deletion, are skipped.
	histories["F-1"] = append(histories["F-1"], model.HistoryEntry{TxID: "migrated", Batch: &model.Batch{ID: "F-1"}}, model.HistoryEntry{TxID: "gone", IsDelete: true})
	f.On(api.GetHistory, func(args []string) ([]byte, error) { return json.Marshal(histories[args[0]]) })
	f.On(api.GetProcess, func(args []string) ([]byte, error) {
		for _, ev := range s.events {
			if ev.TxID == args[0] {
				var in, out []model.Take
				for _, q := range ev.Inputs {
					in = append(in, model.Take{ID: q.Batch, Mass: q.Grams})
				}
				for _, q := range ev.Outputs {
					out = append(out, model.Take{ID: q.Batch, Mass: q.Grams})
				}
				return json.Marshal(model.Process{Derivation: model.Derivation{Tx: ev.TxID, Inputs: in}, Outputs: out})
			}
		}
		return nil, errors.New("no such process")
	})

	var buf bytes.Buffer
	w := NewWriter(&buf, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	x := &Exporter{Ledger: f, Base: base}
	require.NoError(t, x.Provenance(context.Background(), w, "VASE-1", model.Upstream))
	require.NoError(t, w.Close())
	require.NoError(t, Validate(bytes.NewReader(buf.Bytes())))
	// The extrusion (both spools out), the certificate, the handover of
	// F-1 (offer and acceptance) and the print.
	assert.Equal(t, 5, w.Count())
	doc := buf.String()
	order := []int{strings.Index(doc, `"bizStep":"mt:extrusion"`), strings.Index(doc, `"bizStep":"inspecting"`),
		strings.Index(doc, `"bizStep":"shipping"`), strings.Index(doc, `"bizStep":"receiving"`), strings.Index(doc, `"bizStep":"mt:printing"`)}
	for i := 1; i < len(order); i++ {
		assert.True(t, order[i-1] >= 0 && order[i-1] < order[i], "in ledger time order: %v", order)
	}
	assert.Contains(t, doc, base.Batch("F-2"), "the extrusion is whole: F-2 is an output too")
	assert.Equal(t, []string{"VASE-1", model.Upstream}, f.CallsTo(api.Trace)[0].Args)

	f.OnError(api.GetProcess, errors.New("peer down"))
	assert.EqualError(t, x.Provenance(context.Background(), NewWriter(&bytes.Buffer{}, time.Now()), "VASE-1", model.Upstream), "peer down")
	f.OnError(api.GetHistory, errors.New("no history"))
	assert.EqualError(t, x.Provenance(context.Background(), NewWriter(&bytes.Buffer{}, time.Now()), "VASE-1", model.Upstream), "no history")
	f.OnError(api.Trace, errors.New("not found"))
	assert.EqualError(t, x.Provenance(context.Background(), NewWriter(&bytes.Buffer{}, time.Now()), "VASE-1", model.Upstream), "not found")
}

func TestReadBatchesInChunks(t *testing.T) {
	var asked [][]string
	f := ledgertest.New().On(api.ReadBatches, func(args []string) ([]byte, error) {
		var ids []string
		require.NoError(t, json.Unmarshal([]byte(args[0]), &ids))
		asked = append(asked, ids)
		out := make([]*model.Batch, len(ids))
		for i, id := range ids {
			if id != "GONE" {
				out[i] = &model.Batch{ID: id}
			}
		}
		return json.Marshal(out)
	})
	ids := []string{"GONE", "B", "A", "B"}
	for i := range model.MaxListLimit {
		ids = append(ids, fmt.Sprintf("X%04d", i))
	}
	bs, err := ReadBatches(context.Background(), f, ids)
	require.NoError(t, err)
	assert.Len(t, bs, model.MaxListLimit+2, "each batch once, the missing one left out")
	require.Len(t, asked, 2, "at most MaxListLimit a call")
	assert.Len(t, asked[0], model.MaxListLimit)
	assert.Equal(t, "A", asked[0][0], "sorted")
}

func TestNeeds(t *testing.T) {
	s := newStory()
	byName := map[string][]string{}
	for _, ev := range s.events {
		if _, ok := byName[ev.Name]; !ok {
			byName[ev.Name] = Needs(ev)
		}
	}
	assert.Equal(t, []string{"K-1"}, byName[model.EvBatchRegistered])
	assert.Equal(t, []string{"K-1"}, byName[model.EvTransferAccepted])
	assert.Equal(t, []string{"S-1"}, byName[model.EvBatchProcessed], "a process needs its outputs")
	assert.Equal(t, []string{"F-1"}, byName[model.EvDocumentAttached])
	assert.Nil(t, byName[model.EvTransferOffered])
	assert.Nil(t, Needs(model.Event{Name: model.EvBatchRegistered}), "no quantity, nothing to read")
}

func TestResolveBaseAndOpen(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	b, err := ResolveBase("", getenv)
	require.NoError(t, err)
	assert.Equal(t, Base(DefaultBase), b)
	env[EnvBase] = "https://id.env.example/"
	b, err = ResolveBase("", getenv)
	require.NoError(t, err)
	assert.Equal(t, Base("https://id.env.example/"), b)
	b, err = ResolveBase("https://id.flag.example/", getenv)
	require.NoError(t, err)
	assert.Equal(t, Base("https://id.flag.example/"), b, "the flag wins")
	_, err = ResolveBase("no base", getenv)
	assert.Error(t, err)

	r, err := Open("-", strings.NewReader("stdin"))
	require.NoError(t, err)
	var got bytes.Buffer
	_, err = got.ReadFrom(r)
	require.NoError(t, err)
	assert.Equal(t, "stdin", got.String())
	require.NoError(t, r.Close())
	path := filepath.Join(t.TempDir(), "doc.jsonld")
	require.NoError(t, os.WriteFile(path, []byte("file"), 0o644))
	r, err = Open(path, nil)
	require.NoError(t, err)
	r.Close()
	_, err = Open(filepath.Join(t.TempDir(), "none"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestValidateStream(t *testing.T) {
	doc, evs := export(t, newStory())
	query := `{"type":"EPCISQueryDocument","epcisBody":{"queryResults":{"resultsBody":{"eventList":[{},{}]}}}}`
	stream := string(doc) + "\n" + query + "\n"
	checked, err := ValidateStream(strings.NewReader(stream))
	require.NoError(t, err)
	require.Len(t, checked, 2)
	assert.True(t, checked[0].Valid)
	assert.Equal(t, len(evs), checked[0].Events)
	assert.Equal(t, "EPCISQueryDocument", checked[1].Type)
	assert.Equal(t, 2, checked[1].Events, "a query document's events are counted too")
	assert.False(t, checked[1].Valid)
	assert.NotEmpty(t, checked[1].Error)

	checked, err = ValidateStream(strings.NewReader(string(doc) + " not json"))
	assert.ErrorContains(t, err, "document 2: not JSON: ")
	assert.Len(t, checked, 1, "what was read before is kept")
	_, err = ValidateStream(strings.NewReader("  "))
	assert.EqualError(t, err, "no JSON document")
	checked, err = ValidateStream(strings.NewReader(`[1,2]`))
	require.NoError(t, err)
	assert.Equal(t, 0, checked[0].Events)
	assert.False(t, checked[0].Valid)
}
