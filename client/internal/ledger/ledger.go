// Package ledger connects the CLI to the mtrace chaincode through the
// Fabric Gateway of one peer, and turns the gateway's errors into one
// readable line each.
//
// Commands depend only on the Ledger interface, so tests run them against
// ledgertest.Fake without a network.
package ledger

import (
	"context"
	"io"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// Ledger is what a command needs from the network: submit a transaction
// and wait for its commit, evaluate a query, and follow chaincode events.
type Ledger interface {
	// Submit endorses, orders and waits for the commit of fn(args...),
	// and returns the chaincode's result.
	Submit(ctx context.Context, fn string, args ...string) ([]byte, error)
	// Evaluate runs fn(args...) on one peer without writing anything.
	Evaluate(ctx context.Context, fn string, args ...string) ([]byte, error)
	// Events streams chaincode events. With a checkpoint file holding a
	// position, the stream resumes after the last event whose Done was
	// called; otherwise it starts at startBlock, or at the next block
	// committed when startBlock is NextBlock.
	Events(ctx context.Context, checkpoint string, startBlock uint64) (<-chan Event, error)
	// Replay calls fn with each chaincode event from startBlock up to the
	// channel's height when it was called, in block order, then returns.
	Replay(ctx context.Context, startBlock uint64, fn func(Event) error) error
	// BlockByTxID returns the block that holds transaction txID, as the
	// gateway peer stores it with every transaction's validation code: an
	// encoded common.Block (qscc GetBlockByTxID).
	BlockByTxID(ctx context.Context, txID string) ([]byte, error)
	// ChannelConfig returns the channel's current configuration, an
	// encoded common.Config (cscc GetChannelConfig).
	ChannelConfig(ctx context.Context) ([]byte, error)
	// Block returns block number of the channel, or the newest block for
	// NewestBlock: an encoded common.Block (qscc GetBlockByNumber).
	Block(ctx context.Context, number uint64) ([]byte, error)
	// Height is the channel's block height: the number of the next block.
	Height(ctx context.Context) (uint64, error)
	// Blocks streams full blocks, with their transactions' validation
	// codes, from the block after the checkpoint's, or from start when
	// the checkpoint holds none, until ctx is cancelled.
	Blocks(ctx context.Context, cp client.Checkpoint, start uint64) (<-chan *common.Block, error)
	// Chaincode is the name of the chaincode, which is also the namespace
	// of its keys in a transaction's write set.
	Chaincode() string
	Close() error
}

// Event is one chaincode event.
type Event struct {
	Block   uint64
	TxID    string
	Name    string
	Payload []byte
	// Checkpoint records the event as handled; nil when the stream has no
	// checkpoint file.
	Checkpoint func() error
}

// Done marks the event handled, so that a restarted stream resumes after
// it. Call it only once the event has been printed or stored.
func (e Event) Done() error {
	if e.Checkpoint == nil {
		return nil
	}
	return e.Checkpoint()
}

// NextBlock asks Events to start at the next block committed.
const NextBlock = ^uint64(0)

// NewestBlock asks Block for the newest block.
const NewestBlock = ^uint64(0)

// The system chaincodes the client reads, and the functions of theirs it
// calls. They are Fabric's, not mtrace transactions (those are named in
// chaincode/api).
const (
	// QSCC is the query system chaincode: blocks and transactions.
	QSCC               = "qscc"
	GetChainInfo       = "GetChainInfo"
	GetBlockByNumber   = "GetBlockByNumber"
	GetBlockByTxID     = "GetBlockByTxID"
	GetTransactionByID = "GetTransactionByID"

	// CSCC is the configuration system chaincode.
	CSCC             = "cscc"
	GetChannelConfig = "GetChannelConfig"
)

// DefaultRetries is how many times Submit retries a transaction that lost
// an MVCC or phantom read conflict, or that only another organisation's
// peer refused; with the default backoff the retries wait 1.5 s in all.
const DefaultRetries = 4

// Options tune the gateway connection.
type Options struct {
	// Timeout bounds each evaluate, endorse, submit and commit-status call.
	Timeout time.Duration
	// Retries on MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT, and on a
	// chaincode refusal by other organisations' peers only (see
	// EndorseError.RefusedElsewhere); a transaction that failed validation
	// or endorsement wrote nothing, so running it again is safe.
	Retries int
	// Backoff is the first wait between retries; it doubles each time.
	Backoff time.Duration
	// Debug, when set, receives the gateway's raw errors.
	Debug io.Writer
	// SyncFile, when set, is where the client remembers the block of its
	// last commit, so that a command run next as another organisation
	// waits for its own peer to reach that block (see sync.go).
	SyncFile string
}
