package model

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
	BatchID         string   `json:"batchId"`
	OK              bool     `json:"ok"`
	Checks          []Check  `json:"checks"`
	RecycledContent int64    `json:"recycledContentBp"`
	Sources         []Source `json:"sources"`
	Nodes           int      `json:"nodes"`
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
}

// HistoryEntry is one version of a batch, as the ledger's history holds it.
type HistoryEntry struct {
	TxID      string `json:"txId"`
	Timestamp string `json:"timestamp"`
	IsDelete  bool   `json:"isDelete"`
	Batch     *Batch `json:"batch,omitempty" metadata:",optional"`
}

// BatchPage is one page of ListBatches. Bookmark is empty on the last page.
type BatchPage struct {
	Batches  []Batch `json:"batches"`
	Bookmark string  `json:"bookmark"`
}
