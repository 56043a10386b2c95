package projection

import (
	"testing"

	"github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

const ns = projectiontest.Namespace

type (
	kv     = projectiontest.KV
	txSpec = projectiontest.Tx
)

var (
	ck        = projectiontest.Key
	mustJSON  = projectiontest.JSON
	makeBlock = projectiontest.Block
)

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
