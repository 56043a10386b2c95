package contract

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// ownerStatus lists the owner-and-status index entries of batch id, as
// "owner/status", sorted.
func (w *world) ownerStatus(id string) []string {
	w.tb.Helper()
	prefix, err := shim.CreateCompositeKey(idxOwnerStatus, nil)
	require.NoError(w.tb, err)
	var out []string
	for _, k := range w.l.Keys() {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		_, attrs, err := splitKey(k)
		require.NoError(w.tb, err)
		require.Len(w.tb, attrs, 3, "key %q", k)
		if attrs[2] == id {
			out = append(out, attrs[0]+"/"+attrs[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestOwnerStatusIndexMoves: every transaction that creates a batch or
// changes its owner or status moves its one owner-and-status entry.
func TestOwnerStatusIndexMoves(t *testing.T) {
	w := newWorld(t)
	is := func(id, want string) {
		t.Helper()
		assert.Equal(t, []string{want}, w.ownerStatus(id), id)
	}
	w.register("B1", kg(10))
	is("B1", "MunicipalityMSP/active")
	w.ok(w.mun, nil, "OfferTransfer", "B1", "RecyclerMSP")
	is("B1", "MunicipalityMSP/in_transit")
	w.ok(w.rec, nil, "RejectTransfer", "B1", "wrong material")
	is("B1", "MunicipalityMSP/active")
	w.ok(w.mun, nil, "OfferTransfer", "B1", "RecyclerMSP")
	w.ok(w.mun, nil, "CancelTransfer", "B1")
	is("B1", "MunicipalityMSP/active")
	w.move("B1", w.mun, w.rec, 0)
	is("B1", "RecyclerMSP/active")
	w.ok(w.rec, nil, "Quarantine", "B1", "smells")
	is("B1", "RecyclerMSP/quarantined")
	w.ok(w.rec, nil, "Release", "B1")
	is("B1", "RecyclerMSP/active")
	// An auditor's hold is a key of its own: the batch keeps its status.
	w.ok(w.aud, nil, "Quarantine", "B1", "lab")
	is("B1", "RecyclerMSP/active")
	w.ok(w.aud, nil, "Release", "B1")
	w.ok(w.rec, nil, "AttachDocument", "B1", "lab report", strings.Repeat("ab", 32), "")
	is("B1", "RecyclerMSP/active")
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSorting,
		Inputs: []model.ProcessInput{in("B1", kg(10))}, Outputs: []model.ProcessOutput{out("S1", model.FormSorted, kg(10))}})
	is("B1", "RecyclerMSP/consumed")
	is("S1", "RecyclerMSP/active")
	w.register("B2", kg(5))
	w.ok(w.mun, nil, "OfferTransfer", "B2", "MakerMSP")
	w.ok(w.mak, nil, "AcceptTransferAt", "B2", 0, "")
	is("B2", "MakerMSP/active")
}

// TestListByOwnerAndStatus: the owner-and-status list answers exactly
// the owner's batches in that status, across pages, ignores a stale
// entry, and takes only its own bookmarks.
func TestListByOwnerAndStatus(t *testing.T) {
	w := newWorld(t)
	for i := range 9 {
		w.register(fmt.Sprintf("M%d", i), kg(1))
	}
	for _, id := range []string{"M1", "M3", "M5", "M7"} {
		w.ok(w.mun, nil, "OfferTransfer", id, "RecyclerMSP")
	}
	w.ok(w.rec, nil, "AcceptTransfer", "M7", 0)
	w.ok(w.rec, nil, "Quarantine", "M7", "sample")
	w.register("M9", kg(1))
	w.ok(w.mun, nil, "OfferTransfer", "M9", "MakerMSP")

	sizes, got := w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit, Limit: 2})
	assert.Equal(t, []int{2, 2}, sizes)
	assert.Equal(t, []string{"M1", "M3", "M5", "M9"}, got)
	sizes, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: "ACTIVE", Limit: 3})
	assert.Equal(t, []int{3, 2}, sizes)
	assert.Equal(t, []string{"M0", "M2", "M4", "M6", "M8"}, got)
	_, got = w.pages(model.ListQuery{Owner: "RecyclerMSP", Status: model.StatusQuarantined})
	assert.Equal(t, []string{"M7"}, got)
	_, got = w.pages(model.ListQuery{Owner: "RecyclerMSP", Status: model.StatusActive})
	assert.Empty(t, got)
	// Further filters apply to the batches.
	_, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit, Material: model.PP})
	assert.Empty(t, got)
	_, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit, Form: model.FormWaste, Limit: 1000})
	assert.Len(t, got, 4)

	// A stale entry (left by a faulty write) names a batch that is not in
	// that status: it is read, checked and left out.
	stale, err := shim.CreateCompositeKey(idxOwnerStatus, []string{"MunicipalityMSP", "in_transit", "M2"})
	require.NoError(t, err)
	w.l.Put(stale, indexValue)
	_, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit, Limit: 1})
	assert.Equal(t, []string{"M1", "M3", "M5", "M9"}, got)

	// Bookmarks: of this query only.
	var p model.BatchPage
	q := model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit, Limit: 1}
	w.query(w.aud, &p, "ListBatches", q)
	require.NotEmpty(t, p.Bookmark)
	raw, err := base64.RawURLEncoding.DecodeString(p.Bookmark)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(raw), "\x00idx~owner-status\x00MunicipalityMSP\x00in_transit\x00"), "%q", raw)
	for _, other := range []model.ListQuery{
		{Owner: "MunicipalityMSP", Status: model.StatusActive},
		{Owner: "RecyclerMSP", Status: model.StatusInTransit},
		{Owner: "MunicipalityMSP"},
		{Status: model.StatusInTransit},
	} {
		other.Bookmark = p.Bookmark
		w.queryFail(w.aud, "bookmark: is not a bookmark returned by this query", "ListBatches", other)
	}
	// A bookmark of the owner's index (as a list by owner and status gave
	// before contract 0.7.0) is refused, not misread.
	old := base64.RawURLEncoding.EncodeToString([]byte("\x00idx~owner\x00MunicipalityMSP\x00M1\x00"))
	q.Bookmark = old
	w.queryFail(w.aud, "bookmark: is not a bookmark returned by this query", "ListBatches", q)
	q.Bookmark = p.Bookmark
	w.query(w.aud, &p, "ListBatches", q)
	require.Len(t, p.Batches, 1)
	assert.Equal(t, "M3", p.Batches[0].ID)
}

// countingStub counts the keys a transaction reads: every key a range
// read returns, and every key read by GetState or GetMultipleStates.
type countingStub struct {
	*fakestub.Stub
	keys int
}

func (s *countingStub) GetState(key string) ([]byte, error) {
	s.keys++
	return s.Stub.GetState(key)
}

func (s *countingStub) GetMultipleStates(keys ...string) ([][]byte, error) {
	s.keys += len(keys)
	return s.Stub.GetMultipleStates(keys...)
}

func (s *countingStub) GetStateByPartialCompositeKey(obj string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	it, err := s.Stub.GetStateByPartialCompositeKey(obj, attrs)
	return &countingIter{it, &s.keys}, err
}

func (s *countingStub) GetStateByPartialCompositeKeyWithPagination(obj string, attrs []string, n int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	it, meta, err := s.Stub.GetStateByPartialCompositeKeyWithPagination(obj, attrs, n, bookmark)
	return &countingIter{it, &s.keys}, meta, err
}

func (s *countingStub) GetStateByRange(start, end string) (shim.StateQueryIteratorInterface, error) {
	it, err := s.Stub.GetStateByRange(start, end)
	return &countingIter{it, &s.keys}, err
}

type countingIter struct {
	shim.StateQueryIteratorInterface
	n *int
}

func (it *countingIter) Next() (*queryresult.KV, error) {
	*it.n++
	return it.StateQueryIteratorInterface.Next()
}

// seed stores batches of owner in status directly, through putBatch, the
// way the contract writes them: n copies of template with ids
// prefix-00000 on.
func seed(t *testing.T, w *world, template *model.Batch, prefix string, n int, status model.Status) {
	t.Helper()
	st := w.l.NewStub(w.adm)
	for i := range n {
		b := *template
		b.ID, b.Status = fmt.Sprintf("%s-%05d", prefix, i), status
		require.NoError(t, putBatch(st, nil, &b))
	}
	require.NoError(t, st.Commit())
}

// listKeys runs ListBatches with q on a counting stub and returns the
// page and how many keys it read.
func listKeys(t *testing.T, w *world, q model.ListQuery) (*model.BatchPage, int) {
	t.Helper()
	raw, err := json.Marshal(q)
	require.NoError(t, err)
	st := &countingStub{Stub: w.l.NewStub(w.aud, "ListBatches", string(raw))}
	ctx := &contractapi.TransactionContext{}
	ctx.SetStub(st)
	p, err := (&Contract{}).ListBatches(ctx, q)
	require.NoError(t, err)
	return p, st.keys
}

// TestListByOwnerAndStatusCost: the keys a list by owner and status
// reads do not grow with the owner's batches of other statuses.
func TestListByOwnerAndStatusCost(t *testing.T) {
	read := map[int]int{}
	for _, others := range []int{10, 10_000} {
		w := newWorld(t)
		tmpl := w.register("TEMPLATE", kg(1))
		seed(t, w, tmpl, "WANT", 10, model.StatusInTransit)
		seed(t, w, tmpl, "OTHER", others, model.StatusActive)
		q := model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit}
		p, n := listKeys(t, w, q)
		require.Len(t, p.Batches, 10)
		assert.Equal(t, "WANT-00000", p.Batches[0].ID)
		assert.Empty(t, p.Bookmark)
		read[others] = n

		// A list by owner and material, which has no index of its own,
		// walks every batch of the owner: the count sees that.
		p, all := listKeys(t, w, model.ListQuery{Owner: "MunicipalityMSP", Material: model.PP, Limit: 1000})
		require.Empty(t, p.Batches)
		assert.Greater(t, all, others, "a list by owner and material reads each of the owner's batches")
	}
	assert.Equal(t, read[10], read[10_000], "keys read for 10 batches in transit beside 10 and 10,000 active ones")
	assert.Less(t, read[10], 100, "keys read for 10 batches")
}

// toV060 rewrites every batch into the stored form of contract 0.6.0:
// format 2, and no owner-and-status index entries.
func toV060(t *testing.T, w *world) {
	t.Helper()
	dropOwnerStatus(t, w)
	for _, key := range w.l.Keys() {
		if obj, _, err := splitKey(key); err != nil || obj != objBatch {
			continue
		}
		var v map[string]any
		require.NoError(t, json.Unmarshal(w.l.State(key), &v))
		v["format"] = 2
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		w.l.Put(key, raw)
	}
}

// TestMigrateFromV060: batches of contract 0.6.0 (format 2, no
// owner-and-status entry) are used by every transaction as they are; a
// list by owner and status leaves them out until they are written or
// migrated; the migration writes the entry and the format and nothing
// else, skips current batches and is idempotent.
func TestMigrateFromV060(t *testing.T) {
	w := story(t)
	w.register("T1", kg(5))
	w.register("T2", kg(5))
	w.ok(w.mun, nil, "OfferTransfer", "T1", "RecyclerMSP")
	w.ok(w.mun, nil, "OfferTransfer", "T2", "MakerMSP")
	w.ok(w.rec, nil, "Quarantine", "SPOOL-3", "colour off")
	toV060(t, w)
	all := pending(w, 0)
	require.Len(t, all, 13, "every batch is pending: %v", all)
	before := map[string]model.Batch{}
	for _, id := range all {
		b := w.batch(id)
		require.Equal(t, 2, b.Format)
		require.Empty(t, w.ownerStatus(id))
		before[id] = *b
	}

	// Unmigrated: read, verified and listed by every other list; the list
	// by owner and status leaves them out.
	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.True(t, v.OK, "%+v", v.Checks)
	_, got := w.pages(model.ListQuery{Owner: "MunicipalityMSP"})
	assert.Equal(t, []string{"T1", "T2"}, got)
	_, got = w.pages(model.ListQuery{Status: model.StatusInTransit})
	assert.Equal(t, []string{"T1", "T2"}, got)
	_, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit})
	assert.Empty(t, got, "format 2 batches have no owner-and-status entry yet")

	// A transaction that writes one brings it to the current format, with
	// its entry; it is then no longer pending.
	w.ok(w.rec, nil, "AcceptTransfer", "T1", 0)
	assert.Equal(t, model.CurrentFormat, w.batch("T1").Format)
	assert.Equal(t, []string{"RecyclerMSP/active"}, w.ownerStatus("T1"))
	// So does a write that changes neither owner nor status.
	w.ok(w.rec, nil, "AttachDocument", "SPOOL-2", "datasheet", strings.Repeat("cd", 32), "")
	assert.Equal(t, []string{"RecyclerMSP/active"}, w.ownerStatus("SPOOL-2"))
	rest := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == "T1" || id == "SPOOL-2" })
	assert.Equal(t, rest, pending(w, 3))

	// The migration: current batches are skipped, the others get their
	// entry and format; no other key changes.
	snap := w.l.Snapshot()
	var migrated []string
	w.ok(w.adm, &migrated, "MigrateBatches", all)
	assert.Equal(t, rest, migrated)
	assert.Empty(t, pending(w, 0))
	after := w.l.Snapshot()
	for k, val := range after {
		if snap[k] == val {
			continue
		}
		obj, attrs, err := splitKey(k)
		require.NoError(t, err)
		switch obj {
		case objBatch:
			assert.Contains(t, rest, attrs[0], "migration rewrote batch %s", attrs[0])
		case idxOwnerStatus:
			_, was := snap[k]
			assert.False(t, was, "entry %q existed", k)
			assert.Contains(t, rest, attrs[2])
		default:
			t.Errorf("the migration wrote key %q", k)
		}
	}
	for k := range snap {
		_, kept := after[k]
		assert.True(t, kept, "the migration deleted key %q", k)
	}
	for _, id := range rest {
		b := w.batch(id)
		want := before[id]
		assert.Equal(t, model.EvBatchesMigrated, b.Event.Name)
		want.Format, want.LastTx, want.UpdatedAt, want.UpdatedBy, want.Event = model.CurrentFormat, b.LastTx, b.UpdatedAt, b.UpdatedBy, b.Event
		assert.Equal(t, want, *b, id)
		assert.Equal(t, []string{b.Owner + "/" + string(b.Status)}, w.ownerStatus(id), id)
		w.assertGuarded(id, custodians(b)...)
	}

	// A rerun writes nothing.
	snap = w.l.Snapshot()
	w.ok(w.adm, &migrated, "MigrateBatches", all)
	assert.Empty(t, migrated)
	assert.Equal(t, snap, w.l.Snapshot())

	// Now the list by owner and status is complete, and verify holds.
	_, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Status: model.StatusInTransit})
	assert.Equal(t, []string{"T2"}, got)
	_, got = w.pages(model.ListQuery{Owner: "RecyclerMSP", Status: model.StatusQuarantined})
	assert.Equal(t, []string{"SPOOL-3"}, got)
	_, got = w.pages(model.ListQuery{Owner: "RecyclerMSP", Status: model.StatusConsumed, Limit: 2})
	assert.Equal(t, []string{"C1", "C2", "C3", "FLK-1", "SORT-1", "WASH-1"}, got)
	w.ok(w.rec, nil, "Release", "SPOOL-3")
	for _, id := range all {
		w.query(w.out, &v, "VerifyProvenance", id, "")
		assert.True(t, v.OK, "%s: %+v", id, v.Checks)
	}
}

// dropOwnerStatus deletes every owner-and-status index entry, which
// contracts before 0.7.0 did not write.
func dropOwnerStatus(t *testing.T, w *world) {
	t.Helper()
	prefix, err := shim.CreateCompositeKey(idxOwnerStatus, nil)
	require.NoError(t, err)
	for _, key := range w.l.Keys() {
		if strings.HasPrefix(key, prefix) {
			w.l.Put(key, nil)
		}
	}
}
