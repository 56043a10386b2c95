package epcis

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Sites, bought-in batches and declarations (contract 0.6.0) map to
// schema-valid EPCIS: the site as a GS1 Digital Link business location,
// the purchase's weighbridge ticket and every declaration as
// certificationInfo, a transformation's shares as mt: extensions.
func TestSitesPurchasesAndDeclarations(t *testing.T) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	rec := model.Actor{MSP: "RecyclerMSP", Identity: "u1"}
	shares := model.Shares{PostConsumer: 600_000, PreConsumer: 386_800}
	buy := &model.Batch{ID: "BUY-1", Material: model.PET, Form: model.FormWaste, InitialMass: 2_000_000, Owner: "RecyclerMSP",
		Origin: model.Origin{Purchase: &model.Purchase{Supplier: "Akdeniz Ambalaj A.Ş.", OriginClass: model.PreConsumer, Site: "8690000000029",
			ReceivedAt: "2026-11-19T11:00:00Z", ZoneOffset: "+03:00", Purchaser: "RecyclerMSP", Ticket: "WB-42", TicketSHA256: sha}}}
	pel := &model.Batch{ID: "PEL-7", Material: model.PET, Form: model.FormPellets, RecycledContent: shares.Bp(), Shares: &shares,
		Origin: model.Origin{Process: &model.Derivation{Tx: "tx-proc", VirginMass: 0, Loss: 50_000}}}
	pel7 := *pel
	pel7.Handovers = []model.Handover{{From: "RecyclerMSP", To: "MakerMSP", Offered: 950_000, Received: 950_000, AcceptTx: "tx-acc", Declaration: "D-7"}}
	bs := Batches{"BUY-1": buy, "PEL-7": &pel7}
	ev := func(name, typ, biz string, qs []model.Quantity) model.Event {
		return model.Event{Name: name, Type: typ, BizStep: biz, Disposition: model.DispActive, EventTime: "2026-11-21T10:00:00Z",
			Where: model.Where{Org: "RecyclerMSP", Site: "8690000000029"}, TxID: "tx-" + strings.ToLower(name), By: rec, Quantities: qs}
	}
	purchased := ev(model.EvBatchPurchased, model.ObjectEvent, model.BizReceiving, []model.Quantity{model.Qty("BUY-1", 2_000_000)})
	purchased.Action = "ADD"
	processed := ev(model.EvBatchProcessed, model.TransformationEvent, model.BizTransforming, nil)
	processed.ProcessStep, processed.TxID = "extrusion", "tx-proc"
	processed.Inputs = []model.Quantity{model.Qty("BUY-1", 1_000_000)}
	processed.Outputs = []model.Quantity{model.Qty("PEL-7", 950_000)}
	issued := ev(model.EvDeclarationIssued, model.ObjectEvent, model.BizShipping, []model.Quantity{model.Qty("PEL-7", 950_000)})
	issued.Action, issued.Source, issued.Destination, issued.Declaration = "OBSERVE", "RecyclerMSP", "MakerMSP", "D-7"
	accepted := ev(model.EvTransferAccepted, model.ObjectEvent, model.BizReceiving, []model.Quantity{model.Qty("PEL-7", 950_000)})
	accepted.Action, accepted.Source, accepted.Destination, accepted.Declaration, accepted.TxID = "OBSERVE", "RecyclerMSP", "MakerMSP", "D-7", "tx-acc"
	accepted.Where = model.Where{Org: "MakerMSP", Site: "6410000000018"}
	claimed := accepted
	claimed.Name, claimed.TxID = model.EvDeclarationClaimed, "tx-claim"
	site := ev(model.EvSiteSet, model.ObjectEvent, "commissioning", nil)

	assert.Equal(t, []string{"BUY-1"}, Needs(purchased))
	assert.Empty(t, Needs(issued), "a declaration event carries its declaration's id")
	assert.Empty(t, Needs(claimed))

	b := Base(DefaultBase)
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var mapped []*Event
	for _, e := range []model.Event{purchased, processed, issued, accepted, claimed, site} {
		x, ok, err := b.Map(e, bs)
		require.NoError(t, err, e.Name)
		if e.Name == model.EvSiteSet {
			assert.False(t, ok, "a site moves no material: no EPCIS event")
			continue
		}
		require.True(t, ok, e.Name)
		require.NoError(t, w.Write(x))
		mapped = append(mapped, x)
	}
	require.NoError(t, w.Close())
	require.NoError(t, Validate(bytes.NewReader(buf.Bytes())), buf.String())

	p := mapped[0]
	assert.Equal(t, "2026-11-19T14:00:00+03:00", p.EventTime)
	assert.Equal(t, "Akdeniz Ambalaj A.Ş.", p.Supplier)
	assert.Equal(t, "pre-consumer", p.OriginClass)
	assert.Equal(t, "ni:///sha-256;n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", p.CertificationInfo, "the weighbridge ticket")
	assert.Equal(t, "urn:mtrace:id:supplier/Akdeniz%20Ambalaj%20A.%C5%9E.", p.SourceList[0].Source)
	assert.Equal(t, &Ref{ID: "https://id.gs1.org/414/8690000000029"}, p.BizLocation)

	assert.Equal(t, json.Number("600000"), *mapped[1].PostConsumer)
	assert.Equal(t, json.Number("386800"), *mapped[1].PreConsumer)
	for _, x := range mapped[2:] {
		assert.Equal(t, "urn:mtrace:id:declaration/D-7", x.CertificationInfo)
		assert.Equal(t, "D-7", x.Declaration)
	}
	assert.Equal(t, "https://id.gs1.org/414/6410000000018", mapped[3].BizLocation.ID)

	// Captured back: the site is a site, not a place; a declaration's
	// issue and claim are no second offer and acceptance.
	var items []Item
	require.NoError(t, b.ReadDocuments(bytes.NewReader(buf.Bytes()), func(c Captured) error {
		require.NoError(t, c.Err)
		items = c.Items
		return nil
	}))
	require.Len(t, items, 5)
	assert.Contains(t, items[0].Refused, "only a collecting event may ADD", "a purchase is registered with mtrace purchase, not captured")
	require.NotNil(t, items[1].Request)
	assert.Equal(t, "8690000000029", items[1].Request.Process.Site)
	assert.Empty(t, items[1].Request.Process.Location, "a site's URI is not a place")
	assert.Contains(t, items[2].Refused, `bizStep "mt:declaring" has no mtrace transaction`)
	require.NotNil(t, items[3].Request)
	assert.Equal(t, model.CaptureAccept, items[3].Request.Kind)
	assert.Equal(t, "6410000000018", items[3].Request.Site)
	assert.Contains(t, items[4].Refused, `bizStep "mt:claiming_declaration" has no mtrace transaction`)

	_, _, err := b.Map(purchased, Batches{"BUY-1": pel})
	assert.ErrorContains(t, err, `batch "BUY-1" was bought in but has no purchase`)
	_, _, err = b.Map(purchased, Batches{})
	assert.ErrorContains(t, err, `batch "BUY-1" not read`)
	bad := *buy
	badP := *buy.Origin.Purchase
	badP.ReceivedAt = "yesterday"
	bad.Origin.Purchase = &badP
	_, _, err = b.Map(purchased, Batches{"BUY-1": &bad})
	assert.ErrorContains(t, err, `batch "BUY-1": collection time "yesterday"`)
}
