package projectiontest

import (
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// The sites of the constructed ledger of SitesLedger: GLN-shaped, with
// valid check digits.
const (
	SiteCollector = "8690000000012" // IstanbulMSP's depot
	SiteGebze     = "8690000000029" // RecyclerMSP's default site
	SiteDilovasi  = "8690000000036" // RecyclerMSP's second site
	SiteMaker     = "8690000000043" // MakerMSP's plant
)

// BatchSpec is a batch version in the chaincode's stored JSON shape,
// reduced to what the projection reads.
type BatchSpec struct {
	ID, Material, Form, Owner, Status, Site, Event string
	Initial, Remaining, TransitLoss, Taken         int64
	// Post and Pre are the shares in ppm; Legacy writes a batch of
	// contract 0.5.0 (no shares, no site, format 1).
	Post, Pre int64
	Legacy    bool
	CreatedTx string
	// Origin is "collection", "purchase" or "process"; Class the origin
	// class of a collection or purchase.
	Origin, Class string
	Supplier      string
	Handovers     []map[string]any
	Pending       map[string]any
}

// Value is the batch's stored JSON, written by transaction tx.
func (b BatchSpec) Value(t testing.TB, tx string) []byte {
	origin := map[string]any{}
	switch b.Origin {
	case "collection":
		c := map[string]any{"location": "Kadikoy", "collectedAt": "2026-11-20T06:00:00Z", "collector": b.Owner}
		if !b.Legacy {
			c["originClass"], c["site"] = b.Class, b.Site
		}
		origin["collection"] = c
	case "purchase":
		origin["purchase"] = map[string]any{"supplier": b.Supplier, "supplierId": "TR-123", "originClass": b.Class,
			"site": b.Site, "receivedAt": "2026-11-20T06:30:00Z", "purchaser": b.Owner, "ticket": "WB-77",
			"ticketSha256": "aa11"}
	case "process":
		origin["process"] = map[string]any{"step": "extrusion", "tx": b.CreatedTx}
	}
	v := map[string]any{
		"id": b.ID, "material": b.Material, "form": b.Form, "initialMass": b.Initial, "remainingMass": b.Remaining,
		"transitLoss": b.TransitLoss, "owner": b.Owner, "submitter": map[string]any{"msp": b.Owner, "identity": "u"},
		"status": b.Status, "origin": origin, "takenMass": b.Taken, "takes": 0,
		"recycledContentBp": b.Post / 100, "createdAt": "2026-11-20T07:00:00Z", "createdTx": b.CreatedTx,
		"updatedAt": "2026-11-20T07:00:00Z", "lastTx": tx, "updatedBy": map[string]any{"msp": b.Owner, "identity": "u"},
		"event":  map[string]any{"name": b.Event, "type": "ObjectEvent", "eventTime": "2026-11-20T07:00:00Z", "bizStep": "x", "disposition": "active"},
		"format": 2,
	}
	if b.Legacy {
		v["format"] = 1
	} else {
		v["shares"] = map[string]any{"postConsumerPpm": b.Post, "preConsumerPpm": b.Pre}
		if b.Site != "" {
			v["site"] = b.Site
		}
	}
	if len(b.Handovers) > 0 {
		v["handovers"] = b.Handovers
	}
	if b.Pending != nil {
		v["pending"] = b.Pending
	}
	return JSON(t, v)
}

// SiteList is the stored ("sites", org) value listing ids, the first the
// default.
func SiteList(t testing.TB, org string, ids ...string) []byte {
	var ss []map[string]any
	for i, id := range ids {
		ss = append(ss, map[string]any{"id": id, "name": "site " + id, "default": i == 0, "addedAt": "2026-11-20T07:00:01Z", "addedTx": "s-" + org})
	}
	return JSON(t, map[string]any{"org": org, "sites": ss, "updatedAt": "2026-11-20T07:00:01Z", "updatedBy": map[string]any{"msp": org}, "lastTx": "s-" + org})
}

// Declaration is a stored ("decl", id) value issued by transaction
// issueTx; claimTx empty for an unclaimed one.
func Declaration(t testing.TB, id, issueTx, batch, supplier, recipient, site string, mass, post, pre int64, claimTx, claimSite string) []byte {
	v := map[string]any{"id": id, "batch": batch, "supplier": supplier, "recipient": recipient, "site": site,
		"material": "PET", "mass": mass, "shares": map[string]any{"postConsumerPpm": post, "preConsumerPpm": pre},
		"model": "controlled-blending", "certificate": "RC-2026-1", "offerTx": "o-" + batch,
		"issuedBy": map[string]any{"msp": supplier}, "issuedAt": "2026-11-20T07:00:03Z", "issueTx": issueTx}
	if claimTx != "" {
		v["claim"] = map[string]any{"by": map[string]any{"msp": recipient}, "at": "2026-11-20T07:00:04Z", "tx": claimTx, "site": claimSite}
	}
	return JSON(t, v)
}

// ProcessValue is a stored process record.
func ProcessValue(t testing.TB, tx, by, site string, inputs, outputs map[string]int64, order []string, virgin, loss, post, pre int64) []byte {
	var in, out []map[string]any
	for _, id := range order {
		if m, ok := inputs[id]; ok {
			in = append(in, map[string]any{"id": id, "mass": m})
		}
		if m, ok := outputs[id]; ok {
			out = append(out, map[string]any{"id": id, "mass": m})
		}
	}
	return JSON(t, map[string]any{"step": "extrusion", "tx": tx, "by": map[string]any{"msp": by, "identity": "r"},
		"at": "2026-11-20T07:00:04Z", "site": site, "inputs": in, "outputs": out, "virginMass": virgin, "loss": loss,
		"recycledContentBp": post / 100, "shares": map[string]any{"postConsumerPpm": post, "preConsumerPpm": pre}})
}

// The shares of the fixture's extrusion: 990 kg post-consumer and 400 kg
// pre-consumer in, 10 kg virgin, floor per class.
const (
	FlakePost = 990_000 * 1_000_000 / 1_400_000
	FlakePre  = 400_000 * 1_000_000 / 1_400_000
)

// SitesLedger is a constructed ledger of contract 0.6.0, block by block
// (block n's transactions are at TxTime + n seconds):
//
//	0  genesis (configuration)
//	1  OLD-1 registered by IstanbulMSP before it listed a site (contract
//	   0.5.0 format, 500 kg); the sites of IstanbulMSP, RecyclerMSP (two)
//	   and MakerMSP
//	2  PET-1 collected at the Istanbul depot (1000 kg, post-consumer);
//	   BUY-1 bought in at Gebze (400 kg, pre-consumer, from a factory)
//	3  PET-1 offered to RecyclerMSP with declaration D-1, and accepted at
//	   Gebze (990 kg received) in the same block
//	4  D-1 claimed; extrusion at Gebze: PET-1 990 kg + BUY-1 400 kg + 10 kg
//	   virgin into FLK-1 1300 kg, 100 kg lost
//	5  FLK-1 offered to MakerMSP with declaration D-2 (unclaimed) and
//	   accepted at the maker's plant; OLD-1 migrated: placed at the depot
func SitesLedger(t testing.TB) []*common.Block {
	const ok = peer.TxValidationCode_VALID
	ist, rec, mak := "IstanbulMSP", "RecyclerMSP", "MakerMSP"
	old := BatchSpec{ID: "OLD-1", Material: "PET", Form: "waste", Owner: ist, Status: "active", Event: "BatchRegistered",
		Initial: 500_000, Remaining: 500_000, Post: 1_000_000, Legacy: true, CreatedTx: "r0", Origin: "collection"}
	pet := BatchSpec{ID: "PET-1", Material: "PET", Form: "waste", Owner: ist, Status: "active", Site: SiteCollector,
		Event: "BatchRegistered", Initial: 1_000_000, Remaining: 1_000_000, Post: 1_000_000, CreatedTx: "r1",
		Origin: "collection", Class: "post-consumer"}
	buy := BatchSpec{ID: "BUY-1", Material: "PET", Form: "waste", Owner: rec, Status: "active", Site: SiteGebze,
		Event: "BatchPurchased", Initial: 400_000, Remaining: 400_000, Pre: 1_000_000, CreatedTx: "r2",
		Origin: "purchase", Class: "pre-consumer", Supplier: "Plastik Fabrika A.S."}
	offered := pet
	offered.Status, offered.Event = "in_transit", "TransferOffered"
	offered.Pending = map[string]any{"to": rec, "mass": 1_000_000, "offerTx": "o1", "declaration": "D-1"}
	accepted := pet
	accepted.Owner, accepted.Site, accepted.Event, accepted.Remaining, accepted.TransitLoss = rec, SiteGebze, "TransferAccepted", 990_000, 10_000
	accepted.Handovers = []map[string]any{{"from": ist, "to": rec, "offered": 1_000_000, "received": 990_000,
		"offerTx": "o1", "acceptTx": "a1", "site": SiteGebze, "declaration": "D-1"}}
	petUsed := accepted
	petUsed.Status, petUsed.Event, petUsed.Remaining, petUsed.Taken = "consumed", "BatchProcessed", 0, 990_000
	buyUsed := buy
	buyUsed.Status, buyUsed.Event, buyUsed.Remaining, buyUsed.Taken = "consumed", "BatchProcessed", 0, 400_000
	flk := BatchSpec{ID: "FLK-1", Material: "PET", Form: "flakes", Owner: rec, Status: "active", Site: SiteGebze,
		Event: "BatchProcessed", Initial: 1_300_000, Remaining: 1_300_000, Post: FlakePost, Pre: FlakePre,
		CreatedTx: "p1", Origin: "process"}
	flkOffered := flk
	flkOffered.Status, flkOffered.Event = "in_transit", "TransferOffered"
	flkOffered.Pending = map[string]any{"to": mak, "mass": 1_300_000, "offerTx": "o2", "declaration": "D-2"}
	flkAccepted := flk
	flkAccepted.Owner, flkAccepted.Site, flkAccepted.Event = mak, SiteMaker, "TransferAccepted"
	flkAccepted.Handovers = []map[string]any{{"from": rec, "to": mak, "offered": 1_300_000, "received": 1_300_000,
		"offerTx": "o2", "acceptTx": "a2", "site": SiteMaker, "declaration": "D-2"}}
	migrated := old
	migrated.Legacy, migrated.Site, migrated.Event, migrated.Class = false, SiteCollector, "BatchesMigrated", "post-consumer"

	w := func(key string, v []byte) KV { return KV{Key: key, Value: v} }
	raw := [][]Tx{
		{{ID: "genesis", Code: ok, Config: true}},
		{
			{ID: "r0", Code: ok, Writes: []KV{w(Key("batch", "OLD-1"), old.Value(t, "r0"))}},
			{ID: "s-" + ist, Code: ok, Writes: []KV{w(Key("sites", ist), SiteList(t, ist, SiteCollector))}},
			{ID: "s-" + rec, Code: ok, Writes: []KV{w(Key("sites", rec), SiteList(t, rec, SiteGebze, SiteDilovasi))}},
			{ID: "s-" + mak, Code: ok, Writes: []KV{w(Key("sites", mak), SiteList(t, mak, SiteMaker))}},
		},
		{
			{ID: "r1", Code: ok, Writes: []KV{w(Key("batch", "PET-1"), pet.Value(t, "r1"))}},
			{ID: "r2", Code: ok, Writes: []KV{w(Key("batch", "BUY-1"), buy.Value(t, "r2"))}},
		},
		{
			{ID: "o1", Code: ok, Writes: []KV{w(Key("batch", "PET-1"), offered.Value(t, "o1")),
				w(Key("decl", "D-1"), Declaration(t, "D-1", "o1", "PET-1", ist, rec, SiteCollector, 1_000_000, 1_000_000, 0, "", ""))}},
			{ID: "a1", Code: ok, Writes: []KV{w(Key("batch", "PET-1"), accepted.Value(t, "a1"))}},
		},
		{
			{ID: "c1", Code: ok, Writes: []KV{w(Key("decl", "D-1"), Declaration(t, "D-1", "o1", "PET-1", ist, rec, SiteCollector, 1_000_000, 1_000_000, 0, "c1", SiteGebze))}},
			{ID: "p1", Code: ok, Writes: []KV{
				w(Key("batch", "FLK-1"), flk.Value(t, "p1")),
				w(Key("batch", "PET-1"), petUsed.Value(t, "p1")),
				w(Key("batch", "BUY-1"), buyUsed.Value(t, "p1")),
				w(Key("process", "p1"), ProcessValue(t, "p1", rec, SiteGebze,
					map[string]int64{"PET-1": 990_000, "BUY-1": 400_000}, map[string]int64{"FLK-1": 1_300_000},
					[]string{"PET-1", "BUY-1", "FLK-1"}, 10_000, 100_000, FlakePost, FlakePre)),
			}},
		},
		{
			{ID: "o2", Code: ok, Writes: []KV{w(Key("batch", "FLK-1"), flkOffered.Value(t, "o2")),
				w(Key("decl", "D-2"), Declaration(t, "D-2", "o2", "FLK-1", rec, mak, SiteGebze, 1_300_000, FlakePost, FlakePre, "", ""))}},
			{ID: "a2", Code: ok, Writes: []KV{w(Key("batch", "FLK-1"), flkAccepted.Value(t, "a2"))}},
			{ID: "m1", Code: ok, Writes: []KV{w(Key("batch", "OLD-1"), migrated.Value(t, "m1"))}},
		},
	}
	var out []*common.Block
	for i, txs := range raw {
		out = append(out, Block(t, uint64(i), txs...))
	}
	return out
}

// BlockTime is the timestamp of block n's transactions.
func BlockTime(n int) time.Time { return TxTime.Add(time.Duration(n) * time.Second) }

// NegativeLedger goes below zero at Gebze and comes back: a process at
// Dilovasi takes 150 kg from a batch of 100 kg held at Gebze (values no
// honest chaincode writes, which the projection records as they are),
// then a purchase of 80 kg at Gebze. The period ends at +30 kg.
func NegativeLedger(t *testing.T) []*common.Block {
	const ok = peer.TxValidationCode_VALID
	rec := "RecyclerMSP"
	x := BatchSpec{ID: "X", Material: "PET", Form: "waste", Owner: rec, Status: "active", Site: SiteGebze, Event: "BatchPurchased",
		Initial: 100_000, Remaining: 100_000, Pre: 1_000_000, CreatedTx: "n1", Origin: "purchase", Class: "pre-consumer", Supplier: "F"}
	xUsed := x
	xUsed.Event, xUsed.Remaining, xUsed.Taken, xUsed.Status = "BatchProcessed", 0, 150_000, "consumed"
	y := BatchSpec{ID: "Y", Material: "PET", Form: "flakes", Owner: rec, Status: "active", Site: SiteDilovasi, Event: "BatchProcessed",
		Initial: 140_000, Remaining: 140_000, Pre: 1_000_000, CreatedTx: "n2", Origin: "process"}
	z := x
	z.ID, z.CreatedTx, z.Initial, z.Remaining = "Z", "n3", 80_000, 80_000
	return []*common.Block{
		Block(t, 0, Tx{ID: "genesis", Code: ok, Config: true}),
		Block(t, 1, Tx{ID: "s", Code: ok, Writes: []KV{{Key: Key("sites", rec), Value: SiteList(t, rec, SiteGebze, SiteDilovasi)}}}),
		Block(t, 2, Tx{ID: "n1", Code: ok, Writes: []KV{{Key: Key("batch", "X"), Value: x.Value(t, "n1")}}}),
		Block(t, 3, Tx{ID: "n2", Code: ok, Writes: []KV{
			{Key: Key("batch", "Y"), Value: y.Value(t, "n2")},
			{Key: Key("batch", "X"), Value: xUsed.Value(t, "n2")},
			{Key: Key("process", "n2"), Value: ProcessValue(t, "n2", rec, SiteDilovasi, map[string]int64{"X": 150_000},
				map[string]int64{"Y": 140_000}, []string{"X", "Y"}, 0, 10_000, 0, 1_000_000)},
		}}),
		Block(t, 4, Tx{ID: "n3", Code: ok, Writes: []KV{{Key: Key("batch", "Z"), Value: z.Value(t, "n3")}}}),
	}
}
