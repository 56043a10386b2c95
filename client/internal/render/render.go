// Package render prints the ledger's answers for people (aligned tables,
// trees) and for programs (JSON of the model types, Graphviz, Mermaid).
//
// The JSON output is the documented interface for scripts: it is the
// chaincode's model types as they are, indented by two spaces.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// JSON writes v as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Table writes rows of cells in aligned columns.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table on w.
func NewTable(w io.Writer) *Table {
	return &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

// Row adds one row. Tabs and newlines inside cells are replaced by spaces
// so they cannot break the columns.
func (t *Table) Row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// Or returns s, or dash when s is empty.
func Or(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}
