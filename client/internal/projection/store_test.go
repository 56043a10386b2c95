package projection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/pgtest"
)

// chain is a constructed ledger of eight blocks: registrations, a
// handover, a process with its takes, an invalid transaction, a config
// block, a key type this release does not know and a deletion.
func chain(t testing.TB) []*Block {
	pet := func(id, owner, status string, rem int64, ev string) kv {
		return kv{Key: ck("batch", id), Value: batchValue(t, id, owner, status, rem, ev)}
	}
	tk := mustJSON(t, map[string]any{"id": "FLK-1", "mass": 400, "tx": "txP"})
	raw := [][]txSpec{
		{{ID: "genesis", Code: valid, Config: true}},
		{{ID: "tx1", Code: valid, Writes: []kv{pet("PET-1", "IstanbulMSP", "ACTIVE", 1000, "BatchRegistered"), {Key: ck("idx~owner", "IstanbulMSP", "PET-1"), Value: []byte{0}}}},
			{ID: "tx2", Code: valid, Writes: []kv{pet("PET-2", "IstanbulMSP", "ACTIVE", 1000, "BatchRegistered")}}},
		{{ID: "tx3", Code: valid, Writes: []kv{pet("PET-1", "RecyclerMSP", "ACTIVE", 1000, "TransferAccepted")}},
			{ID: "tx4", Code: peer.TxValidationCode_MVCC_READ_CONFLICT, Writes: []kv{pet("PET-2", "ThiefMSP", "ACTIVE", 1000, "TransferAccepted")}}},
		{{ID: "txReg", Code: valid, Writes: []kv{{Key: ck("registry"), Value: []byte(`{"v":1}`)}}}},
		{{ID: "txP", Code: valid, Writes: []kv{
			pet("FLK-1", "RecyclerMSP", "ACTIVE", 400, "BatchProcessed"),
			pet("PET-1", "RecyclerMSP", "CONSUMED", 600, "BatchProcessed"),
			{Key: ck("process", "txP"), Value: processValue(t, []string{"PET-1"}, []string{"FLK-1"})},
			{Key: ck("take", "PET-1", "20261121T080000.000000000Z", "txP"), Value: tk},
		}}},
		{{ID: "txH", Code: valid, Writes: []kv{{Key: ck("hold", "H-1"), Value: []byte(`{}`)}}},
			{ID: "txC", Code: valid, Writes: []kv{{Key: ck("capture", "urn:ev:1"), Value: []byte(`{"tx":"txC"}`)}, {Key: ck("registry"), Value: []byte(`{"v":2}`)}}}},
		{{ID: "txD", Code: valid, Writes: []kv{{Key: ck("batch", "PET-2"), Delete: true}}}},
		{{ID: "txE", Code: peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, Writes: []kv{pet("FLK-1", "ThiefMSP", "ACTIVE", 400, "Forged")}}},
	}
	var out []*Block
	for i, txs := range raw {
		b, err := Decode(makeBlock(t, uint64(i), txs...), ns)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func dump(t testing.TB, s Store) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Dump(context.Background(), &buf))
	return buf.String()
}

func applyFrom(t testing.TB, s Store, blocks []*Block, upTo int) {
	t.Helper()
	ctx := context.Background()
	next, err := s.Next(ctx)
	require.NoError(t, err)
	for _, b := range blocks[next:upTo] {
		require.NoError(t, s.Apply(ctx, b))
	}
}

// resumes applies the chain with a crash between blocks and one in the
// middle of a block, and checks the database equals one built in one go.
// open opens the same database again each time (a restarted process);
// fresh opens an empty one.
func resumes(t *testing.T, open func() Store, fresh func() Store) string {
	ctx := context.Background()
	blocks := chain(t)

	rebuilt := fresh()
	applyFrom(t, rebuilt, blocks, len(blocks))
	want := dump(t, rebuilt)
	require.NoError(t, rebuilt.Close())

	s := open()
	applyFrom(t, s, blocks, 3)
	atThree := dump(t, s)
	require.NoError(t, s.Close()) // crash between blocks 2 and 3

	s = open()
	next, err := s.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), next, "the checkpoint survives the restart")
	assert.Equal(t, atThree, dump(t, s))
	applyFrom(t, s, blocks, 4)
	// Crash in the middle of block 4, after two of its rows.
	crash := errors.New("killed")
	s.(*sqlStore).beforeRow = func(i int) error {
		if i == 2 {
			return crash
		}
		return nil
	}
	assert.ErrorIs(t, s.Apply(ctx, blocks[4]), crash)
	atFour := dump(t, s)
	require.NoError(t, s.Close())

	s = open()
	defer s.Close()
	next, err = s.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), next, "the aborted block is not applied")
	assert.Equal(t, atFour, dump(t, s))
	assert.NotContains(t, atFour, "FLK-1", "no row of the aborted block is left")

	// A block applied twice, or one past a gap, is refused and writes
	// nothing.
	assert.ErrorContains(t, s.Apply(ctx, blocks[3]), "block 3 is not the next block of the projection (4)")
	assert.ErrorContains(t, s.Apply(ctx, blocks[5]), "block 5 is not the next block of the projection (4)")
	assert.Equal(t, atFour, dump(t, s))

	// Two projection processes on the same database, applying the same
	// block at once: one does, the other is refused.
	other := open()
	errs := make(chan error, 2)
	for _, st := range []Store{s, other} {
		go func() { errs <- st.Apply(ctx, blocks[4]) }()
	}
	e1, e2 := <-errs, <-errs
	if e1 != nil {
		e1, e2 = e2, e1
	}
	assert.NoError(t, e1)
	assert.ErrorContains(t, e2, "block 4 is not the next block of the projection (5)")
	require.NoError(t, other.Close())

	applyFrom(t, s, blocks, len(blocks))
	got := dump(t, s)
	assert.Equal(t, want, got, "the resumed projection equals a fresh rebuild")
	return got
}

func TestSQLiteResumesAfterACrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.db")
	open := func() Store {
		s, err := Open(context.Background(), "sqlite:"+path)
		require.NoError(t, err)
		return s
	}
	n := 0
	fresh := func() Store {
		n++
		s, err := Open(context.Background(), fmt.Sprintf("sqlite:%s/fresh%d.db", dir, n))
		require.NoError(t, err)
		return s
	}
	got := resumes(t, open, fresh)
	checkContent(t, got)
}

// checkContent checks what the chain's projection holds.
func checkContent(t *testing.T, got string) {
	for _, want := range []string{
		`{"row":{"next_block":8},"table":"checkpoint"}`,
		`"id":"FLK-1"`, `"process_tx":"txP","recycled_content_bp":10000,"site":"","step":"sorting"`,
		`"key_type":"hold"`, `"doc":"{\"v\":2}"`, `"event_id":"urn:ev:1"`,
	} {
		assert.True(t, strings.Contains(got, want), "the projection has %s", want)
	}
	assert.False(t, strings.Contains(got, "ThiefMSP"), "invalid transactions are not projected")
	assert.False(t, strings.Contains(got, `"id":"PET-2"`), "the deleted batch is gone from batches")
	assert.True(t, strings.Contains(got, `"batch_id":"PET-2","biz_step":null,"block":6,"by_msp":null,"deleted":1`), "the deletion is an event")
}

func TestPostgresResumesAfterACrash(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.CreateDB(t, "resume")
	open := func() Store {
		s, err := Open(context.Background(), url)
		require.NoError(t, err)
		return s
	}
	n := 0
	fresh := func() Store {
		n++
		s, err := Open(context.Background(), srv.CreateDB(t, fmt.Sprintf("fresh%d", n)))
		require.NoError(t, err)
		return s
	}
	got := resumes(t, open, fresh)
	checkContent(t, got)

	// The same blocks give the same bytes on SQLite.
	lite, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	defer lite.Close()
	applyFrom(t, lite, chain(t), 8)
	assert.Equal(t, dump(t, lite), got, "PostgreSQL and SQLite hold the same rows")
}

func TestOpenRefusesBadURLsAndNewerSchemas(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, "mysql://x")
	assert.ErrorContains(t, err, `want sqlite:PATH or postgres://`)
	_, err = Open(ctx, "sqlite:")
	assert.ErrorContains(t, err, "needs a file path")
	assert.Equal(t, "postgres://u:xxxxx@h/db", redact("postgres://u:secret@h/db"))

	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	_, err = s.(*sqlStore).db.Exec("UPDATE schema_version SET version = 99")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, "sqlite:"+path)
	assert.ErrorContains(t, err, "schema version 99 is newer than this mtrace's (2)")
}
