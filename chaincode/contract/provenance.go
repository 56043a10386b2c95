package contract

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// MaxTraceNodes caps the size of a trace, so that one query cannot make a
// peer read an unbounded part of the ledger.
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
	batches, recs, err := upstream(ctx.GetStub(), id)
	if err != nil {
		return "", err
	}
	v := model.Verify(id, batches, recs, documentSHA256)
	return encoded("verdict", &v)
}

// walked is a graph gathered breadth first.
type walked struct {
	batches map[string]*model.Batch
	depth   map[string]int
	edges   map[[3]string]model.TraceEdge // by from, to, tx
}

// walk gathers the graph from root, level by level. Each level is read
// with one GetMultipleStates call. Upstream, every batch's derivation
// names its inputs. Downstream, a level takes a second call, for the
// records of the processes its batches went into: a parent's Children
// names only the first output and the transaction of each process.
// upstream reads the upstream graph of root: its batches by id and the
// records of the processes that made them, by transaction id.
func upstream(stub shim.ChaincodeStubInterface, root string) (map[string]*model.Batch, map[string]*model.Process, error) {
	w, err := walk(stub, root, model.Upstream)
	if err != nil {
		return nil, nil, err
	}
	recs, err := w.records(stub)
	if err != nil {
		return nil, nil, err
	}
	return w.batches, recs, nil
}

func walk(stub shim.ChaincodeStubInterface, root, direction string) (*walked, error) {
	w := &walked{batches: map[string]*model.Batch{}, depth: map[string]int{}, edges: map[[3]string]model.TraceEdge{}}
	level := []string{root}
	for d := 0; len(level) > 0; d++ {
		if err := w.read(stub, level, d); err != nil {
			return nil, err
		}
		if d == 0 && w.batches[root] == nil {
			return nil, fmt.Errorf("batch %q not found", root)
		}
		var next []string
		var err error
		if direction == model.Upstream {
			next = w.up(level)
		} else if next, err = w.down(stub, level, d+1); err != nil {
			return nil, err
		}
		level = next
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
	if len(w.depth)+len(fresh) > maxTraceNodes {
		return fmt.Errorf("trace: the graph has more than %d batches", maxTraceNodes)
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

// down reads the records of the processes that took from the level's
// batches, adds an edge from each batch to every output of each such
// process, reads the outputs and returns the ones first seen at depth d,
// sorted.
func (w *walked) down(stub shim.ChaincodeStubInterface, level []string, d int) ([]string, error) {
	var txs []string
	for _, id := range level {
		if b := w.batches[id]; b != nil {
			for _, c := range b.Children {
				txs = append(txs, c.Tx)
			}
		}
	}
	slices.Sort(txs)
	txs = slices.Compact(txs)
	recs, err := getProcesses(stub, txs)
	if err != nil {
		return nil, err
	}
	byTx := make(map[string]*model.Process, len(txs))
	for i, tx := range txs {
		byTx[tx] = recs[i]
	}
	var next []string
	for _, id := range level {
		b := w.batches[id]
		if b == nil {
			continue
		}
		for _, c := range b.Children {
			p := byTx[c.Tx]
			if p == nil {
				return nil, fmt.Errorf("trace: batch %q names process %s, which has no record", id, c.Tx)
			}
			for _, out := range p.Outputs {
				w.edge(id, out.ID, c.Mass, p.Step, p.Tx)
				next = append(next, out.ID)
			}
		}
	}
	slices.Sort(next)
	next = slices.Compact(next)
	if err := w.read(stub, next, d); err != nil {
		return nil, err
	}
	// Only outputs first seen at this depth are expanded further.
	fresh := next[:0]
	for _, id := range next {
		if w.depth[id] == d {
			fresh = append(fresh, id)
		}
	}
	return fresh, nil
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
		n := model.TraceNode{
			ID: id, Depth: w.depth[id],
			Material: b.Material, Form: b.Form, Owner: b.Owner, Status: b.Status,
			InitialMass: b.InitialMass, RemainingMass: b.RemainingMass, RecycledContent: b.RecycledContent,
			Collection: b.Origin.Collection, Documents: b.Documents,
		}
		if b.Origin.Process != nil {
			n.Step = b.Origin.Process.Step
		}
		t.Nodes = append(t.Nodes, n)
	}
	slices.SortFunc(t.Nodes, func(a, b model.TraceNode) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.ID, b.ID))
	})
	for _, e := range w.edges {
		t.Edges = append(t.Edges, e)
	}
	slices.SortFunc(t.Edges, func(a, b model.TraceEdge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To), strings.Compare(a.Tx, b.Tx))
	})
	return t
}
