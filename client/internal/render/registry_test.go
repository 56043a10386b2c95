package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func registry() *model.Registry {
	adm := model.Actor{MSP: "MakerMSP", Identity: "Admin@maker"}
	return &model.Registry{
		Participants: []model.Participant{
			{MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Audit"},
			{MSP: "MakerMSP", Role: model.RoleMaker, Name: "Makers"},
			{MSP: "RecyclerMSP", Role: model.RoleRecycler, Name: "Recyclers"},
		},
		Proposals: []model.Proposal{
			{ID: "aaaaaaaaaaaa", ExpiresAt: "2026-12-10T00:00:00Z", ProposedBy: adm,
				Change:    model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: "AuditorMSP"}},
				Approvals: []model.Approval{{By: adm}, {By: model.Actor{MSP: "GoneMSP"}}}},
			{ID: "bbbbbbbbbbbb", ExpiresAt: "2026-12-01T00:00:00Z", ProposedBy: adm,
				Change: model.Change{Action: model.ActionSet, Participant: model.Participant{MSP: "KMSP", Role: model.RoleCollector, Name: "K"}}},
		},
		UpdatedAt: "2026-11-30T10:00:00Z", UpdatedBy: adm, LastTx: "tx9",
	}
}

func TestRegistry(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	require.NoError(t, Registry(&out, registry(), now))
	lines := strings.Split(out.String(), "\n")
	assert.Regexp(t, `^MSP\s+ROLE\s+NAME$`, lines[0])
	assert.Regexp(t, `^MakerMSP\s+maker\s+Makers$`, lines[2])
	assert.Contains(t, out.String(), "3 members; a change applies with the approvals of 2. Last change: tx tx9 by Admin@maker (MakerMSP) at 2026-11-30T10:00:00Z\n")
	assert.Regexp(t, `aaaaaaaaaaaa\s+remove AuditorMSP\s+MakerMSP\s+MakerMSP, GoneMSP\s+1/2\s+-\s+2026-12-10T00:00:00Z\n`, out.String(), "only members' approvals count")
	assert.Regexp(t, `bbbbbbbbbbbb\s+set KMSP as collector \("K"\)\s+MakerMSP\s+-\s+0/2\s+-\s+2026-12-01T00:00:00Z \(expired\)\n`, out.String())

	r := registry()
	r.Proposals = nil
	out.Reset()
	require.NoError(t, Registry(&out, r, now))
	assert.True(t, strings.HasSuffix(out.String(), "No open proposals.\n"))
}

func TestProcess(t *testing.T) {
	p := &model.Process{Derivation: model.Derivation{Step: model.StepExtrusion, Tx: "tx-p", At: "2026-11-21T10:00:00Z",
		By: model.Actor{MSP: "RecyclerMSP", Identity: "op"}, Location: "Line 2",
		Inputs: []model.Take{{ID: "F1", Mass: 600_000}, {ID: "F2", Mass: 400_000}}, VirginMass: 50_000, Loss: 50_000},
		Outputs: []model.Take{{ID: "S1", Mass: 1_000_000}}, RecycledContent: 9523}
	var out bytes.Buffer
	require.NoError(t, Process(&out, p))
	for _, want := range []string{
		"Process           extrusion by RecyclerMSP (op) at 2026-11-21T10:00:00Z\n",
		"Location          Line 2\n",
		"Inputs            1000 kg: F1 600 kg, F2 400 kg\n",
		"Virgin            50 kg\n",
		"Outputs           1000 kg: S1 1000 kg\n",
		"Recycled content  95.23%\n",
	} {
		assert.Contains(t, out.String(), want)
	}
	p.Location = ""
	out.Reset()
	require.NoError(t, Process(&out, p))
	assert.NotContains(t, out.String(), "Location")
}

func TestOr(t *testing.T) {
	assert.Equal(t, "x", Or("x", "-"))
	assert.Equal(t, "-", Or("", "-"))
}

// A drawing of more batches than MaxDrawn keeps those nearest the root
// and the edges between them, and says what it left out.
func TestDrawingsAreCut(t *testing.T) {
	defer func(n int) { MaxDrawn = n }(MaxDrawn)
	MaxDrawn = 3
	tr := &model.Trace{Root: "R", Direction: model.Downstream}
	for i, id := range []string{"R", "A", "B", "C", "D"} {
		tr.Nodes = append(tr.Nodes, model.TraceNode{ID: id, Depth: min(i, 2)})
	}
	for _, e := range [][2]string{{"R", "A"}, {"R", "B"}, {"A", "C"}, {"B", "D"}} {
		tr.Edges = append(tr.Edges, model.TraceEdge{From: e[0], To: e[1], Tx: "t"})
	}
	cut, note := drawable(tr)
	assert.Len(t, cut.Nodes, 3)
	assert.Len(t, cut.Edges, 2, "R>A and R>B")
	assert.Equal(t, "3 of 5 batches and 2 of 4 edges drawn (those nearest the root); 2 batches and 2 edges left out: use --format tree or json for the whole graph", note)
	var out bytes.Buffer
	require.NoError(t, DOT(&out, tr))
	assert.Contains(t, out.String(), fmt.Sprintf("// %s\n", note))
	assert.NotContains(t, out.String(), `"C"`)

	MaxDrawn = 5
	same, note := drawable(tr)
	assert.Same(t, tr, same)
	assert.Empty(t, note)
}
