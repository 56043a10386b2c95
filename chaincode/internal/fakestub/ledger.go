package fakestub

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	// Channel is the channel every stub reports.
	Channel = "circular"
	// ChaincodeName is the chaincode ID put on committed events.
	ChaincodeName = "mtrace"
)

// DefaultTime is the timestamp of transactions until SetTime or Advance.
var DefaultTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Errors returned by Stub.Commit when validation would mark the
// transaction invalid; test with errors.Is.
var (
	ErrMVCCReadConflict = errors.New("MVCC_READ_CONFLICT")
	ErrPhantomRead      = errors.New("PHANTOM_READ_CONFLICT")
)

// entry is one committed key.
type entry struct {
	value   []byte
	policy  []byte // key-level endorsement policy, nil when none
	version uint64 // height of the transaction that last wrote it
}

// Ledger is the committed state shared by all stubs: world state, history,
// key-level policies and events. It is safe for concurrent use.
type Ledger struct {
	mu      sync.Mutex
	state   map[string]*entry
	history map[string][]*queryresult.KeyModification // commit order
	events  []*peer.ChaincodeEvent
	height  uint64 // committed transactions
	seq     uint64 // transactions started, for TxIDs
	now     time.Time
}

// NewLedger returns an empty ledger whose clock reads DefaultTime.
func NewLedger() *Ledger {
	return &Ledger{
		state:   make(map[string]*entry),
		history: make(map[string][]*queryresult.KeyModification),
		now:     DefaultTime,
	}
}

// SetTime sets the timestamp of the transactions started from now on.
func (l *Ledger) SetTime(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = t
}

// Advance moves the ledger clock forward by d.
func (l *Ledger) Advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = l.now.Add(d)
}

// NewStub starts a transaction by id; args[0] is the function name, the
// rest are its parameters. Nothing it writes is visible until Commit.
func (l *Ledger) NewStub(id *Identity, args ...string) *Stub {
	l.mu.Lock()
	l.seq++
	txID := txID(l.seq)
	ts := timestamppb.New(l.now)
	l.mu.Unlock()

	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return &Stub{
		ledger: l,
		id:     id,
		args:   b,
		txID:   txID,
		ts:     ts,
		writes: make(map[string]write),
		meta:   make(map[string][]byte),
		reads:  make(map[string]uint64),
	}
}

func txID(n uint64) string {
	sum := sha256.Sum256([]byte("mtrace-fakestub-tx-" + strconv.FormatUint(n, 10)))
	return hex.EncodeToString(sum[:])
}

// Result is what a peer returns for a proposal, plus the TxID and event.
type Result struct {
	Status  int32
	Message string
	Payload []byte
	TxID    string
	Event   *peer.ChaincodeEvent // nil when the transaction set none
}

// Invoke submits fn(args...) as id: it runs cc.Invoke on a new stub and
// commits the transaction only when the response status is shim.OK. A
// failure to finish a write batch or to commit turns the result into an
// error (status shim.ERROR) with the reason as message.
func (l *Ledger) Invoke(cc shim.Chaincode, id *Identity, fn string, args ...string) *Result {
	s := l.NewStub(id, append([]string{fn}, args...)...)
	r := s.run(cc)
	if r.Status != shim.OK {
		s.done = true
		return r
	}
	if err := s.Commit(); err != nil {
		r.Status, r.Message, r.Payload = shim.ERROR, err.Error(), nil
	}
	return r
}

// Query evaluates fn(args...) as id and never commits, like an evaluate
// call through the gateway.
func (l *Ledger) Query(cc shim.Chaincode, id *Identity, fn string, args ...string) *Result {
	s := l.NewStub(id, append([]string{fn}, args...)...)
	r := s.run(cc)
	s.done = true
	return r
}

// run invokes cc and finishes any open write batch, as the shim does.
func (s *Stub) run(cc shim.Chaincode) *Result {
	resp := cc.Invoke(s)
	r := &Result{TxID: s.txID, Event: s.event}
	if resp == nil {
		r.Status, r.Message = shim.ERROR, "fakestub: chaincode returned a nil response"
		return r
	}
	r.Status, r.Message, r.Payload = resp.Status, resp.Message, resp.Payload
	if err := s.FinishWriteBatch(); err != nil {
		r.Status, r.Message, r.Payload = shim.ERROR, fmt.Sprintf("failed send batch: %v", err), nil
	}
	return r
}

// State returns the committed value of key, or nil.
func (l *Ledger) State(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.state[key]; ok {
		return slices.Clone(e.value)
	}
	return nil
}

// Keys returns every committed key, sorted bytewise (composite keys first,
// since they start with "\x00").
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.state))
}

// Policy returns the key-level endorsement policy of key, or nil.
func (l *Ledger) Policy(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.state[key]; ok {
		return slices.Clone(e.policy)
	}
	return nil
}

// Height returns the number of committed transactions.
func (l *Ledger) Height() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.height
}

// Events returns the committed chaincode events in commit order.
func (l *Ledger) Events() []*peer.ChaincodeEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// Snapshot returns a copy of the world state, for asserting that a failed
// transaction changed nothing.
func (l *Ledger) Snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]string, len(l.state))
	for k, e := range l.state {
		m[k] = string(e.value)
	}
	return m
}

// Put writes key directly as a committed transaction of its own (one more
// height, one history entry, no event); a nil value deletes the key. It
// bypasses all chaincode checks and exists to build states, including
// corrupt ones, in tests.
func (l *Ledger) Put(key string, value []byte) {
	l.mu.Lock()
	l.seq++
	id := txID(l.seq)
	ts := timestamppb.New(l.now)
	l.height++
	l.apply(key, write{value: slices.Clone(value), del: value == nil}, id, ts)
	l.mu.Unlock()
}

// apply commits one data write at the current height. l.mu must be held.
func (l *Ledger) apply(key string, w write, txID string, ts *timestamppb.Timestamp) {
	mod := &queryresult.KeyModification{TxId: txID, Timestamp: ts, IsDelete: w.del}
	if w.del {
		delete(l.state, key)
	} else {
		e, ok := l.state[key]
		if !ok {
			e = &entry{}
			l.state[key] = e
		}
		e.value, e.version = w.value, l.height
		mod.Value = slices.Clone(w.value)
	}
	l.history[key] = append(l.history[key], mod)
}

// version returns the committed version of key, 0 when absent. l.mu must be held.
func (l *Ledger) version(key string) uint64 {
	if e, ok := l.state[key]; ok {
		return e.version
	}
	return 0
}
