package ledger

import (
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func pb(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// endorserTx builds the envelope of an endorser transaction whose one
// action emitted ev.
func endorserTx(t *testing.T, typ common.HeaderType, txID string, ev *peer.ChaincodeEvent) []byte {
	cca := &peer.ChaincodeAction{Events: pb(t, ev)}
	prp := &peer.ProposalResponsePayload{Extension: pb(t, cca)}
	cap := &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: pb(t, prp)}}
	tx := &peer.Transaction{Actions: []*peer.TransactionAction{{Payload: pb(t, cap)}}}
	ch := &common.ChannelHeader{Type: int32(typ), TxId: txID}
	pl := &common.Payload{Header: &common.Header{ChannelHeader: pb(t, ch)}, Data: pb(t, tx)}
	return pb(t, &common.Envelope{Payload: pb(t, pl)})
}

func TestBlockEvents(t *testing.T) {
	ev := func(cc, name string) *peer.ChaincodeEvent {
		return &peer.ChaincodeEvent{ChaincodeId: cc, EventName: name, Payload: []byte(`{"n":"` + name + `"}`)}
	}
	blk := &common.Block{
		Header: &common.BlockHeader{Number: 7},
		Data: &common.BlockData{Data: [][]byte{
			endorserTx(t, common.HeaderType_ENDORSER_TRANSACTION, "tx-ok", ev("mtrace", "BatchRegistered")),
			endorserTx(t, common.HeaderType_ENDORSER_TRANSACTION, "tx-mvcc", ev("mtrace", "TransferOffered")),
			endorserTx(t, common.HeaderType_ENDORSER_TRANSACTION, "tx-other", ev("basic", "Other")),
			endorserTx(t, common.HeaderType_CONFIG, "tx-config", ev("mtrace", "Config")),
			endorserTx(t, common.HeaderType_ENDORSER_TRANSACTION, "tx-quiet", &peer.ChaincodeEvent{}),
			endorserTx(t, common.HeaderType_ENDORSER_TRANSACTION, "tx-ok2", ev("mtrace", "BatchProcessed")),
		}},
		Metadata: &common.BlockMetadata{Metadata: [][]byte{{}, {}, {
			byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_MVCC_READ_CONFLICT),
			byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_VALID),
			byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_VALID),
		}}},
	}
	got, err := blockEvents(blk, "mtrace")
	require.NoError(t, err)
	assert.Equal(t, []Event{
		{Block: 7, TxID: "tx-ok", Name: "BatchRegistered", Payload: []byte(`{"n":"BatchRegistered"}`)},
		{Block: 7, TxID: "tx-ok2", Name: "BatchProcessed", Payload: []byte(`{"n":"BatchProcessed"}`)},
	}, got)

	blk.Data.Data[0] = []byte{0xff, 0xff}
	_, err = blockEvents(blk, "mtrace")
	assert.ErrorContains(t, err, "decode envelope")
}
