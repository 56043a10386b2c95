package projection

import (
	"fmt"
	"strings"
)

// SchemaVersion is the version of the tables below. A database at an
// older version is migrated by Open; a newer one is refused.
const SchemaVersion = 1

// Column types: the same names mean the same in SQLite and PostgreSQL.
const (
	text   = "TEXT"
	bigint = "BIGINT"
)

type column struct{ name, typ string }

// A table of the projection. A state table holds the current value of a
// ledger key (a write replaces the row, a delete removes it); a log table
// gains one row per write and never changes one.
type table struct {
	name string
	cols []column
	key  []string
	log  bool
}

// Where every row came from: the block, the transaction's position in it
// and its ID.
var origin = []column{{"block", bigint}, {"tx_index", bigint}, {"tx_id", text}}

func cols(cs ...column) []column { return append(cs, origin...) }

// The tables, in the order Dump lists them.
var (
	// transactions: every valid transaction that wrote to the chaincode's
	// namespace, with its timestamp and how many keys it wrote.
	transactions = &table{name: "transactions", log: true,
		cols: []column{{"block", bigint}, {"tx_index", bigint}, {"tx_id", text}, {"tx_time", text}, {"writes", bigint}},
		key:  []string{"block", "tx_index"}}
	// batches: the current version of every batch.
	batches = &table{name: "batches",
		cols: cols(
			column{"id", text}, column{"material", text}, column{"waste_code", text}, column{"form", text},
			column{"owner", text}, column{"status", text}, column{"origin", text},
			column{"initial_mass", bigint}, column{"remaining_mass", bigint}, column{"transit_loss", bigint},
			column{"taken_mass", bigint}, column{"takes", bigint}, column{"recycled_content_bp", bigint},
			column{"created_at", text}, column{"created_tx", text}, column{"updated_at", text}, column{"last_tx", text},
			column{"event", text}, column{"format", bigint}, column{"doc", text}),
		key: []string{"id"}}
	// events: one row per batch version written (or batch deleted).
	events = &table{name: "events", log: true,
		cols: cols(
			column{"batch_id", text}, column{"deleted", bigint}, column{"name", text}, column{"type", text},
			column{"biz_step", text}, column{"disposition", text}, column{"event_time", text},
			column{"by_msp", text}, column{"owner", text}, column{"status", text}, column{"remaining_mass", bigint},
			column{"doc", text}),
		key: []string{"block", "tx_index", "batch_id"}}
	// processes: the record of every transformation, by its transaction.
	processes = &table{name: "processes",
		cols: cols(
			column{"process_tx", text}, column{"step", text}, column{"by_msp", text}, column{"at", text},
			column{"location", text}, column{"inputs", bigint}, column{"outputs", bigint},
			column{"virgin_mass", bigint}, column{"loss", bigint}, column{"recycled_content_bp", bigint},
			column{"doc", text}),
		key: []string{"process_tx"}}
	// takes: what each process took from each parent batch.
	takes = &table{name: "takes",
		cols: cols(
			column{"parent", text}, column{"at", text}, column{"process_tx", text}, column{"output_id", text},
			column{"mass", bigint}, column{"handovers", bigint}, column{"doc", text}),
		key: []string{"parent", "at", "process_tx"}}
	// captures: the record of every captured EPCIS event, by capturing
	// organisation (empty for records of contract 0.4.0 and before).
	captures = &table{name: "captures",
		cols: cols(column{"msp", text}, column{"event_id", text}, column{"doc", text}),
		key:  []string{"msp", "event_id"}}
	// registry: the participant registry, one row.
	registry = &table{name: "registry",
		cols: cols(column{"id", bigint}, column{"doc", text}),
		key:  []string{"id"}}
	// unknown_writes: writes to key types this release does not know
	// (a newer chaincode's), kept by key so that a later release can
	// count and reread them.
	unknown = &table{name: "unknown_writes", log: true,
		cols: cols(
			column{"write_index", bigint}, column{"key_type", text}, column{"key_attrs", text},
			column{"value_bytes", bigint}, column{"deleted", bigint}),
		key: []string{"block", "tx_index", "write_index"}}

	tables = []*table{transactions, batches, events, processes, takes, captures, registry, unknown}
)

// checkpointTable holds one row: the next block to apply.
const checkpointTable = "checkpoint"

// migrations[v] brings a database from schema version v to v+1.
var migrations = [][]string{
	0: schemaV1(),
}

func schemaV1() []string {
	stmts := []string{
		"CREATE TABLE " + checkpointTable + " (id BIGINT PRIMARY KEY CHECK (id = 1), next_block BIGINT NOT NULL)",
		"INSERT INTO " + checkpointTable + " (id, next_block) VALUES (1, 0)",
	}
	for _, t := range tables {
		stmts = append(stmts, t.create())
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

func (t *table) create() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", t.name)
	for _, c := range t.cols {
		fmt.Fprintf(&b, "%s %s, ", c.name, c.typ)
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
