//go:build e2e

package liveness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// TestReplayedRegistration: the attacker takes one of its own committed
// registrations from its own peer (qscc GetBlockByTxID), exactly as
// stored, and sends those bytes straight to an orderer, followed on the
// same stream by an OfferTransfer of the same batch that it endorsed
// normally. The registration set the batch key's key-level policy, so the
// offer's validation depends on the copy's. The copy must be
// DUPLICATE_TXID on every peer, the offer valid, and the network must go
// on committing.
//
// The SmartBFT orderers remember the last 1000 requests they ordered and
// refuse a copy of one of those ("request already processed"); the test
// checks that first. They keep no record of older ones, and the copy
// carries its creator's valid signature, so the attacker waits until
// more than 1000 other transactions have been ordered (here: it imports
// 1200 collection tickets of its own) and the copy is ordered.
func TestReplayedRegistration(t *testing.T) {
	const name = "replayed registration"
	committing(t)
	m := newMember(t, attacker)
	batches := make([]string, attempts)
	originals := make([]string, attempts)
	for i := range batches {
		batches[i] = id(fmt.Sprintf("replay-%d", i+1))
		originals[i] = m.register(t, batches[i])
	}
	settle(t, name)
	fresh := copyOf(t, m, originals[0])
	ctx, cancel := context.WithTimeout(context.Background(), ordered)
	resp, err := m.orderer.Broadcast(ctx, fresh)
	cancel()
	if err != nil {
		t.Fatalf("%s: broadcast of a fresh copy: %v", name, err)
	}
	if r := resp[0]; r.Status != cb.Status_SERVICE_UNAVAILABLE || !strings.Contains(r.Info, "request already processed") {
		t.Fatalf("%s: the orderer answered a copy of a transaction it has just ordered with %s (%s), want SERVICE_UNAVAILABLE, request already processed", name, r.Status, r.Info)
	}
	t.Logf("%s: the orderer refuses a copy of a transaction it ordered a moment ago: %s %s", name, resp[0].Status, resp[0].Info)
	forget(t, name)
	logs := logMarks()
	var original string
	p, l := m.mount(t, name, func(try int) pair {
		b := batches[try-1]
		original = originals[try-1]
		copied := copyOf(t, m, original)
		offer, offerTx := m.endorsed(t, "OfferTransfer", b, "RecyclerMSP")
		return pair{attack: copied, attackTx: original, honest: offer, honestTx: offerTx}
	})
	// The copy is a second transaction with the original's ID in a later
	// block: the original's block is another one.
	ob, err := env.BlockByTxID(attacker, original)
	if err != nil {
		t.Fatal(err)
	}
	if ob.Header.Number == l.block {
		t.Fatalf("the copy landed in the original's block %d", l.block)
	}
	after(t, m, name, p, l, logs, peer.TxValidationCode_DUPLICATE_TXID)
}

// copyOf is the committed envelope of txID as the attacker's peer stores
// it, checked to go out byte for byte.
func copyOf(t *testing.T, m *member, txID string) *cb.Envelope {
	t.Helper()
	raw := m.committedEnvelope(t, txID)
	var copied cb.Envelope
	if err := proto.Unmarshal(raw, &copied); err != nil {
		t.Fatal(err)
	}
	// What goes on the wire is the stored envelope, byte for byte.
	if again, err := proto.Marshal(&copied); err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("the copy of %s would not go out as the stored bytes (%v)", txID, err)
	}
	return &copied
}

// forget has more than 1000 other transactions ordered, the most a
// SmartBFT orderer remembers as processed: the attacker imports 1200
// collection tickets of its own. An orderer trims its memory to the last
// 1000 every 5 s, so forget waits that long too.
func forget(t *testing.T, name string) {
	t.Helper()
	const tickets = 1200
	var sb strings.Builder
	sb.WriteString("id,material,mass,location,collected_at,waste_code\n")
	for i := 0; i < tickets; i++ {
		fmt.Fprintf(&sb, "%s,PET,%dkg,\"Kadıköy, Istanbul\",2026-11-21T08:%02d:00+03:00,15 01 02\n",
			id(fmt.Sprintf("flush-%04d", i)), 10+i, i%60)
	}
	file := filepath.Join(t.TempDir(), "flush.csv")
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := env.Run(t, attacker, "batch", "import", file)
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, fmt.Sprintf("registered %d", tickets)) {
		t.Fatalf("%s: importing %d tickets to flush the orderers' memory: exit %d\n%s%s", name, tickets, r.Code, r.Stdout, r.Stderr)
	}
	settle(t, name)
	time.Sleep(6 * time.Second)
}
