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
		result(CheckRecycledContent, g.recycled(), fmt.Sprintf("recorded shares match the recomputed ones; %q is %s", root, SharesOf(r))),
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
	v.Declared = DeclarationRefs(batches)
	sh := SharesOf(r)
	v.Shares = &sh
	for _, id := range g.ids {
		b := g.b[id]
		if b.Origin.Process != nil {
			continue
		}
		class, _ := b.Origin.RegisteredClass()
		switch {
		case b.Origin.Collection != nil:
			c := b.Origin.Collection
			v.Sources = append(v.Sources, Source{ID: id, Kind: SourceCollection, Location: c.Location, CollectedAt: c.CollectedAt, Collector: c.Collector,
				WasteCode: b.WasteCode, Mass: b.InitialMass, OriginClass: class, Site: c.Site})
		case b.Origin.Purchase != nil:
			p := b.Origin.Purchase
			v.Sources = append(v.Sources, Source{ID: id, Kind: SourcePurchase, CollectedAt: p.ReceivedAt, Collector: p.Purchaser,
				WasteCode: b.WasteCode, Mass: b.InitialMass, OriginClass: class, Site: p.Site, Supplier: p.Supplier, SupplierID: p.SupplierID, Ticket: p.TicketSHA256})
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
		case o.Purchase != nil && (o.Process != nil || o.Collection != nil):
			problems = append(problems, fmt.Sprintf("batch %q claims more than one origin", id))
		case o.Process != nil:
			for _, in := range o.Process.Inputs {
				if g.b[in.ID] == nil {
					problems = append(problems, fmt.Sprintf("input %q of batch %q is missing", in.ID, id))
				}
			}
			if len(o.Process.Inputs) == 0 {
				problems = append(problems, fmt.Sprintf("batch %q comes from a process without inputs", id))
			}
		case o.Purchase != nil:
			problems = append(problems, g.purchased(b)...)
		case o.Collection == nil:
			problems = append(problems, fmt.Sprintf("batch %q has neither a collection, a purchase nor a process origin", id))
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
	return fmt.Sprintf("every path ends at one of %d registrations (collections, or purchases the recycler signed for)", n)
}

// purchased lists the problems of a bought-in batch's origin.
func (g graph) purchased(b *Batch) []string {
	p := b.Origin.Purchase
	var problems []string
	switch {
	case p.Purchaser == "" || p.Supplier == "":
		problems = append(problems, fmt.Sprintf("bought-in batch %q names no purchaser or supplier", b.ID))
	case b.Submitter.MSP != p.Purchaser:
		problems = append(problems, fmt.Sprintf("bought-in batch %q names purchaser %s but was registered by %s", b.ID, p.Purchaser, b.Submitter.MSP))
	case b.Form != FormWaste:
		problems = append(problems, fmt.Sprintf("bought-in batch %q has form %s, not waste", b.ID, b.Form))
	case checkOriginClass("originClass", p.OriginClass) != nil:
		problems = append(problems, fmt.Sprintf("bought-in batch %q has origin class %q", b.ID, p.OriginClass))
	case !slices.ContainsFunc(b.Documents, func(d Document) bool { return d.SHA256 == p.TicketSHA256 }):
		problems = append(problems, fmt.Sprintf("bought-in batch %q does not anchor its weighbridge ticket %s", b.ID, p.TicketSHA256))
	}
	return problems
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
		got := SharesOf(b)
		if err := got.Validate("shares"); err != nil {
			problems = append(problems, fmt.Sprintf("batch %q records impossible shares: %v", id, err))
			continue
		}
		if b.Shares != nil && b.RecycledContent != got.Bp() {
			problems = append(problems, fmt.Sprintf("batch %q records %s recycled content but a post-consumer share of %s", id, Percent(b.RecycledContent), PPM(got.PostConsumer)))
		}
		if p == nil {
			class, ok := b.Origin.RegisteredClass()
			switch {
			case ok && b.Shares == nil && b.RecycledContent != FullRecycled:
				problems = append(problems, fmt.Sprintf("collection batch %q records %s, not 100%%", id, Percent(b.RecycledContent)))
			case ok && got != ClassShares(class):
				problems = append(problems, fmt.Sprintf("%s batch %q records %s, not all %s", class, id, got, class))
			}
			continue
		}
		problems = append(problems, g.blended(b, p)...)
	}
	return problems
}

// blended checks a derived batch's shares against its inputs. A process
// of contract 0.6.0 on records both shares in parts per million; an
// earlier one recorded the post-consumer share in basis points, which is
// checked as it was computed then.
func (g graph) blended(b *Batch, p *Derivation) []string {
	var problems []string
	rec := g.rec[p.Tx]
	// Without the record (reported by mass-balance) either rule may hold.
	legacy := rec != nil && rec.Shares == nil || rec == nil && b.Shares == nil
	portions := make([]Portion, 0, len(p.Inputs))
	bps := make([]Share, 0, len(p.Inputs))
	for _, t := range p.Inputs {
		parent := g.b[t.ID]
		if parent == nil {
			return nil // reported by collection-origin
		}
		portions = append(portions, Portion{Mass: t.Mass, Shares: SharesOf(parent)})
		bps = append(bps, Share{Mass: t.Mass, RecycledContent: parent.RecycledContent})
	}
	got := SharesOf(b)
	if rec == nil && b.Shares != nil {
		want := RecycledContent(bps, p.VirginMass)
		legacy = want == b.RecycledContent && got == Shares{PostConsumer: want * 100}
	}
	if legacy {
		if want := RecycledContent(bps, p.VirginMass); want != b.RecycledContent || got != (Shares{PostConsumer: want * 100}) {
			problems = append(problems, fmt.Sprintf("batch %q records %s but its inputs give %s", b.ID, Percent(b.RecycledContent), Percent(want)))
		}
	} else if want := Blend(portions, p.VirginMass); want != got {
		problems = append(problems, fmt.Sprintf("batch %q records %s but its inputs give %s", b.ID, got, want))
	}
	if rec != nil {
		if rec.RecycledContent != b.RecycledContent {
			problems = append(problems, fmt.Sprintf("batch %q records %s but the record of process %s says %s", b.ID, Percent(b.RecycledContent), p.Tx, Percent(rec.RecycledContent)))
		}
		if rec.Shares != nil && *rec.Shares != got {
			problems = append(problems, fmt.Sprintf("batch %q records %s but the record of process %s says %s", b.ID, got, p.Tx, *rec.Shares))
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
