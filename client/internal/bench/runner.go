package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Client is what the benchmark needs from one identity's gateway: a
// transaction timed through endorsement, submission and commit status,
// and a timed query.
type Client interface {
	// Submit runs fn(args...) to its commit status. The sample's Code is
	// empty when the transaction committed as valid.
	Submit(ctx context.Context, fn string, args ...string) Sample
	// Evaluate runs a query and returns its answer.
	Evaluate(ctx context.Context, fn string, args ...string) ([]byte, Sample)
	// TxBytes returns the size of committed transaction id as the
	// ledger stores it.
	TxBytes(ctx context.Context, id string) (int, error)
	// Block returns what the block that holds committed transaction id
	// weighs.
	Block(ctx context.Context, id string) (Block, error)
}

// Unit is one piece of work that submits one or more transactions in
// order (a transfer is an offer then an accept) and returns their samples.
type Unit func(ctx context.Context, i int) []Sample

// Run executes units 0..units-1 on c workers, each working through its
// units one after the other, so that at most c transactions are in
// flight. It returns every sample and the wall time from the first
// proposal to the last commit status.
func Run(ctx context.Context, units, c int, u Unit) ([]Sample, time.Duration) {
	c = max(1, min(c, units))
	var next atomic.Int64
	var mu sync.Mutex
	var all []Sample
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []Sample
			for {
				i := int(next.Add(1) - 1)
				if i >= units || ctx.Err() != nil {
					break
				}
				mine = append(mine, u(ctx, i)...)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, time.Since(start)
}
