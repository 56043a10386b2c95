// Package passport turns a provenance proof into what a product passport
// page shows: the product, its recycled and virgin shares, where and when
// its material was collected, every step and who did it, the documents
// anchored on it, a provenance graph, and the proof's own checks.
//
// Check verifies a proof (package proof) and renders the page's facts
// from the records the proof makes authentic, never from anything else,
// so that what a reader sees after the check is what the proof proves.
// The package has no file, network or operating system dependency: the
// passport page runs it in the browser, compiled to WebAssembly
// (client/cmd/mtrace-wasm), and `mtrace passport` runs the same code when
// it writes the page.
package passport

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Facts are what the page tells about a product, from its verified
// records.
type Facts struct {
	Batch     string
	Material  string
	Form      string
	Mass      string // the batch's initial mass
	MassGrams model.Grams
	Maker     string // the organisation (MSP ID) that made or registered it
	MadeBy    string // the person
	MadeAt    string
	Made      time.Time
	Status    string
	// RecycledBp is the post-consumer recycled share in basis points;
	// the rest is virgin material.
	RecycledBp int64
	Sources    []Source
	Steps      []Step
	Documents  []Document
	Graph      *Graph
}

// Recycled and Virgin are the shares as percentages.
func (f *Facts) Recycled() string { return model.Percent(f.RecycledBp) }

// Virgin is the share not from post-consumer collection.
func (f *Facts) Virgin() string { return model.Percent(10000 - f.RecycledBp) }

// RecycledWidth and VirginWidth size the page's share bar (percent, one
// decimal).
func (f *Facts) RecycledWidth() string { return fmt.Sprintf("%.1f", float64(f.RecycledBp)/100) }

// Source is a collection the product's material descends from.
type Source struct {
	ID, Location, CollectedAt, Collector, Person, WasteCode, Material, Mass string
}

// Step is one thing someone did to the material: a collection, a
// handover, a process, a hold.
type Step struct {
	At     time.Time
	When   string
	What   string
	Where  string
	Org    string
	Person string
	Detail string
	Tx     string
}

// Document is a file anchored on a batch of the graph by its SHA-256.
type Document struct {
	Batch, Name, SHA256, URI, Org, Person, At string
}

// Build gathers the facts about batch id from its records.
func Build(ev *model.Evidence, id string) (*Facts, error) {
	batches, procs, _ := ev.Graph()
	b := batches[id]
	if b == nil {
		return nil, fmt.Errorf("the records do not hold batch %q", id)
	}
	f := &Facts{
		Batch:      b.ID,
		Material:   string(b.Material),
		Form:       string(b.Form),
		Mass:       b.InitialMass.String(),
		MassGrams:  b.InitialMass,
		Made:       at(b.CreatedAt),
		Maker:      b.Submitter.MSP,
		MadeBy:     b.Submitter.Person(),
		MadeAt:     day(b.CreatedAt, ""),
		Status:     string(b.EffectiveStatus()),
		RecycledBp: b.RecycledContent,
	}
	for _, x := range sortedBatches(batches) {
		if c := x.Origin.Collection; c != nil {
			f.Sources = append(f.Sources, Source{
				ID: x.ID, Location: c.Location, CollectedAt: day(c.CollectedAt, c.ZoneOffset),
				Collector: c.Collector, Person: x.Submitter.Person(), WasteCode: x.WasteCode,
				Material: string(x.Material), Mass: x.InitialMass.String(),
			})
			f.Steps = append(f.Steps, Step{
				At: at(c.CollectedAt), When: day(c.CollectedAt, c.ZoneOffset), What: "collected", Where: c.Location,
				Org: c.Collector, Person: x.Submitter.Person(), Tx: x.CreatedTx,
				Detail: fmt.Sprintf("%s: %s of %s waste%s", x.ID, x.InitialMass, x.Material, paren(x.WasteCode)),
			})
		}
		for _, h := range x.Handovers {
			f.Steps = append(f.Steps, Step{
				At: at(h.AcceptedAt), When: day(h.AcceptedAt, ""), What: "handed over",
				Org: h.To, Person: h.AcceptedBy.Person(), Tx: h.AcceptTx,
				Detail: fmt.Sprintf("%s from %s to %s: %s offered, %s received", x.ID, h.From, h.To, h.Offered, h.Received),
			})
		}
		if q := x.Quarantine; q != nil {
			f.Steps = append(f.Steps, Step{
				At: at(q.At), When: day(q.At, ""), What: "quarantined",
				Org: q.By.MSP, Person: q.By.Person(), Tx: q.Tx,
				Detail: fmt.Sprintf("%s held by the %s: %s", x.ID, q.ByRole, q.Reason),
			})
		}
		// An auditor's holds live under keys of their own (contract
		// 0.5.0), not on the batch.
		for _, h := range x.Holds {
			f.Steps = append(f.Steps, Step{
				At: at(h.At), When: day(h.At, ""), What: "quarantined",
				Org: h.By.MSP, Person: h.By.Person(), Tx: h.Tx,
				Detail: fmt.Sprintf("%s held by the auditor: %s", x.ID, h.Reason),
			})
		}
		docs := slices.Clone(x.Documents)
		for _, d := range x.AuditorDocuments {
			docs = append(docs, d.Document)
		}
		for _, d := range docs {
			f.Documents = append(f.Documents, Document{
				Batch: x.ID, Name: d.Name, SHA256: d.SHA256, URI: d.URI,
				Org: d.AnchoredBy.MSP, Person: d.AnchoredBy.Person(), At: day(d.AnchoredAt, ""),
			})
		}
	}
	for _, p := range sortedProcs(procs) {
		var in, out []string
		for _, t := range p.Inputs {
			in = append(in, t.ID+" "+t.Mass.String())
		}
		for _, t := range p.Outputs {
			out = append(out, t.ID+" "+t.Mass.String())
		}
		d := fmt.Sprintf("%s → %s", strings.Join(in, ", "), strings.Join(out, ", "))
		if p.VirginMass > 0 {
			d += fmt.Sprintf("; %s virgin material added", p.VirginMass)
		}
		if p.Loss > 0 {
			d += fmt.Sprintf("; %s lost", p.Loss)
		}
		f.Steps = append(f.Steps, Step{
			At: at(p.At), When: day(p.At, ""), What: string(p.Step), Where: p.Location,
			Org: p.By.MSP, Person: p.By.Person(), Tx: p.Tx, Detail: d,
		})
	}
	slices.SortStableFunc(f.Steps, func(a, b Step) int { return a.At.Compare(b.At) })
	f.Graph = buildGraph(b.ID, batches, procs)
	return f, nil
}

func sortedBatches(m map[string]*model.Batch) []*model.Batch {
	out := make([]*model.Batch, 0, len(m))
	for _, b := range m {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *model.Batch) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func sortedProcs(m map[string]*model.Process) []*model.Process {
	out := make([]*model.Process, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *model.Process) int { return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Tx, b.Tx)) })
	return out
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func at(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// day formats an RFC 3339 time for people: in the zone offset given
// (such as "+03:00"), else in UTC, to the minute.
func day(s, offset string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	if offset != "" {
		if z, err := time.Parse("-07:00", offset); err == nil {
			return t.In(z.Location()).Format("2006-01-02 15:04 -07:00")
		}
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
