package signatures

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

// ca is an organisation's certificate authority, issuing certificates
// with the node OUs Fabric's MSPs read.
type ca struct {
	msp  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

type signer struct {
	msp  string
	key  *ecdsa.PrivateKey
	cert []byte // PEM
}

func newCA(t *testing.T, mspID string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + mspID},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &ca{msp: mspID, key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (c *ca) issue(t *testing.T, cn, ou string) *signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	require.NoError(t, err)
	return &signer{msp: c.msp, key: key, cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (s *signer) identity(t *testing.T) []byte {
	raw, err := proto.Marshal(&msp.SerializedIdentity{Mspid: s.msp, IdBytes: s.cert})
	require.NoError(t, err)
	return raw
}

func (s *signer) sign(t *testing.T, msg []byte) []byte {
	d := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, d[:])
	require.NoError(t, err)
	return sig
}

func channelConfig(t *testing.T, cas ...*ca) []byte {
	t.Helper()
	groups := map[string]*common.ConfigGroup{}
	for _, c := range cas {
		fc, err := proto.Marshal(&msp.FabricMSPConfig{Name: c.msp, RootCerts: [][]byte{c.pem}, FabricNodeOus: &msp.FabricNodeOUs{Enable: true}})
		require.NoError(t, err)
		mc, err := proto.Marshal(&msp.MSPConfig{Type: 0, Config: fc})
		require.NoError(t, err)
		groups[strings.TrimSuffix(c.msp, "MSP")] = &common.ConfigGroup{Values: map[string]*common.ConfigValue{"MSP": {Value: mc}}}
	}
	raw, err := proto.Marshal(&common.Config{ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{"Application": {Groups: groups}}}})
	require.NoError(t, err)
	return raw
}

// write is one key written by a transaction.
type write struct{ ns, key, value string }

// committed is one transaction of a block with its validation code.
type committed struct {
	env  []byte
	code peer.TxValidationCode
}

// block builds a block holding txs, with their validation codes.
func block(t *testing.T, num uint64, txs ...committed) []byte {
	t.Helper()
	b := &common.Block{Header: &common.BlockHeader{Number: num}, Data: &common.BlockData{}, Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	filter := make([]byte, len(txs))
	for i, tx := range txs {
		b.Data.Data = append(b.Data.Data, tx.env)
		filter[i] = byte(tx.code)
	}
	b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = filter
	raw, err := proto.Marshal(b)
	require.NoError(t, err)
	return raw
}

// transaction builds a committed transaction signed by creator and
// endorsed by endorsers; tamper may change the envelope before encoding.
func transaction(t *testing.T, txID string, code peer.TxValidationCode, creator *signer, endorsers []*signer, writes []write, tamper func(*peer.ChaincodeEndorsedAction)) committed {
	t.Helper()
	byNS := map[string]*kvrwset.KVRWSet{}
	var order []string
	for _, w := range writes {
		if byNS[w.ns] == nil {
			byNS[w.ns] = &kvrwset.KVRWSet{}
			order = append(order, w.ns)
		}
		byNS[w.ns].Writes = append(byNS[w.ns].Writes, &kvrwset.KVWrite{Key: w.key, Value: []byte(w.value)})
	}
	rws := &rwset.TxReadWriteSet{}
	for _, ns := range order {
		raw, err := proto.Marshal(byNS[ns])
		require.NoError(t, err)
		rws.NsRwset = append(rws.NsRwset, &rwset.NsReadWriteSet{Namespace: ns, Rwset: raw})
	}
	results, err := proto.Marshal(rws)
	require.NoError(t, err)
	ext, err := proto.Marshal(&peer.ChaincodeAction{Results: results})
	require.NoError(t, err)
	prp, err := proto.Marshal(&peer.ProposalResponsePayload{Extension: ext})
	require.NoError(t, err)
	act := &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp}
	for _, e := range endorsers {
		id := e.identity(t)
		act.Endorsements = append(act.Endorsements, &peer.Endorsement{Endorser: id, Signature: e.sign(t, append(slices.Clone(prp), id...))})
	}
	if tamper != nil {
		tamper(act)
	}
	pay, err := proto.Marshal(&peer.ChaincodeActionPayload{Action: act})
	require.NoError(t, err)
	data, err := proto.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: pay}}})
	require.NoError(t, err)
	ch, err := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), TxId: txID, Timestamp: timestamppb.Now()})
	require.NoError(t, err)
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: creator.identity(t)})
	require.NoError(t, err)
	payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
	require.NoError(t, err)
	raw, err := proto.Marshal(&common.Envelope{Payload: payload, Signature: creator.sign(t, payload)})
	require.NoError(t, err)
	return committed{env: raw, code: code}
}

func TestVerifierReadsSignedTransactions(t *testing.T) {
	city, rec, rogue := newCA(t, "MunicipalityMSP"), newCA(t, "RecyclerMSP"), newCA(t, "MunicipalityMSP")
	op := city.issue(t, "op1@municipality", "client")
	cityPeer, recPeer := city.issue(t, "peer0.municipality", "peer"), rec.issue(t, "peer0.recycler", "peer")
	batchKey := "\x00batch\x00B1\x00"
	honestWrites := []write{{"mtrace", batchKey, `{"id":"B1"}`}, {"mtrace", "\x00process\x00tx9\x00", `{"tx":"tx9"}`},
		{"mtrace", "\x00idx~owner\x00MunicipalityMSP\x00B1\x00", "\x00"}, {"other", batchKey, `{"id":"elsewhere"}`},
		{"mtrace", "\x00take\x00B0\x0020261120T093000.000000000Z\x00honest\x00", `{"id":"B1","mass":5}`},
		{"mtrace", "\x00take\x00B7\x0020261120T093000.000000000Z\x00other-tx\x00", `{"id":"B1","mass":6}`},
		{"mtrace", "\x00hold\x00B1\x00honest\x00", `{"batch":"B1"}`}, {"mtrace", "\x00hold\x00B2\x00other-tx\x00", `{"batch":"B2"}`},
		{"mtrace", "\x00doc\x00B1\x00honest\x00", `{"batch":"B1","sha256":"x"}`}}

	// Two blocks: the first holds three of the transactions, and one that
	// nobody asks for.
	first := block(t, 7,
		transaction(t, "honest", peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer, recPeer}, honestWrites, nil),
		transaction(t, "unwanted", peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, nil, nil),
		transaction(t, "invalid", peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, op, []*signer{cityPeer}, nil, nil),
		transaction(t, "tampered", peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, honestWrites, func(a *peer.ChaincodeEndorsedAction) { a.Endorsements[1].Signature[10] ^= 1 }))
	second := block(t, 8,
		transaction(t, "rogue", peer.TxValidationCode_VALID, rogue.issue(t, "op1@municipality", "client"), []*signer{rogue.issue(t, "peer0.municipality", "peer"), recPeer}, nil, nil),
		transaction(t, "client", peer.TxValidationCode_VALID, op, []*signer{op, recPeer}, nil, nil))
	txs := map[string][]byte{"honest": first, "unwanted": first, "invalid": first, "tampered": first, "rogue": second, "client": second}
	fake := ledgertest.New()
	cfg := channelConfig(t, city, rec)
	fake.On(ledgertest.ChannelConfig, func([]string) ([]byte, error) { return cfg, nil })
	fake.On(ledgertest.BlockByTxID, func(args []string) ([]byte, error) {
		if raw, ok := txs[args[0]]; ok {
			return raw, nil
		}
		return nil, ledgertest.Rejection("no such transaction ID [" + args[0] + "] in index")
	})
	ctx := context.Background()
	v, err := New(ctx, fake)
	require.NoError(t, err)
	ids := []string{"honest", "invalid", "tampered", "rogue", "client", "missing", "honest"}
	got, err := v.Transactions(ctx, ids)
	require.NoError(t, err)
	assert.Len(t, got, 5, "the missing transaction and the unwanted one are left out")

	// One at a time, each block is read once for all it holds: client
	// brings block 8 (rogue too), honest block 7, and missing one call.
	one, err := New(ctx, fake)
	require.NoError(t, err)
	one.Workers = 1
	before := len(fake.CallsTo(ledgertest.BlockByTxID))
	again, err := one.Transactions(ctx, ids)
	require.NoError(t, err)
	assert.Equal(t, got, again)
	assert.Equal(t, 3, len(fake.CallsTo(ledgertest.BlockByTxID))-before, "block reads for six transactions in two blocks and one missing")

	h := got["honest"]
	assert.True(t, h.Valid)
	assert.Equal(t, "VALID", h.Code)
	assert.Equal(t, "MunicipalityMSP", h.Creator.MSP)
	assert.Equal(t, "op1@municipality", h.Creator.Identity)
	assert.Equal(t, []string{"MunicipalityMSP", "RecyclerMSP"}, h.Endorsers, "distinct, sorted")
	assert.Empty(t, h.Problems)
	assert.JSONEq(t, `{"id":"B1"}`, string(h.Batches["B1"]), "the chaincode's namespace only")
	assert.JSONEq(t, `{"tx":"tx9"}`, string(h.Processes["tx9"]))
	assert.Len(t, h.Batches, 1, "index entries are not batches")
	assert.JSONEq(t, `{"id":"B1","mass":5}`, string(h.Takes["B0"]), "a take key of the transaction's own")
	assert.Len(t, h.Takes, 1, "a take key naming another transaction is not this one's take")
	assert.JSONEq(t, `{"batch":"B1"}`, string(h.Holds["B1"]), "an auditor's hold key of the transaction's own")
	assert.Len(t, h.Holds, 1, "a hold key naming another transaction is not this one's hold")
	assert.JSONEq(t, `{"batch":"B1","sha256":"x"}`, string(h.Documents["B1"]))

	assert.False(t, got["invalid"].Valid)
	assert.Equal(t, "ENDORSEMENT_POLICY_FAILURE", got["invalid"].Code)

	assert.Equal(t, []string{"MunicipalityMSP"}, got["tampered"].Endorsers, "a broken signature does not count")
	assert.Contains(t, strings.Join(got["tampered"].Problems, ";"), "endorsement 1: signature of peer0.recycler does not verify")

	rg := strings.Join(got["rogue"].Problems, ";")
	assert.Contains(t, rg, "creator: op1@municipality does not chain to MunicipalityMSP's root certificates")
	assert.Contains(t, rg, "endorsement 0: peer0.municipality does not chain to MunicipalityMSP's root certificates")
	assert.Equal(t, []string{"RecyclerMSP"}, got["rogue"].Endorsers)

	assert.Contains(t, strings.Join(got["client"].Problems, ";"), "endorsement 0: op1@municipality (MunicipalityMSP) is not a peer")
}

// configBlock builds a block numbered n whose orderer metadata names
// config block last; with cfg, it is that config block.
func configBlock(t *testing.T, n, last uint64, cfg []byte) []byte {
	t.Helper()
	var data [][]byte
	if cfg != nil {
		var c common.Config
		require.NoError(t, proto.Unmarshal(cfg, &c))
		ce, err := proto.Marshal(&common.ConfigEnvelope{Config: &c})
		require.NoError(t, err)
		ch, err := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG)})
		require.NoError(t, err)
		pl, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: ce})
		require.NoError(t, err)
		env, err := proto.Marshal(&common.Envelope{Payload: pl})
		require.NoError(t, err)
		data = [][]byte{env}
	}
	obm, err := proto.Marshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: last}})
	require.NoError(t, err)
	md, err := proto.Marshal(&common.Metadata{Value: obm})
	require.NoError(t, err)
	raw, err := proto.Marshal(&common.Block{Header: &common.BlockHeader{Number: n}, Data: &common.BlockData{Data: data},
		Metadata: &common.BlockMetadata{Metadata: [][]byte{md, nil, nil, nil, nil}}})
	require.NoError(t, err)
	return raw
}

// TestVerifierKnowsFormerMembers: an organisation that left the channel
// (in config block 3) keeps its past transactions verifiable against the
// MSP the earlier configuration (block 0) gave it; an MSP the channel
// never had is still refused, and so is a certificate that does not chain
// to the former member's roots.
func TestVerifierKnowsFormerMembers(t *testing.T) {
	city, kaunas, stranger := newCA(t, "MunicipalityMSP"), newCA(t, "KaunasMSP"), newCA(t, "VenloMSP")
	impostor := newCA(t, "KaunasMSP")
	cityPeer := city.issue(t, "peer0.municipality", "peer")
	kaunasOp, kaunasPeer := kaunas.issue(t, "op@kaunas", "client"), kaunas.issue(t, "peer0.kaunas", "peer")
	txs := block(t, 1,
		transaction(t, "before-leaving", peer.TxValidationCode_VALID, kaunasOp, []*signer{kaunasPeer, cityPeer}, nil, nil),
		transaction(t, "stranger", peer.TxValidationCode_VALID, stranger.issue(t, "op@venlo", "client"), []*signer{cityPeer}, nil, nil),
		transaction(t, "impostor", peer.TxValidationCode_VALID, impostor.issue(t, "op@kaunas", "client"), []*signer{cityPeer}, nil, nil))
	before, now := channelConfig(t, city, kaunas), channelConfig(t, city)
	blocks := map[string][]byte{
		"newest": configBlock(t, 5, 3, nil),
		"3":      configBlock(t, 3, 3, now),
		"2":      configBlock(t, 2, 0, nil),
		"0":      configBlock(t, 0, 0, before),
	}
	fake := ledgertest.New()
	fake.On(ledgertest.ChannelConfig, func([]string) ([]byte, error) { return now, nil })
	fake.On(ledgertest.BlockByTxID, func([]string) ([]byte, error) { return txs, nil })
	fake.On(ledgertest.Block, func(args []string) ([]byte, error) {
		if raw, ok := blocks[args[0]]; ok {
			return raw, nil
		}
		return nil, ledgertest.Rejection("no block " + args[0])
	})
	ctx := context.Background()
	v, err := New(ctx, fake)
	require.NoError(t, err)
	got, err := v.Transactions(ctx, []string{"before-leaving", "stranger", "impostor"})
	require.NoError(t, err)

	assert.Empty(t, got["before-leaving"].Problems)
	assert.Equal(t, "KaunasMSP", got["before-leaving"].Creator.MSP)
	assert.Equal(t, []string{"KaunasMSP", "MunicipalityMSP"}, got["before-leaving"].Endorsers)
	assert.Contains(t, strings.Join(got["stranger"].Problems, ";"), "op@venlo (VenloMSP) is not an organisation of the channel, nor was it ever")
	assert.Contains(t, strings.Join(got["impostor"].Problems, ";"), "op@kaunas does not chain to KaunasMSP's root certificates")

	assert.Len(t, fake.CallsTo(ledgertest.Block), 4, "the config history is read once: newest, 3, 2, 0")
}

// TestVerifierKeepsTheValidOriginal: anyone may send a committed envelope
// to the orderers again; the peers mark the copy DUPLICATE_TXID. When the
// copy shares a block with another transaction the check reads, the
// valid original still counts, whichever block is read first.
func TestVerifierKeepsTheValidOriginal(t *testing.T) {
	city, rec := newCA(t, "MunicipalityMSP"), newCA(t, "RecyclerMSP")
	op := city.issue(t, "op1@municipality", "client")
	cityPeer, recPeer := city.issue(t, "peer0.municipality", "peer"), rec.issue(t, "peer0.recycler", "peer")
	writes := []write{{"mtrace", "\x00batch\x00B1\x00", `{"id":"B1"}`}}
	for _, tc := range []struct{ original, later string }{
		{"a-original", "b-later"}, // the original's block is read first
		{"b-original", "a-later"}, // the block with the copy is read first
	} {
		t.Run(tc.original, func(t *testing.T) {
			orig := transaction(t, tc.original, peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, writes, nil)
			dup := orig
			dup.code = peer.TxValidationCode_DUPLICATE_TXID
			first := block(t, 7, orig)
			second := block(t, 9, dup, transaction(t, tc.later, peer.TxValidationCode_VALID, op, []*signer{cityPeer, recPeer}, nil, nil))
			blocks := map[string][]byte{tc.original: first, tc.later: second}
			fake := ledgertest.New()
			cfg := channelConfig(t, city, rec)
			fake.On("cscc.GetChannelConfig", func([]string) ([]byte, error) { return cfg, nil })
			fake.On("qscc.GetBlockByTxID", func(args []string) ([]byte, error) { return blocks[args[0]], nil })
			ctx := context.Background()
			v, err := New(ctx, fake)
			require.NoError(t, err)
			v.Workers = 1 // keys in order: the case decides which block comes first
			got, err := v.Transactions(ctx, []string{tc.original, tc.later})
			require.NoError(t, err)
			require.Contains(t, got, tc.original)
			assert.True(t, got[tc.original].Valid, "the DUPLICATE_TXID copy must not replace the valid original")
			assert.Equal(t, "VALID", got[tc.original].Code)
			assert.JSONEq(t, `{"id":"B1"}`, string(got[tc.original].Batches["B1"]))
			assert.True(t, got[tc.later].Valid)
		})
	}
}
