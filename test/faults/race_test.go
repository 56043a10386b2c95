//go:build e2e

package faults

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// processArgs is a sorting step taking grams from in into one new batch.
func processArgs(in, out string, grams int64) []string {
	req := model.ProcessRequest{
		Step:    model.StepSorting,
		Inputs:  []model.ProcessInput{{ID: in, Mass: model.Grams(grams)}},
		Outputs: []model.ProcessOutput{{ID: out, Material: "PET", Form: model.FormSorted, Mass: model.Grams(grams)}},
	}
	raw, _ := json.Marshal(req)
	return []string{string(raw)}
}

// overdrawn reports whether a failure is the chaincode refusing to take
// more than remains (or anything from a consumed batch) at endorsement.
func overdrawn(cls, msg string) bool {
	return strings.HasPrefix(cls, "endorse/") && (strings.Contains(msg, "remaining") || strings.Contains(msg, "is consumed"))
}

// conflict: the call lost a race and wrote nothing, so running it again is
// safe: a read conflict at validation, or (since every write needs a
// second organisation's endorsement) endorsers that simulated against
// different versions of the batch, which the gateway refuses before
// ordering.
func conflict(cls, msg string) bool {
	return cls == "commit/MVCC_READ_CONFLICT" ||
		cls == "endorse/Aborted" && strings.Contains(msg, "ProposalResponsePayloads do not match")
}

// TestConcurrentProcessOfOneBatch has 50 clients each take X from one
// batch of mass M at the same moment, first without retries and then
// retrying read conflicts as the CLI does. Whatever the interleaving, the
// takes that commit must add up to exactly what left the batch, never more
// than M, and every loser must be told why.
func TestConcurrentProcessOfOneBatch(t *testing.T) {
	const (
		clients = 50
		m       = 20_000 // 20 kg
		x       = 1_000  // 1 kg each: 20 takes fit
	)
	muni, rec := contract(t, "municipality"), contract(t, "recycler")
	in := id("race-in")
	atRecycler(t, muni, rec, in, m)
	conns := make([]*client.Contract, clients)
	for i := range conns {
		conns[i] = contract(t, "recycler")
	}

	// round runs every client once at the same moment; retry says whether
	// a client re-submits after a read conflict, as the CLI does, but up
	// to 60 times rather than the CLI's 3, so that every client ends with
	// a take or the rule's refusal. It returns how many takes committed,
	// the final class of every client, and how many read conflicts were
	// retried.
	round := func(name string, retry bool) (int, counts, int) {
		var (
			mu        sync.Mutex
			wg        sync.WaitGroup
			ok        int
			retried   int
			bad       []string
			byClass   = counts{}
			startGate = make(chan struct{})
		)
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startGate
				for attempt := 0; ; attempt++ {
					_, _, err := submit(c, "Process", processArgs(in, id(fmt.Sprintf("race-%s-%d-%d", name, i, attempt)), x))
					cls, msg := class(err), testnet.Message(err)
					mu.Lock()
					if retry && conflict(cls, msg) && attempt < 60 {
						retried++
						mu.Unlock()
						continue
					}
					byClass[cls]++
					switch {
					case err == nil:
						ok++
					case conflict(cls, msg), overdrawn(cls, msg):
					default:
						bad = append(bad, fmt.Sprintf("%s: %s", cls, testnet.OneLine(msg, 220)))
					}
					mu.Unlock()
					return
				}
			}()
		}
		close(startGate)
		wg.Wait()
		for _, b := range bad {
			t.Errorf("round %s: a failure that is neither a read conflict nor the remaining-mass rule: %s", name, b)
		}
		return ok, byClass, retried
	}

	ok1, cls1, _ := round("a", false)
	b, _ := readBatch(t, rec, in)
	t.Logf("round 1, no retries: %d clients, %d committed (%d kg taken), outcomes {%s}; %s remaining",
		clients, ok1, ok1*x/1000, cls1, b.RemainingMass)
	if b.RemainingMass < 0 || int64(ok1)*x != m-int64(b.RemainingMass) {
		t.Fatalf("round 1: %d takes of %d g committed but remaining is %d g of %d g", ok1, x, b.RemainingMass, m)
	}
	if ok1 < 1 || ok1 > m/x {
		t.Fatalf("round 1: %d takes committed, want 1..%d", ok1, m/x)
	}

	ok2, cls2, retried := round("b", true)
	b, _ = readBatch(t, rec, in)
	t.Logf("round 2, retrying read conflicts: %d committed after %d retries, outcomes {%s}; %d takes in all, %s remaining, status %s",
		ok2, retried, cls2, ok1+ok2, b.RemainingMass, b.Status)
	if ok1+ok2 != m/x {
		t.Errorf("%d + %d takes committed, want exactly %d", ok1, ok2, m/x)
	}
	if b.RemainingMass != 0 || b.Status != model.StatusConsumed {
		t.Errorf("batch after all takes: remaining %d g, status %s; want 0 g, consumed", b.RemainingMass, b.Status)
	}
	if b.Takes != ok1+ok2 {
		t.Errorf("batch counts %d processes that took from it, want %d", b.Takes, ok1+ok2)
	}
	audit(t)
}

// TestAcceptRacesCancel has the receiver accept and the owner cancel the
// same pending transfer at the same moment, on 10 batches. Exactly one of
// the two commits; the other is refused (read conflict; a policy failure
// when both land in one block, because each rewrites the batch's key-level
// endorsement policy; or the chaincode's "no pending transfer" at
// endorsement), and the batch reads as the winner left it. Odd trials endorse both first and then submit both
// together, so both reach the orderer and validation has to decide.
func TestAcceptRacesCancel(t *testing.T) {
	const trials = 10
	muni, rec := contract(t, "municipality"), contract(t, "recycler")
	wins := counts{}
	losers := counts{}
	for i := 0; i < trials; i++ {
		b := id(fmt.Sprintf("race-offer-%d", i))
		mustSubmit(t, muni, "RegisterBatch", registerArgs(b, 7_000)...)
		mustSubmit(t, muni, "OfferTransfer", b, "RecyclerMSP")
		settle(t)
		calls := []struct {
			who string
			c   *client.Contract
			fn  string
			arg []string
		}{
			{"accept", rec, "AcceptTransfer", []string{b, "0"}},
			{"cancel", muni, "CancelTransfer", []string{b}},
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		if i%2 == 1 {
			// Endorse both on the same state, then submit both.
			txs := make([]*client.Transaction, 2)
			for j, k := range calls {
				p, err := k.c.NewProposal(k.fn, client.WithArguments(k.arg...))
				if err == nil {
					txs[j], err = p.Endorse()
				}
				if err != nil {
					t.Fatalf("trial %d: endorse %s: %s", i, k.who, testnet.Message(err))
				}
			}
			for j := range txs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					commit, err := txs[j].Submit()
					if err == nil {
						var st *client.Status
						st, err = commit.Status()
						if err == nil && !st.Successful {
							err = &invalidTx{tx: st.TransactionID, code: st.Code}
						}
					}
					errs[j] = err
				}()
			}
		} else {
			gate := make(chan struct{})
			for j, k := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					_, _, errs[j] = submit(k.c, k.fn, k.arg)
				}()
			}
			close(gate)
		}
		wg.Wait()

		won := -1
		for j, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Errorf("trial %d: both accept and cancel committed", i)
				}
				won = j
				continue
			}
			cls, msg := class(err), testnet.Message(err)
			losers[cls]++
			switch {
			case conflict(cls, msg):
			case cls == "commit/ENDORSEMENT_POLICY_FAILURE":
				// Both changed the batch's key-level policy (pending: both
				// organisations; after: the owner only). When the two land in
				// one block, Fabric's validator invalidates the later one as a
				// policy failure before it ever compares read versions.
			case strings.HasPrefix(cls, "endorse/") && strings.Contains(msg, "no pending transfer"):
			default:
				t.Errorf("trial %d: %s failed with %s: %s; want a read conflict, a same-block policy update or the no-pending-transfer rule",
					i, calls[j].who, cls, testnet.OneLine(msg, 220))
			}
		}
		if won < 0 {
			t.Errorf("trial %d: neither accept nor cancel committed: %v / %v", i, testnet.Message(errs[0]), testnet.Message(errs[1]))
			continue
		}
		wins[calls[won].who]++
		settle(t)
		got, _ := readBatch(t, muni, b)
		wantOwner := map[string]string{"accept": "RecyclerMSP", "cancel": "MunicipalityMSP"}[calls[won].who]
		wantHandovers := map[string]int{"accept": 1, "cancel": 0}[calls[won].who]
		if got.Owner != wantOwner || got.Status != model.StatusActive || got.Pending != nil || len(got.Handovers) != wantHandovers {
			t.Errorf("trial %d: %s won but the batch reads owner %s, status %s, pending %v, %d handovers",
				i, calls[won].who, got.Owner, got.Status, got.Pending, len(got.Handovers))
		}
	}
	t.Logf("%d trials: winners {%s}; losers failed with {%s}", trials, wins, losers)
	audit(t)
}
