package audit

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/client/internal/fabtx"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// The object types of the chaincode's composite keys an audit cares about
// (chaincode/contract keys.go, oversight.go).
const (
	objBatch    = "batch"
	objProcess  = "process"
	objTake     = "take"
	objRegistry = "registry"
	objHold     = "hold"
	objHeld     = "held"
	objDoc      = "doc"
)

// Writes is what the valid transactions of a block range wrote in the
// chaincode's namespace, by what the audit checks.
type Writes struct {
	From, To     uint64 // blocks From to To-1
	Transactions int    // valid transactions of the chaincode
	Keys         int    // keys written
	// Txs are the ids of those transactions.
	Txs map[string]bool
	// Batches are the batches whose record, takes, holds or documents
	// were written.
	Batches map[string]bool
	// Processes are the process records written, by transaction id.
	Processes map[string]bool
	// Registry reports a write of the participant registry.
	Registry bool
	// LastHash is the header hash of block To-1.
	LastHash []byte
}

func newWrites(from uint64) *Writes {
	return &Writes{From: from, To: from, Txs: map[string]bool{}, Batches: map[string]bool{}, Processes: map[string]bool{}}
}

// add records the writes of one block, which must be block w.To and
// follow the block whose header hash is prev.
func (w *Writes) add(blk *common.Block, chaincode string, prev []byte) error {
	num := blk.GetHeader().GetNumber()
	if num != w.To {
		return fmt.Errorf("expected block %d, got block %d", w.To, num)
	}
	if !bytes.Equal(blk.GetHeader().GetPreviousHash(), prev) {
		return fmt.Errorf("block %d does not follow block %d: %w", num, num-1, ErrRewritten)
	}
	flags := blk.GetMetadata().GetMetadata()
	var valid []byte
	if int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) < len(flags) {
		valid = flags[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, raw := range blk.GetData().GetData() {
		if i >= len(valid) || peer.TxValidationCode(valid[i]) != peer.TxValidationCode_VALID {
			continue
		}
		tx, err := fabtx.Decode(raw)
		if err != nil {
			return fmt.Errorf("block %d: %w", num, err)
		}
		wrote := false
		for _, cca := range tx.Actions {
			keys, err := writtenKeys(cca, chaincode)
			if err != nil {
				return fmt.Errorf("block %d, tx %s: %w", num, tx.Header.GetTxId(), err)
			}
			for _, k := range keys {
				wrote = true
				w.Keys++
				w.key(k)
			}
		}
		if wrote {
			w.Transactions++
			w.Txs[tx.Header.GetTxId()] = true
		}
	}
	w.To = num + 1
	w.LastHash = headerHash(blk.GetHeader())
	return nil
}

// key classifies one written key.
func (w *Writes) key(k string) {
	obj, attrs := splitKey(k)
	switch obj {
	case objBatch, objHold, objHeld, objDoc:
		if len(attrs) > 0 {
			w.Batches[attrs[0]] = true
		}
	case objTake:
		if len(attrs) > 0 {
			w.Batches[attrs[0]] = true // the parent: its taken mass
		}
	case objProcess:
		if len(attrs) > 0 {
			w.Processes[attrs[0]] = true
		}
	case objRegistry:
		w.Registry = true
	}
}

// splitKey splits a composite key ("\x00" type "\x00" attr "\x00" ...);
// a simple key has no type.
func splitKey(k string) (string, []string) {
	if !strings.HasPrefix(k, "\x00") {
		return "", nil
	}
	parts := strings.Split(strings.TrimSuffix(k[1:], "\x00"), "\x00")
	return parts[0], parts[1:]
}

// writtenKeys lists the keys an action wrote in the chaincode's namespace.
func writtenKeys(cca *peer.ChaincodeAction, chaincode string) ([]string, error) {
	if len(cca.GetResults()) == 0 {
		return nil, nil
	}
	set := &rwset.TxReadWriteSet{}
	if err := fabtx.Unmarshal(cca.GetResults(), set, "read-write set"); err != nil {
		return nil, err
	}
	var keys []string
	for _, ns := range set.GetNsRwset() {
		if ns.GetNamespace() != chaincode {
			continue
		}
		kv := &kvrwset.KVRWSet{}
		if err := fabtx.Unmarshal(ns.GetRwset(), kv, "key-value set"); err != nil {
			return nil, err
		}
		for _, wr := range kv.GetWrites() {
			keys = append(keys, wr.GetKey())
		}
	}
	return keys, nil
}

// scan reads blocks from w.To up to height (exclusive) from the block
// stream, starting after the block whose header hash is prev.
func scan(ctx context.Context, l ledger.Ledger, w *Writes, height uint64, prev []byte) error {
	if w.To >= height {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := l.Blocks(ctx, fromBlock(w.To), w.To)
	if err != nil {
		return err
	}
	for blk := range blocks {
		if err := w.add(blk, l.Chaincode(), prev); err != nil {
			return err
		}
		prev = w.LastHash
		if w.To >= height {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("block stream ended at block %d, before the height %d", w.To, height)
}

// fromBlock is a block stream checkpoint at a block number: the stream
// starts there.
type fromBlock uint64

func (c fromBlock) BlockNumber() uint64   { return uint64(c) }
func (c fromBlock) TransactionID() string { return "" }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
