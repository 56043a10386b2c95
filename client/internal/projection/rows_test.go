package projection

import (
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const valid = peer.TxValidationCode_VALID

func TestDecodeKeepsOnlyValidWritesOfTheNamespace(t *testing.T) {
	blk := makeBlock(t, 7,
		txSpec{ID: "tx1", Code: valid, Writes: []kv{
			{Key: ck("batch", "PET-1"), Value: batchValue(t, "PET-1", "IstanbulMSP", "ACTIVE", 1000, "BatchRegistered")},
			{Key: ck("idx~owner", "IstanbulMSP", "PET-1"), Value: []byte{0}},
			{Key: "plain", Value: []byte("x"), NS: "_lifecycle"},
		}},
		txSpec{ID: "tx2", Code: peer.TxValidationCode_MVCC_READ_CONFLICT, Writes: []kv{
			{Key: ck("batch", "PET-2"), Value: batchValue(t, "PET-2", "IstanbulMSP", "ACTIVE", 1000, "BatchRegistered")},
		}},
		txSpec{ID: "tx3", Code: valid, Writes: []kv{{Key: "k", Value: []byte("v"), NS: "othercc"}}},
		txSpec{ID: "cfg", Code: valid, Config: true},
		txSpec{ID: "tx5", Code: valid, Writes: []kv{{Key: ck("batch", "PET-1"), Delete: true}}},
	)
	b, err := Decode(blk, ns)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), b.Number)
	assert.Equal(t, 1, b.Invalid, "the MVCC conflict is counted, not applied")
	require.Len(t, b.Txs, 2, "only transactions that wrote to the namespace")
	assert.Equal(t, "tx1", b.Txs[0].ID)
	assert.Equal(t, 0, b.Txs[0].Index)
	assert.Equal(t, "2026-11-20T07:00:07Z", b.Txs[0].Time)
	require.Len(t, b.Txs[0].Writes, 2)
	assert.Equal(t, Write{Type: "batch", Attrs: []string{"PET-1"}, Value: batchValue(t, "PET-1", "IstanbulMSP", "ACTIVE", 1000, "BatchRegistered")}, b.Txs[0].Writes[0])
	assert.Equal(t, []string{"IstanbulMSP", "PET-1"}, b.Txs[0].Writes[1].Attrs)
	assert.Equal(t, "tx5", b.Txs[1].ID)
	assert.Equal(t, 4, b.Txs[1].Index, "the index is the position in the block, invalid ones included")
	assert.True(t, b.Txs[1].Writes[0].Delete)
}

func TestDecodeRefusesABlockWithoutItsValidationCodes(t *testing.T) {
	blk := makeBlock(t, 3, txSpec{ID: "tx1", Code: valid})
	blk.Metadata.Metadata[2] = nil
	_, err := Decode(blk, ns)
	assert.ErrorContains(t, err, "block 3: 1 transactions but 0 validation codes")

	blk = makeBlock(t, 4, txSpec{ID: "tx1", Code: valid})
	blk.Data.Data[0] = []byte("\xff\xff not an envelope")
	_, err = Decode(blk, ns)
	assert.ErrorContains(t, err, "block 4, transaction 0: decode envelope")
}

func TestRowsOfABlock(t *testing.T) {
	pet1 := batchValue(t, "PET-1", "RecyclerMSP", "CONSUMED", 0, "BatchProcessed")
	flk1 := batchValue(t, "FLK-1", "RecyclerMSP", "ACTIVE", 400, "BatchProcessed")
	proc := processValue(t, []string{"PET-1"}, []string{"FLK-1"})
	tk := mustJSON(t, map[string]any{"id": "FLK-1", "mass": 400, "tx": "txP", "handovers": 1, "at": "2026-11-21T08:00:00Z"})
	blk := makeBlock(t, 9,
		txSpec{ID: "txP", Code: valid, Writes: []kv{
			{Key: ck("batch", "FLK-1"), Value: flk1},
			{Key: ck("batch", "PET-1"), Value: pet1},
			{Key: ck("hold", "H-1"), Value: []byte(`{"id":"H-1"}`)},
			{Key: ck("idx~status", "ACTIVE", "FLK-1"), Value: []byte{0}},
			{Key: ck("process", "txP"), Value: proc},
			{Key: ck("take", "PET-1", "20261121T080000.000000000Z", "txP"), Value: tk},
		}},
		txSpec{ID: "txR", Code: valid, Writes: []kv{
			{Key: ck("capture", "ev-1"), Value: []byte(`{"tx":"txR"}`)},
			{Key: ck("capture", "MakerMSP", "ev-1"), Value: []byte(`{"tx":"txR","by":"maker"}`)},
			{Key: ck("registry"), Value: []byte(`{"participants":[]}`)},
			{Key: ck("document", "D-1"), Delete: true},
		}},
	)
	b, err := Decode(blk, ns)
	require.NoError(t, err)
	assert.Equal(t, 2, b.Unknown(), "the hold and the document")
	rows, err := Rows(b, nil)
	require.NoError(t, err)
	at := func(tx string, i int64, m map[string]any) map[string]any {
		m["block"], m["tx_index"], m["tx_id"] = int64(9), i, tx
		return m
	}
	want := []Row{
		{Table: "transactions", Values: at("txP", 0, map[string]any{"tx_time": "2026-11-20T07:00:09Z", "writes": int64(6)})},
		{Table: "batches", Values: at("txP", 0, map[string]any{"id": "FLK-1", "material": "PET", "waste_code": "", "form": "bale",
			"owner": "RecyclerMSP", "status": "ACTIVE", "origin": "collection", "initial_mass": int64(1000), "remaining_mass": int64(400),
			"transit_loss": int64(0), "taken_mass": int64(600), "takes": int64(0), "recycled_content_bp": int64(10000),
			"created_at": "2026-11-20T07:00:00Z", "created_tx": "tx-FLK-1", "updated_at": "2026-11-20T07:00:00Z", "last_tx": "tx-FLK-1",
			"event": "BatchProcessed", "format": int64(1), "doc": string(flk1),
			"site": "", "post_ppm": int64(1000000), "pre_ppm": int64(0), "origin_class": "post-consumer"})},
		{Table: "events", Values: at("txP", 0, map[string]any{"batch_id": "FLK-1", "deleted": int64(0), "name": "BatchProcessed",
			"type": "ObjectEvent", "biz_step": "collecting", "disposition": "active", "event_time": "2026-11-20T07:00:00Z",
			"by_msp": "RecyclerMSP", "owner": "RecyclerMSP", "status": "ACTIVE", "remaining_mass": int64(400), "doc": string(flk1)})},
	}
	require.GreaterOrEqual(t, len(rows), 3)
	assert.Equal(t, want, rows[:3])

	byTable := map[string][]Row{}
	for _, r := range rows {
		byTable[r.Table] = append(byTable[r.Table], r)
	}
	assert.Len(t, byTable["transactions"], 2)
	assert.Len(t, byTable["batches"], 2)
	assert.Len(t, byTable["events"], 2, "one event row per batch version")
	assert.Equal(t, []Row{{Table: "processes", Values: at("txP", 0, map[string]any{"process_tx": "txP", "step": "sorting",
		"by_msp": "RecyclerMSP", "at": "2026-11-21T08:00:00Z", "location": "", "inputs": int64(1), "outputs": int64(1),
		"virgin_mass": int64(0), "loss": int64(0), "recycled_content_bp": int64(10000), "doc": string(proc),
		"site": "", "post_ppm": int64(1000000), "pre_ppm": int64(0)})}}, byTable["processes"])
	assert.Equal(t, []Row{{Table: "takes", Values: at("txP", 0, map[string]any{"parent": "PET-1", "at": "20261121T080000.000000000Z",
		"process_tx": "txP", "output_id": "FLK-1", "mass": int64(400), "handovers": int64(1), "doc": string(tk)})}}, byTable["takes"])
	assert.Equal(t, []Row{
		{Table: "captures", Values: at("txR", 1, map[string]any{"msp": "", "event_id": "ev-1", "doc": `{"tx":"txR"}`})},
		{Table: "captures", Values: at("txR", 1, map[string]any{"msp": "MakerMSP", "event_id": "ev-1", "doc": `{"tx":"txR","by":"maker"}`})},
	}, byTable["captures"], "a record of contract 0.4.0 (no organisation) and one of 0.5.0, per organisation")
	assert.Equal(t, []Row{{Table: "registry", Values: at("txR", 1, map[string]any{"id": int64(1), "doc": `{"participants":[]}`})}}, byTable["registry"])
	assert.Equal(t, []Row{
		{Table: "unknown_writes", Values: at("txP", 0, map[string]any{"write_index": int64(2), "key_type": "hold", "key_attrs": `["H-1"]`, "value_bytes": int64(12), "deleted": int64(0)})},
		{Table: "unknown_writes", Values: at("txR", 1, map[string]any{"write_index": int64(3), "key_type": "document", "key_attrs": `["D-1"]`, "value_bytes": int64(0), "deleted": int64(1)})},
	}, byTable["unknown_writes"], "unknown key types are kept and counted, not applied")
}

func TestRowsOfADeletion(t *testing.T) {
	blk := makeBlock(t, 2, txSpec{ID: "txD", Code: valid, Writes: []kv{
		{Key: ck("batch", "PET-9"), Delete: true},
		{Key: ck("take", "PET-1", "20261121T080000.000000000Z", "txP"), Delete: true},
	}})
	b, err := Decode(blk, ns)
	require.NoError(t, err)
	rows, err := Rows(b, nil)
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, Row{Table: "batches", Delete: true, Values: map[string]any{"id": "PET-9"}}, rows[1])
	assert.Equal(t, "events", rows[2].Table)
	assert.Equal(t, int64(1), rows[2].Values["deleted"])
	assert.Equal(t, Row{Table: "takes", Delete: true, Values: map[string]any{"parent": "PET-1", "at": "20261121T080000.000000000Z", "process_tx": "txP"}}, rows[3])
}

func TestRowsRefuseUndecodableValuesOfKnownKeys(t *testing.T) {
	for name, w := range map[string]kv{
		"bad batch JSON":   {Key: ck("batch", "PET-1"), Value: []byte("{not json")},
		"batch id differs": {Key: ck("batch", "PET-1"), Value: batchValue(t, "PET-2", "IstanbulMSP", "ACTIVE", 1, "BatchRegistered")},
		"take key short":   {Key: ck("take", "PET-1", "txP"), Value: []byte(`{}`)},
		"process not JSON": {Key: ck("process", "txP"), Value: []byte("\x00")},
		"registry binary":  {Key: ck("registry"), Value: []byte("\xff")},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Decode(makeBlock(t, 5, txSpec{ID: "txX", Code: valid, Writes: []kv{w}}), ns)
			require.NoError(t, err)
			_, err = Rows(b, nil)
			assert.ErrorContains(t, err, "block 5, transaction txX: ")
		})
	}
}
