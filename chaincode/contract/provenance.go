package contract

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// MaxTraceNodes caps the size of a one-call trace, so that one query
// cannot make a peer read an unbounded part of the ledger or answer more
// than a gRPC message holds. A downstream trace of any size is read page
// by page with TraceDown.
const MaxTraceNodes = 20000

// maxTraceNodes is MaxTraceNodes; tests lower it.
var maxTraceNodes = MaxTraceNodes

// Trace returns the provenance graph of a batch, a model.Trace as JSON:
// upstream ("up", the default) to the collections it came from, or
// downstream ("down") to every batch made from it. An edge runs from a
// process input to each of the process's outputs, with the mass the
// process took from that input.
func (c *Contract) Trace(ctx contractapi.TransactionContextInterface, id string, direction string) (string, error) {
	t, err := trace(ctx, id, direction)
	if err != nil {
		return "", err
	}
	return encoded("trace", t)
}

func trace(ctx contractapi.TransactionContextInterface, id string, direction string) (*model.Trace, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	if direction == "" {
		direction = model.Upstream
	}
	if direction != model.Upstream && direction != model.Downstream {
		return nil, &model.RuleError{Field: "direction", Rule: fmt.Sprintf("must be %q or %q, got %q", model.Upstream, model.Downstream, direction)}
	}
	w, err := walk(ctx.GetStub(), id, direction)
	if err != nil {
		return nil, err
	}
	// Every node shows its effective status: held while an auditor's
	// hold is in force.
	if err := overseeHolds(ctx.GetStub(), slices.Collect(maps.Values(w.batches))...); err != nil {
		return nil, err
	}
	return w.trace(id, direction), nil
}

// VerifyProvenance checks a batch against its upstream graph with
// model.Verify and returns the model.Verdict as JSON; documentSHA256, when
// given, must be anchored on the batch or an ancestor.
func (c *Contract) VerifyProvenance(ctx contractapi.TransactionContextInterface, id string, documentSHA256 string) (string, error) {
	if err := model.CheckID("id", id); err != nil {
		return "", err
	}
	if documentSHA256 != "" {
		if err := model.CheckSHA256("documentSHA256", documentSHA256); err != nil {
			return "", err
		}
	}
	batches, recs, takes, err := provenance(ctx.GetStub(), id)
	if err != nil {
		return "", err
	}
	v := model.Verify(id, batches, recs, takes, documentSHA256)
	return encoded("verdict", &v)
}

// walked is a graph gathered breadth first.
type walked struct {
	batches map[string]*model.Batch
	depth   map[string]int
	edges   map[[3]string]model.TraceEdge // by from, to, tx
}

// upstream reads the upstream graph of root: its batches by id and the
// records of the processes that made them, by transaction id.
func upstream(stub shim.ChaincodeStubInterface, root string) (map[string]*model.Batch, map[string]*model.Process, error) {
	w, err := walk(stub, root, model.Upstream)
	if err != nil {
		return nil, nil, err
	}
	if err := oversee(stub, slices.Collect(maps.Values(w.batches))...); err != nil {
		return nil, nil, err
	}
	recs, err := w.records(stub)
	if err != nil {
		return nil, nil, err
	}
	return w.batches, recs, nil
}

// walk gathers the graph from root, level by level, up to maxTraceNodes
// batches. Upstream, every batch's derivation names its inputs, and a
// level is read with one GetMultipleStates call. Downstream, a level is
// expanded with the pages of a downstream trace (down), which range-read
// each batch's takes.
func walk(stub shim.ChaincodeStubInterface, root, direction string) (*walked, error) {
	w := &walked{batches: map[string]*model.Batch{}, depth: map[string]int{}, edges: map[[3]string]model.TraceEdge{}}
	if err := w.read(stub, []string{root}, 0); err != nil {
		return nil, err
	}
	if w.batches[root] == nil {
		return nil, fmt.Errorf("batch %q not found", root)
	}
	level := []string{root}
	for d := 1; len(level) > 0; d++ {
		var err error
		if direction == model.Upstream {
			level = w.up(level)
			err = w.read(stub, level, d)
		} else {
			level, err = w.downLevel(stub, level, d)
		}
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

// read loads the unseen ids of one level at depth d.
func (w *walked) read(stub shim.ChaincodeStubInterface, ids []string, d int) error {
	var fresh []string
	for _, id := range ids {
		if _, seen := w.depth[id]; !seen {
			fresh = append(fresh, id)
		}
	}
	if err := w.room(len(fresh)); err != nil {
		return err
	}
	bs, err := getBatches(stub, fresh)
	if err != nil {
		return err
	}
	for i, id := range fresh {
		w.depth[id] = d
		if bs[i] != nil { // a missing ancestor stays out; Verify reports it
			w.batches[id] = bs[i]
		}
	}
	return nil
}

// room fails when n more batches would exceed the cap of one call.
func (w *walked) room(n int) error {
	if len(w.depth)+n > maxTraceNodes {
		return fmt.Errorf("trace: the graph has more than %d batches; trace downstream page by page with TraceDown (mtrace trace --down does)", maxTraceNodes)
	}
	return nil
}

// up adds the edges into the level's batches and returns their unseen
// inputs, sorted.
func (w *walked) up(level []string) []string {
	var next []string
	for _, id := range level {
		b := w.batches[id]
		if b == nil || b.Origin.Process == nil {
			continue
		}
		p := b.Origin.Process
		for _, in := range p.Inputs {
			w.edge(in.ID, id, in.Mass, p.Step, p.Tx)
			if _, seen := w.depth[in.ID]; !seen {
				next = append(next, in.ID)
			}
		}
	}
	slices.Sort(next)
	return slices.Compact(next)
}

// downLevel expands a level downstream through the pages of down, adds
// the edges, and returns the outputs first seen at depth d, sorted.
func (w *walked) downLevel(stub shim.ChaincodeStubInterface, level []string, d int) ([]string, error) {
	var next []string
	for lo := 0; lo < len(level); lo += model.MaxDownIDs {
		q := model.DownQuery{IDs: level[lo:min(lo+model.MaxDownIDs, len(level))], Limit: model.MaxDownLimit}
		for {
			p, err := down(stub, q)
			if err != nil {
				return nil, err
			}
			for _, e := range p.edges {
				w.edges[[3]string{e.From, e.To, e.Tx}] = e
			}
			for _, b := range p.batches {
				if _, seen := w.depth[b.ID]; seen {
					continue
				}
				if err := w.room(1); err != nil {
					return nil, err
				}
				w.depth[b.ID] = d
				w.batches[b.ID] = b
				if b.Takes > 0 || b.TakenMass > 0 {
					next = append(next, b.ID)
				}
			}
			if p.bookmark == "" {
				break
			}
			q.Bookmark = p.bookmark
		}
	}
	slices.Sort(next)
	return next, nil
}

// TraceDown returns one page of a downstream trace (model.DownQuery), a
// model.TracePage as JSON. It reads each queried batch's takes with
// paginated range reads, so it must be evaluated, never submitted.
func (c *Contract) TraceDown(ctx contractapi.TransactionContextInterface, q model.DownQuery) (string, error) {
	if err := q.Validate(); err != nil {
		return "", err
	}
	p, err := down(ctx.GetStub(), q)
	if err != nil {
		return "", err
	}
	page := &model.TracePage{Nodes: make([]model.TraceNode, len(p.batches)), Edges: p.edges, Bookmark: p.bookmark}
	for i, b := range p.batches {
		page.Nodes[i] = model.NodeOf(b, 0)
	}
	return encoded("trace page", page)
}

// downPage is one page of a downstream trace: the edges, the outputs they
// reach (once each, in order of first edge), and where the next page
// starts ("" when done).
type downPage struct {
	edges    []model.TraceEdge
	batches  []*model.Batch
	bookmark string
}

// down reads one page of q. It reads the queried batches from where
// q.Bookmark says with one GetMultipleStates call, range-reads the takes
// of those that have any (a batch with nothing taken is skipped without a
// read), reads the records of all those takes with one more call, keeps
// whole processes while the edges fit in the limit (at least one process
// per page), and reads the outputs reached with a last call.
func down(stub shim.ChaincodeStubInterface, q model.DownQuery) (*downPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = model.DefaultDownLimit
	}
	i0, after0, err := decodeDownBookmark(stub, q)
	if err != nil {
		return nil, err
	}
	// The first page checks that the batches exist, and skips those that
	// nothing was taken from without a range read. A client sends only
	// batches with takes (TraceNode.Takes), so later pages read no
	// batches they do not answer.
	var parents []*model.Batch
	if q.Bookmark == "" {
		if parents, err = getBatches(stub, q.IDs); err != nil {
			return nil, err
		}
		for j, b := range parents {
			if b == nil {
				return nil, fmt.Errorf("batch %q not found", q.IDs[j])
			}
		}
	}

	// Gather takes, at least one edge each, until they could fill the page.
	type pending struct {
		i    int // index into q.IDs
		key  string
		take model.Take
	}
	var takes []pending
	i, after := i0, after0
	for i < len(q.IDs) && len(takes) < limit {
		if parents != nil && parents[i].Takes == 0 && parents[i].TakenMass == 0 {
			i, after = i+1, ""
			continue
		}
		keys, ts, next, err := readTakes(stub, q.IDs[i], int32(min(limit-len(takes), maxTakeChunk)), after)
		if err != nil {
			return nil, err
		}
		for j := range ts {
			takes = append(takes, pending{i, keys[j], ts[j]})
		}
		if next == "" {
			i, after = i+1, ""
		} else {
			after = keys[len(keys)-1]
		}
	}
	txs := make([]string, len(takes))
	for j, t := range takes {
		txs[j] = t.take.Tx
	}
	recs, err := getProcesses(stub, txs)
	if err != nil {
		return nil, err
	}

	// Keep whole processes while they fit; the page ends before the first
	// that does not, or where the gathering stopped.
	p := &downPage{edges: []model.TraceEdge{}}
	var outs []string
	seen := map[string]bool{}
	for j, t := range takes {
		rec := recs[j]
		id := q.IDs[t.i]
		if rec == nil {
			return nil, fmt.Errorf("trace: batch %q names process %s, which has no record", id, t.take.Tx)
		}
		if len(p.edges) > 0 && len(p.edges)+len(rec.Outputs) > limit {
			i, after = t.i, ""
			switch {
			case j > 0 && takes[j-1].i == t.i:
				after = takes[j-1].key
			case t.i == i0:
				after = after0
			}
			break
		}
		for _, o := range rec.Outputs {
			p.edges = append(p.edges, model.TraceEdge{From: id, To: o.ID, Mass: t.take.Mass, Step: rec.Step, Tx: rec.Tx})
			if !seen[o.ID] {
				seen[o.ID] = true
				outs = append(outs, o.ID)
			}
		}
	}
	if i < len(q.IDs) {
		p.bookmark = encodeDownBookmark(i, after)
	}
	bs, err := getBatches(stub, outs)
	if err != nil {
		return nil, err
	}
	for j, b := range bs {
		if b == nil {
			return nil, fmt.Errorf("trace: process output %q not found", outs[j])
		}
	}
	p.batches = bs
	return p, nil
}

// maxTakeChunk is how many takes down reads at once.
const maxTakeChunk = 500

// encodeDownBookmark writes where a downstream page stopped: the index of
// the queried batch and the last take key read of it.
func encodeDownBookmark(i int, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i) + "/" + after))
}

func decodeDownBookmark(stub shim.ChaincodeStubInterface, q model.DownQuery) (int, string, error) {
	if q.Bookmark == "" {
		return 0, "", nil
	}
	bad := &model.RuleError{Field: "bookmark", Rule: "is not a bookmark returned for these ids"}
	raw, err := base64.RawURLEncoding.DecodeString(q.Bookmark)
	if err != nil {
		return 0, "", bad
	}
	n, after, ok := strings.Cut(string(raw), "/")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 || i >= len(q.IDs) {
		return 0, "", bad
	}
	if after != "" {
		prefix, err := stub.CreateCompositeKey(objTake, []string{q.IDs[i]})
		if err != nil || !strings.HasPrefix(after, prefix) {
			return 0, "", bad
		}
	}
	return i, after, nil
}

// readTakes reads up to n takes of batch id after the take key after (""
// for the first), in key order. next is "" when id has no more takes.
func readTakes(stub shim.ChaincodeStubInterface, id string, n int32, after string) (keys []string, takes []model.Take, next string, err error) {
	keys, values, next, err := readIndexPage(stub, objTake, []string{id}, n, after, after)
	if err != nil {
		return nil, nil, "", err
	}
	takes = make([]model.Take, len(values))
	for i, raw := range values {
		if err := json.Unmarshal(raw, &takes[i]); err != nil {
			return nil, nil, "", fmt.Errorf("decode take of batch %q: %w", id, err)
		}
	}
	return keys, takes, next, nil
}

// ListTakes returns one page of the takes of a batch, oldest first:
// what each process that took from it took, and when. limit is the page
// size (default 50, at most 1000); pass the previous page's bookmark to
// continue. Evaluate it: it uses paginated range reads.
func (c *Contract) ListTakes(ctx contractapi.TransactionContextInterface, id string, bookmark string, limit int) (*model.TakePage, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	if limit < 0 || limit > model.MaxListLimit {
		return nil, &model.RuleError{Field: "limit", Rule: fmt.Sprintf("must be from 1 to %d, got %d", model.MaxListLimit, limit)}
	}
	if limit == 0 {
		limit = model.DefaultListLim
	}
	stub := ctx.GetStub()
	if _, err := getBatch(stub, id); err != nil {
		return nil, err
	}
	after := ""
	if bookmark != "" {
		raw, err := base64.RawURLEncoding.DecodeString(bookmark)
		prefix, _ := stub.CreateCompositeKey(objTake, []string{id}) // id checked above
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			return nil, &model.RuleError{Field: "bookmark", Rule: "is not a bookmark returned for this batch"}
		}
		after = string(raw)
	}
	keys, takes, next, err := readTakes(stub, id, int32(limit), after)
	if err != nil {
		return nil, err
	}
	page := &model.TakePage{Takes: takes}
	if next != "" && len(keys) > 0 {
		page.Bookmark = base64.RawURLEncoding.EncodeToString([]byte(keys[len(keys)-1]))
	}
	return page, nil
}

// takeRefs lists the takes a verification needs: for every process of the
// graph, what each of its inputs in the graph recorded about it. A
// derivation whose time cannot be part of a key is left out; Verify then
// reports the take missing.
func takeRefs(batches map[string]*model.Batch) []takeRef {
	var refs []takeRef
	seen := map[model.TakeRef]bool{}
	for _, id := range slices.Sorted(maps.Keys(batches)) {
		d := batches[id].Origin.Process
		if d == nil {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, d.At); err != nil {
			continue
		}
		for _, in := range d.Inputs {
			r := model.TakeRef{Parent: in.ID, Tx: d.Tx}
			if batches[in.ID] != nil && !seen[r] {
				seen[r] = true
				refs = append(refs, takeRef{TakeRef: r, at: d.At})
			}
		}
	}
	return refs
}

// records reads the record of every process that made a batch of the
// graph, with one GetMultipleStates call, by transaction id. Missing
// records are left out; Verify reports them.
func (w *walked) records(stub shim.ChaincodeStubInterface) (map[string]*model.Process, error) {
	var txs []string
	for _, b := range w.batches {
		if b.Origin.Process != nil {
			txs = append(txs, b.Origin.Process.Tx)
		}
	}
	slices.Sort(txs)
	txs = slices.Compact(txs)
	recs, err := getProcesses(stub, txs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*model.Process, len(txs))
	for i, tx := range txs {
		if recs[i] != nil {
			out[tx] = recs[i]
		}
	}
	return out, nil
}

func (w *walked) edge(from, to string, mass model.Grams, step model.Step, tx string) {
	w.edges[[3]string{from, to, tx}] = model.TraceEdge{From: from, To: to, Mass: mass, Step: step, Tx: tx}
}

// trace lays the graph out: nodes by depth then id, edges by from, to, tx.
func (w *walked) trace(root, direction string) *model.Trace {
	t := &model.Trace{Root: root, Direction: direction, Nodes: []model.TraceNode{}, Edges: []model.TraceEdge{}}
	for id, b := range w.batches {
		t.Nodes = append(t.Nodes, model.NodeOf(b, w.depth[id]))
	}
	for _, e := range w.edges {
		t.Edges = append(t.Edges, e)
	}
	model.SortTrace(t)
	return t
}
