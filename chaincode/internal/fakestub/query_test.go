package fakestub

import (
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keys drains it and returns the keys it yielded.
func keys(t *testing.T, it shim.StateQueryIteratorInterface) []string {
	t.Helper()
	out := []string{}
	for it.HasNext() {
		kv, err := it.Next()
		require.NoError(t, err)
		out = append(out, kv.Key)
	}
	require.NoError(t, it.Close())
	return out
}

// seeded returns a ledger with simple keys b1..b4 and composite keys
// owner~batch for two owners.
func seeded(t *testing.T) (*Ledger, *Stub) {
	t.Helper()
	l := NewLedger()
	s := l.NewStub(alice, "Seed")
	for _, k := range []string{"b3", "b1", "b4", "b2", "baseline~x"} {
		require.NoError(t, s.PutState(k, []byte("v-"+k)))
	}
	for _, p := range [][2]string{{"RecyclerMSP", "B2"}, {"MakerMSP", "B9"}, {"RecyclerMSP", "B1"}, {"RecyclerMSP", "B3"}} {
		ck, err := s.CreateCompositeKey("owner~batch", p[:])
		require.NoError(t, err)
		require.NoError(t, s.PutState(ck, []byte{0}))
	}
	ck, err := s.CreateCompositeKey("status~batch", []string{"active", "B1"})
	require.NoError(t, err)
	require.NoError(t, s.PutState(ck, []byte{0}))
	require.NoError(t, s.Commit())
	return l, l.NewStub(alice, "Query")
}

func TestCompositeKeys(t *testing.T) {
	s := NewLedger().NewStub(alice)
	ck, err := s.CreateCompositeKey("owner~batch", []string{"RecyclerMSP", "B1"})
	require.NoError(t, err)
	assert.Equal(t, "\x00owner~batch\x00RecyclerMSP\x00B1\x00", ck)
	want, err := shim.CreateCompositeKey("owner~batch", []string{"RecyclerMSP", "B1"})
	require.NoError(t, err)
	assert.Equal(t, want, ck, "same format as the shim")

	typ, attrs, err := s.SplitCompositeKey(ck)
	require.NoError(t, err)
	assert.Equal(t, "owner~batch", typ)
	assert.Equal(t, []string{"RecyclerMSP", "B1"}, attrs)

	ck, err = s.CreateCompositeKey("t", nil)
	require.NoError(t, err)
	typ, attrs, err = s.SplitCompositeKey(ck)
	require.NoError(t, err)
	assert.Equal(t, "t", typ)
	assert.Empty(t, attrs)

	_, err = s.CreateCompositeKey("t", []string{"a\x00b"})
	assert.ErrorContains(t, err, "U+0000")
	_, err = s.CreateCompositeKey("t\U0010FFFF", nil)
	assert.ErrorContains(t, err, "U+10FFFF")
	_, err = s.CreateCompositeKey("t", []string{"\xff"})
	assert.ErrorContains(t, err, "not a valid utf8 string")
	_, _, err = s.SplitCompositeKey("plain")
	assert.ErrorContains(t, err, "not a composite key")
}

func TestRangeSkipsCompositeKeys(t *testing.T) {
	_, s := seeded(t)
	it, err := s.GetStateByRange("", "")
	require.NoError(t, err)
	assert.Equal(t, []string{"b1", "b2", "b3", "b4", "baseline~x"}, keys(t, it))

	it, err = s.GetStateByRange("b2", "b4")
	require.NoError(t, err)
	assert.Equal(t, []string{"b2", "b3"}, keys(t, it), "start inclusive, end exclusive")

	it, err = s.GetStateByRange("b3", "")
	require.NoError(t, err)
	assert.Equal(t, []string{"b3", "b4", "baseline~x"}, keys(t, it))

	_, err = s.GetStateByRange("\x00owner", "")
	assert.ErrorContains(t, err, "null character")
	_, _, err = s.GetStateByRangeWithPagination("", "\x00x", 1, "")
	assert.ErrorContains(t, err, "null character")
}

func TestPartialCompositeKey(t *testing.T) {
	_, s := seeded(t)
	it, err := s.GetStateByPartialCompositeKey("owner~batch", []string{"RecyclerMSP"})
	require.NoError(t, err)
	var batches []string
	for it.HasNext() {
		kv, err := it.Next()
		require.NoError(t, err)
		_, attrs, err := s.SplitCompositeKey(kv.Key)
		require.NoError(t, err)
		batches = append(batches, attrs[1])
	}
	assert.Equal(t, []string{"B1", "B2", "B3"}, batches)

	it, err = s.GetStateByPartialCompositeKey("owner~batch", nil)
	require.NoError(t, err)
	assert.Len(t, keys(t, it), 4, "only this object type, no simple keys")

	_, err = s.GetStateByPartialCompositeKey("owner~batch", []string{"a\x00"})
	assert.Error(t, err)
	_, _, err = s.GetStateByPartialCompositeKeyWithPagination("owner~batch", []string{"a\x00"}, 1, "")
	assert.Error(t, err)
}

func TestPagination(t *testing.T) {
	_, s := seeded(t)
	var pages [][]string
	var counts []int32
	bookmark := ""
	for {
		it, meta, err := s.GetStateByRangeWithPagination("", "", 2, bookmark)
		require.NoError(t, err)
		pages = append(pages, keys(t, it))
		counts = append(counts, meta.FetchedRecordsCount)
		bookmark = meta.Bookmark
		if bookmark == "" {
			break
		}
	}
	assert.Equal(t, [][]string{{"b1", "b2"}, {"b3", "b4"}, {"baseline~x"}}, pages)
	assert.Equal(t, []int32{2, 2, 1}, counts)

	it, meta, err := s.GetStateByRangeWithPagination("b1", "b3", 2, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"b1", "b2"}, keys(t, it))
	assert.Empty(t, meta.Bookmark, "page ends exactly at the end of the range")

	it, meta, err = s.GetStateByPartialCompositeKeyWithPagination("owner~batch", []string{"RecyclerMSP"}, 2, "")
	require.NoError(t, err)
	assert.Len(t, keys(t, it), 2)
	assert.Equal(t, "\x00owner~batch\x00RecyclerMSP\x00B3\x00", meta.Bookmark)
	it, meta, err = s.GetStateByPartialCompositeKeyWithPagination("owner~batch", []string{"RecyclerMSP"}, 2, meta.Bookmark)
	require.NoError(t, err)
	assert.Equal(t, []string{"\x00owner~batch\x00RecyclerMSP\x00B3\x00"}, keys(t, it))
	assert.Equal(t, &peer.QueryResponseMetadata{FetchedRecordsCount: 1}, meta)

	it, meta, err = s.GetAllStatesCompositeKeyWithPagination(10, "")
	require.NoError(t, err)
	assert.Len(t, keys(t, it), 5)
	assert.Equal(t, int32(5), meta.FetchedRecordsCount)

	// Page size 0 without bookmark is a plain range query, as in Fabric.
	it, meta, err = s.GetStateByRangeWithPagination("", "", 0, "")
	require.NoError(t, err)
	assert.Len(t, keys(t, it), 5)
	assert.Equal(t, int32(5), meta.FetchedRecordsCount)

	_, _, err = s.GetStateByRangeWithPagination("", "", -1, "")
	assert.ErrorContains(t, err, "must not be negative")
}

func TestPaginationIsReadOnly(t *testing.T) {
	l, s := seeded(t)
	_, _, err := s.GetStateByRangeWithPagination("", "", 2, "")
	require.NoError(t, err)
	assert.ErrorContains(t, s.PutState("b9", []byte("x")), "already performed a paginated query")

	w := l.NewStub(alice, "Fn")
	require.NoError(t, w.PutState("b9", []byte("x")))
	_, _, err = w.GetStateByRangeWithPagination("", "", 2, "")
	assert.ErrorContains(t, err, "supported only in a read-only transaction")

	// In a write batch the conflict shows when the batch is finished.
	b := l.NewStub(alice, "Fn")
	b.StartWriteBatch()
	require.NoError(t, b.PutState("b9", []byte("x")))
	_, _, err = b.GetStateByRangeWithPagination("", "", 2, "")
	require.NoError(t, err)
	assert.ErrorContains(t, b.FinishWriteBatch(), "paginated query")
}

func TestIteratorEdges(t *testing.T) {
	_, s := seeded(t)
	it, err := s.GetStateByRange("zz", "")
	require.NoError(t, err)
	assert.False(t, it.HasNext())
	_, err = it.Next()
	assert.ErrorContains(t, err, "no more results")
	require.NoError(t, it.Close())
	_, err = it.Next()
	assert.ErrorContains(t, err, "closed")

	it, err = s.GetStateByRange("b1", "")
	require.NoError(t, err)
	kv, err := it.Next()
	require.NoError(t, err)
	assert.Equal(t, "v-b1", string(kv.Value))
	assert.Equal(t, "mtrace", kv.Namespace)
	require.NoError(t, it.Close())
	assert.False(t, it.HasNext())
}

func TestPhantomRead(t *testing.T) {
	l, _ := seeded(t)
	s := l.NewStub(alice, "Fn")
	it, err := s.GetStateByRange("b1", "b9")
	require.NoError(t, err)
	assert.Len(t, keys(t, it), 4)
	require.NoError(t, s.PutState("sum", []byte("4")))

	l.Put("b5", []byte("new")) // a key appears inside the range
	assert.ErrorIs(t, s.Commit(), ErrPhantomRead)
	assert.Nil(t, l.State("sum"))

	// A key changing outside the part of the range that was read is fine.
	p := l.NewStub(alice, "Fn")
	it, err = p.GetStateByRange("b1", "b9")
	require.NoError(t, err)
	_, err = it.Next()
	require.NoError(t, err)
	require.NoError(t, it.Close())
	require.NoError(t, p.PutState("first", []byte("b1")))
	l.Put("b6", []byte("new"))
	require.NoError(t, p.Commit())

	// A changed value inside the read part conflicts too.
	c := l.NewStub(alice, "Fn")
	it, err = c.GetStateByPartialCompositeKey("owner~batch", []string{"RecyclerMSP"})
	require.NoError(t, err)
	ks := keys(t, it)
	require.NoError(t, c.PutState("x", []byte("1")))
	l.Put(ks[1], []byte{1})
	assert.ErrorIs(t, c.Commit(), ErrPhantomRead)
}
