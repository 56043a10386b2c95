package proof

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
)

// The testdata proofs were exported from a live network (mtrace proof
// export, before the strip step existed): holds.proof for a collection
// batch whose provenance holds, quarantined.proof for the same batch after
// the auditor quarantined it. They hold blocks, certificates and peers'
// signed answers, no private key. genesis.txt is the network's genesis
// hash. reconfigured.proof (below) was exported as export writes it.

func genesis(t testing.TB) string {
	raw, err := os.ReadFile("testdata/genesis.txt")
	require.NoError(t, err)
	return strings.TrimSpace(string(raw))
}

// load reads a testdata proof and strips and compacts it as export does.
func load(t testing.TB, name string) *Proof {
	raw, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	p, err := Decode(raw)
	require.NoError(t, err)
	require.NoError(t, p.Strip())
	require.NoError(t, p.Compact())
	for _, a := range p.Validity {
		require.NotNil(t, a.Envelope, "every validity answer of a live network compacts")
	}
	return p
}

func TestCompactIsSmallerAndOptional(t *testing.T) {
	raw, err := os.ReadFile("testdata/holds.proof")
	require.NoError(t, err)
	p, err := Decode(raw)
	require.NoError(t, err)
	require.NoError(t, p.Strip())
	whole, err := p.Encode()
	require.NoError(t, err)
	assert.True(t, p.Verify(genesis(t)).Holds(), "the whole answers verify")
	require.NoError(t, p.Compact())
	compact, err := p.Encode()
	require.NoError(t, err)
	assert.Less(t, len(compact), len(whole)*2/3)
	t.Logf("stripped %d bytes, compacted %d", len(whole), len(compact))
	assert.True(t, p.Verify(genesis(t)).Holds())

	// An answer that names another transaction of the proof.
	q := clone(t, p)
	q.Validity[0].Envelope = q.Validity[2].Envelope
	if *q.Validity[0].Envelope == *p.Validity[0].Envelope {
		q.Validity[0].Envelope = &TxRef{Block: p.Validity[0].Envelope.Block, Index: p.Validity[0].Envelope.Index + 1}
	}
	notAuthentic(t, q, CheckValidity)
	q = clone(t, p)
	q.Validity[0].Envelope = &TxRef{Block: 99}
	notAuthentic(t, q, CheckValidity)
}

// clone deep-copies a proof through its encoding.
func clone(t testing.TB, p *Proof) *Proof {
	raw, err := p.Encode()
	require.NoError(t, err)
	q, err := Decode(raw)
	require.NoError(t, err)
	return q
}

func failed(r *Report) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// notAuthentic asserts that the proof fails, and fails check name.
func notAuthentic(t *testing.T, p *Proof, name string) *Report {
	t.Helper()
	r := p.Verify(genesis(t))
	assert.False(t, r.Authentic)
	assert.False(t, r.Holds())
	assert.Contains(t, failed(r), name, "%+v", r.Checks)
	return r
}

func TestHonestProofs(t *testing.T) {
	r := load(t, "holds.proof").Verify(genesis(t))
	require.True(t, r.Authentic, "%+v", r.Checks)
	assert.Empty(t, failed(r))
	require.NotNil(t, r.Verdict)
	assert.True(t, r.Verdict.OK, "%+v", r.Verdict.Checks)
	assert.True(t, r.Holds())
	assert.Equal(t, uint64(26), r.Head)
	assert.False(t, r.Time.IsZero())
	assert.Contains(t, checkNames(r.Verdict.Checks), model.CheckSignatures, "the signatures check runs on the proof's transactions")

	r = load(t, "quarantined.proof").Verify(genesis(t))
	require.True(t, r.Authentic, "%+v", r.Checks)
	assert.False(t, r.Holds())
	assert.Equal(t, []string{model.CheckNotQuarantined}, failedVerdict(r.Verdict))
}

func TestAuthenticityLeavesTheVerdictOut(t *testing.T) {
	p := load(t, "holds.proof")
	r := p.Authenticity(genesis(t))
	assert.True(t, r.Authentic)
	assert.Nil(t, r.Verdict)
	assert.Equal(t, checkNames(p.Verify(genesis(t)).Checks), checkNames(r.Checks))
	p.Validity = p.Validity[1:]
	assert.Contains(t, failed(p.Authenticity(genesis(t))), CheckValidity)
}

func TestUnstrippedBlocksStillVerify(t *testing.T) {
	raw, err := os.ReadFile("testdata/holds.proof")
	require.NoError(t, err)
	// As the peer serves them (online verify): the validity flags are
	// there and agree with the attestations; the other unsigned entries
	// are refused.
	r := Verify(raw, genesis(t))
	assert.False(t, r.Authentic)
	assert.Equal(t, []string{CheckBlockHash}, failed(r))
}

func checkNames(cs []model.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func failedVerdict(v *model.Verdict) []string {
	var out []string
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestGenesisMustBePinned(t *testing.T) {
	p := load(t, "holds.proof")
	r := p.Verify("")
	assert.False(t, r.Authentic)
	assert.Contains(t, failed(r), CheckGenesis)
	r = p.Verify(strings.Repeat("0", 64))
	assert.Contains(t, failed(r), CheckGenesis)
	assert.True(t, p.Verify(strings.ToUpper(genesis(t))).Authentic, "hex case does not matter")
}

// Every byte matters: flipping any one byte of any block, config block
// or signed answer makes the proof not authentic.
func TestEveryFlippedByteIsCaught(t *testing.T) {
	p := load(t, "holds.proof")
	g := genesis(t)
	type part struct {
		name string
		get  func(*Proof) *[]byte
	}
	var parts []part
	for i := range p.Blocks {
		parts = append(parts, part{"block", func(q *Proof) *[]byte { return &q.Blocks[i] }})
	}
	for i := range p.Configs {
		parts = append(parts, part{"config", func(q *Proof) *[]byte { return &q.Configs[i] }})
	}
	for i := range p.State {
		parts = append(parts,
			part{"state proposal", func(q *Proof) *[]byte { return &q.State[i].Proposal }},
			part{"state payload", func(q *Proof) *[]byte { return &q.State[i].Payload }},
			part{"state endorser", func(q *Proof) *[]byte { return &q.State[i].Endorser }},
			part{"state signature", func(q *Proof) *[]byte { return &q.State[i].Signature }})
	}
	for i := range p.Validity {
		parts = append(parts,
			part{"validity proposal", func(q *Proof) *[]byte { return &q.Validity[i].Proposal }},
			part{"validity endorser", func(q *Proof) *[]byte { return &q.Validity[i].Endorser }},
			part{"validity payload", func(q *Proof) *[]byte { return &q.Validity[i].Payload }},
			part{"validity signature", func(q *Proof) *[]byte { return &q.Validity[i].Signature }})
	}
	flips := 0
	for _, pt := range parts {
		n := len(*pt.get(p))
		// A spread of positions, the first and last byte among them.
		step := max(1, n/6)
		positions := []int{n - 1}
		for pos := 0; pos < n-1; pos += step {
			positions = append(positions, pos)
		}
		for _, pos := range positions {
			q := clone(t, p)
			b := pt.get(q)
			*b = bytes.Clone(*b)
			(*b)[pos] ^= 0x01
			r := q.Verify(g)
			flips++
			if r.Authentic {
				t.Fatalf("%s: flipping byte %d of %d left the proof authentic", pt.name, pos, n)
			}
		}
	}
	t.Logf("%d single-byte flips, each caught", flips)
}

func TestTamperingIsNamed(t *testing.T) {
	g := genesis(t)
	base := load(t, "holds.proof")
	require.GreaterOrEqual(t, len(base.Blocks), 3)

	t.Run("flipped byte in a transaction", func(t *testing.T) {
		p := clone(t, base)
		var b common.Block
		require.NoError(t, proto.Unmarshal(p.Blocks[0], &b))
		b.Data.Data[0][len(b.Data.Data[0])/2] ^= 0xff
		p.Blocks[0] = marshal(t, &b)
		notAuthentic(t, p, CheckDataHash)
	})
	t.Run("dropped block", func(t *testing.T) {
		p := clone(t, base)
		p.Blocks = p.Blocks[1:]
		notAuthentic(t, p, CheckTxs)
	})
	t.Run("dropped head block", func(t *testing.T) {
		p := clone(t, base)
		p.Blocks = p.Blocks[:len(p.Blocks)-1]
		notAuthentic(t, p, CheckBlockHash)
	})
	t.Run("dropped config block", func(t *testing.T) {
		p := clone(t, base)
		p.Configs = nil
		notAuthentic(t, p, CheckConfig)
	})
	t.Run("swapped transactions", func(t *testing.T) {
		p := clone(t, base)
		var a, b common.Block
		require.NoError(t, proto.Unmarshal(p.Blocks[0], &a))
		require.NoError(t, proto.Unmarshal(p.Blocks[1], &b))
		a.Data.Data[0], b.Data.Data[0] = b.Data.Data[0], a.Data.Data[0]
		p.Blocks[0], p.Blocks[1] = marshal(t, &a), marshal(t, &b)
		notAuthentic(t, p, CheckDataHash)
	})
	t.Run("a block's header rewritten to match changed data", func(t *testing.T) {
		p := clone(t, base)
		var b common.Block
		require.NoError(t, proto.Unmarshal(p.Blocks[0], &b))
		var other common.Block
		require.NoError(t, proto.Unmarshal(p.Blocks[1], &other))
		// Another block's transaction, and a data hash to match.
		b.Data.Data = [][]byte{other.Data.Data[0]}
		b.Header.DataHash = sha256Sum(bytes.Join(b.Data.Data, nil))
		p.Blocks[0] = marshal(t, &b)
		notAuthentic(t, p, CheckOrderer)
	})
	t.Run("forged endorsement", func(t *testing.T) {
		p := clone(t, base)
		// Another peer's identity on the first peer's answer.
		p.State[0].Endorser = p.State[1].Endorser
		notAuthentic(t, p, CheckState)
		p = clone(t, base)
		p.Validity[0].Signature = p.Validity[1].Signature
		notAuthentic(t, p, CheckValidity)
	})
	t.Run("removed validity attestation", func(t *testing.T) {
		p := clone(t, base)
		p.Validity = p.Validity[1:]
		r := notAuthentic(t, p, CheckValidity)
		assert.Contains(t, detail(r, CheckValidity), "only ")
	})
	t.Run("removed state attestation", func(t *testing.T) {
		p := clone(t, base)
		p.State = p.State[:1]
		notAuthentic(t, p, CheckState)
	})
	t.Run("one organisation attesting twice", func(t *testing.T) {
		p := clone(t, base)
		p.State[1] = p.State[0]
		notAuthentic(t, p, CheckState)
	})
	t.Run("records of another batch", func(t *testing.T) {
		p := clone(t, base)
		p.Batch = "OTHER-1"
		notAuthentic(t, p, CheckState)
	})
	t.Run("forged validity flag", func(t *testing.T) {
		raw, err := os.ReadFile("testdata/holds.proof")
		require.NoError(t, err)
		p, err := Decode(raw)
		require.NoError(t, err)
		// Keep the flags, drop the other unsigned entries, flip the
		// first transaction's flag to MVCC_READ_CONFLICT.
		var b common.Block
		for i := range p.Blocks {
			require.NoError(t, proto.Unmarshal(p.Blocks[i], &b))
			md := b.Metadata.Metadata
			md[common.BlockMetadataIndex_LAST_CONFIG], md[common.BlockMetadataIndex_ORDERER], md[common.BlockMetadataIndex_COMMIT_HASH] = nil, nil, nil
			if i == 0 {
				md[common.BlockMetadataIndex_TRANSACTIONS_FILTER][0] = 11
			}
			p.Blocks[i] = marshal(t, &b)
		}
		for i := range p.Configs {
			require.NoError(t, proto.Unmarshal(p.Configs[i], &b))
			for j := range b.Metadata.Metadata {
				if j != 0 {
					b.Metadata.Metadata[j] = nil
				}
			}
			p.Configs[i] = marshal(t, &b)
		}
		r := notAuthentic(t, p, CheckValidity)
		assert.Contains(t, detail(r, CheckValidity), "MVCC_READ_CONFLICT")
	})
	t.Run("rolled-back state", func(t *testing.T) {
		// A peer that hides the quarantine answers the records as they
		// were: its answer, genuinely signed, from before the quarantine,
		// beside the other organisation's current one.
		p := load(t, "quarantined.proof")
		old := load(t, "holds.proof")
		p.State[1] = old.State[1]
		r := notAuthentic(t, p, CheckState)
		assert.Contains(t, detail(r, CheckState), "different records")
	})
	t.Run("unknown field", func(t *testing.T) {
		raw, err := base.Encode()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		m["note"] = "trust me"
		raw, err = json.Marshal(m)
		require.NoError(t, err)
		r := Verify(raw, g)
		assert.Equal(t, []string{CheckFormat}, failed(r))
	})
}

func detail(r *Report, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Detail
		}
	}
	return ""
}

func marshal(t testing.TB, m proto.Message) []byte {
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// reconfigured.proof was exported after an organisation joined the
// channel and left it again: three config blocks.
func TestConfigChainOfALiveNetwork(t *testing.T) {
	raw, err := os.ReadFile("testdata/reconfigured.proof")
	require.NoError(t, err)
	p, err := Decode(raw)
	require.NoError(t, err)
	require.Len(t, p.Configs, 3)
	r := p.Verify(genesis(t))
	require.True(t, r.Authentic, "%+v", r.Checks)
	assert.Equal(t, []string{model.CheckNotQuarantined}, failedVerdict(r.Verdict))

	q := clone(t, p)
	q.Configs = append(q.Configs[:1], q.Configs[2])
	assert.Contains(t, failed(q.Verify(genesis(t))), CheckConfig, "a config update left out")
	q = clone(t, p)
	q.Configs[1], q.Configs[2] = q.Configs[2], q.Configs[1]
	assert.Contains(t, failed(q.Verify(genesis(t))), CheckConfig, "config updates out of order")
	q = clone(t, p)
	q.Configs = q.Configs[:2]
	assert.Contains(t, failed(q.Verify(genesis(t))), CheckConfig, "the configuration in force left out")
}
