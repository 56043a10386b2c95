package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

// world is a ledger served by a Fake: its batches now, each batch's
// versions, process records, takes and blocks.
type world struct {
	t        testing.TB
	batches  map[string]*model.Batch
	history  map[string][]model.HistoryEntry
	records  map[string]*model.Process
	takes    map[string][]model.Take
	blocks   map[uint64]*common.Block
	height   uint64
	lastHash []byte
	registry model.Registry
}

func newWorld(t testing.TB, height uint64) *world {
	w := &world{t: t, batches: map[string]*model.Batch{}, history: map[string][]model.HistoryEntry{}, records: map[string]*model.Process{},
		takes: map[string][]model.Take{}, blocks: map[uint64]*common.Block{}, registry: simRegistry}
	// The block before the checkpoint's height; the earlier ones are never read.
	w.block(height-1, projectiontest.Tx{ID: "tx-genesis", Code: peer.TxValidationCode_VALID})
	return w
}

// put writes batches at tx (without a block: see block).
func (w *world) put(tx string, bs ...*model.Batch) []projectiontest.KV {
	var kvs []projectiontest.KV
	for _, b := range bs {
		c := *b
		w.batches[b.ID] = &c
		w.history[b.ID] = append(w.history[b.ID], model.HistoryEntry{TxID: tx, Batch: &c})
		kvs = append(kvs, projectiontest.KV{Key: projectiontest.Key(objBatch, b.ID), Value: projectiontest.JSON(w.t, b)})
	}
	return kvs
}

// block adds block number after the last one, chained to it.
func (w *world) block(number uint64, txs ...projectiontest.Tx) *common.Block {
	blk := projectiontest.Block(w.t, number, txs...)
	blk.Header.PreviousHash = w.lastHash
	w.lastHash = headerHash(blk.Header)
	w.blocks[number] = blk
	w.height = number + 1
	return blk
}

func (w *world) serve(f *ledgertest.Fake) {
	ids := func() []string {
		out := make([]string, 0, len(w.batches))
		for id := range w.batches {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	f.On(api.ListBatches, func(args []string) ([]byte, error) {
		var q model.ListQuery
		if err := json.Unmarshal([]byte(args[0]), &q); err != nil {
			return nil, err
		}
		all := ids()
		from := 0
		if q.Bookmark != "" {
			from, _ = strconv.Atoi(q.Bookmark)
		}
		to := min(from+q.Limit, len(all))
		page := model.BatchPage{Batches: []model.Batch{}}
		for _, id := range all[from:to] {
			page.Batches = append(page.Batches, *w.batches[id])
		}
		if to < len(all) {
			page.Bookmark = strconv.Itoa(to)
		}
		return json.Marshal(page)
	})
	f.OnJSON(api.GetRegistry, w.registry)
	f.On(api.ReadBatches, func(args []string) ([]byte, error) {
		var want []string
		if err := json.Unmarshal([]byte(args[0]), &want); err != nil {
			return nil, err
		}
		out := make([]*model.Batch, len(want))
		for i, id := range want {
			out[i] = w.batches[id]
		}
		return json.Marshal(out)
	})
	f.On(api.GetHistory, func(args []string) ([]byte, error) {
		if len(w.history[args[0]]) == 0 {
			return nil, ledgertest.Rejection(fmt.Sprintf("batch %q not found", args[0]))
		}
		return json.Marshal(w.history[args[0]])
	})
	f.On(api.GetProcess, func(args []string) ([]byte, error) {
		if p := w.records[args[0]]; p != nil {
			return json.Marshal(p)
		}
		return nil, ledgertest.Rejection(fmt.Sprintf("process record %s not found", args[0]))
	})
	f.On(api.ListTakes, func(args []string) ([]byte, error) {
		return json.Marshal(model.TakePage{Takes: w.takes[args[0]]})
	})
	f.On(ledgertest.Block, func(args []string) ([]byte, error) {
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return nil, err
		}
		if w.blocks[n] == nil {
			return nil, fmt.Errorf("no block %d", n)
		}
		return proto.Marshal(w.blocks[n])
	})
	var bs []*common.Block
	for n := w.height - 1; ; n-- {
		if b := w.blocks[n]; b != nil {
			bs = append([]*common.Block{b}, bs...)
		} else {
			break
		}
		if n == 0 {
			break
		}
	}
	f.AddBlocks(bs...)
}

// checkpointAt writes the checkpoint of a clean full audit of the world
// as it is, at its height.
func (w *world) checkpointAt(t testing.TB, dir string) string {
	var list []model.Batch
	for _, b := range w.batches {
		list = append(list, *b)
	}
	r := model.Audit(list, w.registry)
	require.True(t, r.OK, "%v", r.Violations)
	cp := &Checkpoint{Version: CheckpointVersion, Chaincode: "mtrace", Height: w.height, BlockHash: hashHex(w.lastHash), Totals: totalsOf(&r)}
	path := filepath.Join(dir, "audit.ckpt")
	require.NoError(t, cp.Save(path))
	return path
}

func valid(id string, kvs ...projectiontest.KV) projectiontest.Tx {
	return projectiontest.Tx{ID: id, Code: peer.TxValidationCode_VALID, Writes: kvs}
}

// A clean ledger of three batches at height 10; then block 10 hands PET-1
// over honestly, and block 11 holds a forged PET-3 (mass from nothing)
// and a transaction that failed validation, which wrote nothing.
func forgedWorld(t *testing.T) (*world, string) {
	w := newWorld(t, 10)
	p1 := cmdtest.Collected("PET-1", 1_250_000)
	w.put("tx-1", &p1, ptr(cmdtest.Collected("PET-2", 800_000)), ptr(cmdtest.Collected("PET-3", 100_000)))
	ckpt := w.checkpointAt(t, t.TempDir())
	w.block(10, valid("tx-accept", w.put("tx-accept", ptr(cmdtest.Received(p1, 10_000)))...))
	forged := cmdtest.Collected("PET-3", 100_000)
	forged.RemainingMass = 150_000
	bad := cmdtest.Collected("PET-2", 1)
	w.block(11, valid("tx-forged", w.put("tx-forged", &forged)...),
		projectiontest.Tx{ID: "tx-invalid", Code: peer.TxValidationCode_MVCC_READ_CONFLICT, Writes: []projectiontest.KV{{Key: projectiontest.Key(objBatch, "PET-2"), Value: projectiontest.JSON(t, bad)}}})
	return w, ckpt
}

func ptr(b model.Batch) *model.Batch { return &b }

func TestSinceFindsForgery(t *testing.T) {
	w, ckpt := forgedWorld(t)
	before, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		w.serve(e.Fake)
		err := e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt, "--checkpoint", ckpt, "-o", format)
		require.ErrorIs(t, err, cmdutil.ErrSilent)
		out := e.Out.String()
		assert.Contains(t, out, "remaining mass 150 kg exceeds its initial mass 100 kg")
		assert.Contains(t, out, "50 kg created from nothing")
		assert.NotContains(t, out, "PET-2", "a transaction that failed validation wrote nothing")
		assert.Empty(t, e.Fake.CallsTo(api.ListBatches), "no full read of the ledger")
		var hist []string
		for _, c := range e.Fake.CallsTo(api.GetHistory) {
			hist = append(hist, c.Args[0])
		}
		assert.Equal(t, []string{"PET-1", "PET-3"}, hist, "only the batches written since")
		if format == "json" {
			var got sinceJSON
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			require.NotNil(t, got.Since)
			assert.Equal(t, Scope{FromBlock: 10, ToBlock: 11, Transactions: 2, Keys: 2, Written: 2, Checked: 2}, *got.Since)
			assert.False(t, got.OK)
		} else {
			assert.Contains(t, out, "Since the checkpoint: blocks 10 to 11, 2 transactions writing 2 keys; re-checked 2 batches (2 written) and 0 processes")
		}
	}
	after, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "a failed audit leaves the checkpoint")
}

// A clean run advances the checkpoint; the next run reads only the new
// blocks, and with none reports an empty range.
func TestSinceAdvancesCheckpoint(t *testing.T) {
	w := newWorld(t, 5)
	p1 := cmdtest.Collected("PET-1", 1_250_000)
	w.put("tx-1", &p1)
	ckpt := w.checkpointAt(t, t.TempDir())
	w.block(5, valid("tx-accept", w.put("tx-accept", ptr(cmdtest.Received(p1, 10_000)))...))
	w.block(6, valid("tx-2", w.put("tx-2", ptr(cmdtest.Collected("PET-2", 800_000)))...))

	e := cmdtest.New(t)
	w.serve(e.Fake)
	require.NoError(t, e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt, "--checkpoint", ckpt))
	assert.Contains(t, e.Out.String(), "No violations.")
	assert.Contains(t, e.Out.String(), "Audited 2 batches: in 2050 kg registered")
	cp, err := LoadCheckpoint(ckpt)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), cp.Height)
	assert.Equal(t, hashHex(w.lastHash), cp.BlockHash)

	// What the full audit would write is what the incremental one wrote.
	e = cmdtest.New(t)
	w.serve(e.Fake)
	full := filepath.Join(t.TempDir(), "full.ckpt")
	require.NoError(t, e.Run(newCmd(e), "audit", "--no-signatures", "--checkpoint", full))
	fcp, err := LoadCheckpoint(full)
	require.NoError(t, err)
	assert.Equal(t, fcp, cp)

	e = cmdtest.New(t)
	w.serve(e.Fake)
	require.NoError(t, e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt))
	assert.Contains(t, e.Out.String(), "blocks 7 to 6, 0 transactions")
	assert.Empty(t, e.Fake.CallsTo(api.GetHistory))
}

// A chain that no longer holds the checkpoint's block is an error.
func TestSinceRewrittenChain(t *testing.T) {
	w, ckpt := forgedWorld(t)
	w.blocks[9].Header.DataHash = []byte("another block 9")
	e := cmdtest.New(t)
	w.serve(e.Fake)
	err := e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt)
	require.ErrorIs(t, err, ErrRewritten)
	assert.Empty(t, e.Out.String())

	w, ckpt = forgedWorld(t)
	w.blocks[11].Header.PreviousHash = []byte("not block 10")
	e = cmdtest.New(t)
	w.serve(e.Fake)
	require.ErrorIs(t, e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt), ErrRewritten)
}

// A registry changed since the checkpoint can change any batch's verdict:
// the audit reads the whole ledger.
func TestSinceRegistryChangeAuditsAll(t *testing.T) {
	w, ckpt := forgedWorld(t)
	w.block(12, valid("tx-reg", projectiontest.KV{Key: projectiontest.Key(objRegistry), Value: projectiontest.JSON(t, w.registry)}))
	e := cmdtest.New(t)
	w.serve(e.Fake)
	require.ErrorIs(t, e.Run(newCmd(e), "audit", "--no-signatures", "--since", ckpt), cmdutil.ErrSilent)
	assert.Contains(t, e.Err.String(), "The registry changed since the checkpoint")
	assert.NotEmpty(t, e.Fake.CallsTo(api.ListBatches))
	assert.NotContains(t, e.Out.String(), "Since the checkpoint")
	assert.Contains(t, e.Out.String(), "Audited 3 batches")
}

func TestSinceBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "audit", "--since", filepath.Join(dir, "none")), "read checkpoint")
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version":9}`), 0o600))
	assert.ErrorContains(t, e.Run(newCmd(e), "audit", "--since", bad), "format 9")
	assert.Empty(t, e.Fake.Calls(), "nothing is read from the ledger")
}
