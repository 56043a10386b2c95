// Package ledgertest provides Fake, an in-memory ledger.Ledger that
// records every call and answers with canned results, for command tests.
package ledgertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/mtrace/mtrace/client/internal/ledger"
)

// Call is one recorded Submit or Evaluate.
type Call struct {
	Submit bool
	Fn     string
	Args   []string
}

func (c Call) String() string {
	kind := "evaluate"
	if c.Submit {
		kind = "submit"
	}
	return kind + " " + c.Fn + "(" + strings.Join(c.Args, ", ") + ")"
}

// Responder answers one call.
type Responder func(args []string) ([]byte, error)

// Nothing answers a call with an empty result, as batch transactions do.
func Nothing([]string) ([]byte, error) { return nil, nil }

// Fake is a scripted ledger. Register answers per function name with On,
// OnJSON or OnError; a call to a function with no answer fails the call.
type Fake struct {
	mu      sync.Mutex
	answers map[string]Responder
	calls   []Call
	events  []ledger.Event
	blocks  []*common.Block
	// BlocksFrom records the first block the last Blocks call asked for.
	BlocksFrom uint64
	// Checkpointed lists the transaction ids whose Done was called.
	Checkpointed []string
	// EventsErr, when set, is returned by Events.
	EventsErr error
	// EventsArgs records the last Events call.
	EventsCheckpoint string
	EventsStart      uint64
	Closed           bool
}

// New returns an empty fake.
func New() *Fake { return &Fake{answers: map[string]Responder{}} }

// On answers calls to fn with r.
func (f *Fake) On(fn string, r Responder) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[fn] = r
	return f
}

// OnJSON answers calls to fn with v encoded as JSON.
func (f *Fake) OnJSON(fn string, v any) *Fake {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return f.On(fn, func([]string) ([]byte, error) { return data, nil })
}

// OnError answers calls to fn with err.
func (f *Fake) OnError(fn string, err error) *Fake {
	return f.On(fn, func([]string) ([]byte, error) { return nil, err })
}

// AddEvents queues events for the next Events call.
func (f *Fake) AddEvents(evs ...ledger.Event) *Fake {
	f.events = append(f.events, evs...)
	return f
}

// AddBlocks queues blocks for Blocks and raises Height past them.
func (f *Fake) AddBlocks(bs ...*common.Block) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = append(f.blocks, bs...)
	return f
}

// Height is one past the highest queued block, 0 with none.
func (f *Fake) Height(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var h uint64
	for _, b := range f.blocks {
		h = max(h, b.GetHeader().GetNumber()+1)
	}
	return h, nil
}

// Blocks sends the queued blocks from the checkpoint's block (or start,
// when the checkpoint holds none), in the order queued, then closes the
// stream.
func (f *Fake) Blocks(ctx context.Context, cp client.Checkpoint, start uint64) (<-chan *common.Block, error) {
	if cp != nil && (cp.BlockNumber() != 0 || cp.TransactionID() != "") {
		start = cp.BlockNumber()
	}
	f.mu.Lock()
	f.BlocksFrom = start
	bs := append([]*common.Block(nil), f.blocks...)
	f.mu.Unlock()
	out := make(chan *common.Block)
	go func() {
		defer close(out)
		for _, b := range bs {
			if b.GetHeader().GetNumber() < start {
				continue
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Calls returns the recorded calls in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// CallsTo returns the recorded calls to fn.
func (f *Fake) CallsTo(fn string) []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Fn == fn {
			out = append(out, c)
		}
	}
	return out
}

func (f *Fake) call(submit bool, fn string, args []string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, Call{Submit: submit, Fn: fn, Args: append([]string(nil), args...)})
	r, ok := f.answers[fn]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("ledgertest: no answer for %s", fn)
	}
	return r(args)
}

// Submit records the call and answers it.
func (f *Fake) Submit(_ context.Context, fn string, args ...string) ([]byte, error) {
	return f.call(true, fn, args)
}

// Evaluate records the call and answers it.
func (f *Fake) Evaluate(_ context.Context, fn string, args ...string) ([]byte, error) {
	return f.call(false, fn, args)
}

// Events sends the queued events, then closes the stream. Each event's
// Done records its transaction id in Checkpointed.
func (f *Fake) Events(ctx context.Context, checkpoint string, start uint64) (<-chan ledger.Event, error) {
	if f.EventsErr != nil {
		return nil, f.EventsErr
	}
	f.EventsCheckpoint, f.EventsStart = checkpoint, start
	out := make(chan ledger.Event)
	evs := f.events
	go func() {
		defer close(out)
		for _, e := range evs {
			e := e
			if checkpoint != "" {
				e.Checkpoint = func() error {
					f.mu.Lock()
					defer f.mu.Unlock()
					f.Checkpointed = append(f.Checkpointed, e.TxID)
					return nil
				}
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Replay calls fn with the queued events from block start, in order.
func (f *Fake) Replay(_ context.Context, start uint64, fn func(ledger.Event) error) error {
	if f.EventsErr != nil {
		return f.EventsErr
	}
	f.mu.Lock()
	evs := append([]ledger.Event(nil), f.events...)
	f.mu.Unlock()
	for _, e := range evs {
		if e.Block < start {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// The names under which Fake records, and tests answer, the calls to
// system chaincodes: "chaincode.function".
const (
	BlockByTxID   = ledger.QSCC + "." + ledger.GetBlockByTxID
	ChannelConfig = ledger.CSCC + "." + ledger.GetChannelConfig
	Block         = ledger.QSCC + "." + ledger.GetBlockByNumber
)

// BlockByTxID answers as the function BlockByTxID was told.
func (f *Fake) BlockByTxID(_ context.Context, txID string) ([]byte, error) {
	return f.call(false, BlockByTxID, []string{txID})
}

// ChannelConfig answers as the function ChannelConfig was told.
func (f *Fake) ChannelConfig(context.Context) ([]byte, error) {
	return f.call(false, ChannelConfig, nil)
}

// Block answers as the function Block was told; its one argument is the
// block number, or "newest" for ledger.NewestBlock.
func (f *Fake) Block(_ context.Context, number uint64) ([]byte, error) {
	n := "newest"
	if number != ledger.NewestBlock {
		n = strconv.FormatUint(number, 10)
	}
	return f.call(false, Block, []string{n})
}

// Chaincode is "mtrace".
func (f *Fake) Chaincode() string { return "mtrace" }

// Close records that the ledger was closed.
func (f *Fake) Close() error {
	f.Closed = true
	return nil
}

// Rejection is what the gateway reports when the chaincode refuses.
func Rejection(msg string) error {
	return &ledger.EndorseError{TxID: "tx-rejected", Message: msg, Chaincode: true}
}

// MVCC is a transaction that failed validation with a read conflict.
func MVCC() error {
	return &ledger.CommitError{TxID: "tx-conflict", Code: "MVCC_READ_CONFLICT"}
}
