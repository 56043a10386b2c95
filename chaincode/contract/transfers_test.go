package contract

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func TestOfferAndAccept(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(1000))

	var b model.Batch
	offer := w.okBatch(w.mun, &b, "OfferTransfer", "B1", "RecyclerMSP")
	assert.Equal(t, model.StatusInTransit, b.Status)
	assert.Equal(t, &model.Transfer{To: "RecyclerMSP", Mass: kg(1000), OfferedBy: actor(w.mun), OfferedAt: at(0), OfferTx: offer.TxID}, b.Pending)
	assert.Equal(t, "MunicipalityMSP", b.Owner)
	w.assertGuarded("B1", "MunicipalityMSP", "RecyclerMSP")
	assert.True(t, w.indexed(idxStatus, "in_transit", "B1"))
	assert.False(t, w.indexed(idxStatus, "active", "B1"))
	name, ce := w.lastEvent()
	assert.Equal(t, model.EvTransferOffered, name)
	assert.Equal(t, model.BizShipping, ce.Event.BizStep)
	assert.Equal(t, model.DispInTransit, ce.Event.Disposition)
	assert.Equal(t, "MunicipalityMSP", ce.Event.Source)
	assert.Equal(t, "RecyclerMSP", ce.Event.Destination)

	w.fail(w.mun, `batch "B1" is in transit to RecyclerMSP`, "OfferTransfer", "B1", "MakerMSP")
	w.fail(w.mak, `caller MakerMSP is not the receiver of batch "B1" (offered to RecyclerMSP)`, "AcceptTransfer", "B1", 0)
	w.fail(w.rec, `receivedMass: must be from 1 g to the 1000 kg offered, got 1000001 g`, "AcceptTransfer", "B1", 1_000_001)
	w.fail(w.rec, `receivedMass: must be from 1 g`, "AcceptTransfer", "B1", -1)
	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "B1" (owner MunicipalityMSP)`, "CancelTransfer", "B1")
	w.fail(w.aud, `role auditor may not take part in transfers`, "AcceptTransfer", "B1", 0)

	w.l.Advance(3600e9)
	var got model.Batch
	acc := w.okBatch(w.rec, &got, "AcceptTransfer", "B1", 985_500)
	assert.Equal(t, "RecyclerMSP", got.Owner)
	assert.Equal(t, model.StatusActive, got.Status)
	assert.Nil(t, got.Pending)
	assert.Equal(t, model.Grams(985_500), got.RemainingMass)
	assert.Equal(t, model.Grams(14_500), got.TransitLoss)
	require.Len(t, got.Handovers, 1)
	assert.Equal(t, model.Handover{From: "MunicipalityMSP", To: "RecyclerMSP", Offered: kg(1000), Received: 985_500,
		OfferTx: offer.TxID, AcceptTx: acc.TxID, AcceptedBy: actor(w.rec), AcceptedAt: at(3600e9)}, got.Handovers[0])
	w.assertGuarded("B1", "RecyclerMSP")
	assert.True(t, w.indexed(idxOwner, "RecyclerMSP", "B1"))
	assert.False(t, w.indexed(idxOwner, "MunicipalityMSP", "B1"))
	name, ce = w.lastEvent()
	assert.Equal(t, model.EvTransferAccepted, name)
	assert.Equal(t, model.BizReceiving, ce.Event.BizStep)
	assert.Equal(t, []model.Quantity{model.Qty("B1", 985_500)}, ce.Event.Quantities)

	w.fail(w.rec, `batch "B1" has no pending transfer (status active)`, "AcceptTransfer", "B1", 0)
	w.fail(w.mun, `caller MunicipalityMSP is not the owner of batch "B1" (owner RecyclerMSP)`, "OfferTransfer", "B1", "MakerMSP")
}

func TestOfferRejects(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(1))
	w.fail(w.mun, `to: MunicipalityMSP already owns batch "B1"`, "OfferTransfer", "B1", "MunicipalityMSP")
	w.fail(w.mun, `to: AuditorMSP is an auditor and may not hold batches`, "OfferTransfer", "B1", "AuditorMSP")
	w.fail(w.mun, `to: OutsiderMSP is not a registered participant`, "OfferTransfer", "B1", "OutsiderMSP")
	w.fail(w.mun, `to: must be an MSP ID`, "OfferTransfer", "B1", "not an msp")
	w.fail(w.rec, `caller RecyclerMSP is not the owner of batch "B1"`, "OfferTransfer", "B1", "MakerMSP")
	w.fail(w.aud, `role auditor may not offer transfers`, "OfferTransfer", "B1", "MakerMSP")
	w.fail(w.out, `caller OutsiderMSP is not a registered participant`, "OfferTransfer", "B1", "MakerMSP")
	w.fail(w.mun, `batch "B2" not found`, "OfferTransfer", "B2", "MakerMSP")
	w.fail(w.mun, `batch "B1" has no pending transfer`, "CancelTransfer", "B1")
}

func TestRejectAndCancel(t *testing.T) {
	w := newWorld(t)
	w.register("B1", kg(5))
	w.ok(w.mun, nil, "OfferTransfer", "B1", "RecyclerMSP")
	w.fail(w.rec, `reason: is required`, "RejectTransfer", "B1", "  ")
	w.fail(w.mak, `caller MakerMSP is not the receiver of batch "B1" (offered to RecyclerMSP)`, "RejectTransfer", "B1", "no")

	var b model.Batch
	w.okBatch(w.rec, &b, "RejectTransfer", "B1", "wrong material")
	assert.Equal(t, model.StatusActive, b.Status)
	assert.Nil(t, b.Pending)
	assert.Equal(t, "MunicipalityMSP", b.Owner)
	assert.Empty(t, b.Handovers)
	w.assertGuarded("B1", "MunicipalityMSP")
	name, ce := w.lastEvent()
	assert.Equal(t, model.EvTransferRejected, name)
	assert.Equal(t, model.DispReturned, ce.Event.Disposition)
	assert.Equal(t, "wrong material", ce.Event.Reason)

	w.ok(w.mun, nil, "OfferTransfer", "B1", "MakerMSP")
	w.assertGuarded("B1", "MakerMSP", "MunicipalityMSP")
	b = model.Batch{}
	w.okBatch(w.mun, &b, "CancelTransfer", "B1")
	assert.Equal(t, model.StatusActive, b.Status)
	assert.Nil(t, b.Pending)
	w.assertGuarded("B1", "MunicipalityMSP")
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvTransferCancelled, name)
	w.fail(w.mak, `batch "B1" has no pending transfer (status active)`, "AcceptTransfer", "B1", 0)
}
