package cmdutil

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// TraceDown gathers the downstream graph of root page by page with the
// chaincode's TraceDown, so that a recall has no cap on its size and no
// answer exceeds a page: level by level, each level in chunks of at most
// model.MaxDownIDs batches, each chunk followed until its bookmark is
// empty; outputs seen for the first time that were taken from make the
// next level (a batch with no takes has no children to ask for). limit is
// the edges per page (0: the chaincode's default). It returns the graph
// in the order of a one-call Trace, and how many pages it read.
func TraceDown(ctx context.Context, l ledger.Ledger, root string, limit int) (*model.Trace, int, error) {
	b, err := Query[model.Batch](ctx, l, "ReadBatch", root)
	if err != nil {
		return nil, 0, err
	}
	t := &model.Trace{Root: root, Direction: model.Downstream, Nodes: []model.TraceNode{model.NodeOf(&b, 0)}, Edges: []model.TraceEdge{}}
	seen := map[string]bool{root: true}
	level, pages := []string{root}, 0
	for d := 1; len(level) > 0; d++ {
		var next []string
		for lo := 0; lo < len(level); lo += model.MaxDownIDs {
			q := model.DownQuery{IDs: level[lo:min(lo+model.MaxDownIDs, len(level))], Limit: limit}
			for {
				arg, err := json.Marshal(q)
				if err != nil {
					return nil, pages, err
				}
				p, err := Query[model.TracePage](ctx, l, "TraceDown", string(arg))
				if err != nil {
					return nil, pages, err
				}
				pages++
				t.Edges = append(t.Edges, p.Edges...)
				for _, n := range p.Nodes {
					if !seen[n.ID] {
						seen[n.ID] = true
						n.Depth = d
						t.Nodes = append(t.Nodes, n)
						if n.Takes > 0 {
							next = append(next, n.ID)
						}
					}
				}
				if p.Bookmark == "" {
					break
				}
				q.Bookmark = p.Bookmark
			}
		}
		slices.Sort(next)
		level = next
	}
	model.SortTrace(t)
	return t, pages, nil
}
