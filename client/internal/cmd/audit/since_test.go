package audit

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// sim is a ledger of batches, process records and takes, written by
// honest operations (as the chaincode would) and by forgeries (as a
// modified chaincode or a dishonest majority could).
type sim struct {
	r       *rand.Rand
	batches map[string]*model.Batch
	records map[string]*model.Process
	takes   map[string][]model.Take
	clock   time.Time
	n       int
	// written are the batches changed since the checkpoint (their records,
	// holds or takes); processes the records written.
	written   map[string]bool
	processes map[string]bool
}

func newSim(seed uint64) *sim {
	return &sim{r: rand.New(rand.NewPCG(seed, 7)), batches: map[string]*model.Batch{}, records: map[string]*model.Process{},
		takes: map[string][]model.Take{}, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), written: map[string]bool{}, processes: map[string]bool{}}
}

func (s *sim) now() string {
	s.clock = s.clock.Add(time.Minute)
	return model.FormatTime(s.clock)
}

func (s *sim) id(prefix string) string { s.n++; return fmt.Sprintf("%s-%04d", prefix, s.n) }

func (s *sim) put(b *model.Batch) { s.batches[b.ID] = b; s.written[b.ID] = true }

// get returns a copy of batch id to change.
func (s *sim) get(id string) *model.Batch {
	c := clone(s.batches[id])
	return c
}

func clone(b *model.Batch) *model.Batch {
	if b == nil {
		return nil
	}
	c := *b
	c.Handovers = append([]model.Handover(nil), b.Handovers...)
	c.Holds = append([]model.Hold(nil), b.Holds...)
	if b.Origin.Process != nil {
		d := *b.Origin.Process
		d.Inputs = append([]model.Take(nil), d.Inputs...)
		c.Origin.Process = &d
	}
	return &c
}

// pick returns a random batch id matching ok, or "".
func (s *sim) pick(ok func(*model.Batch) bool) string {
	var ids []string
	for id, b := range s.batches {
		if ok(b) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[s.r.IntN(len(ids))]
}

var orgs = []string{"MunicipalityMSP", "RecyclerMSP", "MakerMSP"}

func (s *sim) collect() {
	at := s.now()
	m := model.Grams(1000 * (1 + s.r.IntN(500)))
	who := orgs[s.r.IntN(2)]
	s.put(&model.Batch{ID: s.id("C"), InitialMass: m, RemainingMass: m, Owner: who, Submitter: model.Actor{MSP: who},
		Format: model.CurrentFormat, Origin: model.Origin{Collection: &model.Collection{CollectedAt: at, Collector: who}}})
}

func (s *sim) handover() {
	id := s.pick(func(b *model.Batch) bool { return b.RemainingMass > 0 && len(b.Holds) == 0 })
	if id == "" {
		return
	}
	b := s.get(id)
	to := orgs[(indexOf(b.Owner)+1+s.r.IntN(2))%len(orgs)]
	lost := model.Grams(s.r.IntN(int(b.RemainingMass)/10 + 1))
	b.Handovers = append(b.Handovers, model.Handover{From: b.Owner, To: to, Offered: b.RemainingMass, Received: b.RemainingMass - lost, AcceptedAt: s.now()})
	b.TransitLoss += lost
	b.RemainingMass -= lost
	b.Owner = to
	s.put(b)
}

func indexOf(msp string) int {
	for i, o := range orgs {
		if o == msp {
			return i
		}
	}
	return 0
}

// process runs a process of one organisation over up to three of its
// batches; honest is false for a forged one that names its inputs but
// leaves them (and their takes) untouched.
func (s *sim) process(honest bool) {
	first := s.pick(func(b *model.Batch) bool { return b.RemainingMass > 0 && len(b.Holds) == 0 })
	if first == "" {
		return
	}
	owner := s.batches[first].Owner
	ids := []string{first}
	for i := 0; i < 2; i++ {
		if id := s.pick(func(b *model.Batch) bool { return b.Owner == owner && b.RemainingMass > 0 && len(b.Holds) == 0 }); id != "" && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	at, tx := s.now(), s.id("tx")
	d := model.Derivation{Step: model.StepSorting, Tx: tx, By: model.Actor{MSP: owner}, At: at}
	var in model.Grams
	for _, id := range ids {
		m := model.Grams(1 + s.r.IntN(int(s.batches[id].RemainingMass)))
		d.Inputs = append(d.Inputs, model.Take{ID: id, Mass: m})
		in += m
	}
	d.VirginMass = model.Grams(s.r.IntN(3)) * 1000
	out := in + d.VirginMass - model.Grams(s.r.IntN(int(in)/10+1))
	n := 1 + s.r.IntN(2)
	rec := &model.Process{Derivation: d}
	var made model.Grams
	for i := 0; i < n; i++ {
		m := out / model.Grams(n)
		if i == n-1 {
			m = out - made
		}
		made += m
		dd := d
		dd.Inputs = append([]model.Take(nil), d.Inputs...)
		b := &model.Batch{ID: s.id("P"), InitialMass: m, RemainingMass: m, Owner: owner, Submitter: model.Actor{MSP: owner},
			Format: model.CurrentFormat, Origin: model.Origin{Process: &dd}}
		rec.Outputs = append(rec.Outputs, model.Take{ID: b.ID, Mass: m})
		s.put(b)
	}
	d.Loss = in + d.VirginMass - made
	rec.Loss = d.Loss
	for _, o := range rec.Outputs {
		s.batches[o.ID].Origin.Process.Loss = d.Loss
	}
	if !honest {
		return
	}
	s.records[tx] = rec
	s.processes[tx] = true
	for _, t := range d.Inputs {
		b := s.get(t.ID)
		b.RemainingMass -= t.Mass
		b.TakenMass += t.Mass
		b.Takes++
		s.put(b)
		s.takes[t.ID] = append(s.takes[t.ID], model.Take{ID: rec.Outputs[0].ID, Mass: t.Mass, Tx: tx, At: at})
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (s *sim) hold() {
	id := s.pick(func(b *model.Batch) bool { return len(b.Holds) == 0 })
	if id == "" {
		return
	}
	b := s.get(id)
	at := s.now()
	b.Holds = append(b.Holds, model.Hold{Batch: id, By: model.Actor{MSP: "AuditorMSP"}, At: at, Tx: s.id("tx-hold"), Reason: "check"})
	s.put(b)
}

func (s *sim) honest() {
	switch k := s.r.IntN(10); {
	case k < 4:
		s.collect()
	case k < 7:
		s.handover()
	case k < 9:
		s.process(true)
	default:
		s.hold()
	}
}

// forge writes one record no honest transaction would.
func (s *sim) forge() {
	any := func(*model.Batch) bool { return true }
	switch s.r.IntN(11) {
	case 0: // mass from nothing
		if id := s.pick(any); id != "" {
			b := s.get(id)
			b.RemainingMass += model.Grams(1 + s.r.IntN(5000))
			s.put(b)
		}
	case 1:
		if id := s.pick(any); id != "" {
			b := s.get(id)
			b.RemainingMass = -b.RemainingMass - 1
			s.put(b)
		}
	case 2:
		if id := s.pick(any); id != "" {
			b := s.get(id)
			b.Owner = "EvilMSP"
			s.put(b)
		}
	case 3:
		if id := s.pick(any); id != "" {
			b := s.get(id)
			b.TakenMass += 100
			s.put(b)
		}
	case 4: // a process whose inputs never gave anything
		s.process(false)
	case 5: // a child of a batch that does not exist
		d := &model.Derivation{Step: model.StepSorting, Tx: s.id("tx"), By: model.Actor{MSP: "RecyclerMSP"}, At: s.now(),
			Inputs: []model.Take{{ID: "GHOST", Mass: 500}}}
		s.put(&model.Batch{ID: s.id("P"), InitialMass: 500, RemainingMass: 500, Owner: "RecyclerMSP", Submitter: model.Actor{MSP: "RecyclerMSP"},
			Format: model.CurrentFormat, Origin: model.Origin{Process: d}})
	case 6: // handed over under a hold
		if id := s.pick(func(b *model.Batch) bool { return len(b.Holds) > 0 && b.RemainingMass > 0 }); id != "" {
			b := s.get(id)
			b.Handovers = append(b.Handovers, model.Handover{From: b.Owner, To: "MakerMSP", Offered: b.RemainingMass, Received: b.RemainingMass, AcceptedAt: s.now()})
			b.Owner = "MakerMSP"
			s.put(b)
		}
	case 7: // taken from under a hold placed before
		s.hold()
		for id, b := range s.batches {
			if len(b.Holds) > 0 && b.RemainingMass > 0 {
				c := s.get(id)
				c.Holds = nil
				s.batches[id] = c // hide the hold from process()'s picker
				s.process(true)
				if c2 := s.get(id); c2 != nil {
					c2.Holds = b.Holds
					s.put(c2)
				}
				break
			}
		}
	case 8:
		if id := s.pick(any); id != "" {
			b := s.get(id)
			b.Format = 1
			s.put(b)
		}
	case 9: // changed origin: the process loses an output
		if id := s.pick(func(b *model.Batch) bool { return b.Origin.Process != nil }); id != "" {
			b := s.get(id)
			b.Origin = model.Origin{Collection: &model.Collection{Collector: b.Owner}}
			s.put(b)
		}
	case 10: // a deleted batch
		if id := s.pick(any); id != "" {
			delete(s.batches, id)
			s.written[id] = true
		}
	}
}

func (s *sim) list() []model.Batch {
	out := make([]model.Batch, 0, len(s.batches))
	for _, b := range s.batches {
		out = append(out, *b)
	}
	return out
}

// simSource serves the incremental audit from the ledger at the
// checkpoint (old) and now.
type simSource struct {
	old map[string]*model.Batch
	s   *sim
}

func (src simSource) batch(id string) (*model.Batch, *model.Batch, error) {
	cur := clone(src.s.batches[id])
	if src.s.written[id] {
		return clone(src.old[id]), cur, nil
	}
	return cur, cur, nil
}

func (src simSource) process(tx string) (*model.Process, error) { return src.s.records[tx], nil }

func (src simSource) takes(id string) ([]model.Take, error) { return src.s.takes[id], nil }

var simRegistry = model.Registry{Participants: []model.Participant{
	{MSP: "MunicipalityMSP", Role: model.RoleCollector}, {MSP: "RecyclerMSP", Role: model.RoleRecycler},
	{MSP: "MakerMSP", Role: model.RoleMaker}, {MSP: "AuditorMSP", Role: model.RoleAuditor},
}}

// For random clean ledgers and random writes after the checkpoint, honest
// or forged, the incremental audit reports exactly the violations, the
// totals and the balances of a full audit of the new ledger.
func TestSinceMatchesFullAudit(t *testing.T) {
	var clean, dirty int
	for seed := uint64(0); seed < 400; seed++ {
		s := newSim(seed)
		for i := 0; i < 20+s.r.IntN(200); i++ {
			s.honest()
		}
		base := model.Audit(s.list(), simRegistry)
		require.True(t, base.OK, "seed %d: the generated ledger is clean: %v", seed, base.Violations)
		old := map[string]*model.Batch{}
		for id, b := range s.batches {
			old[id] = clone(b)
		}
		s.written, s.processes = map[string]bool{}, map[string]bool{}
		forged := seed%3 != 0
		for i := 0; i < 1+s.r.IntN(15); i++ {
			if forged && s.r.IntN(4) == 0 {
				s.forge()
			} else {
				s.honest()
			}
		}
		full := model.Audit(s.list(), simRegistry)
		got, sc, err := incremental(totalsOf(&base), simRegistry, sortedKeys(s.written), sortedKeys(s.processes), simSource{old, s})
		require.NoError(t, err)
		want := append([]string(nil), full.Violations...)
		sort.Strings(want)
		have := append([]string(nil), got.Violations...)
		sort.Strings(have)
		require.Equal(t, want, have, "seed %d: violations", seed)
		assert.Equal(t, full.OK, got.OK)
		assert.Equal(t, totalsOf(&full), totalsOf(&got), "seed %d: totals and balances", seed)
		assert.LessOrEqual(t, sc.Written, len(s.written))
		if full.OK {
			clean++
		} else {
			dirty++
		}
	}
	t.Logf("%d clean and %d violated ledgers after the checkpoint", clean, dirty)
	assert.Greater(t, clean, 100, "honest writes leave the ledger clean")
	assert.Greater(t, dirty, 100, "forgeries are found")
}
