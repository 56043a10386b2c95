package projection

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

// The constructed blocks below are built the way a peer stores them:
// envelopes of endorser transactions whose actions carry read-write sets
// per namespace, and the validation codes in the block's metadata.

const ns = "mtrace"

// kv is one write of a constructed transaction.
type kv struct {
	key   string
	value []byte
	del   bool
	ns    string // "" for ns
}

// txSpec is one transaction of a constructed block.
type txSpec struct {
	id     string
	code   peer.TxValidationCode
	config bool
	writes []kv
}

func ck(typ string, attrs ...string) string {
	k := "\x00" + typ + "\x00"
	for _, a := range attrs {
		k += a + "\x00"
	}
	return k
}

func mustJSON(t testing.TB, v any) []byte {
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

var txTime = time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)

func makeBlock(t testing.TB, number uint64, txs ...txSpec) *common.Block {
	t.Helper()
	blk := &common.Block{Header: &common.BlockHeader{Number: number}, Data: &common.BlockData{}, Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	codes := make([]byte, len(txs))
	for i, tx := range txs {
		codes[i] = byte(tx.code)
		typ := common.HeaderType_ENDORSER_TRANSACTION
		if tx.config {
			typ = common.HeaderType_CONFIG
		}
		ch := &common.ChannelHeader{Type: int32(typ), TxId: tx.id, ChannelId: "mtrace", Timestamp: timestamppb.New(txTime.Add(time.Duration(number) * time.Second))}
		sets := map[string]*kvrwset.KVRWSet{}
		var order []string
		for _, w := range tx.writes {
			n := w.ns
			if n == "" {
				n = ns
			}
			if sets[n] == nil {
				sets[n] = &kvrwset.KVRWSet{}
				order = append(order, n)
			}
			sets[n].Writes = append(sets[n].Writes, &kvrwset.KVWrite{Key: w.key, Value: w.value, IsDelete: w.del})
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
		if tx.config {
			data = []byte("config")
		}
		pl := &common.Payload{Header: &common.Header{ChannelHeader: mustProto(t, ch)}, Data: data}
		blk.Data.Data = append(blk.Data.Data, mustProto(t, &common.Envelope{Payload: mustProto(t, pl)}))
	}
	blk.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = codes
	return blk
}

// The values the chaincode stores, in its JSON shape.

func batchValue(t testing.TB, id, owner, status string, remaining int64, ev string) []byte {
	return mustJSON(t, map[string]any{
		"id": id, "material": "PET", "form": "bale", "initialMass": 1000, "remainingMass": remaining,
		"transitLoss": 0, "owner": owner, "submitter": map[string]any{"msp": owner, "identity": "u"},
		"status": status, "origin": map[string]any{"collection": map[string]any{"location": "Kadikoy", "collector": owner}},
		"takenMass": 1000 - remaining, "takes": 0, "recycledContentBp": 10000, "createdAt": "2026-11-20T07:00:00Z",
		"createdTx": "tx-" + id, "updatedAt": "2026-11-20T07:00:00Z", "lastTx": "tx-" + id,
		"updatedBy": map[string]any{"msp": owner, "identity": "u"},
		"event":     map[string]any{"name": ev, "type": "ObjectEvent", "eventTime": "2026-11-20T07:00:00Z", "bizStep": "collecting", "disposition": "active"},
		"format":    1,
		// A field a newer chaincode might add: kept in doc, ignored.
		"siteId": "8690000000001",
	})
}

func processValue(t testing.TB, inputs, outputs []string) []byte {
	take := func(ids []string) []map[string]any {
		var out []map[string]any
		for _, id := range ids {
			out = append(out, map[string]any{"id": id, "mass": 400})
		}
		return out
	}
	return mustJSON(t, map[string]any{"step": "sorting", "tx": "txP", "by": map[string]any{"msp": "RecyclerMSP", "identity": "r"},
		"at": "2026-11-21T08:00:00Z", "inputs": take(inputs), "virginMass": 0, "loss": 0,
		"outputs": take(outputs), "recycledContentBp": 10000})
}
