package epcis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// chunk is how many ledger events an export maps at a time, and how many
// batches one ReadBatches call reads at most.
const chunk = 500

// Exporter reads ledger events and writes them as EPCIS events.
type Exporter struct {
	Ledger ledger.Ledger
	Base   Base
	// Since and Until bound the ledger (record) time of exported events;
	// zero means unbounded. Until is exclusive.
	Since, Until time.Time
}

// All writes every event of the ledger in block order, streaming: it
// holds one chunk of events at a time, never the whole ledger.
func (x *Exporter) All(ctx context.Context, w *Writer) error {
	var pending []model.Event
	err := x.Ledger.Replay(ctx, 0, func(e ledger.Event) error {
		var ce model.ChaincodeEvent
		if err := json.Unmarshal(e.Payload, &ce); err != nil {
			return fmt.Errorf("event %s of tx %s: unreadable payload: %w", e.Name, e.TxID, err)
		}
		in, err := x.inWindow(ce.Event)
		if err != nil || !in {
			return err
		}
		pending = append(pending, ce.Event)
		if len(pending) < chunk {
			return nil
		}
		err = x.write(ctx, w, pending)
		pending = pending[:0]
		return err
	})
	if err != nil {
		return err
	}
	return x.write(ctx, w, pending)
}

func (x *Exporter) inWindow(ev model.Event) (bool, error) {
	if x.Since.IsZero() && x.Until.IsZero() {
		return true, nil
	}
	t, err := time.Parse(time.RFC3339Nano, ev.EventTime)
	if err != nil {
		return false, fmt.Errorf("event %s of tx %s: time %q: %w", ev.Name, ev.TxID, ev.EventTime, err)
	}
	return (x.Since.IsZero() || !t.Before(x.Since)) && (x.Until.IsZero() || t.Before(x.Until)), nil
}

// Provenance writes every event of the batches in one batch's trace
// (upstream to its collections, or downstream for a recall), in ledger
// time order. A process appears whole, with all its inputs and outputs.
func (x *Exporter) Provenance(ctx context.Context, w *Writer, id, direction string) error {
	c := api.New(x.Ledger)
	tr, err := c.Trace(ctx, id, direction)
	if err != nil {
		return err
	}
	byTx := map[string]model.Event{}
	for _, n := range tr.Nodes {
		hist, err := c.GetHistory(ctx, n.ID)
		if err != nil {
			return err
		}
		for _, h := range hist {
			// Keyed by the event's own transaction: a version that only
			// rewrites a batch (a migration) carries the event before it.
			// An auditor's hold, release or document (kept under keys of
			// its own) carries its event too.
			var ev model.Event
			switch {
			case h.Oversight != nil:
				ev = h.Oversight.Event()
			case h.Batch != nil:
				ev = h.Batch.Event
			}
			if ev.TxID == "" {
				continue
			}
			if _, seen := byTx[ev.TxID]; !seen {
				byTx[ev.TxID] = ev
			}
		}
	}
	evs := make([]model.Event, 0, len(byTx))
	for _, ev := range byTx {
		if ev.Name == model.EvBatchProcessed {
			// A version holds only its own batch's quantities; the
			// record lists every input and output.
			rec, err := c.GetProcess(ctx, ev.TxID)
			if err != nil {
				return err
			}
			ev.Inputs, ev.Outputs = takes(rec.Inputs), takes(rec.Outputs)
		}
		if in, err := x.inWindow(ev); err != nil {
			return err
		} else if in {
			evs = append(evs, ev)
		}
	}
	// Ledger times are RFC 3339 with as many decimals as they need, so
	// they compare as times, not as text.
	at := make(map[string]time.Time, len(evs))
	for _, ev := range evs {
		t, err := time.Parse(time.RFC3339Nano, ev.EventTime)
		if err != nil {
			return fmt.Errorf("event %s of tx %s: time %q: %w", ev.Name, ev.TxID, ev.EventTime, err)
		}
		at[ev.TxID] = t
	}
	slices.SortFunc(evs, func(a, b model.Event) int {
		return cmp.Or(at[a.TxID].Compare(at[b.TxID]), strings.Compare(a.TxID, b.TxID))
	})
	for len(evs) > 0 {
		n := min(chunk, len(evs))
		if err := x.write(ctx, w, evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

func takes(ts []model.Take) []model.Quantity {
	out := make([]model.Quantity, len(ts))
	for i, t := range ts {
		out[i] = model.Qty(t.ID, t.Mass)
	}
	return out
}

// write maps a chunk of events, reading the batches they need first.
func (x *Exporter) write(ctx context.Context, w *Writer, evs []model.Event) error {
	var ids []string
	for _, ev := range evs {
		ids = append(ids, Needs(ev)...)
	}
	bs, err := ReadBatches(ctx, x.Ledger, ids)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		e, ok, err := x.Base.Map(ev, bs)
		if err != nil {
			return err
		}
		if ok {
			if err := w.Write(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadBatches reads the current versions of the named batches, a chunk
// per call; missing batches are left out.
func ReadBatches(ctx context.Context, l ledger.Ledger, ids []string) (Batches, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(Batches, len(ids))
	for len(ids) > 0 {
		n := min(model.MaxListLimit, len(ids))
		bs, err := api.New(l).ReadBatches(ctx, ids[:n])
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b != nil {
				out[b.ID] = b
			}
		}
		ids = ids[n:]
	}
	return out, nil
}
