package model

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// maxDetail is how many problems a failed check names before summing up.
const maxDetail = 10

// Verify checks the provenance of batch root from its upstream graph:
// batches maps the id of root and of every ancestor to its current
// version, processes maps the transaction id of every process in the
// graph to its record, and takes holds what each parent stored about each
// process of the graph that took from it. It is a pure function of its arguments: it visits
// batches in sorted id order and never consults anything else, so every
// peer and every client reaches the same verdict from the same graph.
//
// documentSHA256, when not empty, must be anchored on root or an
// ancestor.
func Verify(root string, batches map[string]*Batch, processes map[string]*Process, takes map[TakeRef]Take, documentSHA256 string) Verdict {
	v := Verdict{BatchID: root, Checks: []Check{}, Sources: []Source{}, Nodes: len(batches)}
	r := batches[root]
	if r == nil {
		v.Checks = append(v.Checks, Check{Name: CheckCollected, Detail: fmt.Sprintf("batch %q is not in the graph", root)})
		return v
	}
	g := graph{ids: sortedIDs(batches), b: batches, rec: processes, takes: takes}
	g.procs = g.processes()
	v.Checks = append(v.Checks,
		result(CheckCollected, g.collected(), g.collectedSummary()),
		result(CheckMassBalance, g.massBalance(), fmt.Sprintf("%d batches and %d processes balance", len(g.ids), len(g.procs))),
		result(CheckCustody, g.custody(root), "every handover was accepted by its receiver and every process run by the custodian of its inputs"),
		result(CheckNotQuarantined, g.quarantined(), "no batch in the graph is quarantined or under an auditor's hold"),
		result(CheckRecycledContent, g.recycled(), fmt.Sprintf("recorded shares match the recomputed ones; %s of %q is post-consumer", Percent(r.RecycledContent), root)),
	)
	if documentSHA256 != "" {
		where, problems := g.document(documentSHA256)
		v.Checks = append(v.Checks, result(CheckDocument, problems, where))
	}
	v.OK = true
	for _, c := range v.Checks {
		v.OK = v.OK && c.OK
	}
	v.RecycledContent = r.RecycledContent
	for _, id := range g.ids {
		b := g.b[id]
		if b.Origin.Process == nil && b.Origin.Collection != nil {
			c := b.Origin.Collection
			v.Sources = append(v.Sources, Source{ID: id, Location: c.Location, CollectedAt: c.CollectedAt, Collector: c.Collector, WasteCode: b.WasteCode, Mass: b.InitialMass})
		}
	}
	return v
}

func sortedIDs(batches map[string]*Batch) []string {
	ids := make([]string, 0, len(batches))
	for id, b := range batches {
		if b != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// result turns a check's problems into its outcome.
func result(name string, problems []string, okDetail string) Check {
	if len(problems) == 0 {
		return Check{Name: name, OK: true, Detail: okDetail}
	}
	shown := problems
	if len(shown) > maxDetail {
		shown = shown[:maxDetail]
	}
	detail := strings.Join(shown, "; ")
	if len(problems) > maxDetail {
		detail += fmt.Sprintf("; and %d more", len(problems)-maxDetail)
	}
	return Check{Name: name, Detail: detail}
}

// graph is an upstream provenance graph under verification.
type graph struct {
	ids   []string // sorted
	b     map[string]*Batch
	rec   map[string]*Process // process records by transaction id
	takes map[TakeRef]Take
	procs []procEntry
}

// procEntry is one process of the graph: the derivation of its first
// output (by id) in the graph, and its record, nil when missing.
type procEntry struct {
	p   *Derivation
	rec *Process
}

// processes lists the graph's processes, once each, in order of the
// first output id that carries them.
func (g graph) processes() []procEntry {
	var out []procEntry
	seen := map[string]bool{}
	for _, id := range g.ids {
		p := g.b[id].Origin.Process
		if p != nil && !seen[p.Tx] {
			seen[p.Tx] = true
			out = append(out, procEntry{p: p, rec: g.rec[p.Tx]})
		}
	}
	return out
}

// child finds what parent stored about process tx taking from it.
func (g graph) child(parent *Batch, tx string) (Take, bool) {
	c, ok := g.takes[TakeRef{Parent: parent.ID, Tx: tx}]
	return c, ok
}

func (g graph) collected() []string {
	var problems []string
	for _, id := range g.ids {
		b := g.b[id]
		o := b.Origin
		switch {
		case o.Process != nil && o.Collection != nil:
			problems = append(problems, fmt.Sprintf("batch %q claims both a collection and a process origin", id))
		case o.Process != nil:
			for _, in := range o.Process.Inputs {
				if g.b[in.ID] == nil {
					problems = append(problems, fmt.Sprintf("input %q of batch %q is missing", in.ID, id))
				}
			}
			if len(o.Process.Inputs) == 0 {
				problems = append(problems, fmt.Sprintf("batch %q comes from a process without inputs", id))
			}
		case o.Collection == nil:
			problems = append(problems, fmt.Sprintf("batch %q has neither a collection nor a process origin", id))
		case o.Collection.Collector == "":
			problems = append(problems, fmt.Sprintf("collection batch %q names no collector", id))
		case b.Form != FormWaste:
			problems = append(problems, fmt.Sprintf("collection batch %q has form %s, not waste", id, b.Form))
		case b.Submitter.MSP != o.Collection.Collector:
			problems = append(problems, fmt.Sprintf("collection batch %q names collector %s but was registered by %s", id, o.Collection.Collector, b.Submitter.MSP))
		}
	}
	return problems
}

func (g graph) collectedSummary() string {
	n := 0
	for _, id := range g.ids {
		if g.b[id].Origin.Process == nil {
			n++
		}
	}
	return fmt.Sprintf("every path ends at one of %d collector registrations", n)
}

func (g graph) massBalance() []string {
	var problems []string
	for _, id := range g.ids {
		b := g.b[id]
		if left := b.InitialMass - b.TransitLoss - b.TakenMass; left != b.RemainingMass || b.RemainingMass < 0 || b.TakenMass < 0 {
			problems = append(problems, fmt.Sprintf("batch %q: initial %s - transit loss %s - taken %s = %s, but %s remain",
				id, b.InitialMass, b.TransitLoss, b.TakenMass, left, b.RemainingMass))
		}
		var lost Grams
		for i, h := range b.Handovers {
			if h.Received > h.Offered || h.Received < 0 {
				problems = append(problems, fmt.Sprintf("batch %q handover %d: received %s of %s offered", id, i+1, h.Received, h.Offered))
			}
			lost += h.Offered - h.Received
		}
		if lost != b.TransitLoss {
			problems = append(problems, fmt.Sprintf("batch %q: handovers lost %s but transit loss is %s", id, lost, b.TransitLoss))
		}
		if d := b.Origin.Process; d != nil {
			problems = append(problems, g.madeBy(b, d)...)
		}
	}
	for _, e := range g.procs {
		p := e.rec
		if p == nil {
			continue // reported per output by madeBy
		}
		in, out := Total(p.Inputs), Total(p.Outputs)
		if in+p.VirginMass != out+p.Loss || p.Loss < 0 {
			problems = append(problems, fmt.Sprintf("process %s (%s): inputs %s + virgin %s != outputs %s + loss %s",
				p.Tx, p.Step, in, p.VirginMass, out, p.Loss))
		}
		for _, t := range p.Inputs {
			parent := g.b[t.ID]
			if parent == nil {
				continue // reported by collection-origin
			}
			c, ok := g.child(parent, p.Tx)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("batch %q does not record process %s that took %s from it", t.ID, p.Tx, t.Mass))
			case c.Mass != t.Mass:
				problems = append(problems, fmt.Sprintf("process %s took %s from batch %q, which records %s", p.Tx, t.Mass, t.ID, c.Mass))
			case !p.made(c.ID):
				problems = append(problems, fmt.Sprintf("batch %q records process %s made %q, which is not one of its outputs", t.ID, p.Tx, c.ID))
			}
		}
	}
	return problems
}

// madeBy checks a derived batch against the record of the process that
// made it: the record exists, lists the batch with its initial mass, and
// agrees with the derivation the batch stores.
func (g graph) madeBy(b *Batch, d *Derivation) []string {
	p := g.rec[d.Tx]
	if p == nil {
		return []string{fmt.Sprintf("batch %q: the record of its process %s is missing", b.ID, d.Tx)}
	}
	var problems []string
	out, ok := p.Output(b.ID)
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("batch %q is not an output of its own process %s", b.ID, d.Tx))
	case out.Mass != b.InitialMass:
		problems = append(problems, fmt.Sprintf("batch %q: initial %s but its process %s made %s", b.ID, b.InitialMass, d.Tx, out.Mass))
	}
	if !reflect.DeepEqual(*d, p.Derivation) {
		problems = append(problems, fmt.Sprintf("batch %q: its origin differs from the record of process %s", b.ID, d.Tx))
	}
	return problems
}

func (g graph) custody(root string) []string {
	var problems []string
	for _, id := range g.ids {
		b := g.b[id]
		for i, h := range b.Handovers {
			if h.AcceptedBy.MSP != h.To {
				problems = append(problems, fmt.Sprintf("batch %q handover %d to %s was accepted by %s", id, i+1, h.To, h.AcceptedBy.MSP))
			}
			if from := b.Custodian(i); h.From != from {
				problems = append(problems, fmt.Sprintf("batch %q handover %d is from %s, but %s held it", id, i+1, h.From, from))
			}
		}
		if p := b.Origin.Process; p != nil && b.Submitter.MSP != p.By.MSP {
			problems = append(problems, fmt.Sprintf("batch %q was made by %s but registered by %s", id, p.By.MSP, b.Submitter.MSP))
		}
		if id == root && b.Owner != b.Custodian(len(b.Handovers)) {
			problems = append(problems, fmt.Sprintf("batch %q is owned by %s, but its handovers end with %s", id, b.Owner, b.Custodian(len(b.Handovers))))
		}
	}
	for _, e := range g.procs {
		for _, t := range e.p.Inputs {
			parent := g.b[t.ID]
			if parent == nil {
				continue
			}
			c, ok := g.child(parent, e.p.Tx)
			if !ok {
				continue // reported by mass-balance
			}
			if holder := parent.Custodian(c.Handovers); holder == "" {
				problems = append(problems, fmt.Sprintf("batch %q records process %s after %d handovers, but it has had %d", t.ID, e.p.Tx, c.Handovers, len(parent.Handovers)))
			} else if holder != e.p.By.MSP {
				problems = append(problems, fmt.Sprintf("process %s was run by %s on batch %q, held by %s at the time", e.p.Tx, e.p.By.MSP, t.ID, holder))
			}
		}
	}
	return problems
}

func (g graph) quarantined() []string {
	var held []string
	for _, id := range g.ids {
		b := g.b[id]
		if b.Status == StatusQuarantined {
			reason := ""
			if b.Quarantine != nil {
				reason = fmt.Sprintf(" (by %s: %s)", b.Quarantine.By.MSP, b.Quarantine.Reason)
			}
			held = append(held, fmt.Sprintf("batch %q is quarantined%s", id, reason))
		}
		for _, h := range b.Holds {
			held = append(held, fmt.Sprintf("batch %q is held by auditor %s since %s (tx %s): %s", id, h.By.MSP, h.At, ShortTx(h.Tx), h.Reason))
		}
	}
	return held
}

func (g graph) recycled() []string {
	var problems []string
	for _, id := range g.ids {
		b := g.b[id]
		p := b.Origin.Process
		if p == nil {
			if b.RecycledContent != FullRecycled {
				problems = append(problems, fmt.Sprintf("collection batch %q records %s, not 100%%", id, Percent(b.RecycledContent)))
			}
			continue
		}
		shares := make([]Share, 0, len(p.Inputs))
		complete := true
		for _, t := range p.Inputs {
			parent := g.b[t.ID]
			if parent == nil {
				complete = false // reported by collection-origin
				break
			}
			shares = append(shares, Share{Mass: t.Mass, RecycledContent: parent.RecycledContent})
		}
		if want := RecycledContent(shares, p.VirginMass); complete && want != b.RecycledContent {
			problems = append(problems, fmt.Sprintf("batch %q records %s but its inputs give %s", id, Percent(b.RecycledContent), Percent(want)))
		}
		if rec := g.rec[p.Tx]; rec != nil && rec.RecycledContent != b.RecycledContent {
			problems = append(problems, fmt.Sprintf("batch %q records %s but the record of process %s says %s", id, Percent(b.RecycledContent), p.Tx, Percent(rec.RecycledContent)))
		}
	}
	return problems
}

// document says where sha is anchored, or why not.
func (g graph) document(sha string) (string, []string) {
	for _, id := range g.ids {
		for _, d := range g.b[id].Documents {
			if d.SHA256 == sha {
				return fmt.Sprintf("anchored on batch %q as %q by %s", id, d.Name, d.AnchoredBy.MSP), nil
			}
		}
		for _, d := range g.b[id].AuditorDocuments {
			if d.SHA256 == sha {
				return fmt.Sprintf("anchored on batch %q as %q by auditor %s", id, d.Name, d.AnchoredBy.MSP), nil
			}
		}
	}
	return "", []string{fmt.Sprintf("document %s is not anchored on the batch or any ancestor", sha)}
}
