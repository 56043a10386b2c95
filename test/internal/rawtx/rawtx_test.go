package rawtx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// certAndKey makes a self-signed ECDSA certificate for cn, usable as a
// member's signing certificate, a TLS server's or a TLS client's.
func certAndKey(t *testing.T, cn string) (certPEM, keyPEM []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), key
}

// writePair writes a certificate and key into dir and returns their paths.
func writePair(t *testing.T, dir, name string, certPEM, keyPEM []byte) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	require.NoError(t, os.WriteFile(certPath, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyPath, keyPEM, 0o600))
	return certPath, keyPath
}

// member is a signer loaded from files, with the key it should sign with.
func member(t *testing.T) (*Signer, *ecdsa.PrivateKey) {
	t.Helper()
	certPEM, keyPEM, key := certAndKey(t, "User1@maker.test")
	c, k := writePair(t, t.TempDir(), "user1", certPEM, keyPEM)
	s, err := LoadSigner("MakerMSP", c, k)
	require.NoError(t, err)
	require.Equal(t, certPEM, s.Cert)
	return s, key
}

func unmarshal(t *testing.T, raw []byte, m proto.Message) {
	t.Helper()
	require.NoError(t, proto.Unmarshal(raw, m))
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// verify asserts that env is signed, over its payload, by key.
func verify(t *testing.T, env *cb.Envelope, key *ecdsa.PrivateKey) {
	t.Helper()
	d := sha256.Sum256(env.Payload)
	assert.True(t, ecdsa.VerifyASN1(&key.PublicKey, d[:], env.Signature), "the envelope's signature verifies against the member's key")
}

func TestLoadSigner(t *testing.T) {
	s, key := member(t)
	var id msp.SerializedIdentity
	unmarshal(t, s.Creator(), &id)
	assert.Equal(t, "MakerMSP", id.Mspid)
	assert.Equal(t, s.Cert, id.IdBytes)

	msg := []byte("some message")
	sig, err := s.Sign(msg)
	require.NoError(t, err)
	d := sha256.Sum256(msg)
	assert.True(t, ecdsa.VerifyASN1(&key.PublicKey, d[:], sig), "Sign signs the SHA-256 digest")
	other := sha256.Sum256([]byte("another message"))
	assert.False(t, ecdsa.VerifyASN1(&key.PublicKey, other[:], sig))

	env, err := s.Envelope([]byte("payload"))
	require.NoError(t, err)
	assert.Equal(t, []byte("payload"), env.Payload)
	verify(t, env, key)
}

func TestLoadSignerErrors(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, _ := certAndKey(t, "User1@maker.test")
	c, k := writePair(t, dir, "user1", certPEM, keyPEM)

	_, err := LoadSigner("MakerMSP", filepath.Join(dir, "missing.crt"), k)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = LoadSigner("MakerMSP", c, filepath.Join(dir, "missing.key"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	junk := filepath.Join(dir, "junk.key")
	require.NoError(t, os.WriteFile(junk, []byte("not a key"), 0o600))
	_, err = LoadSigner("MakerMSP", c, junk)
	assert.ErrorContains(t, err, "key "+junk+": ")
}

func TestTxID(t *testing.T) {
	h := sha256.Sum256([]byte("noncecreator"))
	got := TxID([]byte("nonce"), []byte("creator"))
	assert.Equal(t, hex.EncodeToString(h[:]), got, "the hex SHA-256 of nonce then creator")
	assert.NotEqual(t, got, TxID([]byte("nonce2"), []byte("creator")))
}

// anatomy is what a built envelope says, taken apart step by step; a step
// that does not parse leaves the fields after it zero.
type anatomy struct {
	SigOK        bool
	Type         cb.HeaderType
	Channel      string
	TxID         string
	TxIDDerived  bool   // the TxID is the one Fabric derives from nonce and creator
	Creator      string // the creator's MSP ID
	ExtChaincode string // the chaincode the header extension names
	DataIsTx     bool
	Actions      int
	ActionHeader bool   // the action's header is the payload's signature header
	Input        string // the chaincode proposal payload's input
	CCName       string // the chaincode the action names
	CCVersion    string
	HashOK       bool // the proposal hash is the hash of the headers and input
	Status       int32
	Results      []byte
	Events       []byte
	Endorsements int
}

func dissect(t *testing.T, env *cb.Envelope, key *ecdsa.PrivateKey) (anatomy, *cb.Payload) {
	t.Helper()
	var a anatomy
	d := sha256.Sum256(env.Payload)
	a.SigOK = ecdsa.VerifyASN1(&key.PublicKey, d[:], env.Signature)
	var p cb.Payload
	unmarshal(t, env.Payload, &p)
	var ch cb.ChannelHeader
	unmarshal(t, p.Header.ChannelHeader, &ch)
	var sh cb.SignatureHeader
	unmarshal(t, p.Header.SignatureHeader, &sh)
	var id msp.SerializedIdentity
	unmarshal(t, sh.Creator, &id)
	a.Type, a.Channel, a.TxID, a.Creator = cb.HeaderType(ch.Type), ch.ChannelId, ch.TxId, id.Mspid
	a.TxIDDerived = ch.TxId == TxID(sh.Nonce, sh.Creator)
	assert.Len(t, sh.Nonce, 24)
	assert.NotNil(t, ch.Timestamp)
	var ext peer.ChaincodeHeaderExtension
	if proto.Unmarshal(ch.Extension, &ext) == nil {
		a.ExtChaincode = ext.GetChaincodeId().GetName()
	}
	var tx peer.Transaction
	if proto.Unmarshal(p.Data, &tx) != nil {
		return a, &p
	}
	a.DataIsTx, a.Actions = true, len(tx.Actions)
	if len(tx.Actions) != 1 {
		return a, &p
	}
	a.ActionHeader = bytes.Equal(tx.Actions[0].Header, p.Header.SignatureHeader)
	var ap peer.ChaincodeActionPayload
	if proto.Unmarshal(tx.Actions[0].Payload, &ap) != nil {
		return a, &p
	}
	var in peer.ChaincodeProposalPayload
	unmarshal(t, ap.ChaincodeProposalPayload, &in)
	a.Input = string(in.Input)
	a.Endorsements = len(ap.GetAction().GetEndorsements())
	var prp peer.ProposalResponsePayload
	unmarshal(t, ap.GetAction().GetProposalResponsePayload(), &prp)
	h := sha256.New()
	h.Write(p.Header.ChannelHeader)
	h.Write(p.Header.SignatureHeader)
	h.Write(ap.ChaincodeProposalPayload)
	a.HashOK = bytes.Equal(prp.ProposalHash, h.Sum(nil))
	var ca peer.ChaincodeAction
	unmarshal(t, prp.Extension, &ca)
	a.CCName, a.CCVersion = ca.GetChaincodeId().GetName(), ca.GetChaincodeId().GetVersion()
	a.Status, a.Results, a.Events = ca.GetResponse().GetStatus(), ca.Results, ca.Events
	return a, &p
}

func TestBuildHonest(t *testing.T) {
	s, key := member(t)
	results, err := RWSet(Namespace{Name: "mtrace", KV: &kvrwset.KVRWSet{Writes: []*kvrwset.KVWrite{{Key: "k", Value: []byte("v")}}}})
	require.NoError(t, err)
	tx := &Tx{Channel: "circular", Chaincode: "mtrace", Results: results, Events: []byte("event")}
	env, id, err := tx.Build(s)
	require.NoError(t, err)
	a, _ := dissect(t, env, key)
	assert.Equal(t, anatomy{
		SigOK: true, Type: cb.HeaderType_ENDORSER_TRANSACTION, Channel: "circular", TxID: id, TxIDDerived: true,
		Creator: "MakerMSP", ExtChaincode: "mtrace", DataIsTx: true, Actions: 1, ActionHeader: true, Input: "rawtx",
		CCName: "mtrace", CCVersion: "1", HashOK: true, Status: 200, Results: results, Events: []byte("event"),
	}, a)

	// What Parse reads back is what was built.
	raw := marshal(t, env)
	parsed, err := Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, &Parsed{TxID: id, Chaincode: "mtrace", Version: "1", Creator: s.Creator(), Results: results}, parsed)
	assert.Equal(t, id, ChannelTxID(raw))

	// Each build has a fresh nonce, so a fresh ID.
	_, id2, err := tx.Build(s)
	require.NoError(t, err)
	assert.NotEqual(t, id, id2)
}

// TestBuildOverrides checks that each override breaks the transaction in
// its own place only: everything else is as an honest client builds it,
// and the envelope is still correctly signed.
func TestBuildOverrides(t *testing.T) {
	s, key := member(t)
	results := []byte("results")
	otherExt := marshal(t, &peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: "other"}})
	honest := anatomy{
		SigOK: true, Type: cb.HeaderType_ENDORSER_TRANSACTION, Channel: "circular", TxIDDerived: true,
		Creator: "MakerMSP", ExtChaincode: "mtrace", DataIsTx: true, Actions: 1, ActionHeader: true, Input: "rawtx",
		CCName: "mtrace", CCVersion: "1", HashOK: true, Status: 200, Results: results,
	}
	actionPayload := marshal(t, &peer.ChaincodeActionPayload{ChaincodeProposalPayload: marshal(t, &peer.ChaincodeProposalPayload{Input: []byte("forged")})})
	endorsement := &peer.Endorsement{Endorser: []byte("someone"), Signature: []byte("sig")}
	for _, c := range []struct {
		name  string
		edit  func(*Tx)
		want  func(*anatomy)
		check func(t *testing.T, p *cb.Payload)
	}{
		{"Version", func(x *Tx) { x.Version = "7" }, func(a *anatomy) { a.CCVersion = "7" }, nil},
		{"TxID", func(x *Tx) { x.TxID = "chosen" }, func(a *anatomy) { a.TxIDDerived = false }, nil},
		{"Extension", func(x *Tx) { x.Extension = otherExt }, func(a *anatomy) { a.ExtChaincode = "other" }, nil},
		{"ActionCC", func(x *Tx) { x.ActionCC = &peer.ChaincodeID{Name: "other", Version: "9"} },
			func(a *anatomy) { a.CCName, a.CCVersion = "other", "9" }, nil},
		{"ProposalHash", func(x *Tx) { x.ProposalHash = []byte("not the hash") }, func(a *anatomy) { a.HashOK = false }, nil},
		{"ActionPayload", func(x *Tx) { x.ActionPayload = actionPayload },
			func(a *anatomy) {
				a.Input, a.CCName, a.CCVersion, a.HashOK, a.Status, a.Results = "forged", "", "", false, 0, nil
			},
			func(t *testing.T, p *cb.Payload) {
				var tx peer.Transaction
				unmarshal(t, p.Data, &tx)
				assert.Equal(t, actionPayload, tx.Actions[0].Payload)
			}},
		{"NoActions", func(x *Tx) { x.NoActions = true },
			func(a *anatomy) {
				*a = anatomy{SigOK: true, Type: a.Type, Channel: a.Channel, TxIDDerived: true, Creator: a.Creator, ExtChaincode: "mtrace", DataIsTx: true}
			}, nil},
		{"Data", func(x *Tx) { x.Data = []byte{0xff} },
			func(a *anatomy) {
				*a = anatomy{SigOK: true, Type: a.Type, Channel: a.Channel, TxIDDerived: true, Creator: a.Creator, ExtChaincode: "mtrace"}
			},
			func(t *testing.T, p *cb.Payload) { assert.Equal(t, []byte{0xff}, p.Data) }},
		{"Endorsements", func(x *Tx) { x.Endorsements = []*peer.Endorsement{endorsement} }, func(a *anatomy) { a.Endorsements = 1 }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := &Tx{Channel: "circular", Chaincode: "mtrace", Results: results}
			c.edit(tx)
			env, id, err := tx.Build(s)
			require.NoError(t, err)
			want := honest
			c.want(&want)
			got, p := dissect(t, env, key)
			want.TxID = id
			if c.name == "TxID" {
				assert.Equal(t, "chosen", id, "the ID returned is the one in the header")
			}
			assert.Equal(t, want, got)
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func TestRWSetNamespaces(t *testing.T) {
	kv1 := &kvrwset.KVRWSet{Reads: []*kvrwset.KVRead{{Key: "a"}}, Writes: []*kvrwset.KVWrite{{Key: "b", Value: []byte("1")}}}
	kv2 := &kvrwset.KVRWSet{Writes: []*kvrwset.KVWrite{{Key: "c", IsDelete: true}}}
	raw2 := marshal(t, kv2)
	colls := []*rwset.CollectionHashedReadWriteSet{{CollectionName: "private"}}
	results, err := RWSet(
		Namespace{Name: "mtrace", KV: kv1, Colls: colls},
		Namespace{Name: "_lifecycle", Raw: raw2},
		Namespace{Name: "mtrace", KV: kv2},
	)
	require.NoError(t, err)

	var set rwset.TxReadWriteSet
	unmarshal(t, results, &set)
	assert.Equal(t, rwset.TxReadWriteSet_KV, set.DataModel)
	require.Len(t, set.NsRwset, 3, "duplicates are kept, in order")
	assert.Equal(t, raw2, set.NsRwset[1].Rwset, "Raw is used as it is")

	nss, err := Namespaces(results)
	require.NoError(t, err)
	require.Len(t, nss, 3)
	assert.Equal(t, []string{"mtrace", "_lifecycle", "mtrace"}, []string{nss[0].Name, nss[1].Name, nss[2].Name})
	assert.True(t, proto.Equal(kv1, nss[0].KV))
	assert.True(t, proto.Equal(kv2, nss[1].KV))
	assert.Len(t, nss[0].Colls, 1)
	assert.Equal(t, "private", nss[0].Colls[0].CollectionName)
	assert.Equal(t, raw2, nss[1].Raw)

	ns, ok := Find(nss, "mtrace")
	assert.True(t, ok)
	assert.True(t, proto.Equal(kv1, ns.KV), "Find returns the first namespace of that name")
	_, ok = Find(nss, "other")
	assert.False(t, ok)

	_, err = Namespaces([]byte{0xff})
	assert.Error(t, err)
	bad, err := RWSet(Namespace{Name: "broken", Raw: []byte{0xff}})
	require.NoError(t, err)
	_, err = Namespaces(bad)
	assert.ErrorContains(t, err, "namespace broken: ")
}

func TestParseErrors(t *testing.T) {
	s, _ := member(t)
	build := func(tx *Tx) []byte {
		env, _, err := tx.Build(s)
		require.NoError(t, err)
		return marshal(t, env)
	}
	for _, c := range []struct {
		name, want string
		env        []byte
	}{
		{"envelope", "envelope: ", []byte{0xff}},
		{"payload", "payload: ", marshal(t, &cb.Envelope{Payload: []byte{0xff}})},
		{"channel header", "channel header: ", marshal(t, &cb.Envelope{Payload: marshal(t, &cb.Payload{Header: &cb.Header{ChannelHeader: []byte{0xff}}})})},
		{"signature header", "signature header: ", marshal(t, &cb.Envelope{Payload: marshal(t, &cb.Payload{Header: &cb.Header{SignatureHeader: []byte{0xff}}})})},
		{"transaction", "transaction: ", build(&Tx{Channel: "c", Chaincode: "cc", Data: []byte{0xff}})},
		{"no actions", "transaction has 0 actions", build(&Tx{Channel: "c", Chaincode: "cc", NoActions: true})},
		{"action payload", "action payload: ", build(&Tx{Channel: "c", Chaincode: "cc", ActionPayload: []byte{0xff}})},
		{"proposal response payload", "proposal response payload: ", build(&Tx{Channel: "c", Chaincode: "cc",
			ActionPayload: marshal(t, &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: []byte{0xff}}})})},
		{"chaincode action", "chaincode action: ", build(&Tx{Channel: "c", Chaincode: "cc",
			ActionPayload: marshal(t, &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{
				ProposalResponsePayload: marshal(t, &peer.ProposalResponsePayload{Extension: []byte{0xff}})}})})},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.env)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, len(err.Error()) >= len(c.want) && err.Error()[:len(c.want)] == c.want, "error %q starts with %q", err, c.want)
		})
	}
}

func TestParseOtherTypes(t *testing.T) {
	ch := marshal(t, &cb.ChannelHeader{Type: int32(cb.HeaderType_CONFIG), TxId: "cfg",
		Extension: marshal(t, &peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: "x"}})})
	env := marshal(t, &cb.Envelope{Payload: marshal(t, &cb.Payload{
		Header: &cb.Header{ChannelHeader: ch, SignatureHeader: marshal(t, &cb.SignatureHeader{Creator: []byte("me")})},
		Data:   []byte{0xff}, // not a transaction: a config envelope is not taken apart
	})})
	p, err := Parse(env)
	require.NoError(t, err)
	assert.Equal(t, &Parsed{TxID: "cfg", Chaincode: "x", Creator: []byte("me")}, p)
}

func TestChannelTxIDIndex(t *testing.T) {
	s, _ := member(t)
	var data [][]byte
	var ids []string
	for range 3 {
		env, id, err := (&Tx{Channel: "c", Chaincode: "cc"}).Build(s)
		require.NoError(t, err)
		data, ids = append(data, marshal(t, env)), append(ids, id)
	}
	data = append([][]byte{{0xff}}, data...) // an unparsable first entry
	data = append(data, data[2])             // a duplicate of ids[1]
	b := &cb.Block{Data: &cb.BlockData{Data: data}}
	assert.Equal(t, "", ChannelTxID([]byte{0xff}))
	assert.Equal(t, "", ChannelTxID(marshal(t, &cb.Envelope{Payload: []byte{0xff}})))
	assert.Equal(t, 1, Index(b, ids[0]))
	assert.Equal(t, 2, Index(b, ids[1]), "the first of two")
	assert.Equal(t, 3, Index(b, ids[2]))
	assert.Equal(t, -1, Index(b, "absent"))
	assert.Equal(t, -1, Index(&cb.Block{}, ids[0]))
}

// metadata is a block's metadata with something distinct in every slot,
// so that reading the wrong slot shows.
func metadata(t *testing.T) [][]byte {
	md := make([][]byte, len(cb.BlockMetadataIndex_name))
	for i := range md {
		md[i] = marshal(t, &cb.Metadata{Value: []byte{byte(100 + i), byte(100 + i), byte(100 + i)}})
	}
	return md
}

func TestCodes(t *testing.T) {
	md := metadata(t)
	md[cb.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{
		byte(peer.TxValidationCode_VALID), byte(peer.TxValidationCode_MVCC_READ_CONFLICT), byte(peer.TxValidationCode_BAD_PAYLOAD),
	}
	b := &cb.Block{Data: &cb.BlockData{Data: [][]byte{{1}, {2}, {3}}}, Metadata: &cb.BlockMetadata{Metadata: md}}
	codes, err := Codes(b)
	require.NoError(t, err)
	assert.Equal(t, []peer.TxValidationCode{peer.TxValidationCode_VALID, peer.TxValidationCode_MVCC_READ_CONFLICT, peer.TxValidationCode_BAD_PAYLOAD}, codes)

	b.Data.Data = b.Data.Data[:2]
	_, err = Codes(b)
	assert.EqualError(t, err, "transactions filter has 3 entries for 2 transactions")

	b.Metadata.Metadata = md[:cb.BlockMetadataIndex_TRANSACTIONS_FILTER]
	_, err = Codes(b)
	assert.EqualError(t, err, "block has no transactions filter")
	_, err = Codes(&cb.Block{})
	assert.EqualError(t, err, "block has no transactions filter")
}

func TestCommitHash(t *testing.T) {
	md := metadata(t)
	want := sha256.Sum256([]byte("state"))
	md[cb.BlockMetadataIndex_COMMIT_HASH] = marshal(t, &cb.Metadata{Value: want[:]})
	b := &cb.Block{Header: &cb.BlockHeader{Number: 9}, Metadata: &cb.BlockMetadata{Metadata: md}}
	got, err := CommitHash(b)
	require.NoError(t, err)
	assert.Equal(t, want[:], got)

	md[cb.BlockMetadataIndex_COMMIT_HASH] = marshal(t, &cb.Metadata{Signatures: []*cb.MetadataSignature{{Signature: []byte("s")}}})
	_, err = CommitHash(b)
	assert.EqualError(t, err, "block 9 has an empty commit hash")

	md[cb.BlockMetadataIndex_COMMIT_HASH] = []byte{0xff}
	_, err = CommitHash(b)
	assert.ErrorContains(t, err, "block 9 commit hash: ")

	md[cb.BlockMetadataIndex_COMMIT_HASH] = nil
	_, err = CommitHash(b)
	assert.EqualError(t, err, "block 9 has no commit hash")

	b.Metadata.Metadata = md[:cb.BlockMetadataIndex_COMMIT_HASH]
	_, err = CommitHash(b)
	assert.EqualError(t, err, "block 9 has no commit hash")
}
