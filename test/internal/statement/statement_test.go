package statement

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// ledger is a chain in memory: batch versions by transaction, process
// records, and each transaction in a block of its own.
type ledger struct {
	ids       []string
	hist      map[string][]model.HistoryEntry
	processes map[string]model.Process
	pos       map[string]Pos
}

func (l *ledger) Batches(context.Context) ([]string, error) { return l.ids, nil }

func (l *ledger) History(_ context.Context, id string) ([]model.HistoryEntry, error) {
	return l.hist[id], nil
}

func (l *ledger) Process(_ context.Context, tx string) (model.Process, error) {
	p, ok := l.processes[tx]
	if !ok {
		return p, fmt.Errorf("no process %s", tx)
	}
	return p, nil
}

func (l *ledger) Position(_ context.Context, tx string) (Pos, error) {
	p, ok := l.pos[tx]
	if !ok {
		return p, fmt.Errorf("no transaction %s", tx)
	}
	return p, nil
}

// tx places a transaction in block n at t.
func (l *ledger) tx(id string, n int64, t string) {
	at, err := time.Parse(time.RFC3339, t)
	if err != nil {
		panic(err)
	}
	l.pos[id] = Pos{Block: n, At: at}
}

// write records version b of its batch, written by tx.
func (l *ledger) write(tx string, b model.Batch) {
	if _, ok := l.hist[b.ID]; !ok {
		l.ids = append(l.ids, b.ID)
	}
	l.hist[b.ID] = append(l.hist[b.ID], model.HistoryEntry{TxID: tx, Batch: &b})
}

const (
	muni, plant, shop = "8690000000012", "8690000000029", "8690000000043"
	post, pre         = model.PostConsumer, model.PreConsumer
)

// story: a collection handed to the plant (transit loss 10 g), a
// purchase bought in before the period, one process of PET alone (virgin
// mass in, loss out), one that turns PET into HDPE, a spool handed to
// the shop, which prints it.
func story() *ledger {
	l := &ledger{hist: map[string][]model.HistoryEntry{}, processes: map[string]model.Process{}, pos: map[string]Pos{}}
	for i, at := range []string{"2026-10-20T08:00:00Z", "2026-10-30T09:00:00Z", "2026-11-02T10:00:00Z",
		"2026-11-03T11:00:00Z", "2026-11-04T12:00:00Z", "2026-11-05T13:00:00Z", "2026-11-06T14:00:00Z"} {
		l.tx(fmt.Sprintf("t%d", i+1), int64(i+1), at)
	}
	all := &model.Shares{PostConsumer: model.WholePPM}
	c1 := model.Batch{ID: "C1", Material: model.PET, InitialMass: 1000, RemainingMass: 1000, Shares: all, Site: muni,
		Origin: model.Origin{Collection: &model.Collection{OriginClass: post, Site: muni}}}
	l.write("t1", c1)
	p1 := model.Batch{ID: "P1", Material: model.PET, InitialMass: 500, RemainingMass: 500, Shares: &model.Shares{PreConsumer: model.WholePPM},
		Site: plant, Origin: model.Origin{Purchase: &model.Purchase{OriginClass: pre, Site: plant}}}
	l.write("t2", p1)
	c1.RemainingMass, c1.Site = 990, plant
	c1.Handovers = []model.Handover{{From: "MunicipalityMSP", To: "RecyclerMSP", Offered: 1000, Received: 990, Site: plant}}
	l.write("t3", c1)

	blend := &model.Shares{PostConsumer: 660_000, PreConsumer: 333_333}
	c1.RemainingMass, p1.RemainingMass = 0, 0
	l.write("t4", c1)
	l.write("t4", p1)
	f1 := model.Batch{ID: "F1", Material: model.PET, InitialMass: 1450, RemainingMass: 1450, Shares: blend, Site: plant,
		Origin: model.Origin{Process: &model.Derivation{Tx: "t4", Site: plant}}}
	l.write("t4", f1)
	l.processes["t4"] = model.Process{Derivation: model.Derivation{Tx: "t4", Site: plant, VirginMass: 10, Loss: 50,
		Inputs: []model.Take{{ID: "C1", Mass: 990}, {ID: "P1", Mass: 500}}}, Outputs: []model.Take{{ID: "F1", Mass: 1450}}}

	f1.RemainingMass = 1000
	l.write("t5", f1)
	h1 := model.Batch{ID: "H1", Material: model.HDPE, InitialMass: 400, RemainingMass: 400, Shares: blend, Site: plant,
		Origin: model.Origin{Process: &model.Derivation{Tx: "t5", Site: plant}}}
	l.write("t5", h1)
	l.processes["t5"] = model.Process{Derivation: model.Derivation{Tx: "t5", Site: plant, Loss: 50,
		Inputs: []model.Take{{ID: "F1", Mass: 450}}}, Outputs: []model.Take{{ID: "H1", Mass: 400}}}

	f1.Site = shop
	f1.Handovers = []model.Handover{{From: "RecyclerMSP", To: "MakerMSP", Offered: 1000, Received: 1000, Site: shop}}
	l.write("t6", f1)

	f1.RemainingMass = 0
	l.write("t7", f1)
	v1 := model.Batch{ID: "V1", Material: model.PET, InitialMass: 900, RemainingMass: 900, Shares: blend, Site: shop,
		Origin: model.Origin{Process: &model.Derivation{Tx: "t7", Site: shop}}}
	l.write("t7", v1)
	l.processes["t7"] = model.Process{Derivation: model.Derivation{Tx: "t7", Site: shop, Loss: 100,
		Inputs: []model.Take{{ID: "F1", Mass: 1000}}}, Outputs: []model.Take{{ID: "V1", Mass: 900}}}
	return l
}

func at(n int) string {
	return Time(map[int]time.Time{3: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC), 4: time.Date(2026, 11, 3, 11, 0, 0, 0, time.UTC),
		5: time.Date(2026, 11, 4, 12, 0, 0, 0, time.UTC), 6: time.Date(2026, 11, 5, 13, 0, 0, 0, time.UTC),
		7: time.Date(2026, 11, 6, 14, 0, 0, 0, time.UTC)}[n])
}

func TestBalance(t *testing.T) {
	ctx := context.Background()
	c, err := Read(ctx, story(), nil)
	require.NoError(t, err)
	got, err := c.Balance(ctx, plant, "2026-11-01", "2026-11-30", 100)
	require.NoError(t, err)
	r := func(n int, batch string, mass int64) Ref {
		return Ref{Block: int64(n), Tx: fmt.Sprintf("t%d", n), At: at(n), Batch: batch, Mass: mass}
	}
	pt := func(n int, bal int64) Point {
		return Point{At: at(n), Balance: bal, Block: int64(n), Tx: fmt.Sprintf("t%d", n)}
	}
	assert.Equal(t, Balance{Height: 100, Site: plant, Period: Period{From: "2026-11-01", To: "2026-11-30"}, Materials: []Material{
		{
			Material: "HDPE",
			Inputs:   []Line{{Kind: processOut, Mass: 400, PostConsumer: 264, PreConsumer: 133, Refs: []Ref{r(5, "H1", 400)}}},
			Closing:  400,
			Series:   []Point{pt(5, 400)},
		},
		{
			Material: "PET",
			Opening:  500, // the purchase, in October
			Inputs: []Line{
				{Kind: receipt, Mass: 990, PostConsumer: 990, Refs: []Ref{r(3, "C1", 990)}},
				{Kind: virgin, Mass: 10, Refs: []Ref{r(4, "", 10)}},
			},
			Outputs: []Line{
				{Kind: dispatch, Mass: 1000, PostConsumer: 660, PreConsumer: 333, Refs: []Ref{r(6, "F1", -1000)}},
				{Kind: processIn, Mass: 450, PostConsumer: 297, PreConsumer: 149, Refs: []Ref{r(5, "F1", -450)}},
			},
			Losses:   []Line{{Kind: processLoss, Mass: 50, Refs: []Ref{r(4, "", -50)}}},
			Closing:  0,
			Lowest:   0,
			LowestAt: &Ref{Block: 6, Tx: "t6", At: at(6)},
			Series:   []Point{pt(3, 1490), pt(4, 1450), pt(5, 1000), pt(6, 0)},
		},
	}}, got)
	assert.Equal(t, map[string]int64{"HDPE": 400}, c.Holdings(plant), "what the plant's batches hold is its closing stock")

	// As of an earlier height, the later transactions are not there.
	got, err = c.Balance(ctx, plant, "2026-11-01", "2026-11-30", 5)
	require.NoError(t, err)
	require.Len(t, got.Materials, 1)
	assert.Equal(t, int64(1450), got.Materials[0].Closing)
	assert.Equal(t, []Point{pt(3, 1490), pt(4, 1450)}, got.Materials[0].Series)

	// A period that begins after everything: the stock is the opening.
	got, err = c.Balance(ctx, plant, "2026-12-01", "2026-12-31", 100)
	require.NoError(t, err)
	assert.Equal(t, []Material{{Material: "HDPE", Opening: 400, Closing: 400, Lowest: 400}}, got.Materials)
}

func TestPPWR(t *testing.T) {
	ctx := context.Background()
	c, err := Read(ctx, story(), nil)
	require.NoError(t, err)
	got, err := c.PPWR(ctx, shop, 2026, 100)
	require.NoError(t, err)
	assert.Equal(t, PPWR{Height: 100, Plant: shop, Year: 2026, Materials: []PPWRLine{{Material: "PET", Outputs: 1, Mass: 900,
		PostConsumer: 594, PreConsumer: 299, PostConsumerPpm: 660_000,
		Refs: []Ref{{Block: 7, Tx: "t7", At: at(7), Batch: "V1", Mass: 900}}}}}, got)
	got, err = c.PPWR(ctx, shop, 2025, 100)
	require.NoError(t, err)
	assert.Empty(t, got.Materials)
}

func TestNormal(t *testing.T) {
	b := Balance{Materials: []Material{{Material: "PET",
		Inputs: []Line{{Kind: receipt, Refs: []Ref{{Block: 2, At: "2026-11-02T13:00:00+03:00"}, {Block: 1}}}, {Kind: collection, Refs: []Ref{}}},
		Series: []Point{}}}}
	n := b.Normal()
	assert.Equal(t, []Line{{Kind: collection}, {Kind: receipt, Refs: []Ref{{Block: 1}, {Block: 2, At: "2026-11-02T10:00:00Z"}}}}, n.Materials[0].Inputs)
	assert.Nil(t, n.Materials[0].Series)
	assert.Equal(t, int64(2), b.Materials[0].Inputs[0].Refs[0].Block, "the original is left as it was")
}

func TestReadRefusesAProcessThatWroteNoInput(t *testing.T) {
	l := story()
	// The history of C1 without the version the process wrote.
	l.hist["C1"] = l.hist["C1"][:2]
	_, err := Read(context.Background(), l, nil)
	assert.ErrorContains(t, err, "process t4 took from C1 but wrote no version of it")
}
