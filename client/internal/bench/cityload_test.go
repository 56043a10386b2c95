package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// ledger is a small in-memory ledger shared by the city's parties. It
// enforces what the chaincode would refuse (a batch registered twice, a
// process taking what its submitter does not hold or making more mass
// than it takes, an acceptance without an offer to the acceptor, a claim
// by another than the recipient, a site the organisation does not have)
// and records every committed transaction in order.
type fakeLedger struct {
	mu      sync.Mutex
	batches map[string]*model.Batch
	decls   map[string]*model.Declaration
	sites   map[string][]string // by MSP
	tx      []ledgerTx
	refused int // submits the ledger refused
	// fail, when set, is asked before each submit: a non-empty code
	// fails it; commit says whether the transaction commits all the same
	// (the client lost its commit status).
	fail func(msp, fn string, args []string) (code string, commit bool)
}

type ledgerTx struct {
	msp, fn string
	args    []string
}

func newLedger() *fakeLedger {
	return &fakeLedger{batches: map[string]*model.Batch{}, decls: map[string]*model.Declaration{}, sites: map[string][]string{}}
}

// as is the ledger seen by one organisation's identity.
func (l *fakeLedger) as(msp string) Client { return &ledgerClient{l: l, msp: msp} }

type ledgerClient struct {
	l   *fakeLedger
	msp string
}

func refuse(format string, args ...any) Sample {
	return Sample{Code: "ENDORSE_ERROR", Err: fmt.Sprintf(format, args...)}
}

func (c *ledgerClient) Submit(_ context.Context, fn string, args ...string) Sample {
	l := c.l
	if l.fail != nil {
		if code, commit := l.fail(c.msp, fn, args); code != "" {
			if commit {
				l.mu.Lock()
				s := l.apply(c.msp, fn, args)
				l.mu.Unlock()
				if s.Code != "" {
					return s
				}
			}
			return Sample{Code: code, Err: fn + " failed"}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.apply(c.msp, fn, args)
}

func (l *fakeLedger) hasSite(msp, id string) bool {
	return id == "" || slices.Contains(l.sites[msp], id)
}

// take checks and takes the inputs of a process by msp.
func (l *fakeLedger) take(msp string, ins []model.ProcessInput) (model.Grams, error) {
	var sum model.Grams
	for _, in := range ins {
		b := l.batches[in.ID]
		switch {
		case b == nil:
			return 0, fmt.Errorf("batch %q not found", in.ID)
		case b.Owner != msp || b.Pending != nil:
			return 0, fmt.Errorf("batch %q is not %s's to process", in.ID, msp)
		case b.RemainingMass < in.Mass:
			return 0, fmt.Errorf("batch %q has %d g, not %d", in.ID, b.RemainingMass, in.Mass)
		}
		sum += in.Mass
	}
	return sum, nil
}

func (l *fakeLedger) create(b model.Batch) error {
	if l.batches[b.ID] != nil {
		return fmt.Errorf("batch %q already exists", b.ID)
	}
	b.InitialMass = b.RemainingMass
	l.batches[b.ID] = &b
	return nil
}

func (l *fakeLedger) apply(msp, fn string, args []string) Sample {
	var err error
	switch fn {
	case api.SetSite:
		var r model.SiteRequest
		err = json.Unmarshal([]byte(args[0]), &r)
		if err == nil {
			l.sites[msp] = append(l.sites[msp], r.ID)
		}
	case api.RegisterBatch:
		var r model.RegisterRequest
		if err = json.Unmarshal([]byte(args[0]), &r); err == nil && !l.hasSite(msp, r.Site) {
			err = fmt.Errorf("site %s is not %s's", r.Site, msp)
		}
		if err == nil {
			err = l.create(model.Batch{ID: r.ID, Owner: msp, RemainingMass: r.Mass})
		}
	case api.RegisterPurchase:
		var r model.PurchaseRequest
		if err = json.Unmarshal([]byte(args[0]), &r); err == nil && !l.hasSite(msp, r.Site) {
			err = fmt.Errorf("site %s is not %s's", r.Site, msp)
		}
		if err == nil {
			err = l.create(model.Batch{ID: r.ID, Owner: msp, RemainingMass: r.Mass})
		}
	case api.Process:
		var r model.ProcessRequest
		var in model.Grams
		if err = json.Unmarshal([]byte(args[0]), &r); err == nil && !l.hasSite(msp, r.Site) {
			err = fmt.Errorf("site %s is not %s's", r.Site, msp)
		}
		if err == nil {
			in, err = l.take(msp, r.Inputs)
		}
		var out model.Grams
		for _, o := range r.Outputs {
			out += o.Mass
			if err == nil && l.batches[o.ID] != nil {
				err = fmt.Errorf("batch %q already exists", o.ID)
			}
		}
		if err == nil && out > in {
			err = fmt.Errorf("outputs of %d g from inputs of %d g", out, in)
		}
		if err == nil {
			for _, i := range r.Inputs {
				l.batches[i.ID].RemainingMass -= i.Mass
				l.batches[i.ID].Takes++
			}
			for _, o := range r.Outputs {
				_ = l.create(model.Batch{ID: o.ID, Owner: msp, RemainingMass: o.Mass, Form: o.Form})
			}
		}
	case api.OfferTransfer:
		b := l.batches[args[0]]
		switch {
		case b == nil:
			err = fmt.Errorf("batch %q not found", args[0])
		case b.Owner != msp || b.Pending != nil:
			err = fmt.Errorf("batch %q is not %s's to offer", args[0], msp)
		default:
			b.Pending = &model.Transfer{To: args[1], Mass: b.RemainingMass}
		}
	case api.AcceptTransfer, api.AcceptTransferAt:
		b := l.batches[args[0]]
		switch {
		case b == nil:
			err = fmt.Errorf("batch %q not found", args[0])
		case b.Pending == nil || b.Pending.To != msp:
			err = fmt.Errorf("batch %q has no pending transfer", args[0])
		case fn == api.AcceptTransferAt && !l.hasSite(msp, args[2]):
			err = fmt.Errorf("site %s is not %s's", args[2], msp)
		default:
			b.Owner, b.Pending = msp, nil
		}
	case api.IssueDeclaration:
		var r model.DeclarationRequest
		err = json.Unmarshal([]byte(args[0]), &r)
		b := l.batches[r.Batch]
		switch {
		case err != nil:
		case b == nil || b.Owner != msp || b.Pending == nil:
			err = fmt.Errorf("batch %q has no transfer offered by %s", r.Batch, msp)
		case l.decls[r.ID] != nil:
			err = fmt.Errorf("declaration %q already exists", r.ID)
		default:
			l.decls[r.ID] = &model.Declaration{ID: r.ID, Batch: r.Batch, Supplier: msp, Recipient: b.Pending.To, Mass: b.Pending.Mass}
		}
	case api.ClaimDeclaration:
		d := l.decls[args[0]]
		switch {
		case d == nil:
			err = fmt.Errorf("declaration %q not found", args[0])
		case d.Recipient != msp || d.Claim != nil || l.batches[d.Batch].Owner != msp:
			err = fmt.Errorf("declaration %q is not %s's to claim", args[0], msp)
		default:
			d.Claim = &model.DeclClaim{}
		}
	default:
		err = fmt.Errorf("unexpected %s", fn)
	}
	if err != nil {
		l.refused++
		return refuse("%s: %v", fn, err)
	}
	l.tx = append(l.tx, ledgerTx{msp, fn, args})
	return Sample{TxID: fmt.Sprintf("tx%d/1000", len(l.tx))}
}

func (c *ledgerClient) Evaluate(_ context.Context, fn string, args ...string) ([]byte, Sample) {
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	var v any
	switch fn {
	case api.BatchExists:
		v = l.batches[args[0]] != nil
	case api.ReadBatch:
		b := l.batches[args[0]]
		if b == nil {
			return nil, refuse("batch %q not found", args[0])
		}
		v = b
	case api.ReadDeclaration:
		d := l.decls[args[0]]
		if d == nil {
			return nil, refuse("declaration %q not found", args[0])
		}
		v = d
	case api.GetSites:
		sl := model.SiteList{Org: args[0]}
		for _, id := range l.sites[args[0]] {
			sl.Sites = append(sl.Sites, model.Site{ID: id})
		}
		v = sl
	default:
		return nil, refuse("unexpected %s", fn)
	}
	raw, _ := json.Marshal(v)
	return raw, Sample{}
}

func (c *ledgerClient) TxBytes(context.Context, string) (int, error) { return 1000, nil }
func (c *ledgerClient) Block(context.Context, string) (Block, error) { return Block{}, nil }

// count is how many committed transactions called fn (by msp, when not "").
func (l *fakeLedger) count(msp, fn string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.tx {
		if t.fn == fn && (msp == "" || t.msp == msp) {
			n++
		}
	}
	return n
}

const (
	munMSP = "MunicipalityMSP"
	recMSP = "RecyclerMSP"
	makMSP = "MakerMSP"
)

func cityRunOn(l *fakeLedger, plan CityPlan, c, wave int, state string, log io.Writer) *cityRun {
	p := cityParties{mun: l.as(munMSP), rec: l.as(recMSP), mak: l.as(makMSP),
		munMSP: munMSP, recMSP: recMSP, makMSP: makMSP,
		munAdmin: l.as(munMSP), recAdmin: l.as(recMSP), makAdmin: l.as(makMSP)}
	return &cityRun{p: p, plan: plan, c: c, wave: wave, log: &logWriter{out: log}, state: state, stages: map[string]*StageStats{}}
}

// checkCity checks that the ledger holds the whole plan: every batch
// once, each where the flows leave it.
func checkCity(t *testing.T, l *fakeLedger, plan CityPlan) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Len(t, l.batches, plan.Batches(), "every batch of the plan, once")
	assert.Len(t, l.tx, plan.Transactions()+len(CityStations)+len(CityPlants)+1, "the plan's transactions and the sites")
	for u := range plan.Units {
		cu := plan.Unit(u)
		for _, r := range cu.Register {
			b := l.batches[r.ID]
			require.NotNil(t, b, r.ID)
			assert.Equal(t, munMSP, b.Owner)
			assert.Zero(t, b.RemainingMass, "%s sorted whole", r.ID)
		}
		for _, r := range cu.Bales {
			b := l.batches[r.Outputs[0].ID]
			require.NotNil(t, b)
			assert.Equal(t, recMSP, b.Owner, "bale %s handed to the recycler", b.ID)
			assert.Zero(t, b.RemainingMass, "bale %s washed whole", b.ID)
		}
		for _, lot := range cu.Lots {
			b := l.batches[lot.ID]
			require.NotNil(t, b)
			assert.Equal(t, makMSP, b.Owner, "lot %s", lot.ID)
			assert.Zero(t, b.RemainingMass, "lot %s printed whole", lot.ID)
			d := l.decls[lot.Declaration]
			require.NotNil(t, d, lot.Declaration)
			assert.Equal(t, recMSP, d.Supplier)
			assert.Equal(t, makMSP, d.Recipient)
			assert.Equal(t, lot.Mass, d.Mass)
			assert.NotNil(t, d.Claim, "declaration %s claimed", d.ID)
			for _, o := range lot.Print.Outputs {
				require.NotNil(t, l.batches[o.ID], o.ID)
				assert.Equal(t, makMSP, l.batches[o.ID].Owner)
			}
		}
	}
	// Each unit sorts at its station and hands its bales to its plant.
	at := map[string]string{}
	for u := range plan.Units {
		cu := plan.Unit(u)
		for _, r := range cu.Bales {
			at[r.Outputs[0].ID] = cu.Station
			at["accept "+r.Outputs[0].ID] = cu.Plant
		}
	}
	for _, tx := range l.tx {
		switch tx.fn {
		case api.Process:
			var req model.ProcessRequest
			require.NoError(t, json.Unmarshal([]byte(tx.args[0]), &req))
			if req.Step == model.StepSorting {
				assert.Equal(t, at[req.Outputs[0].ID], req.Site, req.Outputs[0].ID)
			}
		case api.AcceptTransferAt:
			if tx.msp == recMSP {
				assert.Equal(t, at["accept "+tx.args[0]], tx.args[2], tx.args[0])
			}
		}
	}
	assert.Equal(t, CityStations, l.sites[munMSP])
	assert.Equal(t, CityPlants, l.sites[recMSP])
	assert.Equal(t, []string{CityWorkshop}, l.sites[makMSP])
}

// The city load writes the plan's flows in order, each organisation its
// own part, and reports each stage's count.
func TestCityLoad(t *testing.T) {
	l := newLedger()
	plan := PlanCity(300, 7)
	require.Equal(t, 1, plan.Units)
	var log bytes.Buffer
	r := cityRunOn(l, plan, 4, 1, "", &log)
	res, err := r.load(context.Background())
	require.NoError(t, err)
	checkCity(t, l, plan)

	assert.Equal(t, City, res.Scenario)
	assert.Equal(t, plan.Batches(), res.Batches)
	assert.Equal(t, plan.Transactions(), res.Transactions)
	assert.False(t, res.Resumed)
	assert.Empty(t, res.Stopped)
	want := map[string]int{"register": CityCollections, "sort into bales": CityBales, "offer bales": CityBales, "accept bales": CityBales,
		"purchase": 1, "wash": 1, "extrude": 1, "offer lots": CityLots, "declare lots": CityLots, "accept lots": CityLots,
		"claim declarations": CityLots, "print": CityLots}
	var names []string
	total := 0
	for _, s := range res.Stages {
		names = append(names, s.Stage)
		assert.Equal(t, want[s.Stage], s.Tx, s.Stage)
		assert.Zero(t, s.Done, s.Stage)
		assert.Zero(t, s.Retries, s.Stage)
		total += s.Tx
	}
	assert.Equal(t, []string{"register", "sort into bales", "offer bales", "accept bales", "purchase", "wash", "extrude",
		"offer lots", "declare lots", "accept lots", "claim declarations", "print"}, names)
	assert.Equal(t, plan.Transactions(), total)

	// Who wrote what.
	assert.Equal(t, CityCollections, l.count(munMSP, api.RegisterBatch))
	assert.Equal(t, CityBales, l.count(munMSP, api.Process))
	assert.Equal(t, 1+1, l.count(recMSP, api.Process), "wash and extrude")
	assert.Equal(t, CityLots, l.count(makMSP, api.Process), "prints")
	assert.Equal(t, CityBales, l.count(recMSP, api.AcceptTransferAt))
	assert.Equal(t, CityLots, l.count(makMSP, api.AcceptTransferAt))
	assert.Equal(t, CityLots, l.count(recMSP, api.IssueDeclaration))
	assert.Equal(t, CityLots, l.count(makMSP, api.ClaimDeclaration))

	// Bales sort CityPerBale collections into one, at the unit's station,
	// with the 8% residue; the bales are accepted at the unit's plant.
	cu := plan.Unit(0)
	l.mu.Lock()
	for _, tx := range l.tx {
		switch tx.fn {
		case api.Process:
			var req model.ProcessRequest
			require.NoError(t, json.Unmarshal([]byte(tx.args[0]), &req))
			if req.Step == model.StepSorting {
				require.Len(t, req.Inputs, CityPerBale)
				require.Len(t, req.Outputs, 1)
				var in model.Grams
				for _, x := range req.Inputs {
					in += x.Mass
				}
				assert.Equal(t, in*92/100, req.Outputs[0].Mass)
				assert.Equal(t, cu.Station, req.Site)
			}
		case api.AcceptTransferAt:
			if tx.msp == recMSP {
				assert.Equal(t, cu.Plant, tx.args[2])
			} else {
				assert.Equal(t, CityWorkshop, tx.args[2])
			}
		}
	}
	l.mu.Unlock()
	assert.Contains(t, log.String(), "city: 1 units (537 batches, 553 transactions) in 1 waves of 1 units")
	assert.Contains(t, log.String(), "wave 1/1 print")
}

// A load cut short saves where it stopped; the next run resumes there,
// counts what the cut-short try had committed as done, skips the sites
// that exist, and ends with the same ledger as a load in one go.
func TestCityLoadResumes(t *testing.T) {
	l := newLedger()
	plan := PlanCity(2*CityUnitBatches, 3)
	require.Equal(t, 2, plan.Units)
	state := filepath.Join(t.TempDir(), "city.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The third declaration of the second wave commits, but its client
	// is interrupted before it hears so.
	third := cityID("d", 1, 2)
	l.fail = func(_, fn string, args []string) (string, bool) {
		if fn == api.IssueDeclaration && strings.Contains(args[0], `"id":"`+third+`"`) {
			cancel()
			return "STATUS_ERROR", true
		}
		return "", false
	}
	res, err := cityRunOn(l, plan, 1, 1, state, io.Discard).load(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "wave 2, declare lots, write 2")
	assert.Equal(t, err.Error(), res.Stopped)
	raw, err := os.ReadFile(state)
	require.NoError(t, err)
	var st cityState
	require.NoError(t, json.Unmarshal(raw, &st))
	assert.Equal(t, cityState{Seed: 3, Units: 2, Wave: 1, Size: 1, Stage: 8}, st, "wave 2 stopped after its 8 first stages")
	assert.Equal(t, 3, l.count(recMSP, api.IssueDeclaration)-CityLots, "wave 2's first three declarations are on the ledger")

	l.fail = nil
	var log bytes.Buffer
	res, err = cityRunOn(l, plan, 1, 1, state, &log).load(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Resumed)
	assert.Contains(t, log.String(), "resuming at wave 2, stage 9 (declare lots)")
	assert.Zero(t, l.refused, "what was done is not submitted again")
	checkCity(t, l, plan)
	assert.Equal(t, 2*CityLots, l.count(recMSP, api.IssueDeclaration), "no declaration issued twice")
	assert.Equal(t, len(CityStations)+len(CityPlants)+1, l.count("", api.SetSite), "the sites set once")
	require.Len(t, res.Stages, 4, "the resumed run did the last four stages of wave 2")
	assert.Equal(t, StageStats{Stage: "declare lots", Tx: CityLots, Done: 3, Wall: res.Stages[0].Wall, TPS: res.Stages[0].TPS}, *res.Stages[0])
	raw, err = os.ReadFile(state)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &st))
	assert.Equal(t, cityState{Seed: 3, Units: 2, Wave: 2, Size: 1}, st)

	// A run from the finished state writes nothing.
	before := len(l.tx)
	res, err = cityRunOn(l, plan, 1, 1, state, io.Discard).load(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Resumed)
	assert.Empty(t, res.Stages)
	assert.Len(t, l.tx, before)

	// A state file of another plan, or not JSON, stops the run before it
	// writes.
	_, err = cityRunOn(l, PlanCity(2*CityUnitBatches, 4), 1, 1, state, io.Discard).load(context.Background())
	assert.ErrorContains(t, err, "is of another plan (seed 3, 2 units in waves of 1), not seed 4, 2 units in waves of 1")
	_, err = cityRunOn(l, plan, 1, 2, state, io.Discard).load(context.Background())
	assert.ErrorContains(t, err, "another plan")
	require.NoError(t, os.WriteFile(state, []byte("{"), 0o644))
	_, err = cityRunOn(l, plan, 1, 1, state, io.Discard).load(context.Background())
	assert.ErrorContains(t, err, "state file "+state)
	assert.Len(t, l.tx, before)
}

// A write refused for another reason than a lagging peer is tried again
// and counted as a retry; one whose failed try committed all the same is
// counted as done, not submitted again.
func TestCityLoadRetries(t *testing.T) {
	l := newLedger()
	plan := PlanCity(1, 1)
	first := cityID("c", 7)
	var failed int
	var lost bool
	l.fail = func(_, fn string, args []string) (string, bool) {
		if fn == api.RegisterBatch && strings.Contains(args[0], `"id":"`+first+`"`) && failed == 0 {
			failed++
			return "MVCC_READ_CONFLICT", false
		}
		// An acceptance commits, but its client hears a timeout.
		if fn == api.AcceptTransferAt && args[0] == cityID("b", 3) && !lost {
			lost = true
			return "STATUS_ERROR", true
		}
		return "", false
	}
	res, err := cityRunOn(l, plan, 1, 1, "", io.Discard).load(context.Background())
	require.NoError(t, err)
	checkCity(t, l, plan)
	assert.Equal(t, "register", res.Stages[0].Stage)
	assert.Equal(t, 1, res.Stages[0].Retries)
	assert.Zero(t, res.Stages[0].Done)
	assert.Equal(t, "accept bales", res.Stages[3].Stage)
	assert.Equal(t, 1, res.Stages[3].Done, "the acceptance found done")
	for _, s := range res.Stages[1:] {
		assert.Zero(t, s.Retries, s.Stage)
	}
}

// A site that cannot be set stops the load before any batch is written.
func TestCitySitesFailure(t *testing.T) {
	l := newLedger()
	ctx, cancel := context.WithCancel(context.Background())
	l.fail = func(msp, fn string, _ []string) (string, bool) {
		if fn == api.SetSite && msp == recMSP {
			cancel()
			return "ENDORSE_ERROR", false
		}
		return "", false
	}
	_, err := cityRunOn(l, PlanCity(1, 1), 1, 1, "", io.Discard).load(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "site "+CityPlants[0]+" of "+recMSP)
	assert.Zero(t, l.count("", api.RegisterBatch))
	assert.Len(t, l.sites[munMSP], len(CityStations))
}

// probe builds the fixed set once; a second probe finds it and writes
// nothing.
func TestProbe(t *testing.T) {
	l := newLedger()
	e := &env{col: l.as(munMSP), rec: l.as(recMSP), recMSP: recMSP, prefix: ProbePrefix, c: 4,
		collectedAt: "2026-06-01T08:00:00Z", log: io.Discard}
	res, err := e.probe(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Built)
	assert.Equal(t, ProbeRoot, res.Root)
	l.mu.Lock()
	root := l.batches[ProbeRoot]
	h := l.batches[ProbeHistory]
	n := len(l.tx)
	var listed int
	for id := range l.batches {
		if strings.HasPrefix(id, ProbePrefix+"-l-") {
			listed++
		}
	}
	l.mu.Unlock()
	require.NotNil(t, root)
	assert.Equal(t, model.Grams(ProbeNodes-countInner(t))*1000, root.RemainingMass, "the root merges every leaf's kilogram")
	require.NotNil(t, h)
	assert.Equal(t, recMSP, h.Owner)
	assert.Equal(t, 2, h.Takes)
	assert.Equal(t, model.Grams(15_000), h.RemainingMass)
	assert.Equal(t, ProbeListed, listed)

	res, err = e.probe(context.Background())
	require.NoError(t, err)
	assert.False(t, res.Built)
	assert.Len(t, l.tx, n, "the second probe wrote nothing")

	// A refused write stops the probe with what failed.
	l2 := newLedger()
	l2.fail = func(_, fn string, _ []string) (string, bool) {
		if fn == api.OfferTransfer {
			return "ENDORSE_ERROR", false
		}
		return "", false
	}
	e.col, e.rec = l2.as(munMSP), l2.as(recMSP)
	_, err = e.probe(context.Background())
	assert.ErrorContains(t, err, "prepare history batch: offer: OfferTransfer failed")
}

// countInner is the number of inner nodes of the probe's ancestry.
func countInner(t *testing.T) int {
	levels, err := Levels(ProbeNodes, ProbeDepth)
	require.NoError(t, err)
	n := 0
	for _, x := range levels[:len(levels)-1] {
		n += x
	}
	return n
}

// runCity opens each party's profile, runs the scenarios in order and
// prints their results.
func TestRunCity(t *testing.T) {
	l := newLedger()
	msps := map[string]string{"municipality": munMSP, "recycler": recMSP, "maker": makMSP}
	var opened []string
	open := func(p, cc string) (Client, string, func() error, error) {
		opened = append(opened, p)
		msp, ok := msps[strings.TrimSuffix(p, "-admin")]
		if !ok || cc != "" {
			return nil, "", nil, errors.New("no such profile")
		}
		return l.as(msp), msp, func() error { return nil }, nil
	}
	var out bytes.Buffer
	o := &Options{Out: &out, Log: io.Discard, Format: cmdutil.FormatJSON, Scenarios: []string{Probe, City}, C: 4, Wave: 1,
		Batches: 300, Seed: 9, Collector: "municipality", Recycler: "recycler", Maker: "maker", Open: open}
	require.NoError(t, runCity(context.Background(), o))
	assert.Equal(t, []string{"municipality", "recycler", "maker", "municipality-admin", "recycler-admin", "maker-admin"}, opened)
	var got []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, 2)
	assert.Equal(t, Probe, got[0]["scenario"])
	assert.Equal(t, true, got[0]["built"])
	assert.Equal(t, City, got[1]["scenario"])
	assert.Equal(t, float64(CityUnitTxs), got[1]["transactions"])
	assert.Equal(t, CityCollections+ProbeListed+1+countLeaves(t), l.count(munMSP, api.RegisterBatch))

	// As a table, the second time: the probe is there already.
	out.Reset()
	o.Format, o.Scenarios, o.Seed = "table", []string{Probe}, 10
	require.NoError(t, runCity(context.Background(), o))
	assert.Equal(t, fmt.Sprintf("probe: root %s, history %s, %d listed\n", ProbeRoot, ProbeHistory, ProbeListed), out.String())

	o.Maker = "ghost"
	assert.EqualError(t, runCity(context.Background(), o), "profile ghost: no such profile")
}

func countLeaves(t *testing.T) int { return ProbeNodes - countInner(t) }
