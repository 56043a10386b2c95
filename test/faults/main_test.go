//go:build e2e

// Package faults runs mtrace's reliability tests against the live network:
// nodes killed under load, racing clients, hostile participants and
// malformed calls. Every test leaves the network as it found it (all nodes
// running and caught up), because `make test` runs the other end-to-end
// packages on the same network.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// env is the live network; TestMain refuses to run without one.
var env *testnet.Env

// run makes ids unique to this run of the package.
var run = fmt.Sprintf("f%d", time.Now().UnixMilli()%100_000_000)

// peers are the four member organisations' profiles, one peer each.
var peers = testnet.Peers

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "faults", &env) }

// id returns a batch id unique to this run.
func id(name string) string { return run + "-" + name }

// contract opens a gateway connection as profile and returns the mtrace
// contract on it; the connection closes when the test ends.
func contract(t testing.TB, profile string, opts ...client.ConnectOption) *client.Contract {
	t.Helper()
	gw, done, err := env.Gateway(profile, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", profile, err)
	}
	t.Cleanup(done)
	p := env.Profiles[profile]
	c := gw.GetNetwork(p.Channel).GetContract(p.Chaincode)
	gateways.Store(c, gw)
	return c
}

// gateways maps each contract that contract made to its gateway, which
// submit needs to ask for a commit status by transaction id.
var gateways sync.Map

// alreadyProcessed reports whether a submit failed only because orderers
// answered that they had already ordered the transaction ("request
// already processed"), which Fabric v3.1.1's gateway counts as a failure
// under BFT although the transaction is in a block. The mtrace client
// (client/internal/ledger) then asks for the commit status; so does
// submit, so that the tests see what the CLI's users see.
func alreadyProcessed(err error) bool {
	var se *client.SubmitError
	st, ok := status.FromError(err)
	if !errors.As(err, &se) || !ok || st.Code() != codes.Unavailable || len(st.Details()) == 0 {
		return false
	}
	for _, d := range st.Details() {
		ed, ok := d.(*gateway.ErrorDetail)
		if !ok || !strings.Contains(ed.GetMessage(), "request already processed") {
			return false
		}
	}
	return true
}

// commitOf is the commit of transaction tx on c's channel, made through
// c's gateway.
func commitOf(c *client.Contract, tx string) (*client.Commit, error) {
	v, ok := gateways.Load(c)
	if !ok {
		return nil, errors.New("no gateway recorded for the contract")
	}
	gw := v.(*client.Gateway)
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: gw.Identity().MspID(), IdBytes: gw.Identity().Credentials()})
	if err != nil {
		return nil, err
	}
	req, err := proto.Marshal(&gateway.CommitStatusRequest{ChannelId: env.Channel(), TransactionId: tx, Identity: creator})
	if err != nil {
		return nil, err
	}
	raw, err := proto.Marshal(&gateway.SignedCommitStatusRequest{Request: req})
	if err != nil {
		return nil, err
	}
	return gw.NewCommit(raw)
}

// invalidTx is a transaction that was ordered but failed validation.
type invalidTx struct {
	tx   string
	code peer.TxValidationCode
}

func (e *invalidTx) Error() string {
	return fmt.Sprintf("transaction %s failed to commit with status code %d (%s)", e.tx, int32(e.code), e.code)
}

// submit endorses, orders and waits for the commit of one transaction,
// step by step, so that the caller learns the transaction id whatever
// happens. A commit that fails validation returns *invalidTx.
func submit(c *client.Contract, name string, args []string, opts ...client.ProposalOption) (string, []byte, error) {
	p, err := c.NewProposal(name, append([]client.ProposalOption{client.WithArguments(args...)}, opts...)...)
	if err != nil {
		return "", nil, err
	}
	tx := p.TransactionID()
	endorsed, err := p.Endorse()
	if err != nil {
		return tx, nil, err
	}
	commit, err := endorsed.Submit()
	if err != nil && alreadyProcessed(err) {
		commit, err = commitOf(c, tx)
	}
	if err != nil {
		return tx, nil, err
	}
	st, err := commit.Status()
	if err != nil {
		return tx, nil, err
	}
	if !st.Successful {
		return tx, nil, &invalidTx{tx: tx, code: st.Code}
	}
	return tx, endorsed.Result(), nil
}

// class names the stage at which a call failed and how: "ok",
// "endorse/Aborted", "submit/Unavailable", "commit-status/DeadlineExceeded",
// "commit/MVCC_READ_CONFLICT", or "other".
func class(err error) string {
	var (
		end *client.EndorseError
		sub *client.SubmitError
		cse *client.CommitStatusError
		inv *invalidTx
		com *client.CommitError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &inv):
		return "commit/" + inv.code.String()
	case errors.As(err, &com):
		return "commit/" + com.Code.String()
	case errors.As(err, &end):
		return "endorse/" + status.Code(err).String()
	case errors.As(err, &sub):
		return "submit/" + status.Code(err).String()
	case errors.As(err, &cse):
		return "commit-status/" + status.Code(err).String()
	}
	return "other"
}

// counts tallies classes and renders them sorted, for t.Logf.
type counts map[string]int

func (c counts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, c[k])
	}
	return strings.Join(parts, " ")
}

// registerArgs is a valid RegisterRequest for a PET collection of grams.
func registerArgs(batchID string, grams int64) []string {
	req := model.RegisterRequest{
		ID: batchID, Material: model.Material("PET"), WasteCode: "15 01 02", Mass: model.Grams(grams),
		Location: "Kartal, Istanbul", CollectedAt: "2026-11-21T08:00:00+03:00",
	}
	raw, _ := json.Marshal(req)
	return []string{string(raw)}
}

// mustSubmit submits a transaction that must commit. Like the CLI, it
// tries again (up to three times) when the transaction lost a race and
// wrote nothing: a read conflict, or endorsers at different heights.
func mustSubmit(t testing.TB, c *client.Contract, name string, args ...string) []byte {
	t.Helper()
	_, res, err := submit(c, name, args)
	for try := 0; try < 3 && err != nil && conflict(class(err), testnet.Message(err)); try++ {
		time.Sleep(100 * time.Millisecond << try)
		_, res, err = submit(c, name, args)
	}
	if err != nil {
		t.Fatalf("%s %v: %s: %s", name, clipArgs(args), class(err), testnet.Message(err))
	}
	return res
}

// readBatch evaluates ReadBatch; ok is false when the batch does not exist.
func readBatch(t testing.TB, c *client.Contract, batchID string) (model.Batch, bool) {
	t.Helper()
	b, found, err := lookup(c, batchID)
	if err != nil {
		t.Fatal(err)
	}
	return b, found
}

// lookup is readBatch for goroutines other than the test's own.
func lookup(c *client.Contract, batchID string) (model.Batch, bool, error) {
	var b model.Batch
	raw, err := c.EvaluateTransaction("ReadBatch", batchID)
	if err != nil {
		if strings.Contains(testnet.Message(err), "not found") {
			return b, false, nil
		}
		return b, false, fmt.Errorf("ReadBatch %s: %s", batchID, testnet.Message(err))
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, false, fmt.Errorf("decode batch %s: %w", batchID, err)
	}
	return b, true, nil
}

// txStatus looks a transaction up in the ledger of the municipality's
// peer: "absent" when it was never ordered, else its validation code.
func txStatus(c *client.Contract, tx string) (string, error) {
	raw, err := c.EvaluateTransaction("GetTransactionByID", env.Channel(), tx)
	if err != nil {
		if strings.Contains(testnet.Message(err), "no such transaction") {
			return "absent", nil
		}
		return "", fmt.Errorf("GetTransactionByID %s: %s", tx, testnet.Message(err))
	}
	var pt peer.ProcessedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		return "", fmt.Errorf("decode transaction %s: %w", tx, err)
	}
	return peer.TxValidationCode(pt.GetValidationCode()).String(), nil
}

// atRecycler registers a batch as the municipality and hands it to the
// recycler, who accepts all of it.
func atRecycler(t testing.TB, muni, rec *client.Contract, batchID string, grams int64) {
	t.Helper()
	mustSubmit(t, muni, "RegisterBatch", registerArgs(batchID, grams)...)
	mustSubmit(t, muni, "OfferTransfer", batchID, "RecyclerMSP")
	settle(t)
	mustSubmit(t, rec, "AcceptTransfer", batchID, "0")
}

// settle waits until every peer has committed what the last transaction's
// client saw committed. A commit status comes from the client's own peer;
// another organisation's peer may still be a block behind, and a client of
// that organisation acting at once would endorse on the older state.
func settle(t testing.TB) { t.Helper(); agreed(t, 30*time.Second) }

// audit runs `mtrace audit`, which must find every ledger-wide invariant
// holding.
func audit(t testing.TB) {
	t.Helper()
	r := env.Run(t, "auditor", "audit")
	if r.Code != 0 {
		t.Fatalf("audit found violations:\n%s", r)
	}
}

// agreed waits until all four peers report the same height and returns it.
func agreed(t testing.TB, timeout time.Duration) uint64 {
	t.Helper()
	h, err := env.Agreed(timeout, 0)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// parallel runs f(i) for i in [0, n) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// clipArgs shortens arguments for messages (some are a megabyte long).
func clipArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 {
			a = fmt.Sprintf("%s...(%d bytes)", a[:60], len(a))
		}
		out[i] = a
	}
	return out
}
