package projection

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Row is one row to write to a table, or, with Delete, the key of one to
// remove.
type Row struct {
	Table  string
	Delete bool
	// Values maps column names to int64, string or nil (NULL); a delete
	// holds the key columns only.
	Values map[string]any
}

// The key types of the chaincode (chaincode/contract/keys.go). Index
// entries restate fields of the batch and are not projected.
const (
	keyBatch    = "batch"
	keyProcess  = "process"
	keyTake     = "take"
	keyRegistry = "registry"
	keyCapture  = "capture"
	indexPrefix = "idx~"
)

// The fields of the stored values the tables show; the whole value is
// kept in each row's doc column. Fields a newer chaincode adds are kept
// in doc and ignored here.
type (
	actor struct {
		MSP string `json:"msp"`
	}
	event struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		EventTime   string `json:"eventTime"`
		BizStep     string `json:"bizStep"`
		Disposition string `json:"disposition"`
	}
	batch struct {
		ID              string `json:"id"`
		Material        string `json:"material"`
		WasteCode       string `json:"wasteCode"`
		Form            string `json:"form"`
		InitialMass     int64  `json:"initialMass"`
		RemainingMass   int64  `json:"remainingMass"`
		TransitLoss     int64  `json:"transitLoss"`
		Owner           string `json:"owner"`
		Status          string `json:"status"`
		TakenMass       int64  `json:"takenMass"`
		Takes           int64  `json:"takes"`
		RecycledContent int64  `json:"recycledContentBp"`
		CreatedAt       string `json:"createdAt"`
		CreatedTx       string `json:"createdTx"`
		UpdatedAt       string `json:"updatedAt"`
		LastTx          string `json:"lastTx"`
		UpdatedBy       actor  `json:"updatedBy"`
		Event           event  `json:"event"`
		Format          int64  `json:"format"`
		Origin          struct {
			Collection json.RawMessage `json:"collection"`
			Process    json.RawMessage `json:"process"`
		} `json:"origin"`
	}
	take struct {
		ID        string `json:"id"`
		Mass      int64  `json:"mass"`
		Handovers int64  `json:"handovers"`
	}
	process struct {
		Step            string `json:"step"`
		By              actor  `json:"by"`
		At              string `json:"at"`
		Location        string `json:"location"`
		Inputs          []take `json:"inputs"`
		Outputs         []take `json:"outputs"`
		VirginMass      int64  `json:"virginMass"`
		Loss            int64  `json:"loss"`
		RecycledContent int64  `json:"recycledContentBp"`
	}
)

// known reports whether the projection maps writes of key type typ.
func known(typ string) bool {
	switch typ {
	case keyBatch, keyProcess, keyTake, keyRegistry, keyCapture:
		return true
	}
	return strings.HasPrefix(typ, indexPrefix)
}

// Unknown counts the block's writes to key types the projection does not
// know; they go to unknown_writes.
func (b *Block) Unknown() int {
	n := 0
	for _, tx := range b.Txs {
		for _, w := range tx.Writes {
			if !known(w.Type) {
				n++
			}
		}
	}
	return n
}

// Rows maps a decoded block to the rows it writes, in the order of its
// transactions and their writes. A value of a known key type that does
// not decode is an error: the projection would otherwise fall silently
// behind the ledger.
func Rows(b *Block) ([]Row, error) {
	var out []Row
	for _, tx := range b.Txs {
		at := func(vals map[string]any) map[string]any {
			vals["block"], vals["tx_index"], vals["tx_id"] = int64(b.Number), int64(tx.Index), tx.ID
			return vals
		}
		out = append(out, Row{Table: transactions.name, Values: at(map[string]any{"tx_time": tx.Time, "writes": int64(len(tx.Writes))})})
		for i, w := range tx.Writes {
			rows, err := writeRows(w, i, at)
			if err != nil {
				return nil, fmt.Errorf("block %d, transaction %s: %w", b.Number, tx.ID, err)
			}
			out = append(out, rows...)
		}
	}
	return out, nil
}

func writeRows(w Write, i int, at func(map[string]any) map[string]any) ([]Row, error) {
	attr := func(n int) (string, error) {
		if len(w.Attrs) != n {
			return "", fmt.Errorf("key %s%v: %d attributes, want %d", w.Type, w.Attrs, len(w.Attrs), n)
		}
		return w.Attrs[0], nil
	}
	switch {
	case w.Type == keyBatch:
		id, err := attr(1)
		if err != nil {
			return nil, err
		}
		return batchRows(id, w, at)
	case w.Type == keyProcess:
		tx, err := attr(1)
		if err != nil {
			return nil, err
		}
		if w.Delete {
			return []Row{{Table: processes.name, Delete: true, Values: map[string]any{"process_tx": tx}}}, nil
		}
		var p process
		if err := decode(w.Value, &p, "process record of "+tx); err != nil {
			return nil, err
		}
		return []Row{{Table: processes.name, Values: at(map[string]any{
			"process_tx": tx, "step": p.Step, "by_msp": p.By.MSP, "at": p.At, "location": p.Location,
			"inputs": int64(len(p.Inputs)), "outputs": int64(len(p.Outputs)), "virgin_mass": p.VirginMass,
			"loss": p.Loss, "recycled_content_bp": p.RecycledContent, "doc": string(w.Value)})}}, nil
	case w.Type == keyTake:
		if _, err := attr(3); err != nil {
			return nil, err
		}
		key := map[string]any{"parent": w.Attrs[0], "at": w.Attrs[1], "process_tx": w.Attrs[2]}
		if w.Delete {
			return []Row{{Table: takes.name, Delete: true, Values: key}}, nil
		}
		var t take
		if err := decode(w.Value, &t, fmt.Sprintf("take of %s by %s", w.Attrs[0], w.Attrs[2])); err != nil {
			return nil, err
		}
		key["output_id"], key["mass"], key["handovers"], key["doc"] = t.ID, t.Mass, t.Handovers, string(w.Value)
		return []Row{{Table: takes.name, Values: at(key)}}, nil
	case w.Type == keyCapture:
		// ("capture", msp, eventID) since contract 0.5.0, one record per
		// capturing organisation; ("capture", eventID) before, kept with
		// an empty msp.
		var msp, id string
		switch len(w.Attrs) {
		case 1:
			id = w.Attrs[0]
		case 2:
			msp, id = w.Attrs[0], w.Attrs[1]
		default:
			return nil, fmt.Errorf("key %s%v: %d attributes, want 1 or 2", w.Type, w.Attrs, len(w.Attrs))
		}
		key := map[string]any{"msp": msp, "event_id": id}
		if w.Delete {
			return []Row{{Table: captures.name, Delete: true, Values: key}}, nil
		}
		if !utf8.Valid(w.Value) || !json.Valid(w.Value) {
			return nil, fmt.Errorf("capture record %q: not JSON", id)
		}
		key["doc"] = string(w.Value)
		return []Row{{Table: captures.name, Values: at(key)}}, nil
	case w.Type == keyRegistry:
		if len(w.Attrs) != 0 {
			return nil, fmt.Errorf("key %s%v: registry key with attributes", w.Type, w.Attrs)
		}
		if w.Delete {
			return []Row{{Table: registry.name, Delete: true, Values: map[string]any{"id": int64(1)}}}, nil
		}
		if !utf8.Valid(w.Value) || !json.Valid(w.Value) {
			return nil, fmt.Errorf("registry: not JSON")
		}
		return []Row{{Table: registry.name, Values: at(map[string]any{"id": int64(1), "doc": string(w.Value)})}}, nil
	case known(w.Type): // an index entry
		return nil, nil
	}
	attrs, err := json.Marshal(validUTF8(w.Attrs))
	if err != nil {
		return nil, err
	}
	del := int64(0)
	if w.Delete {
		del = 1
	}
	return []Row{{Table: unknown.name, Values: at(map[string]any{
		"write_index": int64(i), "key_type": strings.ToValidUTF8(w.Type, "\uFFFD"), "key_attrs": string(attrs),
		"value_bytes": int64(len(w.Value)), "deleted": del})}}, nil
}

// batchRows are the rows of one batch write: its current version and an
// event row for the version (or the deletion).
func batchRows(id string, w Write, at func(map[string]any) map[string]any) ([]Row, error) {
	if w.Delete {
		return []Row{
			{Table: batches.name, Delete: true, Values: map[string]any{"id": id}},
			{Table: events.name, Values: at(map[string]any{
				"batch_id": id, "deleted": int64(1), "name": nil, "type": nil, "biz_step": nil, "disposition": nil,
				"event_time": nil, "by_msp": nil, "owner": nil, "status": nil, "remaining_mass": nil, "doc": nil})},
		}, nil
	}
	var b batch
	if err := decode(w.Value, &b, "batch "+id); err != nil {
		return nil, err
	}
	if b.ID != id {
		return nil, fmt.Errorf("batch key %q holds batch %q", id, b.ID)
	}
	origin := ""
	switch {
	case len(b.Origin.Process) > 0 && string(b.Origin.Process) != "null":
		origin = "process"
	case len(b.Origin.Collection) > 0 && string(b.Origin.Collection) != "null":
		origin = "collection"
	}
	doc := string(w.Value)
	return []Row{
		{Table: batches.name, Values: at(map[string]any{
			"id": id, "material": b.Material, "waste_code": b.WasteCode, "form": b.Form, "owner": b.Owner,
			"status": b.Status, "origin": origin, "initial_mass": b.InitialMass, "remaining_mass": b.RemainingMass,
			"transit_loss": b.TransitLoss, "taken_mass": b.TakenMass, "takes": b.Takes,
			"recycled_content_bp": b.RecycledContent, "created_at": b.CreatedAt, "created_tx": b.CreatedTx,
			"updated_at": b.UpdatedAt, "last_tx": b.LastTx, "event": b.Event.Name, "format": b.Format, "doc": doc})},
		{Table: events.name, Values: at(map[string]any{
			"batch_id": id, "deleted": int64(0), "name": b.Event.Name, "type": b.Event.Type, "biz_step": b.Event.BizStep,
			"disposition": b.Event.Disposition, "event_time": b.Event.EventTime, "by_msp": b.UpdatedBy.MSP,
			"owner": b.Owner, "status": b.Status, "remaining_mass": b.RemainingMass, "doc": doc})},
	}, nil
}

func decode(raw []byte, v any, what string) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("%s: value is not UTF-8", what)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func validUTF8(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}
