package proof

import (
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKitRaftAndBFT(t *testing.T) {
	for _, bft := range []bool{false, true} {
		k := newKit(t, bft)
		p := k.chain(12, 5)
		r := p.Verify(k.genesisHash())
		require.True(t, r.Authentic, "bft=%v %+v", bft, r.Checks)
		require.True(t, r.Holds(), "bft=%v %+v", bft, r.Verdict.Checks)
		assert.Equal(t, 12, r.Verdict.Nodes)
	}
}

func TestBlockAttestations(t *testing.T) {
	k := newKit(t, false)
	k.perBlock = true
	p := k.chain(9, 4)
	g := k.genesisHash()
	r := p.Verify(g)
	require.True(t, r.Holds(), "%+v", r.Checks)
	for _, a := range p.Validity {
		require.NotNil(t, a.Envelope, "a block answer compacts")
		assert.Equal(t, WholeBlock, a.Envelope.Index)
	}

	q := clone(t, p)
	q.Validity = q.Validity[1:]
	assert.Contains(t, failed(q.Verify(g)), CheckValidity, "a removed block answer")
	q = clone(t, p)
	q.Validity[0].Envelope.Block = 1 // another block's transactions
	assert.Contains(t, failed(q.Verify(g)), CheckValidity, "an answer put back with another block")

	// One organisation's peer signs a flag that differs from the other's.
	k = newKit(t, false)
	k.perBlock = true
	p = k.chain(3, 3)
	require.Len(t, p.Validity, 2)
	raw := k.blocks[0]
	var full common.Block
	require.NoError(t, proto.Unmarshal(raw, &full))
	full.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{0, byte(peer.TxValidationCode_MVCC_READ_CONFLICT), 0}
	p.Validity[1] = k.answer(k.peers[org2], "qscc", marshal(t, &full), 0, "GetBlockByNumber", kitChannel, "1")
	r = p.Verify(k.genesisHash())
	assert.Contains(t, failed(r), CheckValidity)
	assert.Contains(t, detail(r, CheckValidity), "different validity codes")
}

func TestBFTQuorum(t *testing.T) {
	// Two signatures of four consenters are not a quorum.
	k := newKit(t, true)
	k.signers = []int{0, 1}
	r := k.chain(3, 5).Verify(k.genesisHash())
	assert.Contains(t, failed(r), CheckOrderer)
	assert.Contains(t, detail(r, CheckOrderer), "do not satisfy")

	// A signature naming a consenter by another's ID does not verify.
	k = newKit(t, true)
	k.orderers[2], k.orderers[3] = k.orderers[3], k.orderers[2]
	k.signers = []int{0, 1, 2}
	r = k.chain(3, 5).Verify(k.genesisHash())
	assert.Contains(t, failed(r), CheckOrderer)
}

func TestBFTConsenterChange(t *testing.T) {
	k := newKit(t, true)
	old := k.orderers
	fresh := []*node{old[0], old[1], old[2], k.cas[ordMSP].issue(t, "orderer5", "orderer")}
	// The config block is signed by the old set; later blocks by the new
	// one, whose fourth consenter signs in place of the third.
	k.reconfigure(fresh)
	k.orderers = fresh
	k.signers = []int{0, 1, 3}
	p := k.chain(4, 2)
	r := p.Verify(k.genesisHash())
	require.True(t, r.Holds(), "%+v", r.Checks)

	// The same blocks checked under the old set (the config block
	// dropped) fail: the new consenter is unknown there.
	q := clone(t, p)
	q.Configs = q.Configs[:1]
	r = q.Verify(k.genesisHash())
	assert.False(t, r.Authentic)
	assert.Contains(t, failed(r), CheckConfig)
}

func TestKitTampering(t *testing.T) {
	k := newKit(t, true)
	p := k.chain(6, 2)
	g := k.genesisHash()
	q := clone(t, p)
	q.Blocks = append(q.Blocks[:1], q.Blocks[2:]...)
	assert.Contains(t, failed(q.Verify(g)), CheckTxs, "a dropped block")
	q = clone(t, p)
	q.Validity = q.Validity[:len(q.Validity)-1]
	assert.Contains(t, failed(q.Verify(g)), CheckValidity, "a removed attestation")
	q = clone(t, p)
	q.State[1].Signature = q.State[0].Signature
	assert.Contains(t, failed(q.Verify(g)), CheckState, "a forged endorsement")
}

// BenchmarkVerify1000 checks the proof of a 1,000-batch ancestry offline
// (1,000 transactions in 200 blocks, BFT-signed, each block's validity
// flags signed by peers of two organisations, as export writes it).
func BenchmarkVerify1000(b *testing.B) {
	k := newKit(b, true)
	k.perBlock = true
	p := k.chain(1000, 5)
	raw, err := p.Encode()
	require.NoError(b, err)
	g := k.genesisHash()
	for b.Loop() {
		if r := Verify(raw, g); !r.Holds() {
			b.Fatalf("%+v", r.Checks)
		}
	}
	b.ReportMetric(float64(len(raw))/(1<<20), "MB")
}
