package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func spool() *model.Batch {
	rec := model.Actor{MSP: "RecyclerMSP", Identity: "User1@recycler"}
	return &model.Batch{
		ID: "SPOOL-1", Material: model.PET, Form: model.FormFilament, Status: model.StatusQuarantined,
		InitialMass: 1000, RemainingMass: 650, TransitLoss: 0, Owner: "MakerMSP",
		Submitter: rec, RecycledContent: 9950,
		Origin: model.Origin{Process: &model.Derivation{
			Step: model.StepExtrusion, Tx: "tx1", By: rec, At: "2026-11-20T10:00:00Z", Location: "Tuzla",
			Inputs:     []model.Take{{ID: "FLK-1", Mass: 1100}},
			VirginMass: 5, Loss: 105,
		}},
		Pending:    &model.Transfer{To: "AuditorMSP", Mass: 650, OfferedBy: rec, OfferedAt: "2026-11-21T00:00:00Z"},
		Quarantine: &model.Quarantine{ByRole: model.HeldByAuditor, By: model.Actor{MSP: "AuditorMSP"}, At: "2026-11-22T00:00:00Z", Reason: "lab test"},
		Handovers: []model.Handover{
			{From: "RecyclerMSP", To: "MakerMSP", Offered: 1000, Received: 1000, AcceptedAt: "2026-11-20T11:00:00Z"},
		},
		TakenMass: 350, Takes: 3,
		Documents: []model.Document{{Name: "lab report", SHA256: strings.Repeat("ab", 32), URI: "https://lab.example/1"}},
		CreatedAt: "2026-11-20T10:00:00Z", UpdatedAt: "2026-11-22T00:00:00Z",
		UpdatedBy: model.Actor{MSP: "AuditorMSP", Identity: "User1@auditor"}, LastTx: "tx9",
		Event: model.Event{Name: model.EvBatchQuarantined},
	}
}

func TestBatchShowsEveryPart(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Batch(&buf, spool(), []model.Take{{ID: "VASE-1", Mass: 150, Tx: "tx2", At: "2026-11-21T10:00:00Z"}, {ID: "VASE-2", Mass: 100, Tx: "tx3", At: "2026-11-21T11:00:00Z"}}))
	out := buf.String()
	for _, want := range []string{
		"ID                SPOOL-1",
		"Mass              650 g remaining of 1 kg (350 g taken into processes)",
		"Recycled content  99.5%",
		"Process           extrusion by RecyclerMSP at 2026-11-20T10:00:00Z (tx tx1)",
		"  inputs          FLK-1 1.1 kg",
		"  virgin / loss   5 g / 105 g",
		"  location        Tuzla",
		"Pending transfer  650 g to AuditorMSP",
		"Quarantine        held by auditor AuditorMSP at 2026-11-22T00:00:00Z: lab test",
		"Handovers         RecyclerMSP -> MakerMSP, 1 kg offered, 1 kg received",
		"Children          VASE-1 150 g, tx tx2, 2026-11-21T10:00:00Z\n                  VASE-2 100 g, tx tx3, 2026-11-21T11:00:00Z\n                  and 1 more (of 3)\n",
		"Documents         lab report sha256:abab",
		"https://lab.example/1",
		"Updated           2026-11-22T00:00:00Z by AuditorMSP (User1@auditor), BatchQuarantined, tx tx9",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Waste code", "a derived batch has no waste code")
	assert.NotContains(t, out, "transit loss", "no transit loss, no mention")
}

func TestBatchOfCollectedWaste(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Batch(&buf, &model.Batch{
		ID: "IST-1", Material: model.PET, Form: model.FormWaste, InitialMass: 1_250_000, RemainingMass: 1_240_000,
		TransitLoss: 10_000, WasteCode: "15 01 02", RecycledContent: 10000,
		Origin: model.Origin{Collection: &model.Collection{Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T06:30:00Z", Collector: "MunicipalityMSP"}},
	}, nil))
	out := buf.String()
	assert.Contains(t, out, "1240 kg remaining of 1250 kg (transit loss 10 kg)")
	assert.Contains(t, out, "Waste code        15 01 02")
	assert.Contains(t, out, "Collected         Kadıköy, Istanbul, 2026-11-20T06:30:00Z, by MunicipalityMSP")
	assert.NotRegexp(t, `(?m)^Process `, out, "no process row for collected waste")
}

func TestBatchBoughtInAtASite(t *testing.T) {
	var buf bytes.Buffer
	shares := model.Shares{PreConsumer: model.WholePPM}
	require.NoError(t, Batch(&buf, &model.Batch{
		ID: "BUY-1", Material: model.PET, Form: model.FormWaste, InitialMass: 2_000_000, RemainingMass: 2_000_000, Owner: "MakerMSP",
		Shares: &shares, Site: "6410000000018",
		Origin: model.Origin{Purchase: &model.Purchase{Supplier: "Akdeniz Ambalaj", SupplierID: "TR-1", OriginClass: model.PreConsumer,
			ReceivedAt: "2026-11-19T11:00:00Z", Purchaser: "RecyclerMSP", Ticket: "WB-42", TicketSHA256: "ab12"}},
		Pending: &model.Transfer{To: "AuditorMSP", Mass: 2_000_000, OfferedAt: "2026-11-21T00:00:00Z", Declaration: "D-8"},
		Handovers: []model.Handover{{From: "RecyclerMSP", To: "MakerMSP", Offered: 2_000_000, Received: 2_000_000,
			AcceptedAt: "2026-11-20T11:00:00Z", Site: "6410000000018", Declaration: "D-7"}},
	}, nil))
	out := buf.String()
	for _, want := range []string{
		"Recycled content  0%\n",
		"Recycled shares   post-consumer 0%, pre-consumer 100%\n",
		"Site              6410000000018\n",
		"Bought in         from Akdeniz Ambalaj (TR-1), received 2026-11-19T11:00:00Z by RecyclerMSP: its own claim, weighbridge ticket WB-42 sha256:ab12\n",
		"Origin class      pre-consumer\n",
		"offered by  at 2026-11-21T00:00:00Z, declaration D-8\n",
		"Handovers         RecyclerMSP -> MakerMSP, 2000 kg offered, 2000 kg received, 2026-11-20T11:00:00Z, site 6410000000018, declaration D-7\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Collected")
}

func TestBatchesTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Batches(&buf, []model.Batch{*spool()}))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, strings.Fields("ID MATERIAL FORM STATUS OWNER REMAINING INITIAL RECYCLED UPDATED"), strings.Fields(lines[0]))
	assert.Equal(t, strings.Fields("SPOOL-1 PET filament quarantined MakerMSP 650 g 1 kg 99.5% 2026-11-22T00:00:00Z"), strings.Fields(lines[1]))
}

func TestTreeDrawsBranches(t *testing.T) {
	tr := &model.Trace{
		Root: "P", Direction: model.Upstream,
		Nodes: []model.TraceNode{
			{ID: "P", Material: model.PET, Form: model.FormProduct, InitialMass: 310, RemainingMass: 310, Owner: "MakerMSP", Status: model.StatusActive, RecycledContent: 10000},
			{ID: "A", Depth: 1, Material: model.PET, Form: model.FormWaste, Owner: "RecyclerMSP", Status: model.StatusConsumed,
				Collection: &model.Collection{Location: "Fatih", CollectedAt: "2026-11-20T06:00:00Z"}},
			{ID: "B", Depth: 1, Material: model.PET, Form: model.FormWaste, Owner: "RecyclerMSP", Status: model.StatusConsumed},
		},
		Edges: []model.TraceEdge{{From: "A", To: "P", Mass: 200, Step: model.StepPrinting}, {From: "B", To: "P", Mass: 150, Step: model.StepPrinting}},
	}
	var buf bytes.Buffer
	require.NoError(t, Trace(&buf, tr, "tree"))
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "P  PET product, 310 g of 310 g, MakerMSP, active, 100% recycled"), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "├─ A  [printing 200 g]"), lines[1])
	assert.Contains(t, lines[1], "collected at Fatih")
	assert.True(t, strings.HasPrefix(lines[2], "└─ B  [printing 150 g]"), lines[2])

	buf.Reset()
	require.NoError(t, Trace(&buf, tr, "json"))
	assert.Contains(t, buf.String(), `"root": "P"`)
}

// TestBatchShowsAuditorsHoldsAndDocuments: holds and documents auditors
// keep under keys of their own show on the batch, and its status is
// quarantined while a hold is in force.
func TestBatchShowsAuditorsHoldsAndDocuments(t *testing.T) {
	b := spool()
	b.Status, b.Quarantine = model.StatusActive, nil
	aud := model.Actor{MSP: "AuditorMSP", Identity: "emre", EnrollmentID: "emre"}
	b.Holds = []model.Hold{{Batch: b.ID, By: aud, Reason: "lab: PVC", At: "2026-11-23T00:00:00Z", Tx: "tx-hold"}}
	b.AuditorDocuments = []model.AuditorDocument{{Batch: b.ID, Document: model.Document{Name: "lab.pdf", SHA256: strings.Repeat("cd", 32), AnchoredBy: aud, AnchoredAt: "2026-11-23T01:00:00Z", Tx: "tx-doc"}}}
	var buf bytes.Buffer
	require.NoError(t, Batch(&buf, b, nil))
	out := buf.String()
	assert.Contains(t, out, "Status             quarantined (stored status active; 1 auditor's hold(s) in force)")
	assert.Contains(t, out, "Auditor's hold     held by auditor AuditorMSP (emre) at 2026-11-23T00:00:00Z: lab: PVC, tx tx-hold")
	assert.Contains(t, out, "Auditor documents  lab.pdf sha256:cdcd")
	buf.Reset()
	require.NoError(t, Batches(&buf, []model.Batch{*b}))
	assert.Contains(t, buf.String(), " quarantined ")
}
