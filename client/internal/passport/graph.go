package passport

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Graph is the provenance graph laid out in columns: collections on the
// left, the product on the right, an edge for each process input.
type Graph struct {
	Width, Height int
	Nodes         []Node
	Edges         []Edge
}

// Node is one batch in the graph.
type Node struct {
	X, Y          int
	ID, Line, Org string
	Root, Held    bool
}

// Edge runs from a parent batch into a batch a process made from it.
type Edge struct {
	Path  string
	LX    int
	LY    int
	Label string
}

// Sizes of the layout, in SVG user units.
const (
	nodeW, nodeH = 190, 54
	colGap       = 70
	rowGap       = 18
	pad          = 10
)

func buildGraph(root string, batches map[string]*model.Batch, procs map[string]*model.Process) *Graph {
	parents := map[string][]string{}
	step := map[[2]string]string{}
	for _, p := range procs {
		for _, out := range p.Outputs {
			for _, in := range p.Inputs {
				if batches[in.ID] == nil || batches[out.ID] == nil {
					continue
				}
				if !slices.Contains(parents[out.ID], in.ID) {
					parents[out.ID] = append(parents[out.ID], in.ID)
				}
				step[[2]string{in.ID, out.ID}] = string(p.Step)
			}
		}
	}
	// The column of a batch is its longest path from a collection.
	col := map[string]int{}
	var depth func(id string, seen map[string]bool) int
	depth = func(id string, seen map[string]bool) int {
		if c, ok := col[id]; ok {
			return c
		}
		if seen[id] {
			return 0 // a cycle cannot come from the ledger; draw it flat
		}
		seen[id] = true
		d := 0
		for _, p := range parents[id] {
			d = max(d, depth(p, seen)+1)
		}
		col[id] = d
		return d
	}
	ids := make([]string, 0, len(batches))
	for id := range batches {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	cols := 0
	for _, id := range ids {
		cols = max(cols, depth(id, map[string]bool{})+1)
	}
	byCol := make([][]string, cols)
	for _, id := range ids {
		byCol[col[id]] = append(byCol[col[id]], id)
	}
	// Order each column by the mean row of its parents, to keep edges short.
	row := map[string]float64{}
	for c, list := range byCol {
		if c > 0 {
			key := func(id string) float64 {
				ps := parents[id]
				if len(ps) == 0 {
					return 0
				}
				s := 0.0
				for _, p := range ps {
					s += row[p]
				}
				return s / float64(len(ps))
			}
			slices.SortStableFunc(list, func(a, b string) int { return cmp.Compare(key(a), key(b)) })
		}
		for i, id := range list {
			row[id] = float64(i)
		}
	}
	rows := 0
	for _, list := range byCol {
		rows = max(rows, len(list))
	}
	g := &Graph{
		Width:  2*pad + cols*nodeW + (cols-1)*colGap,
		Height: 2*pad + rows*nodeH + max(rows-1, 0)*rowGap,
	}
	pos := map[string][2]int{}
	for c, list := range byCol {
		// Centre each column vertically.
		off := (rows - len(list)) * (nodeH + rowGap) / 2
		for i, id := range list {
			x := pad + c*(nodeW+colGap)
			y := pad + off + i*(nodeH+rowGap)
			pos[id] = [2]int{x, y}
			b := batches[id]
			g.Nodes = append(g.Nodes, Node{
				X: x, Y: y, ID: id, Root: id == root, Held: b.EffectiveStatus() == model.StatusQuarantined,
				Line: fmt.Sprintf("%s %s · %s", b.Material, b.Form, b.InitialMass),
				Org:  b.Submitter.MSP,
			})
		}
	}
	for _, id := range ids {
		for _, p := range parents[id] {
			a, b := pos[p], pos[id]
			x1, y1 := a[0]+nodeW, a[1]+nodeH/2
			x2, y2 := b[0], b[1]+nodeH/2
			mx := (x1 + x2) / 2
			g.Edges = append(g.Edges, Edge{
				Path:  fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, mx, y1, mx, y2, x2-4, y2),
				LX:    mx,
				LY:    (y1+y2)/2 - 4,
				Label: step[[2]string{p, id}],
			})
		}
	}
	return g
}

var graphTmpl = template.Must(template.New("graph").Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }}).Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" aria-label="Provenance graph" viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#5b6770"/></marker></defs>
{{range .Edges}}<path d="{{.Path}}" fill="none" stroke="#5b6770" stroke-width="1.5" marker-end="url(#arrow)"/>
{{if .Label}}<text x="{{.LX}}" y="{{.LY}}" text-anchor="middle" font-size="11" fill="#39444c">{{.Label}}</text>
{{end}}{{end}}{{range .Nodes}}<g class="node{{if .Root}} root{{end}}{{if .Held}} held{{end}}">
<rect x="{{.X}}" y="{{.Y}}" width="190" height="54" rx="6" fill="{{if .Held}}#fde2e1{{else if .Root}}#dff3e4{{else}}#f4f6f7{{end}}" stroke="{{if .Held}}#b3261e{{else if .Root}}#1e7b3a{{else}}#8a969e{{end}}"/>
<text x="{{.X}}" y="{{.Y}}" font-size="12"><tspan x="{{add .X 8}}" dy="17" font-weight="bold">{{.ID}}</tspan><tspan x="{{add .X 8}}" dy="15">{{.Line}}</tspan><tspan x="{{add .X 8}}" dy="14" fill="#5b6770">{{.Org}}</tspan></text>
</g>
{{end}}</svg>`))

// SVG draws the graph as an inline SVG element.
func (g *Graph) SVG() (template.HTML, error) {
	var b strings.Builder
	if err := graphTmpl.Execute(&b, g); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
