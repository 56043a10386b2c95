package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Trace formats.
const (
	TraceTree    = "tree"
	TraceJSON    = "json"
	TraceDOT     = "dot"
	TraceMermaid = "mermaid"
)

// TraceFormats lists the trace formats in the order they are offered.
var TraceFormats = []string{TraceTree, TraceJSON, TraceDOT, TraceMermaid}

// Trace writes a provenance graph in format f.
func Trace(w io.Writer, t *model.Trace, f string) error {
	switch f {
	case TraceTree:
		return Tree(w, t)
	case TraceJSON:
		return JSON(w, t)
	case TraceDOT:
		return DOT(w, t)
	case TraceMermaid:
		return Mermaid(w, t)
	}
	return fmt.Errorf("unknown trace format %q (want %s)", f, strings.Join(TraceFormats, ", "))
}

func nodeSummary(n *model.TraceNode) string {
	s := fmt.Sprintf("%s %s, %s of %s, %s, %s, %s recycled", n.Material, n.Form, n.RemainingMass, n.InitialMass,
		n.Owner, n.Status, model.Percent(n.RecycledContent))
	if c := n.Collection; c != nil {
		s += fmt.Sprintf(", collected at %s on %s", c.Location, c.CollectedAt)
	}
	if len(n.Documents) > 0 {
		s += fmt.Sprintf(", %d document(s)", len(n.Documents))
	}
	return s
}

// Tree writes the trace as an indented tree from the root: towards the
// sources for an upstream trace, towards the descendants for a downstream
// one. A batch reached a second time is printed once, then referred to.
func Tree(w io.Writer, t *model.Trace) error {
	nodes := map[string]*model.TraceNode{}
	for i := range t.Nodes {
		nodes[t.Nodes[i].ID] = &t.Nodes[i]
	}
	next := map[string][]model.TraceEdge{}
	for _, e := range t.Edges {
		if t.Direction == model.Downstream {
			next[e.From] = append(next[e.From], e)
		} else {
			next[e.To] = append(next[e.To], e)
		}
	}
	var b strings.Builder
	seen := map[string]bool{}
	var walk func(id, prefix string)
	walk = func(id, prefix string) {
		seen[id] = true
		edges := next[id]
		for i, e := range edges {
			other := e.From
			if t.Direction == model.Downstream {
				other = e.To
			}
			branch, indent := "├─ ", "│  "
			if i == len(edges)-1 {
				branch, indent = "└─ ", "   "
			}
			label := fmt.Sprintf("%s%s%s  [%s %s]", prefix, branch, other, e.Step, e.Mass)
			if seen[other] {
				fmt.Fprintf(&b, "%s (shown above)\n", label)
				continue
			}
			if n := nodes[other]; n != nil {
				fmt.Fprintf(&b, "%s  %s\n", label, nodeSummary(n))
			} else {
				fmt.Fprintf(&b, "%s\n", label)
			}
			walk(other, prefix+indent)
		}
	}
	if n := nodes[t.Root]; n != nil {
		fmt.Fprintf(&b, "%s  %s\n", t.Root, nodeSummary(n))
	} else {
		fmt.Fprintf(&b, "%s\n", t.Root)
	}
	walk(t.Root, "")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote makes s a Graphviz quoted string.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func nodeLabel(n *model.TraceNode) []string {
	lines := []string{n.ID, fmt.Sprintf("%s %s", n.Material, n.Form),
		fmt.Sprintf("%s of %s", n.RemainingMass, n.InitialMass),
		fmt.Sprintf("%s, %s", n.Owner, n.Status), model.Percent(n.RecycledContent) + " recycled"}
	if c := n.Collection; c != nil {
		lines = append(lines, c.Location)
	}
	return lines
}

// MaxDrawn is how many batches dot and mermaid draw: a larger drawing is
// no longer readable, and Graphviz takes minutes to lay it out.
var MaxDrawn = 500

// drawable cuts a trace to its first MaxDrawn nodes (nearest the root
// first, as the nodes are ordered) and the edges between them, and says
// what it left out; "" when nothing was.
func drawable(t *model.Trace) (*model.Trace, string) {
	if len(t.Nodes) <= MaxDrawn {
		return t, ""
	}
	c := &model.Trace{Root: t.Root, Direction: t.Direction, Nodes: t.Nodes[:MaxDrawn]}
	kept := make(map[string]bool, MaxDrawn)
	for _, n := range c.Nodes {
		kept[n.ID] = true
	}
	for _, e := range t.Edges {
		if kept[e.From] && kept[e.To] {
			c.Edges = append(c.Edges, e)
		}
	}
	return c, fmt.Sprintf("%d of %d batches and %d of %d edges drawn (those nearest the root); %d batches and %d edges left out: use --format tree or json for the whole graph",
		len(c.Nodes), len(t.Nodes), len(c.Edges), len(t.Edges), len(t.Nodes)-len(c.Nodes), len(t.Edges)-len(c.Edges))
}

// DOT writes the trace as a Graphviz digraph, mass flowing left to right.
// A graph of more than MaxDrawn batches is cut (see drawable); a note in
// the drawing, and a comment, say what was left out.
func DOT(w io.Writer, t *model.Trace) error {
	t, cut := drawable(t)
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote("trace "+t.Root))
	if cut != "" {
		fmt.Fprintf(&b, "  // %s\n  \"left out\" [shape=note, label=%s];\n", cut, dotQuote(cut))
	}
	b.WriteString("  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n")
	for i := range t.Nodes {
		n := &t.Nodes[i]
		attrs := "label=" + dotQuote(strings.Join(nodeLabel(n), "\n"))
		if n.ID == t.Root {
			attrs += ", style=bold"
		}
		if n.Status == model.StatusQuarantined {
			attrs += ", color=red"
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), attrs)
	}
	for _, e := range t.Edges {
		fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", dotQuote(e.From), dotQuote(e.To), dotQuote(fmt.Sprintf("%s %s", e.Step, e.Mass)))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText escapes s for a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

// Mermaid writes the trace as a Mermaid flowchart. Node ids are n0, n1...
// in node order, because batch ids may hold characters Mermaid rejects.
// Like DOT, it draws at most MaxDrawn batches and says what it left out.
func Mermaid(w io.Writer, t *model.Trace) error {
	t, cut := drawable(t)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	if cut != "" {
		fmt.Fprintf(&b, "  %%%% %s\n  leftout[/\"%s\"/]\n", cut, mermaidText(cut))
	}
	ids := map[string]string{}
	id := func(batch string) string {
		if v, ok := ids[batch]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[batch] = v
		return v
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		parts := nodeLabel(n)
		for j := range parts {
			parts[j] = mermaidText(parts[j])
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id(n.ID), strings.Join(parts, "<br/>"))
	}
	for _, e := range t.Edges {
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", id(e.From), mermaidText(fmt.Sprintf("%s %s", e.Step, e.Mass)), id(e.To))
	}
	if n, ok := ids[t.Root]; ok {
		fmt.Fprintf(&b, "  style %s stroke-width:3px\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
