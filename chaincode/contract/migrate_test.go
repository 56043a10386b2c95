package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// toV020 rewrites the ledger of w into the stored format of contract
// 0.2.0, around the chaincode: every batch gets back its "children" list
// (the takes, without their time, as 0.2.0 stored them) and loses
// takenMass, takes and format; the take keys and the owner-and-status
// index entries are deleted. It returns the
// batches as they were, by id.
func toV020(t *testing.T, w *world) map[string]model.Batch {
	t.Helper()
	dropOwnerStatus(t, w)
	prefix, err := batchKey("")
	require.NoError(t, err)
	prefix = strings.TrimSuffix(prefix, "\x00")
	before := map[string]model.Batch{}
	for _, key := range w.l.Keys() {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		var b model.Batch
		require.NoError(t, json.Unmarshal(w.l.State(key), &b))
		before[b.ID] = b
		takes, _ := allTakes(w, b.ID, 1000)
		var old map[string]any
		require.NoError(t, json.Unmarshal(w.l.State(key), &old))
		delete(old, "takenMass")
		delete(old, "takes")
		delete(old, "format")
		var children []model.Take
		for _, tk := range takes {
			k, err := takeKey(b.ID, tk.At, tk.Tx)
			require.NoError(t, err)
			w.l.Put(k, nil)
			tk.At = ""
			children = append(children, tk)
		}
		if children != nil {
			old["children"] = children
		}
		raw, err := json.Marshal(old)
		require.NoError(t, err)
		w.l.Put(key, raw)
		// Contract 0.2.0's key-level policy: the owner's peer alone.
		ep, err := statebased.NewStateEP(nil)
		require.NoError(t, err)
		require.NoError(t, ep.AddOrgs(statebased.RoleTypePeer, b.Owner))
		pol, err := ep.Policy()
		require.NoError(t, err)
		st := w.l.NewStub(w.adm)
		require.NoError(t, st.SetStateValidationParameter(key, pol))
		require.NoError(t, st.Commit())
		require.True(t, policyHolds(t, w.l.Policy(key), b.Owner), "the 0.2.0 policy is in place")
		if d := b.Origin.Process; d != nil {
			pk, err := processKey(d.Tx)
			require.NoError(t, err)
			ep, err := statebased.NewStateEP(nil)
			require.NoError(t, err)
			require.NoError(t, ep.AddOrgs(statebased.RoleTypePeer, d.By.MSP))
			pol, err := ep.Policy()
			require.NoError(t, err)
			st := w.l.NewStub(w.adm)
			require.NoError(t, st.SetStateValidationParameter(pk, pol))
			require.NoError(t, st.Commit())
		}
	}
	return before
}

// pending follows PendingMigration to the end.
func pending(w *world, limit int) []string {
	var all []string
	bookmark := ""
	for {
		var p model.IDPage
		w.query(w.adm, &p, "PendingMigration", bookmark, limit)
		all = append(all, p.IDs...)
		if p.Bookmark == "" {
			return all
		}
		bookmark = p.Bookmark
	}
}

func TestMigrateFromV020(t *testing.T) {
	w := story(t)
	var upBefore, downBefore model.Trace
	w.query(w.out, &upBefore, "Trace", "CHAIR-1", "up")
	w.query(w.out, &downBefore, "Trace", "C1", "down")
	takesBefore := map[string][]model.Take{}
	for _, id := range []string{"C1", "C2", "C3", "SORT-1", "WASH-1", "FLK-1", "SPOOL-1"} {
		takesBefore[id], _ = allTakes(w, id, 1000)
	}
	before := toV020(t, w)
	all := slices.Sorted(func(yield func(string) bool) {
		for id := range before {
			if !yield(id) {
				return
			}
		}
	})
	require.Len(t, all, 11)

	// An old batch is refused, with the way out, until migrated.
	msg := `batch "FLK-1" is stored in the format of contract 0.2.0: an admin must migrate the ledger first`
	w.queryFail(w.out, msg, "ReadBatch", "FLK-1")
	w.queryFail(w.out, `stored in the format of contract 0.2.0`, "VerifyProvenance", "CHAIR-1", "")
	w.fail(w.rec, msg, "Quarantine", "FLK-1", "check")
	w.fail(w.rec, `stored in the format of contract 0.2.0`, "Process", model.ProcessRequest{Step: model.StepPrinting,
		Inputs: []model.ProcessInput{in("SPOOL-2", 1)}, Outputs: []model.ProcessOutput{out("X", model.FormProduct, 1)}})

	assert.Equal(t, all, pending(w, 5))
	assert.Equal(t, all, pending(w, 0))

	// Only an admin of a member organisation migrates, and a refused call
	// writes nothing.
	snap, height := w.l.Snapshot(), w.l.Height()
	w.fail(w.rec, `is not an admin identity of RecyclerMSP: MigrateBatches needs mtrace.role "admin" and certificate OU "admin"`, "MigrateBatches", all)
	w.fail(w.adm, "ids: must list 1 to 100 batches, got 0", "MigrateBatches", []string{})
	w.fail(w.adm, `batch "GHOST" not found`, "MigrateBatches", []string{"C1", "GHOST"})
	assert.Equal(t, snap, w.l.Snapshot())
	assert.Equal(t, height, w.l.Height())

	// Interrupted after the first page: the rest is still pending.
	var got []string
	w.ok(w.adm, &got, "MigrateBatches", all[:5])
	assert.Equal(t, all[:5], got)
	assert.Equal(t, all[5:], pending(w, 2))
	// Rerunning a page migrates only what is left, and the event names it.
	w.ok(w.adm, &got, "MigrateBatches", all[3:8])
	assert.Equal(t, all[5:8], got)
	name, ev := w.lastEvent()
	assert.Equal(t, model.EvBatchesMigrated, name)
	assert.Equal(t, all[5:8], ev.Batches)
	w.ok(w.adm, &got, "MigrateBatches", all[8:])
	assert.Empty(t, pending(w, 0))

	// A rerun over everything writes nothing.
	snap = w.l.Snapshot()
	w.ok(w.adm, &got, "MigrateBatches", all)
	assert.Empty(t, got)
	assert.Equal(t, snap, w.l.Snapshot())

	// The batches are what they were before, but for the migration's own
	// stamp; their takes and key-level policies are back.
	for _, id := range all {
		b := w.batch(id)
		want := before[id]
		assert.NotEqual(t, want.LastTx, b.LastTx)
		assert.Equal(t, model.EvBatchesMigrated, b.Event.Name)
		want.LastTx, want.UpdatedAt, want.UpdatedBy, want.Event = b.LastTx, b.UpdatedAt, b.UpdatedBy, b.Event
		assert.Equal(t, want, *b, id)
		// The owner alone no longer satisfies it: the migration set
		// today's policy (owner and a witness).
		w.assertGuarded(id, b.Owner)
		if d := b.Origin.Process; d != nil {
			pk, err := processKey(d.Tx)
			require.NoError(t, err)
			w.assertGuardedKey(pk, d.By.MSP)
		}
	}
	for id, want := range takesBefore {
		got, _ := allTakes(w, id, 1000)
		assert.Equal(t, want, got, id)
		for _, tk := range got {
			var rec model.Process
			w.query(w.out, &rec, "GetProcess", tk.Tx)
			assert.True(t, slices.ContainsFunc(rec.Inputs, func(in model.Take) bool { return in.ID == id && in.Mass == tk.Mass }),
				"take of %q names process %s, which lists it as an input with the same mass", id, tk.Tx)
		}
	}
	var upAfter, downAfter model.Trace
	w.query(w.out, &upAfter, "Trace", "CHAIR-1", "up")
	w.query(w.out, &downAfter, "Trace", "C1", "down")
	assert.Equal(t, upBefore, upAfter)
	assert.Equal(t, downBefore, downAfter)
	for _, id := range all {
		var v model.Verdict
		w.query(w.out, &v, "VerifyProvenance", id, "")
		assert.True(t, v.OK, "%s: %+v", id, v.Checks)
	}
	// The ledger works on: the migrated spool is printed.
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepPrinting,
		Inputs: []model.ProcessInput{in("SPOOL-2", 1)}, Outputs: []model.ProcessOutput{out("X", model.FormProduct, 1)}})
}

// A pending transfer keeps both organisations in the policy; a child whose
// process record is missing cannot be migrated, and nothing is written.
func TestMigratePendingAndBroken(t *testing.T) {
	w := newWorld(t)
	w.register("A", kg(10))
	w.ok(w.mun, nil, "OfferTransfer", "A", "RecyclerMSP")
	w.register("B", kg(10))
	w.move("B", w.mun, w.rec, 0)
	var rec model.Process
	w.ok(w.rec, &rec, "Process", model.ProcessRequest{Step: model.StepSorting,
		Inputs: []model.ProcessInput{in("B", kg(4))}, Outputs: []model.ProcessOutput{out("S", model.FormSorted, kg(4))}})
	toV020(t, w)
	w.ok(w.adm, nil, "MigrateBatches", []string{"A"})
	w.assertGuarded("A", "MunicipalityMSP", "RecyclerMSP")

	key, err := processKey(rec.Tx)
	require.NoError(t, err)
	w.l.Put(key, nil)
	snap := w.l.Snapshot()
	w.fail(w.adm, `batch "B" names process `+rec.Tx+`, which has no record: it cannot be migrated`, "MigrateBatches", []string{"B", "S"})
	assert.Equal(t, snap, w.l.Snapshot())
}

// toV040Hold puts an auditor's hold on batch id the way contracts before
// 0.5.0 stored it: on the batch, with the auditor in the batch's policy.
func toV040Hold(t *testing.T, w *world, id, tx, reason string) model.Quarantine {
	t.Helper()
	key := mustBatchKey(t, id)
	var b model.Batch
	require.NoError(t, json.Unmarshal(w.l.State(key), &b))
	q := model.Quarantine{By: actor(w.aud), ByRole: model.HeldByAuditor, Reason: reason, At: at(0), Tx: tx, PreviousStatus: b.Status}
	b.Quarantine, b.Status = &q, model.StatusQuarantined
	raw, err := json.Marshal(b)
	require.NoError(t, err)
	w.l.Put(key, raw)
	pol, err := witnessedPolicy(custodians(&b), []string{"AuditorMSP", "MakerMSP", "MunicipalityMSP", "RecyclerMSP"}, minEndorsers)
	require.NoError(t, err)
	st := w.l.NewStub(w.adm)
	require.NoError(t, st.SetStateValidationParameter(key, pol))
	require.NoError(t, st.Commit())
	return q
}

// TestMigrateAuditorHold: an auditor's hold that an earlier contract
// stored on the batch keeps the batch held until migrated, and the
// migration moves it to its own key, leaving the batch's policy to its
// owner and a witness.
func TestMigrateAuditorHold(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(10))
	w.move("B1", w.mun, w.rec, 0)
	w.register("B2", kg(5))
	q := toV040Hold(t, w, "B1", "legacyholdtx", "lab: PVC")
	w.assertGuarded("B1", "AuditorMSP", "RecyclerMSP")
	proc := model.ProcessRequest{Step: model.StepSorting, Inputs: []model.ProcessInput{in("B1", kg(5))}, Outputs: []model.ProcessOutput{out("S1", model.FormSorted, kg(5))}}

	// Before the migration the hold works where it is.
	w.fail(w.rec, `batch "B1" is quarantined: lab: PVC`, "Process", proc)
	w.fail(w.rec, `batch "B1" was quarantined by auditor AuditorMSP; only an auditor may release it`, "Release", "B1")
	assert.Equal(t, []string{"B1"}, pending(w, 0), "a batch with a hold on it is pending; B2 is not")

	w.fail(w.rec, `is not an admin identity of RecyclerMSP: MigrateBatches needs`, "MigrateBatches", []string{"B1"})
	var migrated []string
	w.ok(w.adm, &migrated, "MigrateBatches", []string{"B1", "B2"})
	assert.Equal(t, []string{"B1"}, migrated, "B2 had nothing to migrate")
	b := w.batch("B1")
	assert.Equal(t, model.StatusActive, b.Status)
	assert.Nil(t, b.Quarantine)
	require.Len(t, b.Holds, 1)
	h := b.Holds[0]
	assert.Equal(t, q.By, h.By)
	assert.Equal(t, q.Reason, h.Reason)
	assert.Equal(t, q.Tx, h.Tx)
	assert.Equal(t, q.At, h.At)
	assert.Equal(t, model.EvBatchQuarantined, h.Event.Name)
	assert.Equal(t, q.Tx, h.Event.TxID)
	assert.Equal(t, model.EvBatchesMigrated, b.Event.Name)
	key, err := oversightKey(objHold, "B1", "legacyholdtx")
	require.NoError(t, err)
	w.assertGuardedKey(key, "AuditorMSP")
	w.assertGuarded("B1", "RecyclerMSP")

	// Still held: now under its own key.
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP`, "Process", proc)
	w.fail(w.rec, `batch "B1" is held by auditor AuditorMSP; only AuditorMSP may release it`, "Release", "B1")

	// A rerun finds nothing and writes nothing.
	assert.Empty(t, pending(w, 0))
	snap, height := w.l.Snapshot(), w.l.Height()
	w.ok(w.adm, &migrated, "MigrateBatches", []string{"B1"})
	assert.Empty(t, migrated)
	assert.Equal(t, snap, w.l.Snapshot())
	assert.Equal(t, height+1, w.l.Height(), "the rerun commits an empty write set")

	w.ok(w.aud, nil, "Release", "B1")
	w.ok(w.rec, nil, "Process", proc)
}
