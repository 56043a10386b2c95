package ledgertest

import (
	"context"
	"errors"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/ledger"
)

// Fake must satisfy the interface the commands use.
var _ ledger.Ledger = (*Fake)(nil)

func TestFakeAnswersAndRecords(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	f := New().On("Echo", func(args []string) ([]byte, error) { return []byte(args[0]), nil }).
		OnJSON("Obj", map[string]int{"n": 1}).OnError("Fail", boom)

	got, err := f.Evaluate(ctx, "Echo", "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	got, err = f.Submit(ctx, "Obj")
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":1}`, string(got))
	_, err = f.Submit(ctx, "Fail", "a", "b")
	assert.Same(t, boom, err)
	_, err = f.Evaluate(ctx, "Unknown")
	assert.EqualError(t, err, "ledgertest: no answer for Unknown")

	calls := f.Calls()
	require.Len(t, calls, 4)
	assert.Equal(t, "evaluate Echo(hello)", calls[0].String())
	assert.Equal(t, "submit Fail(a, b)", calls[2].String())
	assert.Equal(t, []Call{{Submit: true, Fn: "Fail", Args: []string{"a", "b"}}}, f.CallsTo("Fail"))
	assert.Empty(t, f.CallsTo("Nothing"))
	assert.Panics(t, func() { f.OnJSON("Bad", func() {}) })

	f.On("qscc.GetBlockByNumber", func(args []string) ([]byte, error) { return []byte(args[0]), nil })
	b, err := f.Block(ctx, ledger.NewestBlock)
	require.NoError(t, err)
	assert.Equal(t, "newest", string(b))
	b, err = f.Block(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "7", string(b))
	f.OnJSON("qscc.GetBlockByTxID", "blk").OnJSON("cscc.GetChannelConfig", "cfg")
	b, err = f.BlockByTxID(ctx, "tx1")
	require.NoError(t, err)
	assert.Equal(t, `"blk"`, string(b))
	assert.Equal(t, []string{"tx1"}, f.CallsTo("qscc.GetBlockByTxID")[0].Args)
	b, err = f.ChannelConfig(ctx)
	require.NoError(t, err)
	assert.Equal(t, `"cfg"`, string(b))
	assert.Equal(t, "mtrace", f.Chaincode())
	assert.False(t, f.Closed)
	require.NoError(t, f.Close())
	assert.True(t, f.Closed)

	n, err := Nothing(nil)
	assert.NoError(t, err)
	assert.Nil(t, n)
}

func TestFakeEvents(t *testing.T) {
	ctx := context.Background()
	f := New().AddEvents(ledger.Event{Block: 3, TxID: "a"}, ledger.Event{Block: 5, TxID: "b"})
	ch, err := f.Events(ctx, "checkpoint.json", 4)
	require.NoError(t, err)
	assert.Equal(t, "checkpoint.json", f.EventsCheckpoint)
	assert.Equal(t, uint64(4), f.EventsStart)
	var ids []string
	for e := range ch {
		ids = append(ids, e.TxID)
		require.NoError(t, e.Done())
	}
	assert.Equal(t, []string{"a", "b"}, ids, "the stream sends what was queued, then closes")
	assert.Equal(t, []string{"a", "b"}, f.Checkpointed)

	// Without a checkpoint, Done records nothing.
	f.Checkpointed = nil
	ch, err = f.Events(ctx, "", 0)
	require.NoError(t, err)
	for e := range ch {
		require.NoError(t, e.Done())
	}
	assert.Empty(t, f.Checkpointed)

	// A cancelled stream stops sending.
	cctx, cancel := context.WithCancel(ctx)
	ch, err = f.Events(cctx, "", 0)
	require.NoError(t, err)
	cancel()
	for range ch {
	}

	var replayed []string
	require.NoError(t, f.Replay(ctx, 4, func(e ledger.Event) error { replayed = append(replayed, e.TxID); return nil }))
	assert.Equal(t, []string{"b"}, replayed, "from block 4 on")
	stop := errors.New("stop")
	assert.Same(t, stop, f.Replay(ctx, 0, func(ledger.Event) error { return stop }))

	f.EventsErr = errors.New("no access")
	_, err = f.Events(ctx, "", 0)
	assert.EqualError(t, err, "no access")
	assert.EqualError(t, f.Replay(ctx, 0, nil), "no access")
}

func TestFakeErrors(t *testing.T) {
	var ee *ledger.EndorseError
	require.ErrorAs(t, Rejection("not yours"), &ee)
	assert.True(t, ee.Chaincode)
	assert.EqualError(t, Rejection("not yours"), "rejected by chaincode: not yours")
	var ce *ledger.CommitError
	require.ErrorAs(t, MVCC(), &ce)
	assert.True(t, ce.Conflict())
	assert.EqualError(t, MVCC(), "transaction tx-conflict failed validation: MVCC_READ_CONFLICT")
}

type at uint64

func (a at) BlockNumber() uint64   { return uint64(a) }
func (a at) TransactionID() string { return "" }

func TestFakeBlocks(t *testing.T) {
	ctx := context.Background()
	blk := func(n uint64) *common.Block { return &common.Block{Header: &common.BlockHeader{Number: n}} }
	f := New()
	h, err := f.Height(ctx)
	require.NoError(t, err)
	assert.Zero(t, h)
	f.AddBlocks(blk(0), blk(1), blk(2))
	h, err = f.Height(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), h)

	numbers := func(ch <-chan *common.Block) []uint64 {
		var out []uint64
		for b := range ch {
			out = append(out, b.GetHeader().GetNumber())
		}
		return out
	}
	ch, err := f.Blocks(ctx, at(0), 1)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, numbers(ch), "an empty checkpoint: from start")
	ch, err = f.Blocks(ctx, at(2), 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2}, numbers(ch), "the checkpoint wins over start")
	assert.Equal(t, uint64(2), f.BlocksFrom)
}
