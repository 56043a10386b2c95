package projection

import (
	"fmt"
	"strings"
)

// SchemaVersion is the version of the tables below. A database at an
// older version is migrated by Open; a newer one is refused.
//
// Version 2 (contract 0.6.0's sites, shares, purchases and declarations)
// adds columns and tables whose contents version 1 never kept: it wrote
// sites and declarations to unknown_writes by key only, without their
// values, and kept no stock movements. The projection is derived data,
// so the migration to version 2 empties every table and sets the
// checkpoint back to block 0: the next `mtrace project` rebuilds the
// database from the channel's first block.
const SchemaVersion = 2

// Column types: the same names mean the same in SQLite and PostgreSQL.
const (
	text   = "TEXT"
	bigint = "BIGINT"
)

// A column; since is the schema version that added it (0 or 1: the
// first).
type column struct {
	name, typ string
	since     int
}

// A table of the projection. A state table holds the current value of a
// ledger key (a write replaces the row, a delete removes it); a log table
// gains one row per write and never changes one.
type table struct {
	name string
	cols []column
	key  []string
	log  bool
	// since is the schema version that added the table (0 or 1: the first).
	since int
}

// Where every row came from: the block, the transaction's position in it
// and its ID.
var origin = []column{{"block", bigint, 0}, {"tx_index", bigint, 0}, {"tx_id", text, 0}}

func cols(cs ...column) []column { return append(cs, origin...) }

// The tables, in the order Dump lists them.
var (
	// transactions: every valid transaction that wrote to the chaincode's
	// namespace, with its timestamp and how many keys it wrote.
	transactions = &table{name: "transactions", log: true,
		cols: []column{{"block", bigint, 0}, {"tx_index", bigint, 0}, {"tx_id", text, 0}, {"tx_time", text, 0}, {"writes", bigint, 0}},
		key:  []string{"block", "tx_index"}}
	// batches: the current version of every batch.
	batches = &table{name: "batches",
		cols: cols(
			column{"id", text, 0}, column{"material", text, 0}, column{"waste_code", text, 0}, column{"form", text, 0},
			column{"owner", text, 0}, column{"status", text, 0}, column{"origin", text, 0},
			column{"initial_mass", bigint, 0}, column{"remaining_mass", bigint, 0}, column{"transit_loss", bigint, 0},
			column{"taken_mass", bigint, 0}, column{"takes", bigint, 0}, column{"recycled_content_bp", bigint, 0},
			column{"created_at", text, 0}, column{"created_tx", text, 0}, column{"updated_at", text, 0}, column{"last_tx", text, 0},
			column{"event", text, 0}, column{"format", bigint, 0}, column{"doc", text, 0},
			v2("site", text), v2("post_ppm", bigint), v2("pre_ppm", bigint), v2("origin_class", text)),
		key: []string{"id"}}
	// events: one row per batch version written (or batch deleted).
	events = &table{name: "events", log: true,
		cols: cols(
			column{"batch_id", text, 0}, column{"deleted", bigint, 0}, column{"name", text, 0}, column{"type", text, 0},
			column{"biz_step", text, 0}, column{"disposition", text, 0}, column{"event_time", text, 0},
			column{"by_msp", text, 0}, column{"owner", text, 0}, column{"status", text, 0}, column{"remaining_mass", bigint, 0},
			column{"doc", text, 0}),
		key: []string{"block", "tx_index", "batch_id"}}
	// processes: the record of every transformation, by its transaction.
	processes = &table{name: "processes",
		cols: cols(
			column{"process_tx", text, 0}, column{"step", text, 0}, column{"by_msp", text, 0}, column{"at", text, 0},
			column{"location", text, 0}, column{"inputs", bigint, 0}, column{"outputs", bigint, 0},
			column{"virgin_mass", bigint, 0}, column{"loss", bigint, 0}, column{"recycled_content_bp", bigint, 0},
			column{"doc", text, 0}, v2("site", text), v2("post_ppm", bigint), v2("pre_ppm", bigint)),
		key: []string{"process_tx"}}
	// takes: what each process took from each parent batch.
	takes = &table{name: "takes",
		cols: cols(
			column{"parent", text, 0}, column{"at", text, 0}, column{"process_tx", text, 0}, column{"output_id", text, 0},
			column{"mass", bigint, 0}, column{"handovers", bigint, 0}, column{"doc", text, 0}),
		key: []string{"parent", "at", "process_tx"}}
	// captures: the record of every captured EPCIS event, by capturing
	// organisation (empty for records of contract 0.4.0 and before).
	captures = &table{name: "captures",
		cols: cols(column{"msp", text, 0}, column{"event_id", text, 0}, column{"doc", text, 0}),
		key:  []string{"msp", "event_id"}}
	// registry: the participant registry, one row.
	registry = &table{name: "registry",
		cols: cols(column{"id", bigint, 0}, column{"doc", text, 0}),
		key:  []string{"id"}}
	// unknown_writes: writes to key types this release does not know
	// (a newer chaincode's), kept by key so that a later release can
	// count and reread them.
	unknown = &table{name: "unknown_writes", log: true,
		cols: cols(
			column{"write_index", bigint, 0}, column{"key_type", text, 0}, column{"key_attrs", text, 0},
			column{"value_bytes", bigint, 0}, column{"deleted", bigint, 0}),
		key: []string{"block", "tx_index", "write_index"}}

	// sites: every organisation's sites, from its ("sites", msp) list; a
	// site is never removed, so a row is only added or renamed.
	sites = &table{name: "sites", since: 2,
		cols: cols(v2("org", text), v2("id", text), v2("name", text), v2("is_default", bigint),
			v2("added_at", text), v2("added_tx", text)),
		key: []string{"org", "id"}}
	// purchases: the origin of every batch a recycler bought in from
	// outside the consortium, tied to its registration.
	purchases = &table{name: "purchases", since: 2,
		cols: cols(v2("batch_id", text), v2("purchaser", text), v2("supplier", text), v2("supplier_id", text),
			v2("origin_class", text), v2("site", text), v2("material", text), v2("mass", bigint),
			v2("received_at", text), v2("ticket", text), v2("ticket_sha256", text)),
		key: []string{"batch_id"}}
	// declarations: every batch declaration and its claim, as last
	// written (the issue, then the claim).
	declarations = &table{name: "declarations", since: 2,
		cols: cols(v2("id", text), v2("batch_id", text), v2("supplier", text), v2("recipient", text),
			v2("site", text), v2("material", text), v2("mass", bigint), v2("post_ppm", bigint), v2("pre_ppm", bigint),
			v2("model", text), v2("certificate", text), v2("offer_tx", text), v2("issued_at", text), v2("issue_tx", text),
			v2("claimed_by", text), v2("claimed_at", text), v2("claim_tx", text), v2("claim_site", text), v2("doc", text)),
		key: []string{"id"}}
	// stock_movements: every change of the stock at a site, one row per
	// registration, purchase or receipt into a site, process input taken
	// at a site, process output made at one, handover out of one, and
	// placement of an older batch at its owner's default site by the
	// migration to contract 0.6.0. delta is signed grams; at is the
	// transaction's time, fixed width (movementTime), so that text order
	// is time order. The sum of a site's deltas for a material is the
	// remaining mass of its batches of that material not yet handed over.
	movements = &table{name: "stock_movements", since: 2, log: true,
		cols: cols(v2("seq", bigint), v2("at", text), v2("site", text), v2("org", text), v2("material", text),
			v2("batch_id", text), v2("kind", text), v2("delta", bigint), v2("origin_class", text),
			v2("post_ppm", bigint), v2("pre_ppm", bigint), v2("counterparty", text), v2("ref", text)),
		key: []string{"block", "tx_index", "seq"}}

	tables = []*table{transactions, batches, events, processes, takes, captures, registry, unknown,
		sites, purchases, declarations, movements}
)

func v2(name, typ string) column { return column{name, typ, 2} }

// checkpointTable holds one row: the next block to apply.
const checkpointTable = "checkpoint"

// migrations[v] brings a database from schema version v to v+1.
var migrations = [][]string{
	0: schemaV1(),
	1: schemaV2(),
}

func schemaV1() []string {
	stmts := []string{
		"CREATE TABLE " + checkpointTable + " (id BIGINT PRIMARY KEY CHECK (id = 1), next_block BIGINT NOT NULL)",
		"INSERT INTO " + checkpointTable + " (id, next_block) VALUES (1, 0)",
	}
	for _, t := range tables {
		if t.since <= 1 {
			stmts = append(stmts, t.create(1))
		}
	}
	stmts = append(stmts,
		"CREATE INDEX batches_owner ON batches (owner, status)",
		"CREATE INDEX events_batch ON events (batch_id, block, tx_index)",
		"CREATE INDEX events_tx ON events (tx_id)",
		"CREATE INDEX takes_process ON takes (process_tx)",
		"CREATE INDEX transactions_tx ON transactions (tx_id)",
	)
	return stmts
}

// schemaV2 adds the columns and tables of version 2 and empties every
// table for a rebuild from block 0 (see SchemaVersion).
func schemaV2() []string {
	var stmts []string
	for _, t := range tables {
		if t.since == 2 {
			stmts = append(stmts, t.create(2))
			continue
		}
		for _, c := range t.cols {
			if c.since == 2 {
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", t.name, c.name, c.typ))
			}
		}
		stmts = append(stmts, "DELETE FROM "+t.name)
	}
	return append(stmts,
		"UPDATE "+checkpointTable+" SET next_block = 0",
		"CREATE INDEX batches_site ON batches (site, material)",
		"CREATE INDEX movements_site ON stock_movements (site, material, at)",
		"CREATE INDEX movements_batch ON stock_movements (batch_id)",
		"CREATE INDEX movements_ref ON stock_movements (ref)",
		"CREATE INDEX processes_site ON processes (site, at)",
		"CREATE INDEX declarations_supplier ON declarations (supplier, issued_at)",
		"CREATE INDEX declarations_recipient ON declarations (recipient, claimed_at)",
	)
}

// create is the statement that creates t with its columns of schema
// version v and before.
func (t *table) create(v int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", t.name)
	for _, c := range t.cols {
		if c.since <= v {
			fmt.Fprintf(&b, "%s %s, ", c.name, c.typ)
		}
	}
	fmt.Fprintf(&b, "PRIMARY KEY (%s))", strings.Join(t.key, ", "))
	return b.String()
}

// write is the statement that stores a row of t: an insert for a log
// table (a second write of the same key is an error), an upsert for a
// state table. Placeholders are $1..$n, which both backends read.
func (t *table) write() string {
	names := make([]string, len(t.cols))
	marks := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i], marks[i] = c.name, fmt.Sprintf("$%d", i+1)
	}
	s := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.name, strings.Join(names, ", "), strings.Join(marks, ", "))
	if t.log {
		return s
	}
	var set []string
	for _, c := range t.cols {
		if !t.isKey(c.name) {
			set = append(set, c.name+" = excluded."+c.name)
		}
	}
	return s + fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s", strings.Join(t.key, ", "), strings.Join(set, ", "))
}

// remove is the statement that deletes a row of t by its key.
func (t *table) remove() string {
	conds := make([]string, len(t.key))
	for i, k := range t.key {
		conds[i] = fmt.Sprintf("%s = $%d", k, i+1)
	}
	return fmt.Sprintf("DELETE FROM %s WHERE %s", t.name, strings.Join(conds, " AND "))
}

func (t *table) isKey(name string) bool {
	for _, k := range t.key {
		if k == name {
			return true
		}
	}
	return false
}
