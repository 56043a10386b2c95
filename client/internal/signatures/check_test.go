package signatures

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

// Records reads each distinct process record once, sorted by
// transaction, and names the record it could not read.
func TestRecordsReadsEachProcessRecordOnce(t *testing.T) {
	fake := ledgertest.New()
	fake.On(api.GetProcess, func(args []string) ([]byte, error) {
		if args[0] == "gone" {
			return nil, ledgertest.Rejection("process gone not found")
		}
		return json.Marshal(model.Process{Derivation: model.Derivation{Tx: args[0]}, RecycledContent: 5000})
	})
	ctx := context.Background()
	got, err := Records(ctx, fake, []string{"tx2", "tx1", "", "tx2"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "tx1", got[0].Tx)
	assert.Equal(t, "tx2", got[1].Tx)
	assert.Equal(t, int64(5000), got[1].RecycledContent)
	assert.Len(t, fake.CallsTo(api.GetProcess), 2, "each record read once; no empty key")

	_, err = Records(ctx, fake, []string{"tx1", "gone"})
	assert.EqualError(t, err, "process record gone: rejected by chaincode: process gone not found")
}

// Check finds the transaction that created a batch recorded before
// batches named it (the first entry of its history), reads every claimed
// transaction and holds the claims against them.
func TestCheckHoldsTheClaimsAgainstTheSignedTransactions(t *testing.T) {
	city, rec := newCA(t, "MunicipalityMSP"), newCA(t, "RecyclerMSP")
	op := city.issue(t, "op1@municipality", "client")
	cityPeer, recPeer := city.issue(t, "peer0.municipality", "peer"), rec.issue(t, "peer0.recycler", "peer")
	// A batch as registered, its last version written by tx.
	batch := func(id, createdTx, tx string) model.Batch {
		op := model.Actor{MSP: "MunicipalityMSP", Identity: "op1@municipality"}
		return model.Batch{ID: id, Material: "PET", Form: "waste", InitialMass: 1000, CreatedTx: createdTx,
			Submitter: op, UpdatedBy: op, LastTx: tx, Owner: "MunicipalityMSP",
			Origin: model.Origin{Collection: &model.Collection{Location: "depot", CollectedAt: "2026-11-20T09:30:00Z", Collector: "MunicipalityMSP"}}}
	}
	legacy, named := batch("B1", "", "reg-b1"), batch("B2", "reg-b2", "reg-b2")
	created := func(b model.Batch) []write {
		raw, err := json.Marshal(b.Stored())
		require.NoError(t, err)
		return []write{{"mtrace", "\x00batch\x00" + b.ID + "\x00", string(raw)}}
	}
	blk := block(t, 3,
		transaction(t, "reg-b1", peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, created(legacy), nil),
		transaction(t, "reg-b2", peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, created(named), nil))
	fake := ledgertest.New()
	cfg := channelConfig(t, city, rec)
	fake.On(ledgertest.ChannelConfig, func([]string) ([]byte, error) { return cfg, nil })
	fake.On(ledgertest.BlockByTxID, func(args []string) ([]byte, error) {
		if args[0] == "reg-b1" || args[0] == "reg-b2" {
			return blk, nil
		}
		return nil, ledgertest.Rejection("no such transaction ID [" + args[0] + "] in index")
	})
	history := []model.HistoryEntry{{TxID: "reg-b1"}, {TxID: "later"}}
	fake.On(api.GetHistory, func([]string) ([]byte, error) { return json.Marshal(history) })
	ctx := context.Background()

	c, err := Check(ctx, fake, &model.Evidence{Batches: []model.Batch{legacy, named}})
	require.NoError(t, err)
	assert.Equal(t, model.Check{Name: model.CheckSignatures, OK: true,
		Detail: "4 claims in 2 transactions match their creators, endorsers and writes"}, c)
	calls := fake.CallsTo(api.GetHistory)
	require.Len(t, calls, 1, "only the batch that does not name its creation is looked up")
	assert.Equal(t, []string{"B1"}, calls[0].Args)

	// A history that names another first transaction: the claim fails.
	history = []model.HistoryEntry{{TxID: "forged"}}
	c, err = Check(ctx, fake, &model.Evidence{Batches: []model.Batch{legacy}})
	require.NoError(t, err)
	assert.False(t, c.OK)
	assert.Contains(t, c.Detail, `batch "B1" claims collector MunicipalityMSP but tx forged is not on the channel`)

	// A batch whose creation wrote other content.
	changed := legacy
	changed.InitialMass = 2000
	changed.LastTx = "later"
	history = []model.HistoryEntry{{TxID: "reg-b1"}}
	c, err = Check(ctx, fake, &model.Evidence{Batches: []model.Batch{changed}})
	require.NoError(t, err)
	assert.False(t, c.OK)
	assert.Contains(t, c.Detail, "did not write the batch as it was created")

	fake.OnError(api.GetHistory, errors.New("peer unavailable"))
	_, err = Check(ctx, fake, &model.Evidence{Batches: []model.Batch{legacy}})
	assert.EqualError(t, err, `history of "B1": peer unavailable`)

	fake.OnError(ledgertest.ChannelConfig, errors.New("no config"))
	_, err = Check(ctx, fake, &model.Evidence{Batches: []model.Batch{named}})
	assert.ErrorContains(t, err, "no config")
}
