package cmdtest

import (
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Collected returns a realistic batch of collected waste as the chaincode
// would return it after RegisterBatch.
func Collected(id string, mass model.Grams) model.Batch {
	actor := model.Actor{MSP: "MunicipalityMSP", Identity: "User1@municipality.mtrace.local"}
	at := "2026-11-20T07:00:00Z"
	return model.Batch{
		ID: id, Material: model.PET, WasteCode: "15 01 02", Form: model.FormWaste,
		InitialMass: mass, RemainingMass: mass,
		Owner: "MunicipalityMSP", Submitter: actor, Status: model.StatusActive,
		Origin: model.Origin{Collection: &model.Collection{
			Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T09:30:00+03:00", Collector: "MunicipalityMSP",
		}},
		RecycledContent: model.FullRecycled,
		CreatedAt:       at, UpdatedAt: at, LastTx: "tx-" + id, UpdatedBy: actor,
		Format: model.CurrentFormat,
		Event: model.Event{
			Name: model.EvBatchRegistered, Type: model.ObjectEvent, Action: "ADD", EventTime: at,
			BizStep: model.BizCollecting, Disposition: model.DispActive,
			Where:      model.Where{Org: "MunicipalityMSP", Place: "Kadıköy, Istanbul"},
			Quantities: []model.Quantity{model.Qty(id, mass)}, TxID: "tx-" + id, By: actor,
		},
	}
}

// Received returns b after a handover to RecyclerMSP that lost lost grams.
func Received(b model.Batch, lost model.Grams) model.Batch {
	actor := model.Actor{MSP: "RecyclerMSP", Identity: "User1@recycler.mtrace.local"}
	at := "2026-11-21T08:00:00Z"
	b.Handovers = append(b.Handovers, model.Handover{
		From: b.Owner, To: "RecyclerMSP", Offered: b.RemainingMass, Received: b.RemainingMass - lost,
		OfferTx: "tx-offer-" + b.ID, AcceptTx: "tx-accept-" + b.ID, AcceptedBy: actor, AcceptedAt: at,
	})
	b.TransitLoss += lost
	b.RemainingMass -= lost
	b.Owner = "RecyclerMSP"
	b.UpdatedAt, b.UpdatedBy, b.LastTx = at, actor, "tx-accept-"+b.ID
	b.Event = model.Event{Name: model.EvTransferAccepted, Type: model.ObjectEvent, Action: "OBSERVE", EventTime: at,
		BizStep: model.BizReceiving, Disposition: model.DispActive, Where: model.Where{Org: "RecyclerMSP"},
		Source: "MunicipalityMSP", Destination: "RecyclerMSP", TxID: b.LastTx, By: actor}
	return b
}

// Now is a fixed clock for tests: a day after the fixtures' collections.
var Now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
