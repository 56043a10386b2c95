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
	keySites    = "sites"
	keyDecl     = "decl"
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
		ID              string     `json:"id"`
		Material        string     `json:"material"`
		WasteCode       string     `json:"wasteCode"`
		Form            string     `json:"form"`
		InitialMass     int64      `json:"initialMass"`
		RemainingMass   int64      `json:"remainingMass"`
		TransitLoss     int64      `json:"transitLoss"`
		Owner           string     `json:"owner"`
		Status          string     `json:"status"`
		TakenMass       int64      `json:"takenMass"`
		Takes           int64      `json:"takes"`
		RecycledContent int64      `json:"recycledContentBp"`
		CreatedAt       string     `json:"createdAt"`
		CreatedTx       string     `json:"createdTx"`
		UpdatedAt       string     `json:"updatedAt"`
		LastTx          string     `json:"lastTx"`
		UpdatedBy       actor      `json:"updatedBy"`
		Event           event      `json:"event"`
		Format          int64      `json:"format"`
		Shares          *shares    `json:"shares"`
		Site            string     `json:"site"`
		Handovers       []handover `json:"handovers"`
		Origin          struct {
			Collection *collection     `json:"collection"`
			Purchase   *purchase       `json:"purchase"`
			Process    json.RawMessage `json:"process"`
		} `json:"origin"`
	}
	shares struct {
		Post int64 `json:"postConsumerPpm"`
		Pre  int64 `json:"preConsumerPpm"`
	}
	collection struct {
		OriginClass string `json:"originClass"`
		Site        string `json:"site"`
	}
	purchase struct {
		Supplier     string `json:"supplier"`
		SupplierID   string `json:"supplierId"`
		OriginClass  string `json:"originClass"`
		Site         string `json:"site"`
		ReceivedAt   string `json:"receivedAt"`
		Purchaser    string `json:"purchaser"`
		Ticket       string `json:"ticket"`
		TicketSHA256 string `json:"ticketSha256"`
	}
	handover struct {
		From        string `json:"from"`
		To          string `json:"to"`
		Offered     int64  `json:"offered"`
		Received    int64  `json:"received"`
		OfferTx     string `json:"offerTx"`
		Site        string `json:"site"`
		Declaration string `json:"declaration"`
	}
	siteList struct {
		Org   string `json:"org"`
		Sites []struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Default bool   `json:"default"`
			AddedAt string `json:"addedAt"`
			AddedTx string `json:"addedTx"`
		} `json:"sites"`
	}
	declaration struct {
		ID          string `json:"id"`
		Batch       string `json:"batch"`
		Supplier    string `json:"supplier"`
		Recipient   string `json:"recipient"`
		Site        string `json:"site"`
		Material    string `json:"material"`
		Mass        int64  `json:"mass"`
		Shares      shares `json:"shares"`
		Model       string `json:"model"`
		Certificate string `json:"certificate"`
		OfferTx     string `json:"offerTx"`
		IssuedAt    string `json:"issuedAt"`
		IssueTx     string `json:"issueTx"`
		Claim       *struct {
			By   actor  `json:"by"`
			At   string `json:"at"`
			Tx   string `json:"tx"`
			Site string `json:"site"`
		} `json:"claim"`
	}
	take struct {
		ID        string `json:"id"`
		Mass      int64  `json:"mass"`
		Handovers int64  `json:"handovers"`
	}
	process struct {
		Step            string  `json:"step"`
		By              actor   `json:"by"`
		At              string  `json:"at"`
		Location        string  `json:"location"`
		Site            string  `json:"site"`
		Inputs          []take  `json:"inputs"`
		Outputs         []take  `json:"outputs"`
		VirginMass      int64   `json:"virginMass"`
		Loss            int64   `json:"loss"`
		RecycledContent int64   `json:"recycledContentBp"`
		Shares          *shares `json:"shares"`
	}
)

// known reports whether the projection maps writes of key type typ.
func known(typ string) bool {
	switch typ {
	case keyBatch, keyProcess, keyTake, keyRegistry, keyCapture, keySites, keyDecl:
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

// Prior is what the projection holds of a batch before a block: where it
// is, its material, remaining mass and shares.
type Prior struct {
	Site, Material  string
	Remaining       int64
	PostPPM, PrePPM int64
}

// Lookup reads a batch as the projection holds it before the block; ok
// is false for a batch it does not hold. A nil Lookup holds none.
type Lookup func(id string) (p Prior, ok bool, err error)

// Rows maps a decoded block to the rows it writes, in the order of its
// transactions and their writes, each transaction's stock movements
// after its other rows. look reads the batches the block changes as they
// were before it (a handover's sending site, an older batch placed at a
// site). A value of a known key type that does not decode is an error:
// the projection would otherwise fall silently behind the ledger.
func Rows(b *Block, look Lookup) ([]Row, error) {
	var out []Row
	// What the block's earlier transactions left of each batch; nil for
	// a deleted one.
	seen := map[string]*Prior{}
	prior := func(id string) (Prior, bool, error) {
		if p, ok := seen[id]; ok {
			if p == nil {
				return Prior{}, false, nil
			}
			return *p, true, nil
		}
		if look == nil {
			return Prior{}, false, nil
		}
		return look(id)
	}
	for _, tx := range b.Txs {
		at := func(vals map[string]any) map[string]any {
			vals["block"], vals["tx_index"], vals["tx_id"] = int64(b.Number), int64(tx.Index), tx.ID
			return vals
		}
		out = append(out, Row{Table: transactions.name, Values: at(map[string]any{"tx_time": tx.Time, "writes": int64(len(tx.Writes))})})
		m := &moves{tx: tx, at: at}
		for i, w := range tx.Writes {
			rows, err := writeRows(w, i, at, m)
			if err != nil {
				return nil, fmt.Errorf("block %d, transaction %s: %w", b.Number, tx.ID, err)
			}
			out = append(out, rows...)
		}
		rows, err := m.rows(prior)
		if err != nil {
			return nil, fmt.Errorf("block %d, transaction %s: %w", b.Number, tx.ID, err)
		}
		out = append(out, rows...)
		for _, id := range m.order {
			if bt := m.batches[id]; bt == nil {
				seen[id] = nil
			} else {
				p := bt.prior()
				seen[id] = &p
			}
		}
	}
	return out, nil
}

func writeRows(w Write, i int, at func(map[string]any) map[string]any, m *moves) ([]Row, error) {
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
		return batchRows(id, w, at, m)
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
		m.process = &p
		sh := p.shares()
		return []Row{{Table: processes.name, Values: at(map[string]any{
			"process_tx": tx, "step": p.Step, "by_msp": p.By.MSP, "at": p.At, "location": p.Location,
			"inputs": int64(len(p.Inputs)), "outputs": int64(len(p.Outputs)), "virgin_mass": p.VirginMass,
			"loss": p.Loss, "recycled_content_bp": p.RecycledContent, "doc": string(w.Value),
			"site": p.Site, "post_ppm": sh.Post, "pre_ppm": sh.Pre})}}, nil
	case w.Type == keySites:
		msp, err := attr(1)
		if err != nil {
			return nil, err
		}
		if w.Delete {
			// The contract never deletes a site list; keep the fact.
			break
		}
		var l siteList
		if err := decode(w.Value, &l, "sites of "+msp); err != nil {
			return nil, err
		}
		if l.Org != msp {
			return nil, fmt.Errorf("sites key %q holds the sites of %q", msp, l.Org)
		}
		var rows []Row
		for _, st := range l.Sites {
			def := int64(0)
			if st.Default {
				def = 1
			}
			rows = append(rows, Row{Table: sites.name, Values: at(map[string]any{
				"org": msp, "id": st.ID, "name": st.Name, "is_default": def, "added_at": st.AddedAt, "added_tx": st.AddedTx})})
		}
		return rows, nil
	case w.Type == keyDecl:
		id, err := attr(1)
		if err != nil {
			return nil, err
		}
		if w.Delete {
			return []Row{{Table: declarations.name, Delete: true, Values: map[string]any{"id": id}}}, nil
		}
		var d declaration
		if err := decode(w.Value, &d, "declaration "+id); err != nil {
			return nil, err
		}
		if d.ID != id {
			return nil, fmt.Errorf("declaration key %q holds declaration %q", id, d.ID)
		}
		vals := map[string]any{
			"id": id, "batch_id": d.Batch, "supplier": d.Supplier, "recipient": d.Recipient, "site": d.Site,
			"material": d.Material, "mass": d.Mass, "post_ppm": d.Shares.Post, "pre_ppm": d.Shares.Pre,
			"model": d.Model, "certificate": d.Certificate, "offer_tx": d.OfferTx, "issued_at": d.IssuedAt,
			"issue_tx": d.IssueTx, "claimed_by": nil, "claimed_at": nil, "claim_tx": nil, "claim_site": nil,
			"doc": string(w.Value)}
		if c := d.Claim; c != nil {
			vals["claimed_by"], vals["claimed_at"], vals["claim_tx"], vals["claim_site"] = c.By.MSP, c.At, c.Tx, c.Site
		}
		return []Row{{Table: declarations.name, Values: at(vals)}}, nil
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
	return unknownRow(w, i, at)
}

// unknownRow keeps a write the projection does not map by its key.
func unknownRow(w Write, i int, at func(map[string]any) map[string]any) ([]Row, error) {
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
func batchRows(id string, w Write, at func(map[string]any) map[string]any, m *moves) ([]Row, error) {
	if w.Delete {
		m.batch(id, nil)
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
	origin, class := "", ""
	switch {
	case len(b.Origin.Process) > 0 && string(b.Origin.Process) != "null":
		origin = "process"
	case b.Origin.Purchase != nil:
		origin, class = "purchase", b.Origin.Purchase.OriginClass
	case b.Origin.Collection != nil:
		origin, class = "collection", b.Origin.Collection.OriginClass
		if class == "" {
			class = postConsumer
		}
	}
	m.batch(id, &b)
	doc := string(w.Value)
	sh := b.shares()
	rows := []Row{
		{Table: batches.name, Values: at(map[string]any{
			"site": b.Site, "post_ppm": sh.Post, "pre_ppm": sh.Pre, "origin_class": class,
			"id": id, "material": b.Material, "waste_code": b.WasteCode, "form": b.Form, "owner": b.Owner,
			"status": b.Status, "origin": origin, "initial_mass": b.InitialMass, "remaining_mass": b.RemainingMass,
			"transit_loss": b.TransitLoss, "taken_mass": b.TakenMass, "takes": b.Takes,
			"recycled_content_bp": b.RecycledContent, "created_at": b.CreatedAt, "created_tx": b.CreatedTx,
			"updated_at": b.UpdatedAt, "last_tx": b.LastTx, "event": b.Event.Name, "format": b.Format, "doc": doc})},
		{Table: events.name, Values: at(map[string]any{
			"batch_id": id, "deleted": int64(0), "name": b.Event.Name, "type": b.Event.Type, "biz_step": b.Event.BizStep,
			"disposition": b.Event.Disposition, "event_time": b.Event.EventTime, "by_msp": b.UpdatedBy.MSP,
			"owner": b.Owner, "status": b.Status, "remaining_mass": b.RemainingMass, "doc": doc})},
	}
	if p := b.Origin.Purchase; p != nil && b.CreatedTx != "" && b.CreatedTx == b.LastTx {
		rows = append(rows, Row{Table: purchases.name, Values: at(map[string]any{
			"batch_id": id, "purchaser": p.Purchaser, "supplier": p.Supplier, "supplier_id": p.SupplierID,
			"origin_class": p.OriginClass, "site": p.Site, "material": b.Material, "mass": b.InitialMass,
			"received_at": p.ReceivedAt, "ticket": p.Ticket, "ticket_sha256": p.TicketSHA256})})
	}
	return rows, nil
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
