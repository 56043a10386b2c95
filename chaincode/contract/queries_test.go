package contract

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// pages lists every page of q and returns the page sizes and all ids.
func (w *world) pages(q model.ListQuery) ([]int, []string) {
	w.tb.Helper()
	var sizes []int
	var all []string
	for range 100 {
		var p model.BatchPage
		w.query(w.aud, &p, "ListBatches", q)
		require.NotNil(w.tb, p.Batches)
		sizes = append(sizes, len(p.Batches))
		for _, b := range p.Batches {
			all = append(all, b.ID)
		}
		if p.Bookmark == "" {
			return sizes, all
		}
		q.Bookmark = p.Bookmark
	}
	w.tb.Fatal("ListBatches never ended")
	return nil, nil
}

func TestListBatches(t *testing.T) {
	w := newWorld(t)
	for i := range 7 {
		w.register(fmt.Sprintf("M%d", i), kg(1))
	}
	for _, id := range []string{"M1", "M3", "M5"} {
		w.move(id, w.mun, w.rec, 0)
	}
	w.ok(w.rec, nil, "Quarantine", "M3", "sample")

	sizes, got := w.pages(model.ListQuery{Limit: 3})
	assert.Equal(t, []int{3, 3, 1}, sizes)
	assert.Equal(t, []string{"M0", "M1", "M2", "M3", "M4", "M5", "M6"}, got)

	// Exact fit: the last full page has no bookmark.
	sizes, got = w.pages(model.ListQuery{Owner: "MunicipalityMSP", Limit: 2})
	assert.Equal(t, []int{2, 2}, sizes)
	assert.Equal(t, []string{"M0", "M2", "M4", "M6"}, got)

	// A second filter is applied to the batches of the first one's index.
	sizes, got = w.pages(model.ListQuery{Owner: "RecyclerMSP", Status: "active", Limit: 1})
	assert.Equal(t, []int{1, 1}, sizes)
	assert.Equal(t, []string{"M1", "M5"}, got)

	_, got = w.pages(model.ListQuery{Status: "QUARANTINED"})
	assert.Equal(t, []string{"M3"}, got)
	_, got = w.pages(model.ListQuery{Material: "pet", Form: "waste", Limit: 1000})
	assert.Len(t, got, 7)
	_, got = w.pages(model.ListQuery{Form: "filament"})
	assert.Empty(t, got)
	sizes, got = w.pages(model.ListQuery{Material: model.PET, Status: model.StatusActive, Limit: 4})
	assert.Equal(t, []int{4, 2}, sizes)
	assert.Equal(t, []string{"M0", "M1", "M2", "M4", "M5", "M6"}, got)

	// Default limit 50.
	var p model.BatchPage
	w.query(w.aud, &p, "ListBatches", model.ListQuery{})
	assert.Len(t, p.Batches, 7)
	assert.Empty(t, p.Bookmark)

	w.queryFail(w.aud, "limit: must be from 1 to 1000, got 1001", "ListBatches", model.ListQuery{Limit: 1001})
	w.queryFail(w.aud, "status: must be one of", "ListBatches", model.ListQuery{Status: "lost"})
	w.queryFail(w.aud, "bookmark: is not a bookmark returned by this query", "ListBatches", model.ListQuery{Bookmark: "!!"})
	other := base64.RawURLEncoding.EncodeToString([]byte("\x00idx~owner\x00MakerMSP\x00X\x00"))
	w.queryFail(w.aud, "bookmark: is not a bookmark returned by this query", "ListBatches", model.ListQuery{Owner: "RecyclerMSP", Bookmark: other})
}

func TestListBatchesManyPages(t *testing.T) {
	w := newWorld(t)
	for i := range 120 {
		w.register(fmt.Sprintf("N%03d", i), kg(1))
	}
	sizes, got := w.pages(model.ListQuery{Status: model.StatusActive, Limit: 50})
	assert.Equal(t, []int{50, 50, 20}, sizes)
	assert.Len(t, got, 120)
	assert.Equal(t, "N119", got[119])
}

func TestGetHistory(t *testing.T) {
	w := newWorld(t)
	reg := w.ok(w.mun, nil, "RegisterBatch", regReq("H1", kg(3)))
	w.l.Advance(60e9)
	off := w.ok(w.mun, nil, "OfferTransfer", "H1", "RecyclerMSP")
	w.l.Advance(60e9)
	acc := w.ok(w.rec, nil, "AcceptTransfer", "H1", 0)

	var h []model.HistoryEntry
	w.query(w.aud, &h, "GetHistory", "H1")
	require.Len(t, h, 3)
	assert.Equal(t, []string{reg.TxID, off.TxID, acc.TxID}, []string{h[0].TxID, h[1].TxID, h[2].TxID})
	assert.Equal(t, at(0), h[0].Timestamp)
	assert.Equal(t, at(120e9), h[2].Timestamp)
	assert.Equal(t, model.EvBatchRegistered, h[0].Batch.Event.Name)
	assert.Equal(t, model.EvTransferOffered, h[1].Batch.Event.Name)
	assert.Equal(t, "RecyclerMSP", h[2].Batch.Owner)
	assert.False(t, h[2].IsDelete)

	w.queryFail(w.aud, `batch "H2" not found`, "GetHistory", "H2")
	w.queryFail(w.aud, `id: must be`, "GetHistory", "")
}

// TestNoBaselineBackDoor: the benchmark's baseline, which writes any bytes
// under any key, is no function of the production chaincode.
func TestNoBaselineBackDoor(t *testing.T) {
	w := newWorld(t)
	w.fail(w.out, "Function BaselinePut not found", "BaselinePut", "k1", "v1")
	assert.Nil(t, w.l.State("baseline~k1"))
}
