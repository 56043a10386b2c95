//go:build e2e

package liveness

import (
	"bytes"
	"fmt"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// TestReplayedRegistration: the attacker takes one of its own committed
// registrations from its own peer (qscc GetBlockByTxID), exactly as
// stored, and sends those bytes straight to an orderer, followed on the
// same stream by an OfferTransfer of the same batch that it endorsed
// normally. The orderers order the copy (it carries its creator's valid
// signature, and they keep no record of committed IDs), so the copy and
// the offer share a block, copy first. The registration set the batch
// key's key-level policy, so the offer's validation depends on the copy's.
// The copy must be DUPLICATE_TXID on every peer, the offer valid, and the
// network must go on committing.
func TestReplayedRegistration(t *testing.T) {
	const name = "replayed registration"
	committing(t)
	m := newMember(t, attacker)
	logs := logMarks()
	var original string
	p, l := m.mount(t, name, func(try int) pair {
		b := id(fmt.Sprintf("replay-%d", try))
		original = m.register(t, b)
		settle(t, name)
		raw := m.committedEnvelope(t, original)
		var copied cb.Envelope
		if err := proto.Unmarshal(raw, &copied); err != nil {
			t.Fatal(err)
		}
		// What goes on the wire is the stored envelope, byte for byte.
		if again, err := proto.Marshal(&copied); err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("the copy of %s would not go out as the stored bytes (%v)", original, err)
		}
		offer, offerTx := m.endorsed(t, "OfferTransfer", b, "RecyclerMSP")
		return pair{attack: &copied, attackTx: original, honest: offer, honestTx: offerTx}
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
