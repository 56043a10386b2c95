// Package projectiontest builds blocks the way a peer stores them, for
// tests of the projection without a network: envelopes of endorser
// transactions whose actions carry read-write sets per namespace, and the
// validation codes in the block's metadata.
package projectiontest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Namespace is the chaincode namespace the blocks write to by default.
const Namespace = "mtrace"

// KV is one write of a constructed transaction.
type KV struct {
	Key    string
	Value  []byte
	Delete bool
	NS     string // "" for Namespace
}

// Tx is one transaction of a constructed block: its ID, its validation
// code, whether it is a configuration transaction, and its writes.
type Tx struct {
	ID     string
	Code   peer.TxValidationCode
	Config bool
	Writes []KV
}

// Key is a composite key, as the chaincode shim makes it.
func Key(typ string, attrs ...string) string {
	k := "\x00" + typ + "\x00"
	for _, a := range attrs {
		k += a + "\x00"
	}
	return k
}

// JSON encodes v or fails the test.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func mustProto(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

// TxTime is the timestamp of the transactions of block 0; block n's are n seconds later.
var TxTime = time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)

// Block builds block number with the transactions txs.
func Block(t testing.TB, number uint64, txs ...Tx) *common.Block {
	t.Helper()
	blk := &common.Block{Header: &common.BlockHeader{Number: number}, Data: &common.BlockData{}, Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	codes := make([]byte, len(txs))
	for i, tx := range txs {
		codes[i] = byte(tx.Code)
		typ := common.HeaderType_ENDORSER_TRANSACTION
		if tx.Config {
			typ = common.HeaderType_CONFIG
		}
		ch := &common.ChannelHeader{Type: int32(typ), TxId: tx.ID, ChannelId: "mtrace", Timestamp: timestamppb.New(TxTime.Add(time.Duration(number) * time.Second))}
		sets := map[string]*kvrwset.KVRWSet{}
		var order []string
		for _, w := range tx.Writes {
			n := w.NS
			if n == "" {
				n = Namespace
			}
			if sets[n] == nil {
				sets[n] = &kvrwset.KVRWSet{}
				order = append(order, n)
			}
			sets[n].Writes = append(sets[n].Writes, &kvrwset.KVWrite{Key: w.Key, Value: w.Value, IsDelete: w.Delete})
		}
		rws := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV}
		for _, n := range order {
			rws.NsRwset = append(rws.NsRwset, &rwset.NsReadWriteSet{Namespace: n, Rwset: mustProto(t, sets[n])})
		}
		cca := &peer.ChaincodeAction{Results: mustProto(t, rws)}
		prp := &peer.ProposalResponsePayload{Extension: mustProto(t, cca)}
		cap := &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: mustProto(t, prp)}}
		ptx := &peer.Transaction{Actions: []*peer.TransactionAction{{Payload: mustProto(t, cap)}}}
		data := mustProto(t, ptx)
		if tx.Config {
			data = []byte("config")
		}
		pl := &common.Payload{Header: &common.Header{ChannelHeader: mustProto(t, ch)}, Data: data}
		blk.Data.Data = append(blk.Data.Data, mustProto(t, &common.Envelope{Payload: mustProto(t, pl)}))
	}
	blk.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = codes
	return blk
}
