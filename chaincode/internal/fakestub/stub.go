package fakestub

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var _ shim.ChaincodeStubInterface = (*Stub)(nil)

// write is one pending data write; del marks a delete.
type write struct {
	value []byte
	del   bool
}

// batchOp is one write held in an open write batch.
type batchOp struct {
	write
	meta   bool   // a policy change instead of a data write
	policy []byte // for meta
}

type batchKey struct {
	key  string
	meta bool
}

// Stub is one transaction against a Ledger. It implements
// shim.ChaincodeStubInterface; the methods that need a real peer (private
// data, rich queries, chaincode-to-chaincode calls) return an error
// wrapping ErrNotSupported. Like a real stub it belongs to one goroutine;
// many stubs may run against one Ledger concurrently.
type Stub struct {
	ledger *Ledger
	id     *Identity
	args   [][]byte
	txID   string
	ts     *timestamppb.Timestamp

	writes map[string]write  // data writes, last one per key wins
	meta   map[string][]byte // policy writes; nil or empty removes the policy
	batch  map[batchKey]batchOp
	event  *peer.ChaincodeEvent

	reads  map[string]uint64 // key -> committed version when read
	ranges []*rangeRead      // range queries to re-check at commit

	wrote     bool // a write reached the transaction
	paginated bool // a paginated query ran
	done      bool // committed or abandoned
}

// Identity returns the identity that submits this transaction.
func (s *Stub) Identity() *Identity { return s.id }

// GetArgs returns the arguments, function name first.
func (s *Stub) GetArgs() [][]byte {
	out := make([][]byte, len(s.args))
	for i, a := range s.args {
		out[i] = slices.Clone(a)
	}
	return out
}

// GetStringArgs returns the arguments as strings, function name first.
func (s *Stub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}

// GetFunctionAndParameters splits the arguments into function and parameters.
func (s *Stub) GetFunctionAndParameters() (string, []string) {
	args := s.GetStringArgs()
	if len(args) == 0 {
		return "", []string{}
	}
	return args[0], args[1:]
}

// GetArgsSlice returns all arguments concatenated, as the shim does.
func (s *Stub) GetArgsSlice() ([]byte, error) {
	var out []byte
	for _, a := range s.args {
		out = append(out, a...)
	}
	return out, nil
}

// GetTxID returns the transaction ID.
func (s *Stub) GetTxID() string { return s.txID }

// GetChannelID returns Channel.
func (s *Stub) GetChannelID() string { return Channel }

// GetTxTimestamp returns the transaction timestamp taken from the ledger clock.
func (s *Stub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return timestamppb.New(s.ts.AsTime()), nil
}

// GetCreator returns the serialized identity of the submitter, or nil when
// the stub has no identity.
func (s *Stub) GetCreator() ([]byte, error) {
	if s.id == nil {
		return nil, nil
	}
	return slices.Clone(s.id.Creator), nil
}

// GetTransient returns an empty transient map.
func (s *Stub) GetTransient() (map[string][]byte, error) { return map[string][]byte{}, nil }

// GetBinding returns an empty binding.
func (s *Stub) GetBinding() ([]byte, error) { return []byte{}, nil }

// GetDecorations returns an empty decoration map.
func (s *Stub) GetDecorations() map[string][]byte { return map[string][]byte{} }

// GetSignedProposal returns an empty signed proposal: the fake signs nothing.
func (s *Stub) GetSignedProposal() (*peer.SignedProposal, error) { return &peer.SignedProposal{}, nil }

// SetEvent sets the transaction's event; a later call replaces an earlier one.
func (s *Stub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	s.event = &peer.ChaincodeEvent{
		ChaincodeId: ChaincodeName,
		TxId:        s.txID,
		EventName:   name,
		Payload:     slices.Clone(payload),
	}
	return nil
}

// Event returns the event set so far, or nil.
func (s *Stub) Event() *peer.ChaincodeEvent { return s.event }

func checkKey(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	return nil
}

// GetState returns the committed value of key, or nil when absent. Writes
// of this transaction are not visible.
func (s *Stub) GetState(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	return s.read(key), nil
}

// read returns key's committed value and records the read. l.mu must be held.
func (s *Stub) read(key string) []byte {
	e, ok := s.ledger.state[key]
	if !ok {
		s.reads[key] = 0
		return nil
	}
	s.reads[key] = e.version
	return slices.Clone(e.value)
}

// GetMultipleStates returns the committed values of keys in order, nil for
// absent keys, and (nil, nil) for no keys.
func (s *Stub) GetMultipleStates(keys ...string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = s.read(k)
	}
	return out, nil
}

// PutState records a write of key. An empty value is rejected: Fabric would
// record it as a delete, which is never what chaincode means.
func (s *Stub) PutState(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return fmt.Errorf("value of key %q must not be empty (Fabric records an empty value as a delete; use DelState)", key)
	}
	return s.stage(batchKey{key: key}, batchOp{write: write{value: slices.Clone(value)}})
}

// DelState records a delete of key.
func (s *Stub) DelState(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.stage(batchKey{key: key}, batchOp{write: write{del: true}})
}

// SetStateValidationParameter records a new key-level endorsement policy
// for key; an empty ep removes it. As in Fabric, the policy is dropped at
// commit when the key does not exist then.
func (s *Stub) SetStateValidationParameter(key string, ep []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.stage(batchKey{key: key, meta: true}, batchOp{meta: true, policy: slices.Clone(ep)})
}

// GetStateValidationParameter returns key's committed endorsement policy,
// or nil. It counts as a read of key.
func (s *Stub) GetStateValidationParameter(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.state[key]
	if !ok {
		s.reads[key] = 0
		return nil, nil
	}
	s.reads[key] = e.version
	return slices.Clone(e.policy), nil
}

// stage holds a write in the open batch, or applies it to the transaction.
func (s *Stub) stage(k batchKey, op batchOp) error {
	if s.done {
		return fmt.Errorf("transaction %s is already finished", s.txID)
	}
	if s.batch != nil {
		s.batch[k] = op
		return nil
	}
	return s.record(k.key, op)
}

// record adds a write to the transaction's write set.
func (s *Stub) record(key string, op batchOp) error {
	if s.paginated {
		return fmt.Errorf("txid [%s]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed", s.txID)
	}
	s.wrote = true
	if op.meta {
		s.meta[key] = op.policy
		return nil
	}
	s.writes[key] = op.write
	return nil
}

// StartWriteBatch starts collecting writes until FinishWriteBatch.
func (s *Stub) StartWriteBatch() {
	if s.batch == nil {
		s.batch = make(map[batchKey]batchOp)
	}
}

// FinishWriteBatch hands the collected writes to the transaction. Without
// an open batch it does nothing.
func (s *Stub) FinishWriteBatch() error {
	b := s.batch
	s.batch = nil
	// Data writes before policy writes, each sorted by key, so the order
	// does not depend on map iteration.
	keys := slices.SortedFunc(maps.Keys(b), func(x, y batchKey) int {
		if x.meta != y.meta {
			if x.meta {
				return 1
			}
			return -1
		}
		return strings.Compare(x.key, y.key)
	})
	for _, k := range keys {
		if err := s.record(k.key, b[k]); err != nil {
			return err
		}
	}
	return nil
}

// Commit validates the transaction against the ledger and applies its
// writes, deletes, policy changes and event as one committed transaction.
// It fails, changing nothing, when a write batch is still open, when the
// stub was already finished, or with ErrMVCCReadConflict / ErrPhantomRead
// when another committed transaction changed what this one read.
func (s *Stub) Commit() error {
	if s.done {
		return fmt.Errorf("transaction %s is already finished", s.txID)
	}
	if s.batch != nil {
		return fmt.Errorf("transaction %s has an unfinished write batch", s.txID)
	}
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := s.validate(); err != nil {
		return err
	}
	s.done = true
	l.height++
	for _, k := range slices.Sorted(maps.Keys(s.writes)) {
		l.apply(k, s.writes[k], s.txID, s.ts)
	}
	for _, k := range slices.Sorted(maps.Keys(s.meta)) {
		e, ok := l.state[k]
		if !ok {
			continue // Fabric drops metadata of a key that does not exist
		}
		if len(s.meta[k]) == 0 {
			e.policy = nil
		} else {
			e.policy = s.meta[k]
		}
		e.version = l.height
	}
	if s.event != nil {
		l.events = append(l.events, s.event)
	}
	return nil
}

// validate checks the read set against committed state. l.mu must be held.
func (s *Stub) validate() error {
	for _, k := range slices.Sorted(maps.Keys(s.reads)) {
		if v := s.ledger.version(k); v != s.reads[k] {
			return fmt.Errorf("%w: transaction %s read key %q at version %d, committed version is now %d",
				ErrMVCCReadConflict, s.txID, k, s.reads[k], v)
		}
	}
	for _, r := range s.ranges {
		if err := r.check(s.ledger); err != nil {
			return fmt.Errorf("%w: transaction %s: %v", ErrPhantomRead, s.txID, err)
		}
	}
	return nil
}
