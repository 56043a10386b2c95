package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// City scenarios: probe builds the fixed set of batches the user
// commands are timed on; city loads a year of a city (CityPlan); cli
// times the user commands as whole processes on this network and on
// another (--against), side by side.
const (
	Probe = "probe"
	City  = "city"
	CLI   = "cli"
)

// cityScenarios are run on their own, in this order, never mixed with the
// throughput scenarios.
var cityScenarios = []string{Probe, City, CLI}

// cityParties are the identities the city load writes as.
type cityParties struct {
	mun, rec, mak                Client
	munMSP, recMSP, makMSP       string
	munAdmin, recAdmin, makAdmin Client
}

// cityRun loads the plan in waves of units: every stage of a wave runs
// for all its units before the next stage starts, and the state file
// records each stage done, so that a rerun resumes after it.
type cityRun struct {
	p     cityParties
	plan  CityPlan
	c     int
	wave  int
	log   *logWriter
	state string
	// stats per stage, over all waves.
	mu     sync.Mutex
	stages map[string]*StageStats
	order  []string
}

// StageStats is one stage's work over the whole load.
type StageStats struct {
	Stage string  `json:"stage"`
	Tx    int     `json:"tx"`
	Wall  float64 `json:"wall_s"`
	TPS   float64 `json:"tps"`
	// Done counts writes found already done (a resumed run's, or a
	// retry's whose first try had committed); Retries the tries again.
	Done    int `json:"already_done"`
	Retries int `json:"retries"`
}

// CityResult is the city load's report.
type CityResult struct {
	Scenario     string  `json:"scenario"`
	Seed         uint64  `json:"seed"`
	Units        int     `json:"units"`
	Batches      int     `json:"batches"`
	Transactions int     `json:"transactions"`
	Concurrency  int     `json:"concurrency"`
	Wall         float64 `json:"wall_s"`
	TPS          float64 `json:"tps"`
	Resumed      bool    `json:"resumed"`
	// Stopped is the error that ended a load cut short (an interrupt);
	// the figures are then those of the part loaded.
	Stopped  string        `json:"stopped,omitempty"`
	Stages   []*StageStats `json:"stages"`
	Stations []string      `json:"stations"`
	Plants   []string      `json:"plants"`
	Workshop string        `json:"workshop"`
}

// cityState is what the state file holds: the plan and the last stage
// done.
type cityState struct {
	Seed  uint64 `json:"seed"`
	Units int    `json:"units"`
	Wave  int    `json:"wave"` // waves of cityRun.wave units
	Size  int    `json:"wave_units"`
	Stage int    `json:"stage"` // stages of that wave done
}

type logWriter struct {
	mu  sync.Mutex
	out interface{ Write([]byte) (int, error) }
}

func (l *logWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}

// write is one write of a stage: submit runs it; done reads the ledger
// to tell whether it is done already.
type write struct {
	submit func(ctx context.Context) Sample
	done   func(ctx context.Context) bool
}

// stage is one step of a wave: the writes of its units.
type stage struct {
	name   string
	c      int
	writes func(u CityUnit) []write
}

func (r *cityRun) cityStages() []stage {
	p := r.p
	exists := func(id string) func(ctx context.Context) bool {
		return func(ctx context.Context) bool { return batchExists(ctx, p.mun, id) }
	}
	ownedBy := func(cl Client, id, msp string) func(ctx context.Context) bool {
		return func(ctx context.Context) bool {
			b, ok := readBatch(ctx, cl, id)
			return ok && (b.Owner == msp || b.Pending != nil && b.Pending.To == msp)
		}
	}
	process := func(cl Client, req model.ProcessRequest) write {
		return write{
			submit: func(ctx context.Context) Sample { return cl.Submit(ctx, api.Process, cmdutil.MarshalArg(req)) },
			done:   exists(req.Outputs[0].ID),
		}
	}
	offer := func(cl Client, id, to string) write {
		return write{
			submit: func(ctx context.Context) Sample { return cl.Submit(ctx, api.OfferTransfer, id, to) },
			done:   ownedBy(cl, id, to),
		}
	}
	accept := func(cl Client, id, site, msp string) write {
		return write{
			submit: func(ctx context.Context) Sample { return cl.Submit(ctx, api.AcceptTransferAt, id, "0", site) },
			done: func(ctx context.Context) bool {
				b, ok := readBatch(ctx, cl, id)
				return ok && b.Owner == msp
			},
		}
	}
	return []stage{
		{"register", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Register))
			for i, req := range u.Register {
				ws[i] = write{
					submit: func(ctx context.Context) Sample { return p.mun.Submit(ctx, api.RegisterBatch, cmdutil.MarshalArg(req)) },
					done:   exists(req.ID),
				}
			}
			return ws
		}},
		{"sort into bales", min(r.c, 32), func(u CityUnit) []write {
			ws := make([]write, len(u.Bales))
			for i, req := range u.Bales {
				ws[i] = process(p.mun, req)
			}
			return ws
		}},
		{"offer bales", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Bales))
			for i, req := range u.Bales {
				ws[i] = offer(p.mun, req.Outputs[0].ID, p.recMSP)
			}
			return ws
		}},
		{"accept bales", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Bales))
			for i, req := range u.Bales {
				ws[i] = accept(p.rec, req.Outputs[0].ID, u.Plant, p.recMSP)
			}
			return ws
		}},
		{"purchase", r.c, func(u CityUnit) []write {
			req := u.Purchase
			return []write{{
				submit: func(ctx context.Context) Sample {
					return p.rec.Submit(ctx, api.RegisterPurchase, cmdutil.MarshalArg(req))
				},
				done: exists(req.ID),
			}}
		}},
		{"wash", r.c, func(u CityUnit) []write { return []write{process(p.rec, u.Wash)} }},
		{"extrude", r.c, func(u CityUnit) []write { return []write{process(p.rec, u.Extrude)} }},
		{"offer lots", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Lots))
			for i, l := range u.Lots {
				ws[i] = offer(p.rec, l.ID, p.makMSP)
			}
			return ws
		}},
		{"declare lots", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Lots))
			for i, l := range u.Lots {
				req := model.DeclarationRequest{ID: l.Declaration, Batch: l.ID, Model: model.ControlledBlending, Certificate: "ISCC-PLUS-2026-0042"}
				ws[i] = write{
					submit: func(ctx context.Context) Sample {
						return p.rec.Submit(ctx, api.IssueDeclaration, cmdutil.MarshalArg(req))
					},
					done: func(ctx context.Context) bool { _, ok := readDeclaration(ctx, p.rec, l.Declaration); return ok },
				}
			}
			return ws
		}},
		{"accept lots", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Lots))
			for i, l := range u.Lots {
				ws[i] = accept(p.mak, l.ID, CityWorkshop, p.makMSP)
			}
			return ws
		}},
		{"claim declarations", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Lots))
			for i, l := range u.Lots {
				ws[i] = write{
					submit: func(ctx context.Context) Sample { return p.mak.Submit(ctx, api.ClaimDeclaration, l.Declaration) },
					done: func(ctx context.Context) bool {
						d, ok := readDeclaration(ctx, p.mak, l.Declaration)
						return ok && d.Claim != nil
					},
				}
			}
			return ws
		}},
		{"print", r.c, func(u CityUnit) []write {
			ws := make([]write, len(u.Lots))
			for i, l := range u.Lots {
				ws[i] = process(p.mak, l.Print)
			}
			return ws
		}},
	}
}

func batchExists(ctx context.Context, cl Client, id string) bool {
	raw, s := cl.Evaluate(ctx, api.BatchExists, id)
	if s.Code != "" {
		return false
	}
	var ok bool
	return json.Unmarshal(raw, &ok) == nil && ok
}

func readBatch(ctx context.Context, cl Client, id string) (model.Batch, bool) {
	raw, s := cl.Evaluate(ctx, api.ReadBatch, id)
	if s.Code != "" {
		return model.Batch{}, false
	}
	b, err := api.Decode[model.Batch](api.ReadBatch, raw)
	return b, err == nil
}

func readDeclaration(ctx context.Context, cl Client, id string) (model.Declaration, bool) {
	raw, s := cl.Evaluate(ctx, api.ReadDeclaration, id)
	if s.Code != "" {
		return model.Declaration{}, false
	}
	d, err := api.Decode[model.Declaration](api.ReadDeclaration, raw)
	return d, err == nil
}

// maxTries is how many times a write of the city load is tried (beyond
// the waits for a peer to catch up) before the run stops.
const maxTries = 6

// commit runs w until it commits. A refusal because a peer has not yet
// committed what the write depends on is tried again for up to lagLimit;
// any other failure up to maxTries times, a second apart and more. When
// resumed (the stage was cut short by an earlier run) or after a failed
// try (whose transaction may have committed all the same), a write the
// ledger shows done counts as done.
func commit(ctx context.Context, w write, resumed bool) (done bool, retries int, err error) {
	first := time.Now()
	if resumed && w.done(ctx) {
		return true, 0, nil
	}
	for tries := 0; ; {
		s := w.submit(ctx)
		if s.Code == "" {
			return false, retries, nil
		}
		if ctx.Err() != nil {
			return false, retries, ctx.Err()
		}
		if (lagging(s) || mismatch(s)) && time.Since(first) < lagLimit {
			time.Sleep(lagPause)
			continue
		}
		if w.done(ctx) {
			return true, retries, nil
		}
		tries++
		retries++
		if tries >= maxTries {
			return false, retries, errors.New(s.Err)
		}
		time.Sleep(time.Duration(tries) * time.Second)
	}
}

// parallel runs fn(0..n-1) on c workers and returns the first error; the
// others stop taking work after it.
func parallel(ctx context.Context, n, c int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range max(1, min(c, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func (r *cityRun) loadState() (cityState, bool, error) {
	st := cityState{Seed: r.plan.Seed, Units: r.plan.Units, Size: r.wave}
	if r.state == "" {
		return st, false, nil
	}
	raw, err := os.ReadFile(r.state)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	var got cityState
	if err := json.Unmarshal(raw, &got); err != nil {
		return st, false, fmt.Errorf("state file %s: %w", r.state, err)
	}
	if got.Seed != st.Seed || got.Units != st.Units || got.Size != st.Size {
		return st, false, fmt.Errorf("state file %s is of another plan (seed %d, %d units in waves of %d), not seed %d, %d units in waves of %d: remove it or run that plan",
			r.state, got.Seed, got.Units, got.Size, st.Seed, st.Units, st.Size)
	}
	return got, true, nil
}

func (r *cityRun) saveState(st cityState) error {
	if r.state == "" {
		return nil
	}
	raw, _ := json.Marshal(st)
	tmp := r.state + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.state)
}

func (r *cityRun) record(name string, tx, done, retries int, wall time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.stages[name]
	if !ok {
		s = &StageStats{Stage: name}
		r.stages[name] = s
		r.order = append(r.order, name)
	}
	s.Tx += tx
	s.Done += done
	s.Retries += retries
	s.Wall += wall.Seconds()
}

// sites gives each organisation the city's sites, unless it has them.
func (r *cityRun) sites(ctx context.Context) error {
	for _, o := range []struct {
		admin, reader Client
		msp           string
		ids           []string
		name          string
	}{
		{r.p.munAdmin, r.p.mun, r.p.munMSP, CityStations, "transfer station"},
		{r.p.recAdmin, r.p.rec, r.p.recMSP, CityPlants, "recycling plant"},
		{r.p.makAdmin, r.p.mak, r.p.makMSP, []string{CityWorkshop}, "print workshop"},
	} {
		raw, s := o.reader.Evaluate(ctx, api.GetSites, o.msp)
		have := map[string]bool{}
		if s.Code == "" {
			if l, err := api.Decode[model.SiteList](api.GetSites, raw); err == nil {
				for _, x := range l.Sites {
					have[x.ID] = true
				}
			}
		}
		for i, id := range o.ids {
			if have[id] {
				continue
			}
			req := model.SiteRequest{ID: id, Name: fmt.Sprintf("%s %d", o.name, i+1)}
			w := write{
				submit: func(ctx context.Context) Sample { return o.admin.Submit(ctx, api.SetSite, cmdutil.MarshalArg(req)) },
				done:   func(context.Context) bool { return false },
			}
			if _, _, err := commit(ctx, w, false); err != nil {
				return fmt.Errorf("site %s of %s: %w", id, o.msp, err)
			}
		}
	}
	return nil
}

// load runs the plan from where the state file says it stopped. Cut
// short, it returns the figures of the part it loaded with the error.
func (r *cityRun) load(ctx context.Context) (CityResult, error) {
	start := time.Now()
	committed := 0
	res, err := r.loadFrom(ctx, start, &committed)
	res.Wall = time.Since(start).Seconds()
	if res.Wall > 0 {
		res.TPS = round1(float64(committed) / res.Wall)
	}
	r.mu.Lock()
	for _, name := range r.order {
		s := *r.stages[name]
		if s.Wall > 0 {
			s.TPS = round1(float64(s.Tx-s.Done) / s.Wall)
		}
		s.Wall = round1(s.Wall)
		res.Stages = append(res.Stages, &s)
	}
	r.mu.Unlock()
	res.Wall = round1(res.Wall)
	if err != nil {
		res.Stopped = err.Error()
	}
	return res, err
}

func (r *cityRun) loadFrom(ctx context.Context, start time.Time, committed *int) (CityResult, error) {
	res := CityResult{Scenario: City, Seed: r.plan.Seed, Units: r.plan.Units, Batches: r.plan.Batches(),
		Transactions: r.plan.Transactions(), Concurrency: r.c,
		Stations: CityStations, Plants: CityPlants, Workshop: CityWorkshop}
	st, resumed, err := r.loadState()
	if err != nil {
		return res, err
	}
	res.Resumed = resumed
	if err := r.sites(ctx); err != nil {
		return res, err
	}
	stages := r.cityStages()
	waves := (r.plan.Units + r.wave - 1) / r.wave
	r.log.printf("city: %d units (%d batches, %d transactions) in %d waves of %d units, concurrency %d, seed %d",
		r.plan.Units, r.plan.Batches(), r.plan.Transactions(), waves, r.wave, r.c, r.plan.Seed)
	if resumed {
		r.log.printf("city: resuming at wave %d, stage %d (%s)", st.Wave+1, st.Stage+1, stages[min(st.Stage, len(stages)-1)].name)
	}
	for w := st.Wave; w < waves; w++ {
		lo, hi := w*r.wave, min((w+1)*r.wave, r.plan.Units)
		units := make([]CityUnit, 0, hi-lo)
		for u := lo; u < hi; u++ {
			units = append(units, r.plan.Unit(u))
		}
		first := 0
		if w == st.Wave {
			first = st.Stage
		}
		for k := first; k < len(stages); k++ {
			sg := stages[k]
			var ws []write
			for _, u := range units {
				ws = append(ws, sg.writes(u)...)
			}
			again := resumed && w == st.Wave && k == st.Stage
			var done, retries atomic.Int64
			t0 := time.Now()
			err := parallel(ctx, len(ws), sg.c, func(ctx context.Context, i int) error {
				d, n, err := commit(ctx, ws[i], again)
				if d {
					done.Add(1)
				}
				retries.Add(int64(n))
				if err != nil {
					return fmt.Errorf("wave %d, %s, write %d: %w", w+1, sg.name, i, err)
				}
				return nil
			})
			wall := time.Since(t0)
			r.record(sg.name, len(ws), int(done.Load()), int(retries.Load()), wall)
			if err != nil {
				return res, err
			}
			*committed += len(ws) - int(done.Load())
			if err := r.saveState(cityState{Seed: r.plan.Seed, Units: r.plan.Units, Size: r.wave, Wave: w, Stage: k + 1}); err != nil {
				return res, err
			}
			r.log.printf("wave %d/%d %-18s %6d tx in %7.1f s (%6.1f tx/s)", w+1, waves, sg.name, len(ws), wall.Seconds(), float64(len(ws))/max(wall.Seconds(), 1e-9))
		}
		if err := r.saveState(cityState{Seed: r.plan.Seed, Units: r.plan.Units, Size: r.wave, Wave: w + 1}); err != nil {
			return res, err
		}
		el := time.Since(start)
		left := time.Duration(float64(el) / float64(w+1-st.Wave) * float64(waves-w-1))
		r.log.printf("city: %d of %d batches; %d transactions in %s (%.1f tx/s); about %s left",
			hi*CityUnitBatches, r.plan.Batches(), *committed, el.Round(time.Second), float64(*committed)/el.Seconds(), left.Round(time.Minute))
	}
	return res, nil
}

// runCity runs the city scenarios in the order given and writes their
// results, one JSON array.
func runCity(ctx context.Context, o *Options) error {
	log := &logWriter{out: o.Log}
	var results []any
	open := func(profile string) (Client, string, func() error, error) {
		cl, msp, closeFn, err := o.Open(profile, "")
		if err != nil {
			return nil, "", nil, fmt.Errorf("profile %s: %w", profile, err)
		}
		return cl, msp, closeFn, nil
	}
	var p cityParties
	if slices.ContainsFunc(o.Scenarios, func(s string) bool { return s != CLI }) {
		for _, x := range []struct {
			profile string
			cl      *Client
			msp     *string
		}{
			{o.Collector, &p.mun, &p.munMSP}, {o.Recycler, &p.rec, &p.recMSP}, {o.Maker, &p.mak, &p.makMSP},
			{o.Collector + "-admin", &p.munAdmin, nil}, {o.Recycler + "-admin", &p.recAdmin, nil}, {o.Maker + "-admin", &p.makAdmin, nil},
		} {
			cl, msp, closeFn, err := open(x.profile)
			if err != nil {
				return err
			}
			defer closeFn()
			*x.cl = cl
			if x.msp != nil {
				*x.msp = msp
			}
		}
	}
	r := &cityRun{p: p, plan: PlanCity(o.Batches, o.Seed), c: o.C, wave: o.Wave, log: log, state: o.State, stages: map[string]*StageStats{}}
	for _, name := range o.Scenarios {
		switch name {
		case Probe:
			if err := r.sites(ctx); err != nil {
				return err
			}
			e := &env{col: p.mun, rec: p.rec, recMSP: p.recMSP, prefix: ProbePrefix, c: o.C,
				collectedAt: "2026-06-01T08:00:00Z", log: o.Log}
			res, err := e.probe(ctx)
			if err != nil {
				return fmt.Errorf("probe: %w", err)
			}
			log.printf("probe: root %s (%d batches), history %s, %d listed (built: %v)", res.Root, res.Nodes, res.History, res.Listed, res.Built)
			results = append(results, res)
		case City:
			res, err := r.load(ctx)
			results = append(results, res)
			if err != nil {
				// What was loaded, for the record, then the error.
				if o.Format == cmdutil.FormatJSON {
					_ = writeJSON(o.Out, results)
				}
				return fmt.Errorf("city: %w", err)
			}
		case CLI:
			mtrace := o.MTrace
			if mtrace == "" {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("cli: find mtrace: %w", err)
				}
				mtrace = filepath.Join(filepath.Dir(self), "mtrace")
			}
			res, err := compareCLI(ctx, &cliRunner{mtrace: mtrace, profile: o.Collector, configs: [2]string{o.Against, o.configFile}}, o.Runs, log)
			if err != nil {
				return fmt.Errorf("cli: %w", err)
			}
			results = append(results, res)
		}
	}
	if o.Format == cmdutil.FormatJSON {
		return writeJSON(o.Out, results)
	}
	for _, res := range results {
		switch x := res.(type) {
		case CityResult:
			fmt.Fprintf(o.Out, "city: %d batches, %d transactions in %.0f s (%.1f tx/s)\n", x.Batches, x.Transactions, x.Wall, x.TPS)
			for _, s := range x.Stages {
				fmt.Fprintf(o.Out, "  %-18s %8d tx %8.1f s %7.1f tx/s  done before %d, retries %d\n", s.Stage, s.Tx, s.Wall, s.TPS, s.Done, s.Retries)
			}
		case CLIResult:
			fmt.Fprintf(o.Out, "%-34s %10s %10s %10s %10s %7s\n", "COMMAND", "EMPTY_MS", "EMPTY_P90", "CITY_MS", "CITY_P90", "RATIO")
			for _, c := range x.Commands {
				fmt.Fprintf(o.Out, "%-34s %10.1f %10.1f %10.1f %10.1f %7.3f\n", c.Command, c.Empty.Median, c.Empty.P90, c.City.Median, c.City.P90, c.Ratio)
			}
		case ProbeResult:
			fmt.Fprintf(o.Out, "probe: root %s, history %s, %d listed\n", x.Root, x.History, x.Listed)
		}
	}
	return nil
}
