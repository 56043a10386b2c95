package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdTrace(e.F, nil) }

// diamond: two collections shredded into flakes, extruded into a spool,
// printed into a cup; one collection also went into a second flake lot.
func diamond() model.Trace {
	node := func(id string, depth int, form model.Form, m model.Grams, owner string, loc string) model.TraceNode {
		n := model.TraceNode{ID: id, Depth: depth, Material: model.PET, Form: form, Owner: owner, Status: model.StatusActive,
			InitialMass: m, RemainingMass: m, RecycledContent: 10000}
		if loc != "" {
			n.Collection = &model.Collection{Location: loc, CollectedAt: "2026-11-20T09:30:00+03:00", Collector: "MunicipalityMSP"}
			n.Status = model.StatusConsumed
			n.RemainingMass = 0
		}
		return n
	}
	return model.Trace{Root: "CUP-1", Direction: model.Upstream,
		Nodes: []model.TraceNode{
			node("CUP-1", 0, model.FormProduct, 250, "MakerMSP", ""),
			node("FIL-1", 1, model.FormFilament, 900_000, "MakerMSP", ""),
			node("FLK-1", 2, model.FormFlakes, 1_900_000, "RecyclerMSP", ""),
			node("PET-1", 3, model.FormWaste, 1_250_000, "RecyclerMSP", `Kadıköy "north"`),
			node("PET-2", 3, model.FormWaste, 800_000, "RecyclerMSP", "Üsküdar"),
		},
		Edges: []model.TraceEdge{
			{From: "FIL-1", To: "CUP-1", Mass: 300, Step: model.StepPrinting, Tx: "t4"},
			{From: "FLK-1", To: "FIL-1", Mass: 1_000_000, Step: model.StepExtrusion, Tx: "t3"},
			{From: "PET-1", To: "FLK-1", Mass: 1_240_000, Step: model.StepShredding, Tx: "t2"},
			{From: "PET-2", To: "FLK-1", Mass: 790_000, Step: model.StepShredding, Tx: "t2"},
		}}
}

func TestTraceFormats(t *testing.T) {
	for _, f := range []string{"tree", "json", "dot", "mermaid"} {
		t.Run(f, func(t *testing.T) {
			e := cmdtest.New(t)
			e.Fake.OnJSON(api.Trace, diamond())
			require.NoError(t, e.Run(newCmd(e), "trace", "CUP-1", "--format", f))
			assert.Equal(t, []string{"CUP-1", "up"}, e.Fake.Calls()[0].Args)
			cmdtest.Golden(t, "trace_"+f, e.Out.String())
		})
	}
}

func TestTraceJSONOutputFlag(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.Trace, diamond())
	require.NoError(t, e.Run(newCmd(e), "trace", "CUP-1", "-o", "json"))
	assert.Equal(t, []string{"CUP-1", "up"}, e.Fake.Calls()[0].Args)
	assert.True(t, strings.HasPrefix(e.Out.String(), "{\n  \"root\": \"CUP-1\""))
}

// serveDown answers ReadBatch and TraceDown from the graph tr, the way the
// chaincode pages it: the queried batches in order, each one's edges in
// order, at most limit edges a page (whole processes: here one edge
// each), the bookmark saying which batch and edge come next.
func serveDown(t *testing.T, e *cmdtest.Env, tr model.Trace, limit int) *int {
	nodes := map[string]model.TraceNode{}
	for _, n := range tr.Nodes {
		nodes[n.ID] = n
	}
	from := map[string][]model.TraceEdge{}
	for _, ed := range tr.Edges {
		from[ed.From] = append(from[ed.From], ed)
	}
	r := nodes[tr.Root]
	e.Fake.OnJSON(api.ReadBatch, model.Batch{ID: r.ID, Material: r.Material, Form: r.Form, Owner: r.Owner, Status: r.Status,
		InitialMass: r.InitialMass, RemainingMass: r.RemainingMass, RecycledContent: r.RecycledContent, Origin: model.Origin{Collection: r.Collection},
		Takes: len(from[r.ID])})
	pages := new(int)
	var mu sync.Mutex // the CLI reads chunks concurrently
	e.Fake.On(api.TraceDown, func(a []string) ([]byte, error) {
		var q model.DownQuery
		require.NoError(t, json.Unmarshal([]byte(a[0]), &q))
		if q.Limit == 0 {
			q.Limit = limit
		}
		i, j := 0, 0
		if q.Bookmark != "" {
			_, err := fmt.Sscanf(q.Bookmark, "%d/%d", &i, &j)
			require.NoError(t, err)
		}
		p := model.TracePage{Nodes: []model.TraceNode{}, Edges: []model.TraceEdge{}}
		seen := map[string]bool{}
		for i < len(q.IDs) && len(p.Edges) < q.Limit {
			es := from[q.IDs[i]]
			for j < len(es) && len(p.Edges) < q.Limit {
				p.Edges = append(p.Edges, es[j])
				if n := nodes[es[j].To]; !seen[n.ID] {
					seen[n.ID] = true
					n.Depth = 0
					n.Takes = len(from[n.ID])
					p.Nodes = append(p.Nodes, n)
				}
				j++
			}
			if j == len(es) {
				i, j = i+1, 0
			}
		}
		if i < len(q.IDs) {
			p.Bookmark = fmt.Sprintf("%d/%d", i, j)
		}
		mu.Lock()
		*pages++
		mu.Unlock()
		return json.Marshal(p)
	})
	return pages
}

func TestTraceDownFollowsPages(t *testing.T) {
	tr := downDiamond()
	e := cmdtest.New(t)
	pages := serveDown(t, e, tr, 1)
	require.NoError(t, e.Run(newCmd(e), "trace", "PET-1", "--down", "--page-size", "1", "-o", "json"))
	assert.Equal(t, 5, *pages, "one edge a page; the leaf, with no takes, is not asked for")
	var got model.Trace
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	model.SortTrace(&tr)
	for i := range tr.Nodes {
		for _, ed := range tr.Edges {
			if ed.From == tr.Nodes[i].ID {
				tr.Nodes[i].Takes++
			}
		}
	}
	assert.Equal(t, tr, got)

	e = cmdtest.New(t)
	serveDown(t, e, tr, 1)
	require.NoError(t, e.Run(newCmd(e), "trace", "PET-1", "--down", "--page-size", "3", "-o", "json"))
	q := e.Fake.CallsTo(api.TraceDown)[0].Args[0]
	assert.Contains(t, q, `"limit":3`)
	e = cmdtest.New(t)
	serveDown(t, e, tr, 1)
	require.NoError(t, e.Run(newCmd(e), "trace", "PET-1", "--down", "-o", "json"))
	assert.Contains(t, e.Fake.CallsTo(api.TraceDown)[0].Args[0], `"limit":5000`, "the largest page by default")
	assert.ErrorContains(t, e.Run(newCmd(e), "trace", "PET-1", "--down", "--page-size", "5001"), "--page-size: must be from 1 to 5000, got 5001")
}

// A recall of 50,000 descendants (a root split into 50 lots, each into
// 1,000 products) is printed whole; dot draws 500 batches and says what
// it left out.
func TestTraceDownLargeRecall(t *testing.T) {
	tr := model.Trace{Root: "ROOT", Direction: model.Downstream}
	node := func(id string, d int, f model.Form) model.TraceNode {
		return model.TraceNode{ID: id, Depth: d, Material: model.PET, Form: f, Owner: "MakerMSP", Status: model.StatusActive, InitialMass: 10, RemainingMass: 10, RecycledContent: 10000}
	}
	tr.Nodes = append(tr.Nodes, node("ROOT", 0, model.FormFlakes))
	for i := range 50 {
		lot := fmt.Sprintf("LOT-%02d", i)
		tr.Nodes = append(tr.Nodes, node(lot, 1, model.FormFilament))
		tr.Edges = append(tr.Edges, model.TraceEdge{From: "ROOT", To: lot, Mass: 10, Step: model.StepSplitting, Tx: "s" + lot})
		for j := range 1000 {
			id := fmt.Sprintf("%s-P%04d", lot, j)
			tr.Nodes = append(tr.Nodes, node(id, 2, model.FormProduct))
			tr.Edges = append(tr.Edges, model.TraceEdge{From: lot, To: id, Mass: 10, Step: model.StepPrinting, Tx: "p" + id})
		}
	}
	e := cmdtest.New(t)
	pages := serveDown(t, e, tr, 0)
	require.NoError(t, e.Run(newCmd(e), "trace", "ROOT", "--down", "--page-size", "1000"))
	assert.Equal(t, 1+50, *pages, "one page for the lots, one per lot of 1,000 products; the products have no takes")
	assert.Equal(t, 1+50+50_000, strings.Count(e.Out.String(), "\n"), "every batch on its own line")
	assert.Contains(t, e.Out.String(), "LOT-49-P0999  [printing 10 g]")

	e = cmdtest.New(t)
	serveDown(t, e, tr, 5000)
	require.NoError(t, e.Run(newCmd(e), "trace", "ROOT", "--down", "--format", "dot"))
	out := e.Out.String()
	assert.Equal(t, 500, strings.Count(out, "\" [label=\"")-strings.Count(out, " -> "), "500 batches drawn")
	assert.Equal(t, 499, strings.Count(out, " -> "), "the edges between them")
	assert.Contains(t, out, "500 of 50051 batches and 499 of 50050 edges drawn (those nearest the root); 49551 batches and 49551 edges left out: use --format tree or json for the whole graph")
}

// downDiamond is the downstream graph of PET-1: it was shredded into
// FLK-1 and into a second lot, FLK-2, which was merged back into FIL-1.
func downDiamond() model.Trace {
	up := diamond()
	nodes := map[string]model.TraceNode{}
	for _, n := range up.Nodes {
		nodes[n.ID] = n
	}
	at := func(id string, d int) model.TraceNode { n := nodes[id]; n.Depth = d; return n }
	return model.Trace{Root: "PET-1", Direction: model.Downstream,
		Nodes: []model.TraceNode{
			at("PET-1", 0), at("FLK-1", 1),
			{ID: "FLK-2", Depth: 1, Material: model.PET, Form: model.FormFlakes, Owner: "RecyclerMSP", InitialMass: 5000, RemainingMass: 0, Status: model.StatusConsumed, RecycledContent: 10000},
			at("FIL-1", 2), at("CUP-1", 3),
		},
		Edges: []model.TraceEdge{
			{From: "PET-1", To: "FLK-1", Mass: 1_240_000, Step: model.StepShredding, Tx: "t2"},
			{From: "PET-1", To: "FLK-2", Mass: 10_000, Step: model.StepShredding, Tx: "t5"},
			{From: "FLK-1", To: "FIL-1", Mass: 1_000_000, Step: model.StepExtrusion, Tx: "t3"},
			{From: "FLK-2", To: "FIL-1", Mass: 5000, Step: model.StepExtrusion, Tx: "t3"},
			{From: "FIL-1", To: "CUP-1", Mass: 300, Step: model.StepPrinting, Tx: "t4"},
		}}
}

// A batch that counts more takes than the ledger holds lost some: the
// recall prints what it found, names the batch and exits 1.
func TestTraceDownLostTake(t *testing.T) {
	tr := downDiamond()
	tr.Edges = slices.DeleteFunc(tr.Edges, func(ed model.TraceEdge) bool { return ed.Tx == "t5" })
	tr.Nodes = slices.DeleteFunc(tr.Nodes, func(n model.TraceNode) bool { return n.ID == "FLK-2" })
	e := cmdtest.New(t)
	serveDown(t, e, tr, 5)
	r := tr.Nodes[0]
	e.Fake.OnJSON(api.ReadBatch, model.Batch{ID: r.ID, Material: r.Material, Form: r.Form, Owner: r.Owner, Status: r.Status,
		InitialMass: r.InitialMass, RemainingMass: r.RemainingMass, Origin: model.Origin{Collection: r.Collection}, Takes: 2})
	err := e.Run(newCmd(e), "trace", "PET-1", "--down")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.EqualError(t, err, "recall incomplete: 1 batch(es) lost takes")
	assert.Contains(t, e.Out.String(), "CUP-1", "what was found is printed")
	assert.Equal(t, `incomplete: batch "PET-1" records 2 takes but the ledger holds 1: what the others made is not in this recall`+"\n", e.Err.String())
}

func TestTraceDownTree(t *testing.T) {
	tr := downDiamond()
	e := cmdtest.New(t)
	serveDown(t, e, tr, 2)
	require.NoError(t, e.Run(newCmd(e), "trace", "PET-1", "--down"))
	cmdtest.Golden(t, "trace_down_tree", e.Out.String())
	assert.Contains(t, e.Out.String(), "FIL-1  [extrusion 5 kg] (shown above)")
}

func TestTraceDOTRenders(t *testing.T) {
	var buf bytes.Buffer
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.Trace, diamond())
	require.NoError(t, e.Run(newCmd(e), "trace", "CUP-1", "--format", "dot"))
	buf.Write(e.Out.Bytes())
	assert.Contains(t, buf.String(), `"PET-1" -> "FLK-1" [label="shredding 1240 kg"];`)
	assert.Contains(t, buf.String(), `Kadıköy \"north\"`, "quotes in labels are escaped")
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Log("graphviz not installed: checked the DOT text only")
		return
	}
	cmd := exec.Command(dot, "-Tsvg")
	cmd.Stdin = &buf
	svg, err := cmd.CombinedOutput()
	require.NoError(t, err, string(svg))
	assert.Contains(t, string(svg), "<svg")
}

func TestTraceErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "trace", "X", "--format", "png"), `--format: must be one of tree, json, dot, mermaid, got "png"`)
	assert.ErrorContains(t, e.Run(newCmd(e), "trace", "X", "-p", "ghost"), `profile "ghost" not found`)
	assert.Empty(t, e.Fake.Calls())
	e.Fake.OnError(api.Trace, ledgertest.Rejection(`batch "X" not found`))
	assert.EqualError(t, e.Run(newCmd(e), "trace", "X"), `rejected by chaincode: batch "X" not found`)
}
