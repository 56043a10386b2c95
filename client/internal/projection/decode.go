// Package projection keeps a SQL database in step with the channel's
// blocks: the current state of batches, processes and takes, and one row
// per batch version, each tied to the block, transaction and position
// that wrote it.
//
// Decode turns a block into what its valid transactions wrote to the
// chaincode's namespace; Rows maps that to table rows; a Store applies
// one block's rows and moves its checkpoint in one SQL transaction, so a
// crash at any point leaves the database at a block boundary.
package projection

import (
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/client/internal/fabtx"
)

// Block is what one block's valid transactions wrote to the namespace.
type Block struct {
	Number uint64
	// Txs are the valid endorser transactions that wrote to the
	// namespace, in block order.
	Txs []Tx
	// Invalid counts the transactions the block marks not valid; they
	// wrote nothing.
	Invalid int
}

// Tx is one valid transaction and its writes to the namespace.
type Tx struct {
	// Index is the transaction's position in its block.
	Index int
	ID    string
	// Time is the transaction's timestamp, RFC 3339 in UTC.
	Time   string
	Writes []Write
}

// Write is one key written or deleted.
type Write struct {
	// Type and Attrs are the parts of a composite key; a simple key has
	// an empty Type and itself as its one attribute.
	Type   string
	Attrs  []string
	Value  []byte
	Delete bool
}

// Decode reads block blk: the transactions its TRANSACTIONS_FILTER marks
// VALID, and of each, the key writes in namespace ns.
func Decode(blk *common.Block, ns string) (*Block, error) {
	out := &Block{Number: blk.GetHeader().GetNumber()}
	flags := blk.GetMetadata().GetMetadata()
	var valid []byte
	if int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) < len(flags) {
		valid = flags[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	data := blk.GetData().GetData()
	if len(valid) != len(data) {
		return nil, fmt.Errorf("block %d: %d transactions but %d validation codes", out.Number, len(data), len(valid))
	}
	for i, raw := range data {
		if peer.TxValidationCode(valid[i]) != peer.TxValidationCode_VALID {
			out.Invalid++
			continue
		}
		tx, err := decodeTx(raw, ns)
		if err != nil {
			return nil, fmt.Errorf("block %d, transaction %d: %w", out.Number, i, err)
		}
		if tx == nil || len(tx.Writes) == 0 {
			continue
		}
		tx.Index = i
		out.Txs = append(out.Txs, *tx)
	}
	return out, nil
}

// decodeTx returns the writes of an endorser transaction to namespace ns,
// or nil for another kind of transaction (a configuration update).
func decodeTx(raw []byte, ns string) (*Tx, error) {
	d, err := fabtx.Decode(raw)
	if err != nil || !d.Endorser {
		return nil, err
	}
	ch := d.Header
	tx := &Tx{ID: ch.GetTxId(), Time: ch.GetTimestamp().AsTime().UTC().Format(time.RFC3339Nano)}
	for _, cca := range d.Actions {
		rws := &rwset.TxReadWriteSet{}
		if err := fabtx.Unmarshal(cca.GetResults(), rws, "read-write set"); err != nil {
			return nil, err
		}
		for _, set := range rws.GetNsRwset() {
			if set.GetNamespace() != ns {
				continue
			}
			kv := &kvrwset.KVRWSet{}
			if err := fabtx.Unmarshal(set.GetRwset(), kv, "key-value set"); err != nil {
				return nil, err
			}
			for _, w := range kv.GetWrites() {
				typ, attrs := splitKey(w.GetKey())
				tx.Writes = append(tx.Writes, Write{Type: typ, Attrs: attrs, Value: w.GetValue(), Delete: w.GetIsDelete()})
			}
		}
	}
	return tx, nil
}

// splitKey splits a composite key, "\x00type\x00attr\x00...\x00", into
// its type and attributes. A simple key has no type and is its own one
// attribute.
func splitKey(k string) (string, []string) {
	if !strings.HasPrefix(k, "\x00") || !strings.HasSuffix(k, "\x00") || len(k) < 2 {
		return "", []string{k}
	}
	parts := strings.Split(k[1:len(k)-1], "\x00")
	return parts[0], parts[1:]
}
