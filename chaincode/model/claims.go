package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// A record on the ledger makes claims about who did what: a batch says
// which collector registered it, who offered and accepted each handover,
// which organisation processed it, who holds it in quarantine. Each claim
// names the transaction that made it. The signatures check (VerifyClaims)
// holds every claim against that transaction as the channel's blocks show
// it: the transaction must be valid, its creator (whose signature no other
// organisation can forge) must be the claimed actor, the organisations the
// rules require must be among its endorsers, and what it wrote to the key
// must say what the record says now. A record forged by organisations that
// endorsed it together, in the name of one that did not, fails here even
// though it passed validation.

// SignedTx is what a committed transaction shows about its makers, read
// from a block and checked against the channel's MSPs by the client.
type SignedTx struct {
	ID    string `json:"id"`
	Valid bool   `json:"valid"`
	// Code is the peer's validation code, such as VALID or
	// ENDORSEMENT_POLICY_FAILURE.
	Code    string `json:"code"`
	Creator Actor  `json:"creator"`
	// Endorsers are the distinct organisations whose peers' endorsements
	// carry valid signatures by certificates of those organisations, sorted.
	Endorsers []string `json:"endorsers"`
	// Batches and Processes are the values the transaction wrote to batch
	// and process record keys, by batch id and by process transaction id;
	// Takes the values it wrote to take keys of its own (the key names the
	// transaction), by parent batch id.
	Batches   map[string]json.RawMessage `json:"batches,omitempty"`
	Processes map[string]json.RawMessage `json:"processes,omitempty"`
	Takes     map[string]json.RawMessage `json:"takes,omitempty"`
	// Holds and Documents are the values it wrote to auditors' hold and
	// document keys of its own (the key names the transaction), by batch
	// id (contract 0.5.0).
	Holds     map[string]json.RawMessage `json:"holds,omitempty"`
	Documents map[string]json.RawMessage `json:"documents,omitempty"`
	// Problems lists signatures or certificates that did not verify.
	Problems []string `json:"problems,omitempty"`
}

// Claim is one statement of a record about who did something, in which
// transaction.
type Claim struct {
	Subject string // `batch "X"` or `process record T`
	What    string // collector, submitter, offerer, receiver, processor, ...
	Tx      string
	// Actor is who the record says created the transaction; an empty
	// Identity checks the organisation only.
	Actor Actor
	// Endorsers are the organisations the rules require to have endorsed.
	Endorsers []string
	// Wrote checks what the transaction wrote; it returns "" when it
	// agrees with the record.
	Wrote func(*SignedTx) string
}

// BatchClaims lists the claims of a batch's current version. createdTx is
// the transaction that created it (b.CreatedTx, or the first history
// entry's for batches written before createdTx existed).
func BatchClaims(b *Batch, createdTx string) []Claim {
	subject := fmt.Sprintf("batch %q", b.ID)
	var cs []Claim
	switch {
	case b.Origin.Collection != nil:
		c := b.Origin.Collection
		cs = append(cs, Claim{Subject: subject, What: "collector", Tx: createdTx,
			Actor: Actor{MSP: c.Collector, Identity: b.Submitter.Identity, EnrollmentID: b.Submitter.EnrollmentID, Role: b.Submitter.Role}, Endorsers: []string{c.Collector},
			Wrote: createdAs(b)})
	case b.Origin.Purchase != nil:
		p := b.Origin.Purchase
		cs = append(cs, Claim{Subject: subject, What: "purchaser (its own claim of a supplier outside the consortium)", Tx: createdTx,
			Actor: Actor{MSP: p.Purchaser, Identity: b.Submitter.Identity, EnrollmentID: b.Submitter.EnrollmentID, Role: b.Submitter.Role}, Endorsers: []string{p.Purchaser},
			Wrote: createdAs(b)})
	case b.Origin.Process != nil:
		d := b.Origin.Process
		cs = append(cs, Claim{Subject: subject, What: "processor", Tx: d.Tx,
			Actor: d.By, Endorsers: []string{d.By.MSP}, Wrote: createdAs(b)})
	}
	for i, h := range b.Handovers {
		cs = append(cs,
			Claim{Subject: subject, What: "offerer", Tx: h.OfferTx,
				Actor: Actor{MSP: h.From}, Endorsers: []string{h.From},
				Wrote: batchWrote(b.ID, func(w *Batch) bool {
					return w.Pending != nil && w.Pending.OfferTx == h.OfferTx && w.Pending.To == h.To
				}, "an offer to "+h.To)},
			Claim{Subject: subject, What: "receiver", Tx: h.AcceptTx,
				Actor: h.AcceptedBy, Endorsers: []string{h.From, h.To},
				Wrote: batchWrote(b.ID, func(w *Batch) bool {
					return len(w.Handovers) > i && reflect.DeepEqual(w.Handovers[i], h) && w.Owner == h.To
				}, "the handover to "+h.To)})
	}
	if q := b.Quarantine; q != nil {
		cs = append(cs, Claim{Subject: subject, What: "quarantine by", Tx: q.Tx, Actor: q.By,
			Endorsers: []string{q.By.MSP},
			Wrote: batchWrote(b.ID, func(w *Batch) bool {
				return w.Quarantine != nil && reflect.DeepEqual(*w.Quarantine, *q)
			}, "this quarantine")})
	}
	for _, d := range b.Documents {
		cs = append(cs, Claim{Subject: subject, What: "document anchored by", Tx: d.Tx, Actor: d.AnchoredBy,
			Endorsers: []string{d.AnchoredBy.MSP},
			Wrote: batchWrote(b.ID, func(w *Batch) bool {
				return slices.ContainsFunc(w.Documents, func(x Document) bool { return reflect.DeepEqual(x, d) })
			}, "document "+d.SHA256)})
	}
	for _, h := range b.Holds {
		cs = append(cs, Claim{Subject: subject, What: "auditor's hold by", Tx: h.Tx, Actor: h.By,
			Endorsers: []string{h.By.MSP}, Wrote: holdWrote(b.ID, h)})
	}
	for _, d := range b.AuditorDocuments {
		cs = append(cs, Claim{Subject: subject, What: "document anchored by auditor", Tx: d.Tx, Actor: d.AnchoredBy,
			Endorsers: []string{d.AnchoredBy.MSP},
			Wrote: func(tx *SignedTx) string {
				raw, ok := tx.Documents[b.ID]
				if !ok {
					return "did not write the document"
				}
				var w AuditorDocument
				if err := json.Unmarshal(raw, &w); err != nil || !reflect.DeepEqual(w, d) {
					return "wrote a different document"
				}
				return ""
			}})
	}
	// The writer's organisation endorsed its own write, except for a
	// migration (MigrateBatches): an admin of any member rewrites batches
	// it does not own, and the rules require the owner's endorsement.
	writers := []string{b.UpdatedBy.MSP}
	if b.Event.Name == EvBatchesMigrated {
		writers = []string{b.Owner}
	}
	cs = append(cs, Claim{Subject: subject, What: "last writer", Tx: b.LastTx, Actor: b.UpdatedBy,
		Endorsers: writers,
		Wrote:     batchWrote(b.ID, func(w *Batch) bool { return reflect.DeepEqual(*w, b.Stored()) }, "this version")})
	return cs
}

// holdWrote checks that a transaction placed an auditor's hold as the
// record reads now: it wrote the hold key of its own with that hold, or,
// for a hold placed before contract 0.5.0 and moved to its key by
// MigrateBatches, it wrote the batch with the same hold as its
// quarantine.
func holdWrote(id string, h Hold) func(*SignedTx) string {
	return func(tx *SignedTx) string {
		if raw, ok := tx.Holds[id]; ok {
			var w Hold
			if err := json.Unmarshal(raw, &w); err != nil || !reflect.DeepEqual(w, h) {
				return "wrote a different hold"
			}
			return ""
		}
		return batchWrote(id, func(w *Batch) bool {
			q := w.Quarantine
			return q != nil && q.ByRole == HeldByAuditor && q.By == h.By && q.Reason == h.Reason && q.At == h.At && q.Tx == h.Tx
		}, "this hold")(tx)
	}
}

// ProcessClaims lists the claims of a process record: its processor, and
// that its transaction wrote the record as it reads now.
func ProcessClaims(p *Process) []Claim {
	return []Claim{{
		Subject: "process record " + p.Tx, What: "processor", Tx: p.Tx, Actor: p.By, Endorsers: []string{p.By.MSP},
		Wrote: func(tx *SignedTx) string {
			raw, ok := tx.Processes[p.Tx]
			if !ok {
				return "did not write the record"
			}
			var w Process
			if err := json.Unmarshal(raw, &w); err != nil || !reflect.DeepEqual(w, *p) {
				return "wrote a different record"
			}
			return ""
		},
	}}
}

// TakeClaims lists the claims of a take: what process p took from batch
// parent. A take key has no key-level policy of its own
// (docs/explanation/trust-model.md), so its value is only as good as the
// transaction that wrote it: it must be p's own transaction, created by
// p's processor, and have written the take as it reads now.
func TakeClaims(parent string, t Take, p *Process) []Claim {
	return []Claim{{
		Subject: fmt.Sprintf("take of batch %q by process %s", parent, ShortTx(t.Tx)), What: "processor", Tx: t.Tx,
		Actor: p.By, Endorsers: []string{p.By.MSP},
		Wrote: func(tx *SignedTx) string {
			raw, ok := tx.Takes[parent]
			if !ok {
				return legacyTake(tx, parent, t)
			}
			var w Take
			if err := json.Unmarshal(raw, &w); err != nil || w != t {
				return "wrote a different take"
			}
			return ""
		},
	}}
}

// legacyTake checks a take that MigrateBatches wrote for a process of a
// contract before 0.3.0, which kept its takes in the parent's `children`
// list: the process's transaction must have written the parent with that
// entry, and the take must say what the entry said (the time, which the
// entry did not hold, comes from the process record).
func legacyTake(tx *SignedTx, parent string, t Take) string {
	raw, ok := tx.Batches[parent]
	if !ok {
		return "did not write the take"
	}
	var old struct {
		Children []Take `json:"children"`
	}
	if err := json.Unmarshal(raw, &old); err != nil {
		return "did not write the take"
	}
	for _, c := range old.Children {
		if c.Tx == t.Tx {
			if c.ID != t.ID || c.Mass != t.Mass || c.Handovers != t.Handovers {
				return "wrote a different take"
			}
			return ""
		}
	}
	return "did not write the take"
}

// createdAs checks that a transaction created the batch with the fields a
// batch keeps for life.
func createdAs(b *Batch) func(*SignedTx) string {
	return batchWrote(b.ID, func(w *Batch) bool {
		return w.Material == b.Material && w.WasteCode == b.WasteCode && w.Form == b.Form &&
			w.InitialMass == b.InitialMass && w.Submitter == b.Submitter && w.CreatedAt == b.CreatedAt &&
			w.RecycledContent == b.RecycledContent && SharesOf(w) == SharesOf(b) && reflect.DeepEqual(w.Origin, b.Origin) && len(w.Handovers) == 0
	}, "the batch as it was created")
}

// batchWrote checks that the transaction wrote batch id with a value for
// which ok holds; what names the expected content in the message.
func batchWrote(id string, ok func(*Batch) bool, what string) func(*SignedTx) string {
	return func(tx *SignedTx) string {
		raw, found := tx.Batches[id]
		if !found {
			return "did not write the batch"
		}
		var w Batch
		if err := json.Unmarshal(raw, &w); err != nil {
			return "wrote something that is not a batch"
		}
		if !ok(&w) {
			return "did not write " + what
		}
		return ""
	}
}

// VerifyClaims holds every claim against its transaction and reports
// the named check "signatures". txs holds every transaction the claims
// name that the client could read; a missing one is a failure.
func VerifyClaims(claims []Claim, txs map[string]*SignedTx) Check {
	var problems []string
	seen := map[string]bool{}
	for _, c := range claims {
		if p := checkClaim(c, txs[c.Tx]); p != "" && !seen[p] {
			seen[p] = true
			problems = append(problems, p)
		}
	}
	distinct := map[string]bool{}
	for _, c := range claims {
		distinct[c.Tx] = true
	}
	return result(CheckSignatures, problems, fmt.Sprintf("%d claims in %d transactions match their creators, endorsers and writes", len(claims), len(distinct)))
}

func checkClaim(c Claim, tx *SignedTx) string {
	claim := fmt.Sprintf("%s claims %s %s", c.Subject, c.What, c.Actor.MSP)
	if c.Tx == "" {
		return claim + " but names no transaction"
	}
	short := ShortTx(c.Tx)
	if tx == nil {
		return fmt.Sprintf("%s but tx %s is not on the channel", claim, short)
	}
	if !tx.Valid {
		return fmt.Sprintf("%s but tx %s is invalid (%s)", claim, short, tx.Code)
	}
	if len(tx.Problems) > 0 {
		return fmt.Sprintf("%s but tx %s does not verify: %s", claim, short, strings.Join(tx.Problems, "; "))
	}
	made := fmt.Sprintf("tx %s was created by %s and endorsed by %s", short, tx.Creator.MSP, endorsedBy(tx.Endorsers))
	if tx.Creator.MSP != c.Actor.MSP {
		return fmt.Sprintf("%s but %s", claim, made)
	}
	if c.Actor.Identity != "" && tx.Creator.Identity != c.Actor.Identity {
		return fmt.Sprintf("%s (%s) but tx %s was created by %s (%s)", claim, c.Actor.Identity, short, tx.Creator.Identity, tx.Creator.MSP)
	}
	// The person and role, on records written since contract 0.4.0.
	if c.Actor.EnrollmentID != "" && tx.Creator.EnrollmentID != c.Actor.EnrollmentID {
		return fmt.Sprintf("%s (person %s) but tx %s was created by %s (%s)", claim, c.Actor.EnrollmentID, short, tx.Creator.EnrollmentID, tx.Creator.MSP)
	}
	if c.Actor.Role != "" && tx.Creator.Role != c.Actor.Role {
		return fmt.Sprintf("%s (%s, %s %q) but tx %s was created with %s %q", claim, c.Actor.Person(), RoleAttribute, c.Actor.Role, short, RoleAttribute, tx.Creator.Role)
	}
	for _, org := range c.Endorsers {
		if !slices.Contains(tx.Endorsers, org) {
			return fmt.Sprintf("%s but %s (%s did not endorse)", claim, made, org)
		}
	}
	if c.Wrote != nil {
		if p := c.Wrote(tx); p != "" {
			return fmt.Sprintf("%s but tx %s %s", claim, short, p)
		}
	}
	return ""
}

func endorsedBy(orgs []string) string {
	switch len(orgs) {
	case 0:
		return "nobody"
	case 1:
		return orgs[0] + " only"
	}
	return strings.Join(orgs, ", ")
}

// ShortTx abbreviates a transaction id for messages.
func ShortTx(tx string) string {
	if len(tx) > 8 {
		return tx[:8] + "…"
	}
	return tx
}

// Evidence is a provenance as stored: every batch of the upstream graph,
// every process record in it, and what each parent recorded about each
// process of the graph that took from it, sorted by id, by transaction,
// and by parent and transaction. It is what Verify and the signatures
// check need, so a client that reads it holds the chaincode's verdict
// against the records itself.
type Evidence struct {
	Batches   []Batch   `json:"batches"`
	Processes []Process `json:"processes"`
	Takes     []TakeOf  `json:"takes,omitempty" metadata:",optional"`
}

// TakeOf is a take with the batch it was taken from.
type TakeOf struct {
	Parent string `json:"parent"`
	Take
}

// Graph returns the evidence in the form Verify takes.
func (e *Evidence) Graph() (map[string]*Batch, map[string]*Process, map[TakeRef]Take) {
	batches := make(map[string]*Batch, len(e.Batches))
	for i := range e.Batches {
		batches[e.Batches[i].ID] = &e.Batches[i]
	}
	procs := make(map[string]*Process, len(e.Processes))
	for i := range e.Processes {
		procs[e.Processes[i].Tx] = &e.Processes[i]
	}
	takes := make(map[TakeRef]Take, len(e.Takes))
	for _, t := range e.Takes {
		takes[TakeRef{Parent: t.Parent, Tx: t.Tx}] = t.Take
	}
	return batches, procs, takes
}

// Verify checks the provenance of root from the evidence (model.Verify).
func (e *Evidence) Verify(root, documentSHA256 string) Verdict {
	batches, procs, takes := e.Graph()
	return Verify(root, batches, procs, takes, documentSHA256)
}

// Claims lists the claims of every record of the evidence. created maps a
// batch id to its creating transaction where the batch does not say it.
func (e *Evidence) Claims(created map[string]string) []Claim {
	var cs []Claim
	for i := range e.Batches {
		b := &e.Batches[i]
		tx := b.CreatedTx
		if tx == "" {
			tx = created[b.ID]
		}
		cs = append(cs, BatchClaims(b, tx)...)
	}
	procs := make(map[string]*Process, len(e.Processes))
	for i := range e.Processes {
		p := &e.Processes[i]
		procs[p.Tx] = p
		cs = append(cs, ProcessClaims(p)...)
	}
	// A take whose record is missing names no processor to check; Verify
	// reports the missing record.
	for _, t := range e.Takes {
		if p := procs[t.Tx]; p != nil {
			cs = append(cs, TakeClaims(t.Parent, t.Take, p)...)
		}
	}
	return cs
}

// Wrote records one value the transaction wrote, by its key in the
// chaincode's composite layout (U+0000, object type, U+0000, then each
// attribute followed by U+0000): a batch ("batch", id), a process record
// ("process", tx), and the take ("take", parent, time, tx), auditor's hold
// ("hold", batch, tx) and auditor's document ("doc", batch, tx) keys the
// transaction named after itself. Other keys, and keys of other
// transactions, are ignored: only a take, hold or document a transaction
// made itself counts as its own.
func (tx *SignedTx) Wrote(key string, value []byte) {
	parts := strings.Split(key, "\x00")
	if len(parts) < 3 || parts[0] != "" || parts[len(parts)-1] != "" {
		return
	}
	parts = parts[1 : len(parts)-1]
	put := func(m *map[string]json.RawMessage, k string) {
		if *m == nil {
			*m = map[string]json.RawMessage{}
		}
		(*m)[k] = value
	}
	switch {
	case len(parts) == 2 && parts[0] == "batch":
		put(&tx.Batches, parts[1])
	case len(parts) == 2 && parts[0] == "process":
		put(&tx.Processes, parts[1])
	case len(parts) == 4 && parts[0] == "take" && parts[3] == tx.ID:
		put(&tx.Takes, parts[1])
	case len(parts) == 3 && parts[0] == "hold" && parts[2] == tx.ID:
		put(&tx.Holds, parts[1])
	case len(parts) == 3 && parts[0] == "doc" && parts[2] == tx.ID:
		put(&tx.Documents, parts[1])
	}
}
