//go:build e2e

// Package liveness attacks the live network's ability to keep committing,
// as a hostile member would: it replays one of its own committed
// transactions and sends envelopes it crafted and signed with its own
// client key straight to an orderer (no peer, no endorsement), each
// followed in the same block by an honest write that the attack could
// hold up. After each attack, the test requires that every peer gets past
// the block, that the attack transaction is invalid with the same code on
// every peer and the honest write valid, that a new registration commits,
// that every peer is at the same height with the same commit hash, and
// that no peer panicked.
//
// On an unpatched Fabric v3.1.1 peer, most of these attacks halt the peers
// for good (README.md has what each does there): the first test that halts
// the network fails, and the tests after it that need a committing network
// fail at once rather than wait on one that no longer commits.
package liveness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/rawtx"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// The bounds of every wait. The network commits a transaction in well
// under a second; these are generous, never timing assertions.
const (
	ordered   = 30 * time.Second // both envelopes reach a block on the orderers
	committed = 30 * time.Second // every peer gets past a block
	attempts  = 3                // tries to get the attack and the honest write into one block
)

// attacker is the member organisation that mounts the attacks.
const attacker = "municipality"

var (
	env *testnet.Env
	// run makes batch ids unique to this run of the package.
	run = fmt.Sprintf("l%d", time.Now().UnixMilli()%100_000_000)
	// halted names the attack after which the network stopped committing;
	// later tests fail at once.
	halted string
)

func TestMain(m *testing.M) { harness.Main(m, "liveness", &env) }

// serial numbers the ids, so that a test run again in the same process
// (-count) makes new batches.
var serial atomic.Int64

// id returns a batch id unique to this process.
func id(name string) string { return fmt.Sprintf("%s-%d-%s", run, serial.Add(1), name) }

// member is the attacker's means: its gateway contract (for the honest
// transactions it endorses normally), its client signing identity and a
// connection to an orderer, made with the TLS client certificate its
// organisation's TLS CA gave it.
type member struct {
	profile  testnet.Profile
	contract *client.Contract
	signer   *rawtx.Signer
	orderer  *rawtx.Orderer
}

func newMember(t *testing.T, profile string) *member {
	t.Helper()
	p, ok := env.Profiles[profile]
	if !ok {
		t.Fatalf("no profile %s", profile)
	}
	gw, done, err := env.Gateway(profile, client.WithCommitStatusTimeout(committed))
	if err != nil {
		t.Fatalf("connect as %s: %v", profile, err)
	}
	t.Cleanup(done)
	s, err := rawtx.LoadSigner(p.MSPID, p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if p.Orderer.Endpoint == "" {
		t.Fatalf("profile %s has no orderer section", profile)
	}
	cert, key := p.ClientTLS()
	// The attacker sends to the orderer that leads the consensus, as the
	// profiles of its organisation name it: Fabric v3.1.1's SmartBFT can
	// leave a follower that accepts requests but no longer orders them,
	// nor receives blocks (docs/design/2026-12-06-bft-ordering.md).
	ord := leaderOrderer(t)
	o, err := rawtx.Dial(ord.Endpoint, rawtx.TLS{
		Root: ord.TLSRootCert, ServerName: ord.ServerName, ClientCert: cert, ClientKey: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return &member{profile: p, contract: gw.GetNetwork(p.Channel).GetContract(p.Chaincode), signer: s, orderer: o}
}

// committing fails the test at once when an earlier attack halted the
// network: an attack on a network that no longer commits proves nothing.
func committing(t *testing.T) {
	t.Helper()
	if halted != "" {
		t.Fatalf("the network stopped committing after %s; this attack cannot be mounted", halted)
	}
}

// submit endorses, orders and waits for one transaction through the
// gateway, and returns its ID and the block it committed in.
func (m *member) submit(name string, args ...string) (string, uint64, error) {
	p, err := m.contract.NewProposal(name, client.WithArguments(args...))
	if err != nil {
		return "", 0, err
	}
	tx, err := p.Endorse()
	if err != nil {
		return p.TransactionID(), 0, fmt.Errorf("endorse %s: %s", name, testnet.Message(err))
	}
	c, err := tx.Submit()
	if err != nil {
		return p.TransactionID(), 0, fmt.Errorf("submit %s: %s", name, testnet.Message(err))
	}
	st, err := c.Status()
	if err != nil {
		return p.TransactionID(), 0, fmt.Errorf("commit status of %s: %s", name, testnet.Message(err))
	}
	if !st.Successful {
		return p.TransactionID(), st.BlockNumber, fmt.Errorf("%s %s committed invalid: %s", name, p.TransactionID(), st.Code)
	}
	return p.TransactionID(), st.BlockNumber, nil
}

// register registers a fresh batch of the attacker's own and returns the
// registration's transaction ID.
func (m *member) register(t *testing.T, batchID string) string {
	t.Helper()
	tx, _, err := m.submit("RegisterBatch", registerArgs(batchID))
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func registerArgs(batchID string) string {
	return fmt.Sprintf(`{"id":%q,"material":"PET","wasteCode":"15 01 02","mass":%d,"location":"Kartal, Istanbul","collectedAt":"2026-11-21T08:00:00+03:00"}`,
		batchID, model.Grams(1000))
}

// endorsed is an honest transaction, endorsed as the gateway endorses it
// (so that it satisfies every key-level policy), signed by the member and
// not yet sent anywhere.
func (m *member) endorsed(t *testing.T, name string, args ...string) (*cb.Envelope, string) {
	t.Helper()
	p, err := m.contract.NewProposal(name, client.WithArguments(args...))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.Endorse()
	if err != nil {
		t.Fatalf("endorse %s: %s", name, testnet.Message(err))
	}
	raw, err := tx.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var prepared gateway.PreparedTransaction
	if err := proto.Unmarshal(raw, &prepared); err != nil {
		t.Fatal(err)
	}
	e := prepared.GetEnvelope()
	if e.Signature, err = m.signer.Sign(e.Payload); err != nil {
		t.Fatal(err)
	}
	return e, tx.TransactionID()
}

// committedEnvelope is the attacker's copy of a committed transaction: the
// exact bytes its own peer stores, fetched with qscc GetBlockByTxID.
func (m *member) committedEnvelope(t *testing.T, txID string) []byte {
	t.Helper()
	b, err := env.BlockByTxID(attacker, txID)
	if err != nil {
		t.Fatal(err)
	}
	i := rawtx.Index(b, txID)
	if i < 0 {
		t.Fatalf("block %d, which the peer names for %s, does not hold it", b.GetHeader().GetNumber(), txID)
	}
	return b.Data.Data[i]
}

// pair is an attack and the honest write that must commit after it in
// the same block.
type pair struct {
	attack, honest     *cb.Envelope
	attackTx, honestTx string
}

// landing is where a pair was ordered.
type landing struct {
	block          uint64
	attack, honest int // positions in the block
}

// mount sends the attack and then the honest write to the orderer on one
// stream and finds the block that holds them. prepare makes a fresh pair
// (on a fresh batch) for each try; a try whose two transactions the
// orderers put into different blocks is harmless and is tried again.
func (m *member) mount(t *testing.T, name string, prepare func(try int) pair) (pair, landing) {
	t.Helper()
	for try := 1; try <= attempts; try++ {
		p := prepare(try)
		from, err := env.Height(attacker)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), ordered)
		resp, err := m.orderer.Broadcast(ctx, p.attack, p.honest)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, r := range resp {
			if r.Status != cb.Status_SUCCESS {
				t.Fatalf("%s: the orderer refused envelope %d of 2 (%s: %s); the attack needs it ordered", name, i+1, r.Status, r.Info)
			}
		}
		l, err := m.find(from, p.attackTx, p.honestTx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if l.attack >= 0 && l.honest > l.attack {
			t.Logf("%s: attack %s and honest write %s ordered together in block %d at positions %d and %d (try %d)",
				name, short(p.attackTx), short(p.honestTx), l.block, l.attack, l.honest, try)
			return p, l
		}
		t.Logf("%s, try %d: the orderers put the two transactions into different blocks; trying again", name, try)
		// Harmless apart, but let every peer catch up before the next try.
		settle(t, name)
	}
	t.Fatalf("%s: in %d tries the orderers never put the attack and the honest write into one block", name, attempts)
	return pair{}, landing{}
}

// find reads blocks from the orderer, from number from on, until it has
// seen both transactions, and says where they are. attack is -1 when the
// honest write came in a block without the attack.
func (m *member) find(from uint64, attackTx, honestTx string) (landing, error) {
	l := landing{attack: -1, honest: -1}
	seen := false
	ctx, cancel := context.WithTimeout(context.Background(), ordered)
	defer cancel()
	err := m.orderer.Blocks(ctx, m.signer, m.profile.Channel, from, func(b *cb.Block) bool {
		a, h := rawtx.Index(b, attackTx), rawtx.Index(b, honestTx)
		switch {
		case h >= 0:
			l.block, l.honest = b.Header.Number, h
			if a >= 0 {
				l.attack = a
			}
			return false
		case a >= 0:
			seen = true
		}
		return true
	})
	if err != nil {
		return l, fmt.Errorf("the orderer's blocks from %d hold no honest write %s (attack seen: %v): %w", from, short(honestTx), seen, err)
	}
	return l, nil
}

// after is the check that follows every attack: the network still
// commits, and every peer reached the same verdict and the same state.
// want is the attack's required validation code, or NOT_VALIDATED for
// "any code but VALID, the same on every peer".
func after(t *testing.T, m *member, name string, p pair, l landing, logs map[string]int64, want peer.TxValidationCode) {
	t.Helper()
	// Every peer gets past the attack block.
	if _, err := level(l.block + 1); err != nil {
		halt(t, name, l, logs, err)
	}
	// The verdicts: the attack invalid, the honest write valid, the same
	// on every peer.
	var codes []string
	var ref []peer.TxValidationCode
	for _, pr := range testnet.Peers {
		b, err := env.Block(pr, l.block)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := rawtx.Codes(b)
		if err != nil {
			t.Fatalf("block %d on %s's peer: %v", l.block, pr, err)
		}
		a, h := cs[l.attack], cs[l.honest]
		codes = append(codes, fmt.Sprintf("%s: attack %s, honest %s", pr, a, h))
		switch {
		case a == peer.TxValidationCode_VALID:
			t.Errorf("%s: %s's peer marked the attack transaction VALID", name, pr)
		case want != peer.TxValidationCode_NOT_VALIDATED && a != want:
			t.Errorf("%s: %s's peer marked the attack %s, want %s", name, pr, a, want)
		}
		if h != peer.TxValidationCode_VALID {
			t.Errorf("%s: %s's peer marked the honest write %s %s: the attack took it down with it", name, pr, short(p.honestTx), h)
		}
		if ref == nil {
			ref = cs
		} else if !equalCodes(ref, cs) {
			t.Errorf("%s: the peers disagree on block %d: %s has %v, %s has %v", name, l.block, testnet.Peers[0], ref, pr, cs)
		}
	}
	t.Logf("%s: block %d verdicts: %s", name, l.block, strings.Join(codes, "; "))

	// A new registration commits.
	fresh := id(fmt.Sprintf("after-%d", l.block))
	_, at, err := m.submit("RegisterBatch", registerArgs(fresh))
	if err != nil {
		halt(t, name, l, logs, fmt.Errorf("a new registration after the attack: %w", err))
	}
	// Every peer has it, and every peer's commit hash of that block is the
	// same (it chains over every earlier block's valid writes).
	h, err := level(at + 1)
	if err != nil {
		halt(t, name, l, logs, err)
	}
	var first []byte
	var hashes []string
	for _, pr := range testnet.Peers {
		b, err := env.Block(pr, h-1)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := rawtx.CommitHash(b)
		if err != nil {
			t.Fatalf("%s's peer: %v", pr, err)
		}
		hashes = append(hashes, fmt.Sprintf("%s %x", pr, ch[:6]))
		if first == nil {
			first = ch
		} else if !bytes.Equal(first, ch) {
			t.Errorf("%s: commit hash of block %d differs between peers: %s", name, h-1, strings.Join(hashes, ", "))
		}
	}
	t.Logf("%s: registration %s committed in block %d; all peers at height %d, commit hash %s", name, fresh, at, h, strings.Join(hashes, ", "))
	noPanic(t, name, logs)
}

// halt reports a network that stopped committing, with what the peers
// show, and fails every later test at once.
func halt(t *testing.T, name string, l landing, logs map[string]int64, cause error) {
	t.Helper()
	halted = name
	var diag []string
	for _, pr := range testnet.Peers {
		pid, err := env.PID(pr)
		alive := err == nil && testnet.Alive(pid)
		h, herr := testnet.Metric(pr, "ledger_blockchain_height", env.Channel())
		hs := fmt.Sprint(h)
		if herr != nil {
			hs = "unknown (" + testnet.OneLine(herr.Error(), 80) + ")"
		}
		diag = append(diag, fmt.Sprintf("%s: process alive %v, height %s, log since the attack: %s", pr, alive, hs,
			strings.Join(grepLog(pr, logs[pr], `(?i)panic|txvalidator|plugindispatcher|statebased|Validated block \[`+fmt.Sprint(l.block)+`\]`), " | ")))
	}
	t.Fatalf("%s: the network stopped committing after block %d was ordered: %v\n%s", name, l.block, cause, strings.Join(diag, "\n"))
}

// settle waits until every peer is level, or reports a halted network.
func settle(t *testing.T, name string) {
	t.Helper()
	if _, err := level(0); err != nil {
		halted = name
		t.Fatalf("%s: peers not level: %v", name, err)
	}
}

// level waits, at most committed, until every peer is at the same height,
// at least min, and returns it. It reads the heights from the peers'
// operations endpoints (ledger_blockchain_height), which answer whatever
// state the peer's committer is in.
func level(min uint64) (uint64, error) {
	var h uint64
	err := testnet.Eventually(committed, 200*time.Millisecond, func() error {
		hs := map[string]uint64{}
		for _, pr := range testnet.Peers {
			v, err := testnet.Metric(pr, "ledger_blockchain_height", env.Channel())
			if err != nil {
				return fmt.Errorf("height of %s's peer: %w", pr, err)
			}
			hs[pr] = uint64(v)
		}
		h = hs[testnet.Peers[0]]
		for _, v := range hs {
			if v != h || v < min {
				return fmt.Errorf("peer heights differ or lag: %v (want all >= %d)", hs, min)
			}
		}
		return nil
	})
	return h, err
}

// logMarks is where each peer's log ends now.
func logMarks() map[string]int64 {
	m := map[string]int64{}
	for _, pr := range testnet.Peers {
		if fi, err := os.Stat(peerLog(pr)); err == nil {
			m[pr] = fi.Size()
		}
	}
	return m
}

// ansi matches the colour codes of Fabric's log lines.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func peerLog(profile string) string { return filepath.Join(env.Home, "logs", profile+".log") }

// grepLog returns the lines of a peer's log written after offset that
// match pattern (at most a few, shortened).
func grepLog(profile string, offset int64, pattern string) []string {
	raw, err := os.ReadFile(peerLog(profile))
	if err != nil {
		return []string{err.Error()}
	}
	if offset > int64(len(raw)) {
		offset = 0
	}
	re := regexp.MustCompile(pattern)
	var out []string
	for _, line := range strings.Split(string(raw[offset:]), "\n") {
		line = ansi.ReplaceAllString(line, "")
		if re.MatchString(line) {
			out = append(out, testnet.OneLine(line, 200))
		}
	}
	if len(out) > 6 {
		out = append(out[:6], fmt.Sprintf("(%d more)", len(out)-6))
	}
	return out
}

// noPanic requires that no peer logged a panic since the marks and that
// every peer process still runs.
func noPanic(t *testing.T, name string, logs map[string]int64) {
	t.Helper()
	for _, pr := range testnet.Peers {
		if lines := grepLog(pr, logs[pr], `(?i)panic`); len(lines) > 0 {
			t.Errorf("%s: %s's peer logged a panic: %s", name, pr, strings.Join(lines, " | "))
		}
		pid, err := env.PID(pr)
		if err != nil || !testnet.Alive(pid) {
			t.Errorf("%s: %s's peer process (PID %d) is gone: %v", name, pr, pid, err)
		}
	}
}

func equalCodes(a, b []peer.TxValidationCode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func short(tx string) string {
	if len(tx) > 12 {
		return tx[:12]
	}
	return tx
}

// leaderOrderer is the orderer section of the profile of the organisation
// whose orderer reports itself leader of the channel's consensus.
func leaderOrderer(t *testing.T) (o struct{ Endpoint, TLSRootCert, ServerName string }) {
	t.Helper()
	err := testnet.Eventually(30*time.Second, 200*time.Millisecond, func() error {
		for _, n := range testnet.Orderers {
			if v, err := testnet.Metric(n, "consensus_BFT_is_leader", env.Channel()); err == nil && v == 1 {
				p := env.Profiles[strings.TrimSuffix(n, "-orderer")].Orderer
				o.Endpoint, o.TLSRootCert, o.ServerName = p.Endpoint, p.TLSRootCert, p.ServerName
				return nil
			}
		}
		return fmt.Errorf("no orderer reports itself leader")
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
