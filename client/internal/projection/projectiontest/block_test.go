package projectiontest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestKey(t *testing.T) {
	assert.Equal(t, "\x00batch\x00PET-1\x00", Key("batch", "PET-1"))
	assert.Equal(t, "\x00hold\x00A\x00B\x00", Key("hold", "A", "B"))
	assert.Equal(t, "\x00meta\x00", Key("meta"))
}

func TestJSON(t *testing.T) {
	got := JSON(t, map[string]int{"b": 2, "a": 1})
	assert.Equal(t, `{"a":1,"b":2}`, string(got))
}

func unmarshal(t *testing.T, b []byte, m proto.Message) {
	t.Helper()
	require.NoError(t, proto.Unmarshal(b, m))
}

// writes decodes an endorser transaction's envelope back to its
// namespaces and writes.
func writes(t *testing.T, env []byte) (*common.ChannelHeader, map[string][]*kvrwset.KVWrite, []string) {
	t.Helper()
	var e common.Envelope
	unmarshal(t, env, &e)
	var pl common.Payload
	unmarshal(t, e.Payload, &pl)
	var ch common.ChannelHeader
	unmarshal(t, pl.Header.ChannelHeader, &ch)
	var tx peer.Transaction
	unmarshal(t, pl.Data, &tx)
	require.Len(t, tx.Actions, 1)
	var act peer.ChaincodeActionPayload
	unmarshal(t, tx.Actions[0].Payload, &act)
	var prp peer.ProposalResponsePayload
	unmarshal(t, act.Action.ProposalResponsePayload, &prp)
	var cca peer.ChaincodeAction
	unmarshal(t, prp.Extension, &cca)
	var rws rwset.TxReadWriteSet
	unmarshal(t, cca.Results, &rws)
	got := map[string][]*kvrwset.KVWrite{}
	var order []string
	for _, ns := range rws.NsRwset {
		var kv kvrwset.KVRWSet
		unmarshal(t, ns.Rwset, &kv)
		got[ns.Namespace] = kv.Writes
		order = append(order, ns.Namespace)
	}
	return &ch, got, order
}

func TestBlock(t *testing.T) {
	val := JSON(t, map[string]string{"id": "PET-1"})
	blk := Block(t, 3,
		Tx{ID: "tx1", Code: peer.TxValidationCode_VALID, Writes: []KV{
			{Key: Key("batch", "PET-1"), Value: val},
			{Key: "lscc-key", Value: []byte("v"), NS: "lscc"},
			{Key: Key("batch", "PET-0"), Delete: true},
		}},
		Tx{ID: "tx2", Code: peer.TxValidationCode_MVCC_READ_CONFLICT},
		Tx{ID: "cfg", Code: peer.TxValidationCode_VALID, Config: true},
	)
	assert.Equal(t, uint64(3), blk.Header.Number)
	require.Len(t, blk.Data.Data, 3)
	assert.Equal(t, []byte{byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_MVCC_READ_CONFLICT), byte(peer.TxValidationCode_VALID)},
		blk.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER], "the validation codes, in order")

	ch, got, order := writes(t, blk.Data.Data[0])
	assert.Equal(t, "tx1", ch.TxId)
	assert.Equal(t, "mtrace", ch.ChannelId)
	assert.Equal(t, int32(common.HeaderType_ENDORSER_TRANSACTION), ch.Type)
	assert.Equal(t, TxTime.Add(3*time.Second), ch.Timestamp.AsTime(), "block n's transactions are n seconds after TxTime")
	assert.Equal(t, []string{Namespace, "lscc"}, order, "namespaces in the order of their first write")
	require.Len(t, got[Namespace], 2)
	assert.Equal(t, Key("batch", "PET-1"), got[Namespace][0].Key)
	var doc map[string]string
	require.NoError(t, json.Unmarshal(got[Namespace][0].Value, &doc))
	assert.Equal(t, "PET-1", doc["id"])
	assert.False(t, got[Namespace][0].IsDelete)
	assert.True(t, got[Namespace][1].IsDelete)
	assert.Equal(t, Key("batch", "PET-0"), got[Namespace][1].Key)
	require.Len(t, got["lscc"], 1)
	assert.Equal(t, []byte("v"), got["lscc"][0].Value)

	ch, got, _ = writes(t, blk.Data.Data[1])
	assert.Equal(t, "tx2", ch.TxId)
	assert.Empty(t, got, "a transaction without writes has no namespaces")

	var e common.Envelope
	unmarshal(t, blk.Data.Data[2], &e)
	var pl common.Payload
	unmarshal(t, e.Payload, &pl)
	var cch common.ChannelHeader
	unmarshal(t, pl.Header.ChannelHeader, &cch)
	assert.Equal(t, int32(common.HeaderType_CONFIG), cch.Type)
	assert.Equal(t, "cfg", cch.TxId)
	assert.Equal(t, []byte("config"), pl.Data, "a configuration transaction carries no endorser transaction")
}

func TestEmptyBlock(t *testing.T) {
	blk := Block(t, 0)
	assert.Empty(t, blk.Data.Data)
	assert.Len(t, blk.Metadata.Metadata, 5)
	assert.Empty(t, blk.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER])
}
