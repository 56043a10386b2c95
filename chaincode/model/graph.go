package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Direction of a provenance trace.
const (
	Upstream   = "up"   // towards the collection batches
	Downstream = "down" // towards every descendant: what a recall must reach
)

// Trace is a provenance graph: batches as nodes, and an edge from each
// parent to each child with the mass taken. Nodes are sorted by depth,
// then id; edges by parent id, then child id.
type Trace struct {
	Root      string      `json:"root"`
	Direction string      `json:"direction"`
	Nodes     []TraceNode `json:"nodes"`
	Edges     []TraceEdge `json:"edges"`
}

// TraceNode is one batch in a trace, with its distance from the root.
type TraceNode struct {
	ID              string      `json:"id"`
	Depth           int         `json:"depth"`
	Material        Material    `json:"material"`
	Form            Form        `json:"form"`
	Owner           string      `json:"owner"`
	Status          Status      `json:"status"`
	InitialMass     Grams       `json:"initialMass"`
	RemainingMass   Grams       `json:"remainingMass"`
	RecycledContent int64       `json:"recycledContentBp"`
	Collection      *Collection `json:"collection,omitempty" metadata:",optional"`
	Step            Step        `json:"step,omitempty" metadata:",optional"`
	Documents       []Document  `json:"documents,omitempty" metadata:",optional"`
	// Takes is how many processes took from the batch: a downstream walk
	// need not ask for the children of a batch with none.
	Takes int `json:"takes,omitempty" metadata:",optional"`
}

// TraceEdge is mass flowing from a parent batch into a child batch.
type TraceEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Mass Grams  `json:"mass"`
	Step Step   `json:"step"`
	Tx   string `json:"tx"`
}

// Verdict is the answer of VerifyProvenance: a named list of checks, the
// recycled content and the collection sources behind a batch.
type Verdict struct {
	BatchID         string  `json:"batchId"`
	OK              bool    `json:"ok"`
	Checks          []Check `json:"checks"`
	RecycledContent int64   `json:"recycledContentBp"`
	// Shares are the batch's post- and pre-consumer shares.
	Shares  *Shares  `json:"shares,omitempty" metadata:",optional"`
	Sources []Source `json:"sources"`
	Nodes   int      `json:"nodes"`
	// Declared are the declarations the graph's handovers name, and
	// Declarations what the ledger holds of them (the client reads them).
	Declared     []DeclRef     `json:"declared,omitempty" metadata:",optional"`
	Declarations []Declaration `json:"declarations,omitempty" metadata:",optional"`
}

// Check is one named verification with its outcome. Detail says what was
// found, and for a failed check, where.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Names of the provenance checks, in the order they are reported.
const (
	CheckCollected       = "collection-origin" // every upstream path ends at a collector's registration
	CheckMassBalance     = "mass-balance"      // every transformation and handover balances
	CheckCustody         = "custody"           // every handover was accepted by its receiver, every process by the custodian
	CheckNotQuarantined  = "not-quarantined"   // no batch on the path is quarantined
	CheckRecycledContent = "recycled-content"  // recorded share equals the recomputed share
	CheckDocument        = "document-anchored" // the given SHA-256 is anchored on the batch or an ancestor
	CheckSignatures      = "signatures"        // every claim matches the signed transaction that made it (client side)
	CheckDeclared        = "declarations"      // every declaration on the path agrees with its handover (client side)
)

// Add appends a check made outside the chaincode, such as the client's
// signatures check, and updates OK.
func (v *Verdict) Add(c Check) {
	v.Checks = append(v.Checks, c)
	v.OK = v.OK && c.OK
}

// Source is a collection batch that a verified batch descends from.
type Source struct {
	ID          string `json:"id"`
	Location    string `json:"location"`
	CollectedAt string `json:"collectedAt"`
	Collector   string `json:"collector"`
	WasteCode   string `json:"wasteCode"`
	Mass        Grams  `json:"mass"` // the batch's initial mass
	// Kind is "collection" for a collector's registration, "purchase" for
	// material a recycler bought in from outside the consortium and
	// registered on its own signed word; Collector is then the purchaser
	// and CollectedAt the receipt time.
	Kind        string      `json:"kind,omitempty" metadata:",optional"`
	OriginClass OriginClass `json:"originClass,omitempty" metadata:",optional"`
	Site        string      `json:"site,omitempty" metadata:",optional"`
	Supplier    string      `json:"supplier,omitempty" metadata:",optional"`
	SupplierID  string      `json:"supplierId,omitempty" metadata:",optional"`
	Ticket      string      `json:"ticketSha256,omitempty" metadata:",optional"`
}

// Source kinds.
const (
	SourceCollection = "collection"
	SourcePurchase   = "purchase"
)

// HistoryEntry is one version of a batch, as the ledger's history holds it.
type HistoryEntry struct {
	TxID      string `json:"txId"`
	Timestamp string `json:"timestamp"`
	IsDelete  bool   `json:"isDelete"`
	Batch     *Batch `json:"batch,omitempty" metadata:",optional"`
	// Oversight is an auditor's act on the batch stored under keys of its
	// own (contract 0.5.0): a hold placed or released, a document
	// anchored. Batch is nil on such an entry.
	Oversight *Oversight `json:"oversight,omitempty" metadata:",optional"`
}

// Oversight kinds of a history entry.
const (
	OversightHold     = "hold"
	OversightRelease  = "release"
	OversightDocument = "document"
)

// Oversight is one auditor's act in a batch's history.
type Oversight struct {
	Kind     string           `json:"kind"`
	Hold     *Hold            `json:"hold,omitempty" metadata:",optional"`
	Document *AuditorDocument `json:"document,omitempty" metadata:",optional"`
}

// Event is the EPCIS event of the act.
func (o *Oversight) Event() Event {
	switch {
	case o.Kind == OversightRelease && o.Hold != nil && o.Hold.Released != nil:
		return o.Hold.Released.Event
	case o.Hold != nil:
		return o.Hold.Event
	case o.Document != nil:
		return o.Document.Event
	}
	return Event{}
}

// BatchPage is one page of ListBatches. Bookmark is empty on the last page.
type BatchPage struct {
	Batches  []Batch `json:"batches"`
	Bookmark string  `json:"bookmark"`
}

// Limits of a downstream trace page.
const (
	MaxDownIDs       = 1000 // batches one page may expand
	MaxDownLimit     = 5000 // edges one page may hold
	DefaultDownLimit = 1000
)

// DownQuery asks for one page of a downstream trace: the processes that
// took from the batches IDs, each with an edge to every output, starting
// where Bookmark (from the previous page of the same IDs) says. Limit
// bounds the edges of the page (default DefaultDownLimit); a page always
// holds at least one process, so one process with more outputs than Limit
// still gets through.
//
// A client walks a graph of any size level by level: it sends the batches
// of a level, in chunks of at most MaxDownIDs, follows each chunk's pages
// until the bookmark is empty, and makes the outputs it has not yet seen,
// and that were taken from (TraceNode.Takes), the next level.
type DownQuery struct {
	IDs      []string `json:"ids"`
	Limit    int      `json:"limit,omitempty" metadata:",optional"`
	Bookmark string   `json:"bookmark,omitempty" metadata:",optional"`
}

// Validate checks the ids and the limit.
func (q DownQuery) Validate() error {
	if len(q.IDs) == 0 || len(q.IDs) > MaxDownIDs {
		return &RuleError{Field: "ids", Rule: fmt.Sprintf("must list 1 to %d batches, got %d", MaxDownIDs, len(q.IDs))}
	}
	for i, id := range q.IDs {
		if err := CheckID(fmt.Sprintf("ids[%d]", i), id); err != nil {
			return err
		}
	}
	if q.Limit < 0 || q.Limit > MaxDownLimit {
		return &RuleError{Field: "limit", Rule: fmt.Sprintf("must be from 1 to %d, got %d", MaxDownLimit, q.Limit)}
	}
	return CheckText("bookmark", q.Bookmark, false)
}

// TracePage is one page of a downstream trace: edges from the queried
// batches to the outputs of the processes that took from them, and those
// outputs as nodes (Depth is left 0: the client knows the level). Bookmark
// is empty when every queried batch has been expanded.
type TracePage struct {
	Nodes    []TraceNode `json:"nodes"`
	Edges    []TraceEdge `json:"edges"`
	Bookmark string      `json:"bookmark"`
}

// IDPage is one page of batch ids. Bookmark is empty on the last page.
type IDPage struct {
	IDs      []string `json:"ids"`
	Bookmark string   `json:"bookmark"`
}

// SortTrace puts a trace in its order: nodes by depth then id, edges by
// from, to, tx.
func SortTrace(t *Trace) {
	slices.SortFunc(t.Nodes, func(a, b TraceNode) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(t.Edges, func(a, b TraceEdge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Tx, b.Tx))
	})
}

// NodeOf is batch b as a trace shows it, at depth d.
func NodeOf(b *Batch, d int) TraceNode {
	n := TraceNode{
		ID: b.ID, Depth: d,
		Material: b.Material, Form: b.Form, Owner: b.Owner, Status: b.EffectiveStatus(),
		InitialMass: b.InitialMass, RemainingMass: b.RemainingMass, RecycledContent: b.RecycledContent,
		Collection: b.Origin.Collection, Documents: b.Documents, Takes: b.Takes,
	}
	if b.Origin.Process != nil {
		n.Step = b.Origin.Process.Step
	}
	return n
}

// MissingTakes checks a downstream trace against the take counts its
// batches keep: every process that took from a batch adds one to the
// batch's Takes and leaves edges from it, so a batch with fewer distinct
// processes on its edges than Takes lost takes, and a recall from it may
// miss what they made. A take has no key-level policy of its own (it is
// written once, by the process), so this is what shows one deleted by
// organisations that endorsed together. It lists one problem per such
// batch, in node order.
func MissingTakes(t *Trace) []string {
	seen := make(map[[2]string]bool, len(t.Edges))
	procs := map[string]int{} // distinct processes on the edges from a batch
	for _, e := range t.Edges {
		if k := [2]string{e.From, e.Tx}; !seen[k] {
			seen[k] = true
			procs[e.From]++
		}
	}
	var problems []string
	for _, n := range t.Nodes {
		if got := procs[n.ID]; got < n.Takes {
			problems = append(problems, fmt.Sprintf("batch %q records %d takes but the ledger holds %d: what the others made is not in this recall", n.ID, n.Takes, got))
		}
	}
	return problems
}
