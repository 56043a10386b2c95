package bench

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func TestPlanCitySize(t *testing.T) {
	p := PlanCity(250_000, 1)
	assert.Equal(t, 466, p.Units)
	assert.GreaterOrEqual(t, p.Batches(), 250_000)
	assert.Less(t, p.Batches()-250_000, CityUnitBatches, "no more units than needed")
	assert.Equal(t, 537, CityUnitBatches)
	assert.Equal(t, 466*553, p.Transactions())
	assert.Equal(t, 1, PlanCity(1, 1).Units)
	assert.Equal(t, 6, PlanCity(3000, 1).Units)
}

// Every request the plan makes passes the chaincode's own checks, every
// process balances (outputs at most what it takes), each takes all of
// its inputs, and the handovers and declarations name the plan's sites.
func TestPlanCityRequestsAreValid(t *testing.T) {
	p := PlanCity(5000, 7)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	made := map[string]model.Grams{} // every batch the plan makes, with its mass
	add := func(id string, m model.Grams) {
		t.Helper()
		_, dup := made[id]
		require.False(t, dup, "batch %s made twice", id)
		made[id] = m
	}
	takeAll := func(req model.ProcessRequest) {
		t.Helper()
		require.NoError(t, req.Validate())
		taken, out := req.Totals()
		assert.LessOrEqual(t, out, taken)
		for _, in := range req.Inputs {
			m, ok := made[in.ID]
			require.True(t, ok, "input %s is made before it is used", in.ID)
			assert.Equal(t, m, in.Mass, "input %s is taken whole", in.ID)
			delete(made, in.ID)
		}
		for _, o := range req.Outputs {
			add(o.ID, o.Mass)
		}
	}
	batches := 0
	for u := range p.Units {
		cu := p.Unit(u)
		assert.Contains(t, CityStations, cu.Station)
		assert.Contains(t, CityPlants, cu.Plant)
		require.Len(t, cu.Register, CityCollections)
		for _, r := range cu.Register {
			require.NoError(t, r.Validate(now))
			assert.Equal(t, cu.Station, r.Site)
			assert.Equal(t, model.PostConsumer, r.Class())
			add(r.ID, r.Mass)
		}
		require.Len(t, cu.Bales, CityBales)
		for _, b := range cu.Bales {
			assert.Len(t, b.Inputs, CityPerBale)
			assert.Equal(t, cu.Station, b.Site)
			takeAll(b)
		}
		require.NoError(t, cu.Purchase.Validate(now))
		assert.Equal(t, model.PreConsumer, cu.Purchase.OriginClass)
		assert.Equal(t, cu.Plant, cu.Purchase.Site)
		add(cu.Purchase.ID, cu.Purchase.Mass)
		assert.Len(t, cu.Wash.Inputs, CityBales+1)
		takeAll(cu.Wash)
		takeAll(cu.Extrude)
		require.Len(t, cu.Lots, CityLots)
		for i, l := range cu.Lots {
			assert.Equal(t, cu.Extrude.Outputs[i].ID, l.ID)
			assert.Equal(t, made[l.ID], l.Mass)
			require.NoError(t, model.DeclarationRequest{ID: l.Declaration, Batch: l.ID, Model: model.ControlledBlending}.Validate())
			assert.Equal(t, CityWorkshop, l.Print.Site)
			takeAll(l.Print)
		}
		batches += len(cu.Register) + len(cu.Bales) + 1 + len(cu.Wash.Outputs) + len(cu.Extrude.Outputs)
		for _, l := range cu.Lots {
			batches += len(l.Print.Outputs)
		}
	}
	assert.Equal(t, p.Batches(), batches)
	// What is left unused are the products only.
	assert.Len(t, made, p.Units*CityLots*CityProducts)
	for _, id := range append(append(slices.Clone(CityStations), CityPlants...), CityWorkshop) {
		assert.NoError(t, model.CheckGLN("site", id))
	}
}

func TestPlanCityIsDeterministic(t *testing.T) {
	a, b := PlanCity(250_000, 42), PlanCity(250_000, 42)
	assert.Equal(t, a.Unit(17), b.Unit(17))
	assert.Equal(t, a.Unit(465), b.Unit(465))
	other := PlanCity(250_000, 43).Unit(17)
	assert.Equal(t, a.Unit(17).Register[0].ID, other.Register[0].ID, "ids do not depend on the seed")
	assert.NotEqual(t, a.Unit(17).Register[0].Mass, other.Register[0].Mass, "masses do")
	// Collections are dated across the year, in plan order.
	first, _ := time.Parse(time.RFC3339, a.Unit(0).Register[0].CollectedAt)
	last, _ := time.Parse(time.RFC3339, a.Unit(465).Register[0].CollectedAt)
	assert.Equal(t, time.January, first.Month())
	assert.Equal(t, time.November, last.Month())
	assert.Equal(t, "city-c000000", a.Unit(0).Register[0].ID)
	assert.Equal(t, "city-c232999", a.Unit(465).Register[CityCollections-1].ID)
	assert.Equal(t, "city-x000465-3-4", a.Unit(465).Lots[3].Print.Outputs[4].ID)
}

func TestMedianAndQuantile(t *testing.T) {
	assert.Equal(t, 0.0, Median(nil))
	assert.Equal(t, 3.0, Median([]float64{5, 1, 3}))
	assert.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
	xs := make([]float64, 30)
	for i := range xs {
		xs[i] = float64(30 - i)
	}
	assert.Equal(t, 27.0, Quantile(xs, 0.9), "nearest rank: the 27th of 30")
	assert.Equal(t, 30.0, Quantile(xs, 1))
	assert.Equal(t, 1.0, Quantile(xs, 0))
	assert.Equal(t, 30.0, xs[0], "the input is not sorted in place")
}

func TestCompare(t *testing.T) {
	c := CompareCLI("batch get", []string{"batch", "get", "X"}, []float64{10, 12, 11}, []float64{13, 12, 14})
	assert.Equal(t, 11.0, c.Empty.Median)
	assert.Equal(t, 13.0, c.City.Median)
	assert.Equal(t, 1.182, c.Ratio)
	assert.True(t, c.Within)
	c = CompareCLI("verify", nil, []float64{100}, []float64{121})
	assert.Equal(t, 1.21, c.Ratio)
	assert.False(t, c.Within)
	assert.Equal(t, [2]int{0, 1}, Order(0))
	assert.Equal(t, [2]int{1, 0}, Order(1))
}

func TestCityScenariosRunAlone(t *testing.T) {
	_, err := parse("city", "register")
	assert.ErrorContains(t, err, "on their own")
	_, err = parse("cli")
	assert.ErrorContains(t, err, "--against")
	o, err := parse("cli", "--against", "/empty/config.yaml", "--runs", "5")
	require.NoError(t, err, "the one --against flag names the empty network for cli")
	assert.Equal(t, "/empty/config.yaml", o.Against)
	assert.Equal(t, 5, o.Runs)
	o, err = parse("city", "probe", "--batches", "3000", "--seed", "5", "--state", "s.json")
	require.NoError(t, err)
	assert.Equal(t, 3000, o.Batches)
	assert.Equal(t, uint64(5), o.Seed)
	assert.Equal(t, "s.json", o.State)
	_, err = parse("city", "--wave", "0")
	assert.ErrorContains(t, err, "--wave")
}

// commit tries a failed write again, and counts a write the ledger shows
// done (its first try committed after all) as done.
func TestCommit(t *testing.T) {
	ctx := context.Background()
	var tries atomic.Int32
	var doneNow atomic.Bool
	w := write{
		submit: func(context.Context) Sample {
			tries.Add(1)
			doneNow.Store(true)
			return Sample{Code: "STATUS_ERROR", Err: "timeout"}
		},
		done: func(context.Context) bool { return doneNow.Load() },
	}
	done, retries, err := commit(ctx, w, false)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, 0, retries)
	assert.Equal(t, int32(1), tries.Load())

	// Resumed: a write done already is not submitted.
	tries.Store(0)
	done, _, err = commit(ctx, w, true)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, int32(0), tries.Load())

	// A lagging peer is waited for without counting a try.
	tries.Store(0)
	w = write{
		submit: func(context.Context) Sample {
			if tries.Add(1) < 3 {
				return Sample{Code: "ENDORSE_ERROR", Err: `batch "X" not found`}
			}
			return Sample{}
		},
		done: func(context.Context) bool { return false },
	}
	done, retries, err = commit(ctx, w, false)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, 0, retries)
	assert.Equal(t, int32(3), tries.Load())
}

func TestParallelStopsAtTheFirstError(t *testing.T) {
	var ran atomic.Int32
	err := parallel(context.Background(), 1000, 4, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 10 {
			return errors.New("ten failed")
		}
		return nil
	})
	assert.EqualError(t, err, "ten failed")
	assert.Less(t, ran.Load(), int32(1000))
	assert.NoError(t, parallel(context.Background(), 50, 8, func(context.Context, int) error { ran.Add(1); return nil }))
}
