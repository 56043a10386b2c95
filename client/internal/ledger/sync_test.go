package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultSyncFile(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	assert.Equal(t, "/s/mtrace/commits.json", DefaultSyncFile(env(map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"})))
	assert.Equal(t, "/h/.local/state/mtrace/commits.json", DefaultSyncFile(env(map[string]string{"HOME": "/h"})))
	assert.Equal(t, "", DefaultSyncFile(env(nil)))
}

func TestMarksRoundTripAndFreshness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "commits.json")
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	_, ok := LoadMark(path, "net#circular", now, time.Time{})
	assert.False(t, ok, "no file, no mark")

	require.NoError(t, SaveMark(path, "net#circular", Mark{Block: 41, Endpoint: "127.0.0.1:1", At: now}, time.Time{}))
	require.NoError(t, SaveMark(path, "other#circular", Mark{Block: 7, Endpoint: "127.0.0.1:2", At: now}, time.Time{}))
	m, ok := LoadMark(path, "net#circular", now.Add(time.Second), time.Time{})
	require.True(t, ok)
	assert.Equal(t, Mark{Block: 41, Endpoint: "127.0.0.1:1", At: now}, Mark{Block: m.Block, Endpoint: m.Endpoint, At: m.At.UTC()})

	// A lower block from another client does not move the mark back.
	require.NoError(t, SaveMark(path, "net#circular", Mark{Block: 40, Endpoint: "127.0.0.1:3", At: now.Add(time.Second)}, time.Time{}))
	m, _ = LoadMark(path, "net#circular", now.Add(2*time.Second), time.Time{})
	assert.Equal(t, uint64(41), m.Block)

	// Stale marks are ignored, and then overwritten by any new one.
	_, ok = LoadMark(path, "net#circular", now.Add(markFreshness+time.Second), time.Time{})
	assert.False(t, ok, "a stale mark is not waited for")
	require.NoError(t, SaveMark(path, "net#circular", Mark{Block: 3, Endpoint: "127.0.0.1:3", At: now.Add(markFreshness + time.Second)}, time.Time{}))
	m, _ = LoadMark(path, "net#circular", now.Add(markFreshness+2*time.Second), time.Time{})
	assert.Equal(t, uint64(3), m.Block, "a recreated network starts low again")
	assert.NotContains(t, readMarks(path), "other#circular", "stale marks of other networks are dropped")

	// A fresh mark saved before since (the config file's time) no longer
	// holds a lower block back: the network was brought up again.
	up := now.Add(markFreshness + 3*time.Second)
	require.NoError(t, SaveMark(path, "net#circular", Mark{Block: 1, Endpoint: "127.0.0.1:3", At: up.Add(time.Second)}, up))
	m, _ = LoadMark(path, "net#circular", up.Add(2*time.Second), up)
	assert.Equal(t, uint64(1), m.Block)

	assert.NoError(t, SaveMark("", "k", Mark{}, time.Time{}), "no path: nothing to do")
}

func TestWaitForBlock(t *testing.T) {
	var h atomic.Uint64
	h.Store(10)
	height := func(context.Context) (uint64, error) { return h.Add(1), nil }
	assert.True(t, WaitForBlock(context.Background(), 12, time.Second, height), "height 13 holds block 12")

	never := func(context.Context) (uint64, error) { return 0, errors.New("peer unreachable") }
	assert.False(t, WaitForBlock(context.Background(), 1, 60*time.Millisecond, never))
}

func TestSyncerWaitsOnlyForAnotherPeersMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "commits.json")
	require.NoError(t, SaveMark(path, "k", Mark{Block: 5, Endpoint: "peer-a", At: time.Now()}, time.Time{}))

	var calls atomic.Int32
	height := func(context.Context) (uint64, error) { calls.Add(1); return 6, nil }

	own := &syncer{path: path, key: "k", endpoint: "peer-a", height: height}
	own.wait(context.Background())
	assert.Zero(t, calls.Load(), "a mark from our own peer needs no wait")

	other := &syncer{path: path, key: "k", endpoint: "peer-b", height: height}
	other.wait(context.Background())
	other.wait(context.Background())
	assert.Equal(t, int32(1), calls.Load(), "another peer's mark is waited for, once")

	// Commits raise the mark that the next client sees.
	other.committed(9)
	other.committed(8)
	require.NoError(t, other.save())
	m, ok := LoadMark(path, "k", time.Now(), time.Time{})
	require.True(t, ok)
	assert.Equal(t, uint64(9), m.Block)
	assert.Equal(t, "peer-b", m.Endpoint)

	// A mark saved before the config file was last written belongs to a
	// network that has since been brought up again: it is not waited for.
	calls.Store(0)
	forgetInProcess()
	later := &syncer{path: path, key: "k", endpoint: "peer-c", height: height, since: time.Now().Add(time.Second)}
	later.wait(context.Background())
	assert.Zero(t, calls.Load(), "a mark older than the config file is ignored")
	_, ok = LoadMark(path, "k", time.Now(), time.Now().Add(time.Second))
	assert.False(t, ok)

	var none *syncer
	none.wait(context.Background())
	none.committed(1)
	assert.NoError(t, none.save())
}

func forgetInProcess() {
	inProcess.Lock()
	inProcess.marks = marks{}
	inProcess.Unlock()
}

// Gateways of one process, each on its own organisation's peer, wait
// before every call for the last block another of them committed in.
func TestSyncerSharesCommitsInProcess(t *testing.T) {
	forgetInProcess()
	t.Cleanup(forgetInProcess)
	path := filepath.Join(t.TempDir(), "commits.json")
	var recHeight atomic.Uint64
	var asked atomic.Int32
	recHeight.Store(5)
	height := func(context.Context) (uint64, error) { asked.Add(1); return recHeight.Add(1), nil }
	muni := &syncer{path: path, key: "net", endpoint: "peer-muni", height: func(context.Context) (uint64, error) { return 100, nil }}
	rec := &syncer{path: path, key: "net", endpoint: "peer-rec", height: height}

	rec.wait(context.Background())
	assert.Zero(t, asked.Load(), "nothing committed yet")

	muni.committed(9) // the offer
	rec.wait(context.Background())
	assert.Greater(t, recHeight.Load(), uint64(9), "the recycler's peer reached block 9 before the accept")
	n := asked.Load()
	rec.wait(context.Background())
	assert.Equal(t, n, asked.Load(), "a block already reached is not waited for again")

	rec.committed(12) // the accept; its own commits need no wait
	muni.wait(context.Background())
	rec.wait(context.Background())
	assert.Equal(t, n, asked.Load())

	other := &syncer{path: path, key: "another network", endpoint: "peer-x", height: height}
	other.wait(context.Background())
	assert.Equal(t, n, asked.Load(), "marks are per network")
}
