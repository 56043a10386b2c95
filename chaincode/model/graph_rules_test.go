package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerdictAdd(t *testing.T) {
	v := Verdict{OK: true, Checks: []Check{{Name: CheckCollected, OK: true}}}
	v.Add(Check{Name: CheckSignatures, OK: true, Detail: "fine"})
	assert.True(t, v.OK)
	assert.Len(t, v.Checks, 2)
	v.Add(Check{Name: "extra", OK: false})
	assert.False(t, v.OK, "a failed check fails the verdict")
	v.Add(Check{Name: "later", OK: true})
	assert.False(t, v.OK, "a later passing check does not undo a failure")
	assert.Equal(t, []string{CheckCollected, CheckSignatures, "extra", "later"}, []string{v.Checks[0].Name, v.Checks[1].Name, v.Checks[2].Name, v.Checks[3].Name})

	failed := Verdict{OK: false}
	failed.Add(Check{Name: CheckSignatures, OK: true})
	assert.False(t, failed.OK, "a verdict that failed in the chaincode stays failed")
}

func TestDownQueryValidate(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("B%d", i)
		}
		return out
	}
	ok := []DownQuery{
		{IDs: []string{"B1"}},
		{IDs: ids(MaxDownIDs), Limit: MaxDownLimit},
		{IDs: []string{"B1"}, Limit: 1, Bookmark: "g1AAAA"},
	}
	for _, q := range ok {
		assert.NoError(t, q.Validate())
	}
	bad := []struct {
		name  string
		q     DownQuery
		field string
	}{
		{"no ids", DownQuery{}, "ids"},
		{"too many ids", DownQuery{IDs: ids(MaxDownIDs + 1)}, "ids"},
		{"bad id", DownQuery{IDs: []string{"B1", "no spaces"}}, "ids[1]"},
		{"empty id", DownQuery{IDs: []string{""}}, "ids[0]"},
		{"negative limit", DownQuery{IDs: []string{"B1"}, Limit: -1}, "limit"},
		{"limit too high", DownQuery{IDs: []string{"B1"}, Limit: MaxDownLimit + 1}, "limit"},
		{"bookmark not UTF-8", DownQuery{IDs: []string{"B1"}, Bookmark: "\xff"}, "bookmark"},
		{"bookmark too long", DownQuery{IDs: []string{"B1"}, Bookmark: strings.Repeat("b", MaxTextLen+1)}, "bookmark"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var re *RuleError
			require.ErrorAs(t, c.q.Validate(), &re)
			assert.Equal(t, c.field, re.Field)
		})
	}
	assert.EqualError(t, DownQuery{IDs: ids(MaxDownIDs + 1)}.Validate(), "ids: must list 1 to 1000 batches, got 1001")
}

func TestSortTrace(t *testing.T) {
	tr := Trace{
		Nodes: []TraceNode{{ID: "C", Depth: 1}, {ID: "Z", Depth: 0}, {ID: "A", Depth: 2}, {ID: "B", Depth: 1}},
		Edges: []TraceEdge{
			{From: "B", To: "Z", Tx: "t2"},
			{From: "A", To: "C", Tx: "t9"},
			{From: "B", To: "Z", Tx: "t1"},
			{From: "A", To: "B", Tx: "t9"},
		},
	}
	SortTrace(&tr)
	var nodes, edges []string
	for _, n := range tr.Nodes {
		nodes = append(nodes, fmt.Sprintf("%d%s", n.Depth, n.ID))
	}
	for _, e := range tr.Edges {
		edges = append(edges, e.From+">"+e.To+"@"+e.Tx)
	}
	assert.Equal(t, []string{"0Z", "1B", "1C", "2A"}, nodes, "by depth, then id")
	assert.Equal(t, []string{"A>B@t9", "A>C@t9", "B>Z@t1", "B>Z@t2"}, edges, "by from, to, tx")
}

func TestNodeOf(t *testing.T) {
	col := &Collection{Location: "Kadıköy", CollectedAt: "t0", Collector: "MunicipalityMSP"}
	docs := []Document{{Name: "cert", SHA256: strings.Repeat("a", 64)}}
	waste := Batch{ID: "W", Material: PET, Form: FormWaste, Owner: "RecyclerMSP", Status: StatusActive,
		InitialMass: 1000, RemainingMass: 400, RecycledContent: FullRecycled, Origin: Origin{Collection: col},
		Documents: docs, Takes: 2, LastTx: "ignored"}
	assert.Equal(t, TraceNode{ID: "W", Depth: 3, Material: PET, Form: FormWaste, Owner: "RecyclerMSP", Status: StatusActive,
		InitialMass: 1000, RemainingMass: 400, RecycledContent: FullRecycled, Collection: col, Documents: docs, Takes: 2},
		NodeOf(&waste, 3))

	flakes := Batch{ID: "F", Material: PET, Form: FormFlakes, Owner: "RecyclerMSP", Status: StatusQuarantined,
		InitialMass: 500, RemainingMass: 500, RecycledContent: 9000,
		Origin: Origin{Process: &Derivation{Step: StepShredding, Tx: "tx-p"}}}
	n := NodeOf(&flakes, 0)
	assert.Equal(t, StepShredding, n.Step, "a derived batch shows the step that made it")
	assert.Nil(t, n.Collection)
	assert.Equal(t, StatusQuarantined, n.Status)
	assert.Equal(t, int64(9000), n.RecycledContent)
	assert.Equal(t, Step(""), NodeOf(&waste, 0).Step, "collected waste has no step")
}

func TestMissingTakes(t *testing.T) {
	tr := Trace{
		Nodes: []TraceNode{
			{ID: "W1", Takes: 2}, // two processes on its edges
			{ID: "W2", Takes: 2}, // one process, with two outputs: a take is missing
			{ID: "W3", Takes: 0}, // nothing taken
			{ID: "W4", Takes: 1}, // its only take is gone
			{ID: "F1"},
		},
		Edges: []TraceEdge{
			{From: "W1", To: "F1", Tx: "p1"},
			{From: "W1", To: "F2", Tx: "p2"},
			{From: "W2", To: "F3", Tx: "p3"},
			{From: "W2", To: "F4", Tx: "p3"},
		},
	}
	assert.Equal(t, []string{
		`batch "W2" records 2 takes but the ledger holds 1: what the others made is not in this recall`,
		`batch "W4" records 1 takes but the ledger holds 0: what the others made is not in this recall`,
	}, MissingTakes(&tr))

	// Edges of more processes than the count (a count that fell behind is
	// the chaincode's business, not a missing take) are no problem.
	tr.Nodes[2].Takes = 0
	tr.Edges = append(tr.Edges, TraceEdge{From: "W3", To: "F5", Tx: "p5"})
	tr.Nodes[1].Takes, tr.Nodes[3].Takes = 1, 0
	assert.Empty(t, MissingTakes(&tr))
	assert.Empty(t, MissingTakes(&Trace{}))
}
