package history

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdHistory(e.F, nil) }

func versions() []model.HistoryEntry {
	v1 := cmdtest.Collected("PET-1", 1_250_000)
	v2 := v1
	v2.Status = model.StatusInTransit
	v2.Pending = &model.Transfer{To: "RecyclerMSP", Mass: 1_250_000, OfferedBy: v1.Submitter, OfferedAt: "2026-11-20T08:00:00Z", OfferTx: "tx-offer"}
	v2.LastTx, v2.UpdatedAt = "tx-offer", "2026-11-20T08:00:00Z"
	v2.Event = model.Event{Name: model.EvTransferOffered, BizStep: model.BizShipping}
	// Versions of contract 0.4.0 name the person; older ones do not.
	v3 := cmdtest.Received(v1, 10_000)
	derya := model.Actor{MSP: "RecyclerMSP", Identity: "derya", EnrollmentID: "derya", Role: model.PersonOperator}
	v3.UpdatedBy, v3.Event.By, v3.Handovers[0].AcceptedBy = derya, derya, derya
	v4 := v3
	v4.TakenMass, v4.Takes = 1_240_000, 1
	v4.RemainingMass, v4.Status = 0, model.StatusConsumed
	v4.UpdatedAt, v4.LastTx = "2026-11-22T09:00:00Z", "tx-shred"
	v4.Event = model.Event{Name: model.EvBatchProcessed, BizStep: model.BizTransforming}
	entry := func(b model.Batch) model.HistoryEntry {
		return model.HistoryEntry{TxID: b.LastTx, Timestamp: b.UpdatedAt, Batch: &b}
	}
	// An auditor's hold and document, kept under keys of their own
	// (contract 0.5.0), and the hold's release.
	emre := model.Actor{MSP: "AuditorMSP", Identity: "emre", EnrollmentID: "emre", Role: model.PersonOperator}
	hold := model.Hold{Batch: "PET-1", By: emre, Reason: "lab: PVC", At: "2026-11-21T09:00:00Z", Tx: "tx-hold",
		Event: model.Event{Name: model.EvBatchQuarantined, BizStep: model.BizHolding}}
	released := hold
	released.Released = &model.Release{By: emre, At: "2026-11-21T12:00:00Z", Tx: "tx-release", Event: model.Event{Name: model.EvBatchReleased}}
	doc := model.AuditorDocument{Batch: "PET-1", Document: model.Document{Name: "lab.pdf", SHA256: strings.Repeat("ab", 32), AnchoredBy: emre, AnchoredAt: "2026-11-21T10:00:00Z", Tx: "tx-doc"},
		Event: model.Event{Name: model.EvDocumentAttached}}
	return []model.HistoryEntry{entry(v1), entry(v2), entry(v3),
		{TxID: "tx-hold", Timestamp: hold.At, Oversight: &model.Oversight{Kind: model.OversightHold, Hold: &hold}},
		{TxID: "tx-doc", Timestamp: doc.AnchoredAt, Oversight: &model.Oversight{Kind: model.OversightDocument, Document: &doc}},
		{TxID: "tx-release", Timestamp: released.Released.At, Oversight: &model.Oversight{Kind: model.OversightRelease, Hold: &released}},
		entry(v4)}
}

func TestHistory(t *testing.T) {
	args := cmdtest.Formats(t, "history", newCmd, api.GetHistory, versions(), "history", "PET-1")
	assert.Equal(t, []string{"PET-1"}, args)
}

func TestChanges(t *testing.T) {
	vs := versions()
	assert.Equal(t, []string{"status active -> in_transit", "offered 1250 kg to RecyclerMSP"}, Changes(vs[0].Batch, vs[1].Batch))
	assert.Equal(t, []string{"no field changed"}, Changes(vs[0].Batch, vs[0].Batch))
	q := *vs[0].Batch
	q.Quarantine = &model.Quarantine{ByRole: "auditor", By: model.Actor{MSP: "AuditorMSP"}, Reason: "lead"}
	q.Documents = []model.Document{{Name: "lab.pdf", SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}
	assert.Equal(t, []string{"held by auditor AuditorMSP: lead", "document lab.pdf (sha256 ba7816bf8f01...)"}, Changes(vs[0].Batch, &q))
	assert.Equal(t, []string{"hold lifted"}, Changes(&q, &model.Batch{
		Status: q.Status, Owner: q.Owner, RemainingMass: q.RemainingMass, RecycledContent: q.RecycledContent, Documents: q.Documents,
	}))
}

func TestHistoryErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "history", "PET-1", "-p", "ghost"), `profile "ghost" not found`)
	e.Fake.OnError(api.GetHistory, ledgertest.Rejection(`batch "PET-1" not found`))
	assert.EqualError(t, e.Run(newCmd(e), "history", "PET-1"), `rejected by chaincode: batch "PET-1" not found`)

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.GetHistory, []model.HistoryEntry{})
	require.NoError(t, e.Run(newCmd(e), "history", "PET-9"))
	assert.Equal(t, "No history for PET-9.\n", e.Out.String())
}

func TestChangesOfAMigration(t *testing.T) {
	prev := cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 0)
	prev.Format = 0
	cur := prev
	cur.Format, cur.Takes, cur.TakenMass = model.CurrentFormat, 3, 3000
	cur.Event = model.Event{Name: model.EvBatchesMigrated}
	assert.Equal(t, []string{"migrated to stored format 3: 3 takes, 3 kg taken, moved to keys of their own; indexed by owner and status"}, Changes(&prev, &cur))

	// From contract 0.5.0: shares and the owner's default site.
	prev.Format = model.TakesFormat
	cur.Shares, cur.Site = &model.Shares{PostConsumer: model.WholePPM}, "8690000000029"
	assert.Equal(t, []string{"migrated to stored format 3; shares post-consumer 100%, pre-consumer 0%; site 8690000000029; indexed by owner and status"}, Changes(&prev, &cur))

	// From contract 0.6.0: the owner-and-status index entry alone.
	prev = cur
	prev.Format = 2
	assert.Equal(t, []string{"migrated to stored format 3; indexed by owner and status"}, Changes(&prev, &cur))
}
