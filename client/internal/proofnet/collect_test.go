package proofnet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// network is the caller's identity, the peers it may ask, and the config
// file that names them.
type network struct {
	dir        string
	cert, key  string
	client     *ecdsa.PublicKey
	rec        *proof.Proof
	own, other *fakePeer
}

// replay answers as the peer of msp with the signed records of the
// recorded proof's organisation i, and for a block's validity a payload
// that names the block and the organisation.
func (n *network) replay(i int, msp string) func(q question, _ int) (*peer.ProposalResponse, error) {
	return func(q question, _ int) (*peer.ProposalResponse, error) {
		switch {
		case q.Chaincode == "mtrace" && len(q.Args) == 2 && q.Args[0] == api.Evidence:
			return signed(msp, n.rec.State[i].Payload), nil
		case q.Chaincode == "qscc" && len(q.Args) == 3 && q.Args[0] == "GetBlockByNumber":
			return signed(msp, validityOf(q.Args[2], msp)), nil
		}
		return failed(fmt.Sprintf("unexpected question %v", q)), nil
	}
}

func validityOf(block, msp string) []byte {
	return []byte("block " + block + " as " + msp + " signs it")
}

// newNetwork starts the own organisation's peer and another's, both
// replaying the recorded proof name unless told otherwise.
func newNetwork(t *testing.T, name string) *network {
	t.Helper()
	n := &network{dir: t.TempDir(), rec: recorded(t, name)}
	cert, key, client := identityFiles(t, n.dir, "caller")
	n.cert, n.key, n.client = cert, key, client
	n.own = startPeer(t, n.dir, "MakerMSP", "peer0.maker.test", client, n.replay(0, "MakerMSP"))
	n.other = startPeer(t, n.dir, "RecyclerMSP", "peer0.recycler.test", client, n.replay(1, "RecyclerMSP"))
	return n
}

// profile is one entry of the config file.
type profile struct {
	name, msp, endpoint, tlsRoot, serverName, channel string
}

func (n *network) entry(p *fakePeer, name string) profile {
	return profile{name: name, msp: p.msp, endpoint: p.endpoint, tlsRoot: p.tlsRoot,
		serverName: "peer0." + strings.ToLower(strings.TrimSuffix(p.msp, "MSP")) + ".test", channel: n.rec.Channel}
}

// config writes a config file with the profiles and returns the first.
func (n *network) config(t *testing.T, ps ...profile) *config.Profile {
	t.Helper()
	var b strings.Builder
	b.WriteString("profiles:\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s:\n    endpoint: %s\n    tlsRootCert: %s\n    serverName: %s\n    mspId: %s\n    cert: %s\n    key: %s\n    channel: %s\n",
			p.name, p.endpoint, p.tlsRoot, p.serverName, p.msp, n.cert, n.key, p.channel)
	}
	path := filepath.Join(n.dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	f, err := config.Load(path)
	require.NoError(t, err)
	own, err := f.Profile(ps[0].name)
	require.NoError(t, err)
	return own
}

// collector connects as the own peer's profile to the own and the other
// peer.
func (n *network) collector(t *testing.T, l *ledgertest.Fake) *Collector {
	t.Helper()
	c, err := NewCollector(l, n.config(t, n.entry(n.own, "maker"), n.entry(n.other, "recycler")))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestCollectGathersWhatTheNetworkSigns(t *testing.T) {
	n := newNetwork(t, "holds.proof")
	l := ledgerOf(t, n.rec)
	own := n.entry(n.own, "maker")
	// Profiles that do not add an organisation are passed over: the own
	// organisation's second profile, a profile on another channel, and
	// one whose TLS root certificate is missing.
	second := own
	second.name = "maker-admin"
	elsewhere := n.entry(n.other, "recycler-other")
	elsewhere.channel = "other"
	broken := n.entry(n.other, "a-broken")
	broken.msp = "BrokenMSP"
	broken.tlsRoot = filepath.Join(n.dir, "missing.pem")
	// A third organisation's peer is not asked once another confirmed.
	third := startPeer(t, n.dir, "AuditorMSP", "peer0.auditor.test", n.client, n.replay(1, "AuditorMSP"))
	c, err := NewCollector(l, n.config(t, own, second, elsewhere, broken, n.entry(n.other, "recycler"), n.entry(third, "z-auditor")))
	require.NoError(t, err)
	defer c.Close()
	require.Len(t, c.Endorsers, 3)
	assert.Equal(t, "MakerMSP", c.Endorsers[0].MSP, "the own organisation's peer is asked first")
	assert.Equal(t, "RecyclerMSP", c.Endorsers[1].MSP)
	assert.Equal(t, "AuditorMSP", c.Endorsers[2].MSP)

	p, err := c.Collect(context.Background(), n.rec.Batch)
	require.NoError(t, err)
	assert.Equal(t, proof.Format, p.Format)
	assert.Equal(t, n.rec.Channel, p.Channel)
	assert.Equal(t, "mtrace", p.Chaincode)
	assert.Equal(t, n.rec.Batch, p.Batch)
	assert.Equal(t, n.rec.Head, p.Head)
	assert.Equal(t, n.rec.Configs, p.Configs, "the config blocks back to the genesis block")
	assert.Equal(t, n.rec.Blocks, p.Blocks, "the blocks of the records' transactions and the head, in order")
	assert.Empty(t, p.Created)

	require.Len(t, p.State, 2, "the records as both organisations sign them")
	for i, a := range p.State {
		assert.Equal(t, n.rec.State[i].Payload, a.Payload)
		assert.Equal(t, []byte("peer of "+c.Endorsers[i].MSP), a.Endorser)
		assert.Equal(t, []byte("signature of "+c.Endorsers[i].MSP), a.Signature)
		assert.NotEmpty(t, a.Proposal, "the proposal the answer signs is kept")
	}

	// One validity answer per block of a transaction and organisation,
	// by block then organisation; the head is not asked for.
	var want [][]byte
	for _, raw := range n.rec.Blocks {
		b, err := decode(raw)
		require.NoError(t, err)
		if num := b.GetHeader().GetNumber(); num != n.rec.Head {
			for _, msp := range []string{"MakerMSP", "RecyclerMSP"} {
				want = append(want, validityOf(strconv.FormatUint(num, 10), msp))
			}
		}
	}
	require.Len(t, p.Validity, len(want))
	for i, a := range p.Validity {
		assert.Equal(t, want[i], a.Payload, "validity answer %d", i)
	}

	for _, fp := range []*fakePeer{n.own, n.other} {
		asked := fp.Asked()
		require.NotEmpty(t, asked)
		assert.Equal(t, question{Channel: n.rec.Channel, Chaincode: "mtrace", Args: []string{api.Evidence, n.rec.Batch}}, asked[0])
		assert.Len(t, asked, 1+len(want)/2, "%s is asked the records once and each block once", fp.msp)
	}
	assert.Empty(t, third.Asked(), "two organisations answer for the proof")
	// The blocks came through the caller's ledger, each read once.
	for _, call := range l.Calls() {
		assert.False(t, call.Submit, "nothing is written: %s", call)
	}
	assert.Len(t, l.CallsTo(ledgertest.BlockByTxID), len(want)/2, "a block that holds several of the transactions is read once")
}

// stale returns payload with its records replaced by "{}", as a peer a
// block behind answers.
func stale(t *testing.T, payload []byte) []byte {
	t.Helper()
	var prp peer.ProposalResponsePayload
	require.NoError(t, proto.Unmarshal(payload, &prp))
	var act peer.ChaincodeAction
	require.NoError(t, proto.Unmarshal(prp.GetExtension(), &act))
	act.Response.Payload = []byte("{}")
	ext, err := proto.Marshal(&act)
	require.NoError(t, err)
	prp.Extension = ext
	out, err := proto.Marshal(&prp)
	require.NoError(t, err)
	return out
}

func TestCollectAsksALaggingPeerAgain(t *testing.T) {
	n := newNetwork(t, "holds.proof")
	replay := n.replay(1, "RecyclerMSP")
	var mu sync.Mutex // the peer answers several questions at once
	first := ""
	n.other.answer = func(q question, asked int) (*peer.ProposalResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		if asked == 0 && q.Args[0] == api.Evidence {
			// The first answer is the records as they were a block ago.
			return signed("RecyclerMSP", stale(t, n.rec.State[1].Payload)), nil
		}
		if asked == 0 && q.Args[0] == "GetBlockByNumber" && first == "" {
			// It has not committed the first block it is asked for yet.
			first = q.Args[2]
			return failed("block " + q.Args[2] + " not found"), nil
		}
		return replay(q, asked)
	}
	p, err := n.collector(t, ledgerOf(t, n.rec)).Collect(context.Background(), n.rec.Batch)
	require.NoError(t, err)
	require.Len(t, p.State, 2)
	assert.Equal(t, n.rec.State[1].Payload, p.State[1].Payload, "the records once the peer caught up")
	assert.Equal(t, n.rec.State[0].Payload, p.State[0].Payload)
	require.NotEmpty(t, first)
	var asked []string
	for _, q := range n.other.Asked() {
		asked = append(asked, strings.Join(q.Args, " "))
	}
	assert.Equal(t, 2, count(asked, api.Evidence+" "+n.rec.Batch), "the records are asked again once they differ")
	assert.Equal(t, 2, count(asked, "GetBlockByNumber "+n.rec.Channel+" "+first), "the block is asked again")
	assert.Contains(t, validityPayloads(p), string(validityOf(first, "RecyclerMSP")))
	assert.Equal(t, 2, count(ownArgs(n), api.Evidence+" "+n.rec.Batch), "both attesters answer at the same height")
}

func count(xs []string, x string) int {
	c := 0
	for _, s := range xs {
		if s == x {
			c++
		}
	}
	return c
}

func ownArgs(n *network) []string {
	var out []string
	for _, q := range n.own.Asked() {
		out = append(out, strings.Join(q.Args, " "))
	}
	return out
}

func validityPayloads(p *proof.Proof) []string {
	var out []string
	for _, a := range p.Validity {
		out = append(out, string(a.Payload))
	}
	return out
}

func TestCollectNeedsTwoOrganisations(t *testing.T) {
	n := newNetwork(t, "holds.proof")
	l := ledgerOf(t, n.rec)
	own := n.entry(n.own, "maker")
	second := own
	second.name = "maker-admin"
	_, err := NewCollector(l, n.config(t, own, second))
	assert.ErrorIs(t, err, errNoOther, "one organisation only")

	// The other organisation's peer does not answer.
	n.other.stop()
	c := n.collector(t, l)
	ctx := context.Background()
	_, err = c.Collect(ctx, n.rec.Batch)
	require.Error(t, err)
	assert.ErrorContains(t, err, "no peer of another organisation confirms the records")
	assert.ErrorContains(t, err, "peer of RecyclerMSP at "+n.other.endpoint)

	// The first other organisation's peer does not answer: the next one
	// confirms the records.
	third := startPeer(t, n.dir, "AuditorMSP", "peer0.auditor.test", n.client, n.replay(1, "AuditorMSP"))
	c, err = NewCollector(l, n.config(t, own, n.entry(n.other, "recycler"), n.entry(third, "z-auditor")))
	require.NoError(t, err)
	defer c.Close()
	require.Len(t, c.Endorsers, 3)
	p, err := c.Collect(ctx, n.rec.Batch)
	require.NoError(t, err)
	require.Len(t, p.State, 2)
	assert.Equal(t, []byte("peer of AuditorMSP"), p.State[1].Endorser)
	require.NotEmpty(t, p.Validity)
	for i, v := range validityPayloads(p) {
		org := []string{"MakerMSP", "AuditorMSP"}[i%2]
		assert.True(t, strings.HasSuffix(v, " as "+org+" signs it"), "validity answer %d is %s's: %s", i, org, v)
	}

	// The own organisation's peer does not answer.
	n.own.stop()
	_, err = c.Collect(ctx, n.rec.Batch)
	assert.ErrorContains(t, err, `evidence of "`+n.rec.Batch+`": peer of MakerMSP at `+n.own.endpoint)
}

func TestCollectRefusesBadAnswers(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(q question, n int) (*peer.ProposalResponse, error)
		want   string
	}{
		{"refused", func(question, int) (*peer.ProposalResponse, error) {
			return failed(`batch "X" not found`), nil
		}, `status 500: batch "X" not found`},
		{"unsigned", func(question, int) (*peer.ProposalResponse, error) {
			return &peer.ProposalResponse{Response: &peer.Response{Status: 200}, Payload: []byte("x")}, nil
		}, "did not sign its answer"},
		{"not a response", func(question, int) (*peer.ProposalResponse, error) {
			return signed("MakerMSP", []byte("not a proposal response")), nil
		}, "decode response"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNetwork(t, "holds.proof")
			n.own.answer = c.answer
			_, err := n.collector(t, ledgerOf(t, n.rec)).Collect(context.Background(), n.rec.Batch)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestCollectLedgerErrors(t *testing.T) {
	t.Run("evidence", func(t *testing.T) {
		n := newNetwork(t, "holds.proof")
		notJSON := stale(t, n.rec.State[0].Payload)
		for _, fp := range []*fakePeer{n.own, n.other} {
			msp := fp.msp
			fp.answer = func(question, int) (*peer.ProposalResponse, error) {
				return signed(msp, bytes.Replace(notJSON, []byte("{}"), []byte("{["), 1)), nil
			}
		}
		_, err := n.collector(t, ledgerOf(t, n.rec)).Collect(context.Background(), n.rec.Batch)
		assert.ErrorContains(t, err, `decode evidence of "`+n.rec.Batch+`"`)
	})
	for _, c := range []struct {
		name string
		fn   string
		arg  string // the call that fails; "" for every call to fn
		want string
	}{
		{"block of a transaction", ledgertest.BlockByTxID, "", "the block of tx "},
		{"newest block", ledgertest.Block, "newest", "newest block: "},
		{"genesis block", ledgertest.Block, "0", "config block 0: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNetwork(t, "holds.proof")
			l := ledgerOf(t, n.rec)
			serve := ledgerOf(t, n.rec)
			l.On(c.fn, func(args []string) ([]byte, error) {
				if c.arg == "" || args[0] == c.arg {
					return nil, errors.New("peer unavailable")
				}
				if c.fn == ledgertest.Block {
					n, _ := strconv.ParseUint(args[0], 10, 64)
					if args[0] == "newest" {
						return serve.Block(context.Background(), ^uint64(0))
					}
					return serve.Block(context.Background(), n)
				}
				return serve.BlockByTxID(context.Background(), args[0])
			})
			_, err := n.collector(t, l).Collect(context.Background(), n.rec.Batch)
			assert.ErrorContains(t, err, c.want)
			assert.ErrorContains(t, err, "peer unavailable")
		})
	}
	t.Run("a block that does not decode", func(t *testing.T) {
		n := newNetwork(t, "holds.proof")
		l := ledgerOf(t, n.rec)
		l.On(ledgertest.BlockByTxID, func([]string) ([]byte, error) { return []byte("\xff\xff"), nil })
		_, err := n.collector(t, l).Collect(context.Background(), n.rec.Batch)
		assert.ErrorContains(t, err, "decode the block of tx ")
	})
}

func TestCollectReadsTheConfigChain(t *testing.T) {
	// The reconfigured channel's config blocks are read back from the one
	// in force at the head, each through the block before it.
	n := newNetwork(t, "reconfigured.proof")
	l := ledgerOf(t, n.rec)
	var before []uint64
	for _, raw := range n.rec.Configs[1:] {
		b, err := decode(raw)
		require.NoError(t, err)
		before = append(before, b.GetHeader().GetNumber()-1)
	}
	_, err := n.collector(t, l).Collect(context.Background(), n.rec.Batch)
	require.Error(t, err, "the blocks before the config blocks are not in the proof")
	assert.ErrorContains(t, err, fmt.Sprintf("block %d: ", before[len(before)-1]))
}
