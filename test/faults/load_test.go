//go:build e2e

package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// outcome is what one client learnt about one registration.
type outcome struct {
	batch string
	tx    string
	class string // see class()
	msg   string
	end   time.Time // when the client got its answer
}

// load is a bounded load generator: workers goroutines, each with its own
// gateway connection to the municipality's peer, register batches one
// after another until stopped, and record every outcome.
type load struct {
	mu   sync.Mutex
	outs []outcome
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// startLoad starts workers clients registering batches named
// <run>-<name>-<worker>-<n>. The per-call timeouts are short enough that
// a client whose transaction died with a node gives up within the fault's
// duration (5 s for the commit status; a slow commit that outlives it is
// reconciled afterwards).
func startLoad(t *testing.T, name string, workers int) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	t.Cleanup(func() { l.Stop() }) // if the test ends early
	timeouts := []client.ConnectOption{
		client.WithEndorseTimeout(10 * time.Second), client.WithSubmitTimeout(10 * time.Second),
		client.WithCommitStatusTimeout(5 * time.Second),
	}
	for w := 0; w < workers; w++ {
		c := contract(t, "municipality", timeouts...)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				b := id(fmt.Sprintf("%s-%d-%d", name, w, n))
				tx, _, err := submit(c, "RegisterBatch", registerArgs(b, 1000+int64(n)))
				o := outcome{batch: b, tx: tx, class: class(err), msg: testnet.Message(err), end: time.Now()}
				l.mu.Lock()
				l.outs = append(l.outs, o)
				l.mu.Unlock()
				if err != nil {
					// A dead node fails calls fast; do not spin on it.
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

// Stop ends the load, waits for every call in flight, and returns all
// outcomes.
func (l *load) Stop() []outcome {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.outs
}

// report logs the outcomes: attempted, committed, failed by class, the
// longest time without a commit after the fault and the first error seen.
func report(t *testing.T, outs []outcome, fault time.Time) {
	t.Helper()
	fails := counts{}
	first := map[string]string{}
	committed := 0
	for _, o := range outs {
		if o.class == "ok" {
			committed++
			continue
		}
		fails[o.class]++
		if first[o.class] == "" {
			first[o.class] = o.msg
		}
	}
	// The longest stretch without a commit, from the fault to the last
	// answer any client got.
	byEnd := slices.Clone(outs)
	slices.SortFunc(byEnd, func(a, b outcome) int { return a.end.Compare(b.end) })
	last, after := fault, 0
	var gap time.Duration
	for _, o := range byEnd {
		if o.class != "ok" || o.end.Before(fault) {
			continue
		}
		after++
		gap = max(gap, o.end.Sub(last))
		last = o.end
	}
	if n := len(byEnd); n > 0 {
		gap = max(gap, byEnd[n-1].end.Sub(last))
	}
	t.Logf("load: %d attempted, %d committed (%d after the fault), %d failed by cause {%s}; longest time without a commit after the fault: %s",
		len(outs), committed, after, len(outs)-committed, fails, gap.Round(time.Millisecond))
	for _, k := range slices.Sorted(maps.Keys(first)) {
		t.Logf("  first %s: %s", k, testnet.OneLine(first[k], 220))
	}
}

// verify checks, after the network has recovered, that every batch a
// client saw committed is on the ledger of all four peers with the
// transaction the client was told about, and that every registration that
// failed either wrote nothing or, when the client could not know the
// result (the commit status or the ordering was cut short), is
// reconciled: its batch exists with exactly that transaction.
func verify(t *testing.T, outs []outcome) {
	t.Helper()
	var ok, failed []outcome
	for _, o := range outs {
		if o.class == "ok" {
			ok = append(ok, o)
		} else {
			failed = append(failed, o)
		}
	}
	if len(ok) == 0 {
		t.Fatal("no registration committed under load")
	}
	for _, p := range peers {
		c := contract(t, p)
		var mu sync.Mutex
		var missing []string
		parallel(len(ok), 4, func(i int) {
			b, found, err := lookup(c, ok[i].batch)
			if err != nil || !found || b.LastTx != ok[i].tx {
				mu.Lock()
				missing = append(missing, fmt.Sprintf("%s (tx %s, found %v, lastTx %s, %v)", ok[i].batch, ok[i].tx, found, b.LastTx, err))
				mu.Unlock()
			}
		})
		if len(missing) > 0 {
			t.Errorf("peer %s lacks %d of %d committed registrations, e.g. %s", p, len(missing), len(ok), missing[0])
		}
	}

	// Each failure: did the batch get written, and was the transaction
	// ordered at all?
	gw, done, err := env.Gateway("municipality")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	muni := gw.GetNetwork(env.Channel()).GetContract(env.Profiles["municipality"].Chaincode)
	qscc := gw.GetNetwork(env.Channel()).GetContract("qscc")
	var mu sync.Mutex
	absent, reconciled := 0, 0
	onLedger := counts{}
	parallel(len(failed), 4, func(i int) {
		o := failed[i]
		b, found, err := lookup(muni, o.batch)
		st, serr := txStatus(qscc, o.tx)
		mu.Lock()
		defer mu.Unlock()
		onLedger[st]++
		switch {
		case err != nil || serr != nil:
			t.Errorf("look up failed registration %s: %v %v", o.batch, err, serr)
		case !found:
			absent++
		case ambiguous(o.class) && b.LastTx == o.tx:
			reconciled++
		default:
			t.Errorf("registration %s failed with %s (%s) but its batch exists (lastTx %s, client's tx %s)",
				o.batch, o.class, testnet.OneLine(o.msg, 220), b.LastTx, o.tx)
		}
	})
	t.Logf("verified: %d committed registrations on all 4 peers; %d failed: %d wrote nothing, %d reconciled (client got an error but the tx committed); failed transactions on the ledger: {%s}",
		len(ok), len(failed), absent, reconciled, onLedger)
}

// ambiguous reports whether a failure leaves the client not knowing the
// outcome: the transaction may have been ordered.
func ambiguous(class string) bool {
	return strings.HasPrefix(class, "commit-status/") || strings.HasPrefix(class, "submit/")
}
