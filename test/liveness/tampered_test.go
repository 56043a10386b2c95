//go:build e2e

package liveness

import (
	"context"
	"fmt"
	"strings"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/test/internal/rawtx"
)

// craft is one crafted envelope: how it is broken, and the validation code
// every peer must give it (NOT_VALIDATED: any code but VALID, as long as
// every peer gives the same).
type craft struct {
	name string
	want peer.TxValidationCode
	// edit breaks base, an otherwise well-formed transaction of the mtrace
	// chaincode whose read-write set is own, the attacker's registration's
	// own mtrace namespace (the batch's value and its key-level policy).
	edit func(t *testing.T, base *rawtx.Tx, own rawtx.Namespace)
	// rounds is how many times the attack is mounted. Where the
	// peer's verdict depends on Go's map order, one round can miss a
	// broken peer, so the attack is repeated.
	rounds int
}

// mapRounds is how often the two-namespace attacks are mounted. Fabric
// v3.1.1 visits the namespaces a transaction writes in Go map order. The
// chaincode's own comes first in the map, and Go starts a small map's walk
// at a random one of its 8 slots, so an unpatched peer takes the failing
// namespace first, and stops for good, with probability 1/8 per block;
// one of the 4 peers does so with probability 1-(7/8)^4 = 41% per round
// (60% of rounds passed on an unpatched network). Six rounds catch an
// unpatched network 96% of the time; the eight-namespace case below
// catches it in one round (1 - 1/8^4).
const mapRounds = 6

// garbage is bytes that do not parse as any protobuf message: a
// length-delimited field 2 that claims 5 bytes and has 3.
var garbage = []byte("\x12\x05abc")

func crafts() []craft {
	rw := func(t *testing.T, nss ...rawtx.Namespace) []byte {
		raw, err := rawtx.RWSet(nss...)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	write := func(ns string) rawtx.Namespace {
		return rawtx.Namespace{Name: ns, KV: &kvrwset.KVRWSet{Writes: []*kvrwset.KVWrite{{Key: "liveness", Value: []byte("x")}}}}
	}
	return []craft{
		// The control: well formed, but endorsed by no one. The validation
		// plugin runs for it and refuses it, as for any unendorsed write;
		// only the breakage in each case below is new.
		{"well formed but unendorsed", peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, func(*testing.T, *rawtx.Tx, rawtx.Namespace) {}, 1},
		// Rejected by the plugin dispatcher before any validation plugin runs.
		{"bad write set", peer.TxValidationCode_BAD_RWSET, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.Results = garbage
		}, 1},
		{"duplicate namespace", peer.TxValidationCode_ILLEGAL_WRITESET, func(t *testing.T, b *rawtx.Tx, own rawtx.Namespace) {
			b.Results = rw(t, own, own)
		}, 1},
		{"bad header extension", peer.TxValidationCode_BAD_HEADER_EXTENSION, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.Extension = garbage
		}, 1},
		{"chaincode ID of the action differs from the header's", peer.TxValidationCode_INVALID_CHAINCODE, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.ActionCC = &peer.ChaincodeID{Name: "other", Version: b.Version}
		}, 1},
		{"no chaincode version", peer.TxValidationCode_INVALID_CHAINCODE, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.ActionCC = &peer.ChaincodeID{Name: b.Chaincode}
		}, 1},
		{"chaincode event of another chaincode", peer.TxValidationCode_INVALID_OTHER_REASON, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			ev, err := proto.Marshal(&peer.ChaincodeEvent{ChaincodeId: "other", EventName: "x"})
			if err != nil {
				t.Fatal(err)
			}
			b.Events = ev
		}, 1},
		// Several namespaces, one of which fails: Fabric visits them in map
		// order and stops at the first failure.
		{"second namespace of a chaincode that does not exist", peer.TxValidationCode_NOT_VALIDATED, func(t *testing.T, b *rawtx.Tx, own rawtx.Namespace) {
			b.Results = rw(t, own, write("nosuchcc"))
		}, mapRounds},
		{"second namespace _lifecycle", peer.TxValidationCode_NOT_VALIDATED, func(t *testing.T, b *rawtx.Tx, own rawtx.Namespace) {
			b.Results = rw(t, own, write("_lifecycle"))
		}, mapRounds},
		{"seven more namespaces of chaincodes that do not exist", peer.TxValidationCode_NOT_VALIDATED, func(t *testing.T, b *rawtx.Tx, own rawtx.Namespace) {
			nss := []rawtx.Namespace{own}
			for i := 1; i <= 7; i++ {
				nss = append(nss, write(fmt.Sprintf("nosuchcc%d", i)))
			}
			b.Results = rw(t, nss...)
		}, 1},
		// Refused by the committer's first checks, after the key-level
		// validator may already have read the transaction.
		{"transaction ID not derived from nonce and creator", peer.TxValidationCode_BAD_PROPOSAL_TXID, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.TxID = strings.Repeat("ab", 32)
		}, 1},
		{"proposal hash that does not match", peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.ProposalHash = make([]byte, 32)
		}, 1},
		{"endorser transaction with no actions", peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.NoActions = true
		}, 1},
		{"payload data that is not a transaction", peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.Data = garbage
		}, 1},
		{"action payload that does not parse", peer.TxValidationCode_INVALID_ENDORSER_TRANSACTION, func(t *testing.T, b *rawtx.Tx, _ rawtx.Namespace) {
			b.ActionPayload = garbage
		}, 1},
	}
}

// TestCraftedEnvelopes: the attacker registers a batch of its own, then
// builds an endorser transaction by hand, signed with its own client key
// and carrying no endorsement, broken in one place, and sends it straight
// to an orderer, followed on the same stream by an OfferTransfer of that
// batch that it endorsed normally (a write under the key-level policy the
// registration set). Wherever the crafted transaction carries a
// read-write set, it is the registration's own, so it writes the batch's
// key-level policy: the offer's validation depends on it. Each crafted
// transaction must be invalid with the same code on every peer, the offer
// valid, and the network must go on committing.
func TestCraftedEnvelopes(t *testing.T) {
	committing(t)
	m := newMember(t, attacker)
	for i, c := range crafts() {
		t.Run(c.name, func(t *testing.T) {
			for range c.rounds {
				mountCraft(t, m, i, c)
			}
		})
	}
}

// mountCraft mounts one crafted envelope beside an honest offer and checks
// what follows.
func mountCraft(t *testing.T, m *member, i int, c craft) {
	t.Helper()
	committing(t)
	logs := logMarks()
	p, l := m.mount(t, c.name, func(try int) pair {
		b := id(fmt.Sprintf("craft-%d-%d", i, try))
		reg := m.register(t, b)
		settle(t, c.name)
		parsed, err := rawtx.Parse(m.committedEnvelope(t, reg))
		if err != nil {
			t.Fatal(err)
		}
		nss, err := rawtx.Namespaces(parsed.Results)
		if err != nil {
			t.Fatal(err)
		}
		own, ok := rawtx.Find(nss, m.profile.Chaincode)
		if !ok || len(own.KV.GetMetadataWrites()) == 0 {
			t.Fatalf("the registration of %s writes no key-level policy in namespace %s: the attack has nothing to hold up", b, m.profile.Chaincode)
		}
		base := &rawtx.Tx{Channel: m.profile.Channel, Chaincode: m.profile.Chaincode, Version: parsed.Version}
		if base.Results, err = rawtx.RWSet(own); err != nil {
			t.Fatal(err)
		}
		c.edit(t, base, own)
		attack, attackTx, err := base.Build(m.signer)
		if err != nil {
			t.Fatal(err)
		}
		offer, offerTx := m.endorsed(t, "OfferTransfer", b, "RecyclerMSP")
		return pair{attack: attack, attackTx: attackTx, honest: offer, honestTx: offerTx}
	})
	after(t, m, c.name, p, l, logs, c.want)
}

// TestUnparsablePayloadRefused: an envelope whose payload does not parse
// at all names no channel; the orderer must refuse it, so it never reaches
// a block.
func TestUnparsablePayloadRefused(t *testing.T) {
	m := newMember(t, attacker)
	e, err := m.signer.Envelope(garbage)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ordered)
	defer cancel()
	resp, err := m.orderer.Broadcast(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if resp[0].Status == cb.Status_SUCCESS {
		t.Fatalf("the orderer accepted an envelope whose payload does not parse")
	}
	t.Logf("an envelope whose payload does not parse: the orderer answered %s (%s)", resp[0].Status, resp[0].Info)
}
