package trace

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
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
			e.Fake.OnJSON("Trace", diamond())
			require.NoError(t, e.Run(newCmd(e), "trace", "CUP-1", "--format", f))
			assert.Equal(t, []string{"CUP-1", "up"}, e.Fake.Calls()[0].Args)
			cmdtest.Golden(t, "trace_"+f, e.Out.String())
		})
	}
}

func TestTraceJSONOutputFlag(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.OnJSON("Trace", diamond())
	require.NoError(t, e.Run(newCmd(e), "trace", "CUP-1", "-o", "json", "--down"))
	assert.Equal(t, []string{"CUP-1", "down"}, e.Fake.Calls()[0].Args)
	assert.True(t, strings.HasPrefix(e.Out.String(), "{\n  \"root\": \"CUP-1\""))
}

func TestTraceDownTree(t *testing.T) {
	tr := diamond()
	tr.Root, tr.Direction = "PET-1", model.Downstream
	// PET-1 also fed a second lot, which was merged back into FIL-1.
	tr.Nodes = append(tr.Nodes, model.TraceNode{ID: "FLK-2", Depth: 1, Material: model.PET, Form: model.FormFlakes, Owner: "RecyclerMSP", InitialMass: 5000, RemainingMass: 0, Status: model.StatusConsumed, RecycledContent: 10000})
	tr.Edges = []model.TraceEdge{
		{From: "PET-1", To: "FLK-1", Mass: 1_240_000, Step: model.StepShredding},
		{From: "PET-1", To: "FLK-2", Mass: 10_000, Step: model.StepShredding},
		{From: "FLK-1", To: "FIL-1", Mass: 1_000_000, Step: model.StepExtrusion},
		{From: "FLK-2", To: "FIL-1", Mass: 5000, Step: model.StepExtrusion},
		{From: "FIL-1", To: "CUP-1", Mass: 300, Step: model.StepPrinting},
	}
	e := cmdtest.New(t)
	e.Fake.OnJSON("Trace", tr)
	require.NoError(t, e.Run(newCmd(e), "trace", "PET-1", "--down"))
	cmdtest.Golden(t, "trace_down_tree", e.Out.String())
	assert.Contains(t, e.Out.String(), "FIL-1  [extrusion 5 kg] (shown above)")
}

func TestTraceDOTRenders(t *testing.T) {
	var buf bytes.Buffer
	e := cmdtest.New(t)
	e.Fake.OnJSON("Trace", diamond())
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
	e.Fake.OnError("Trace", ledgertest.Rejection(`batch "X" not found`))
	assert.EqualError(t, e.Run(newCmd(e), "trace", "X"), `rejected by chaincode: batch "X" not found`)
}
