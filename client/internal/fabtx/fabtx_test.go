package fabtx_test

import (
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/fabtx"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

func TestDecodeEndorserTransaction(t *testing.T) {
	blk := pt.Block(t, 3, pt.Tx{ID: "tx-1", Writes: []pt.KV{{Key: pt.Key("batch", "B-1"), Value: []byte(`{}`)}}})
	tx, err := fabtx.Decode(blk.Data.Data[0])
	require.NoError(t, err)
	assert.True(t, tx.Endorser)
	assert.Equal(t, "tx-1", tx.Header.GetTxId())
	require.Len(t, tx.Actions, 1)
	var rws rwset.TxReadWriteSet
	require.NoError(t, fabtx.Unmarshal(tx.Actions[0].GetResults(), &rws, "read-write set"))
	require.Len(t, rws.GetNsRwset(), 1)
	assert.Equal(t, pt.Namespace, rws.GetNsRwset()[0].GetNamespace())
}

func TestDecodeConfigTransaction(t *testing.T) {
	blk := pt.Block(t, 1, pt.Tx{ID: "cfg", Config: true})
	tx, err := fabtx.Decode(blk.Data.Data[0])
	require.NoError(t, err)
	assert.False(t, tx.Endorser)
	assert.Empty(t, tx.Actions)
	assert.Equal(t, int32(common.HeaderType_CONFIG), tx.Header.GetType())
}

func TestDecodeNamesWhatDoesNotParse(t *testing.T) {
	_, err := fabtx.Decode([]byte{0xff, 0xff})
	assert.ErrorContains(t, err, "decode envelope")

	env := func(pl *common.Payload) []byte {
		raw, err := proto.Marshal(&common.Envelope{Payload: must(t, pl)})
		require.NoError(t, err)
		return raw
	}
	ch := must(t, &common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), TxId: "x"})
	_, err = fabtx.Decode(env(&common.Payload{Header: &common.Header{ChannelHeader: []byte{0xff}}}))
	assert.ErrorContains(t, err, "decode channel header")
	_, err = fabtx.Decode(env(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: []byte{0xff}}))
	assert.ErrorContains(t, err, "decode transaction")
	bad := must(t, &peer.Transaction{Actions: []*peer.TransactionAction{{Payload: []byte{0xff}}}})
	_, err = fabtx.Decode(env(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: bad}))
	assert.ErrorContains(t, err, "decode action payload")
}

func must(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}
