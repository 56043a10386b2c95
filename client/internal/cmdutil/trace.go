package cmdutil

import (
	"context"
	"slices"
	"sync"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
)

// DownWorkers is how many chunks of a level TraceDown reads at once.
const DownWorkers = 4

// TraceDown gathers the downstream graph of root page by page with the
// chaincode's TraceDown, so that a recall has no cap on its size and no
// answer exceeds a page: level by level, each level cut into chunks of at
// most model.MaxDownIDs batches (read DownWorkers at a time), each chunk
// followed until its bookmark is empty; outputs seen for the first time
// that were taken from make the next level (a batch with no takes has no
// children to ask for). limit is the edges per page (0: the largest page
// the chaincode serves, model.MaxDownLimit, a few MB: fewer round trips).
// It returns the graph in the order of a one-call Trace, and how many
// pages it read.
func TraceDown(ctx context.Context, inv api.Invoker, root string, limit int) (*model.Trace, int, error) {
	if limit == 0 {
		limit = model.MaxDownLimit
	}
	c := api.New(inv)
	b, err := c.ReadBatch(ctx, root)
	if err != nil {
		return nil, 0, err
	}
	w := &downWalk{
		t:    &model.Trace{Root: root, Direction: model.Downstream, Nodes: []model.TraceNode{model.NodeOf(&b, 0)}, Edges: []model.TraceEdge{}},
		seen: map[string]bool{root: true},
	}
	level := []string{root}
	for d := 1; len(level) > 0; d++ {
		w.next = nil
		size := min(model.MaxDownIDs, max(1, (len(level)+DownWorkers-1)/DownWorkers))
		chunks := make(chan []string)
		errs := make(chan error, DownWorkers)
		var wg sync.WaitGroup
		for range DownWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ids := range chunks {
					if err := w.chunk(ctx, c, ids, limit, d); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	feed:
		for lo := 0; lo < len(level); lo += size {
			select {
			case chunks <- level[lo:min(lo+size, len(level))]:
			case err := <-errs:
				errs <- err
				break feed
			}
		}
		close(chunks)
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return nil, w.pages, err
		}
		slices.Sort(w.next)
		level = w.next
	}
	model.SortTrace(w.t)
	return w.t, w.pages, nil
}

// downWalk is what the readers of one downstream trace share.
type downWalk struct {
	mu    sync.Mutex
	t     *model.Trace
	seen  map[string]bool
	next  []string
	pages int
}

// chunk follows the pages of one chunk of a level at depth d.
func (w *downWalk) chunk(ctx context.Context, c *api.Client, ids []string, limit, d int) error {
	q := model.DownQuery{IDs: ids, Limit: limit}
	for {
		p, err := c.TraceDown(ctx, q)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.pages++
		w.t.Edges = append(w.t.Edges, p.Edges...)
		for _, n := range p.Nodes {
			if !w.seen[n.ID] {
				w.seen[n.ID] = true
				n.Depth = d
				w.t.Nodes = append(w.t.Nodes, n)
				if n.Takes > 0 {
					w.next = append(w.next, n.ID)
				}
			}
		}
		w.mu.Unlock()
		if p.Bookmark == "" {
			return nil
		}
		q.Bookmark = p.Bookmark
	}
}
