package proof

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ordererpb "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/configblock"
)

// A kit is a channel made in the test, with keys generated for it: an
// orderer organisation (one Raft orderer, or four BFT consenters) and two
// member organisations, each with a peer and a client. It cuts and signs
// blocks as the orderers do and answers as the peers do, so that proofs of
// any size and either consensus can be built without a network.

const (
	kitChannel = "circular"
	org1, org2 = "Org1MSP", "Org2MSP"
	ordMSP     = "OrdererMSP"
)

type node struct {
	msp  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
	sid  []byte // serialized identity
}

func (n *node) sign(t testing.TB, msg []byte) []byte {
	d := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, n.key, d[:])
	require.NoError(t, err)
	return sig
}

type ca struct {
	msp  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

var serial int64

func newCA(t testing.TB, mspID string) *ca {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "ca." + mspID},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &ca{msp: mspID, key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (c *ca) issue(t testing.TB, cn, ou string) *node {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	sid, err := proto.Marshal(&msp.SerializedIdentity{Mspid: c.msp, IdBytes: p})
	require.NoError(t, err)
	return &node{msp: c.msp, key: key, cert: cert, pem: p, sid: sid}
}

func (c *ca) mspValue(t testing.TB) *common.ConfigValue {
	fc := &msp.FabricMSPConfig{Name: c.msp, RootCerts: [][]byte{c.pem}, FabricNodeOus: &msp.FabricNodeOUs{Enable: true}}
	mc := &msp.MSPConfig{Config: marshal(t, fc)}
	return &common.ConfigValue{Value: marshal(t, mc)}
}

type kit struct {
	t          testing.TB
	bft        bool
	cas        map[string]*ca
	orderers   []*node // consenter i has ID i+1
	signers    []int   // indexes of the orderers that sign (BFT: a quorum)
	peers      map[string]*node
	clients    map[string]*node
	configs    [][]byte
	blocks     [][]byte
	last       *common.Block
	lastConfig uint64
	sequence   uint64
	now        time.Time
	// perBlock makes the peers attest validity per block (qscc
	// GetBlockByNumber) instead of per transaction.
	perBlock bool
}

func newKit(t testing.TB, bft bool) *kit {
	k := &kit{t: t, bft: bft, cas: map[string]*ca{}, peers: map[string]*node{}, clients: map[string]*node{},
		now: time.Now().Add(-30 * time.Minute).Truncate(time.Second)}
	for _, m := range []string{ordMSP, org1, org2} {
		k.cas[m] = newCA(t, m)
	}
	n := 1
	if bft {
		n = 4
	}
	for i := range n {
		k.orderers = append(k.orderers, k.cas[ordMSP].issue(t, fmt.Sprintf("orderer%d", i+1), "orderer"))
	}
	k.signers = []int{0}
	if bft {
		k.signers = []int{0, 1, 2}
	}
	for _, m := range []string{org1, org2} {
		k.peers[m] = k.cas[m].issue(t, "peer0."+m, "peer")
		k.clients[m] = k.cas[m].issue(t, "user."+m, "client")
	}
	k.genesis()
	return k
}

func sigPolicy(t testing.TB, env *common.SignaturePolicyEnvelope) *common.ConfigPolicy {
	return &common.ConfigPolicy{Policy: &common.Policy{Type: int32(common.Policy_SIGNATURE), Value: marshal(t, env)}}
}

func signedBy(i int32) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: i}}
}

// config is the channel configuration with consenters (BFT) or the one
// Raft orderer.
func (k *kit) config(consenters []*node) *common.Config {
	t := k.t
	member := &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_ROLE, Principal: marshal(t, &msp.MSPRole{MspIdentifier: ordMSP, Role: msp.MSPRole_MEMBER})}
	ordOrg := &common.ConfigGroup{Values: map[string]*common.ConfigValue{"MSP": k.cas[ordMSP].mspValue(t)},
		Policies: map[string]*common.ConfigPolicy{"Writers": sigPolicy(t, &common.SignaturePolicyEnvelope{Rule: signedBy(0), Identities: []*msp.MSPPrincipal{member}})}}
	ord := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{"OrdererOrg": ordOrg}, Values: map[string]*common.ConfigValue{}, Policies: map[string]*common.ConfigPolicy{}}
	if k.bft {
		ord.Values["ConsensusType"] = &common.ConfigValue{Value: marshal(t, &ordererpb.ConsensusType{Type: "BFT"})}
		var mapping []*common.Consenter
		var ids []*msp.MSPPrincipal
		var rules []*common.SignaturePolicy
		for i, c := range consenters {
			mapping = append(mapping, &common.Consenter{Id: uint32(i + 1), MspId: ordMSP, Identity: c.pem})
			ids = append(ids, &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_IDENTITY,
				Principal: marshal(t, &msp.SerializedIdentity{Mspid: ordMSP, IdBytes: c.pem})})
			rules = append(rules, signedBy(int32(i)))
		}
		ord.Values["Orderers"] = &common.ConfigValue{Value: marshal(t, &common.Orderers{ConsenterMapping: mapping})}
		quorum := (len(consenters)*2)/3 + 1
		ord.Policies["BlockValidation"] = sigPolicy(t, &common.SignaturePolicyEnvelope{Identities: ids,
			Rule: &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: int32(quorum), Rules: rules}}}})
	} else {
		ord.Values["ConsensusType"] = &common.ConfigValue{Value: marshal(t, &ordererpb.ConsensusType{Type: "etcdraft"})}
		ord.Policies["BlockValidation"] = &common.ConfigPolicy{Policy: &common.Policy{Type: int32(common.Policy_IMPLICIT_META),
			Value: marshal(t, &common.ImplicitMetaPolicy{SubPolicy: "Writers", Rule: common.ImplicitMetaPolicy_ANY})}}
	}
	app := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{}}
	for _, m := range []string{org1, org2} {
		app.Groups[m] = &common.ConfigGroup{Values: map[string]*common.ConfigValue{"MSP": k.cas[m].mspValue(t)}}
	}
	return &common.Config{Sequence: k.sequence, ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{"Orderer": ord, "Application": app}}}
}

func (k *kit) configEnvelope(cfg *common.Config) []byte {
	t := k.t
	ch := marshal(t, &common.ChannelHeader{Type: int32(common.HeaderType_CONFIG), ChannelId: kitChannel, Timestamp: timestamppb.New(k.tick())})
	pl := marshal(t, &common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: marshal(t, &common.SignatureHeader{})},
		Data: marshal(t, &common.ConfigEnvelope{Config: cfg})})
	return marshal(t, &common.Envelope{Payload: pl})
}

func (k *kit) tick() time.Time {
	k.now = k.now.Add(time.Second)
	return k.now
}

func (k *kit) genesis() {
	b := &common.Block{Header: &common.BlockHeader{Number: 0}, Data: &common.BlockData{Data: [][]byte{k.configEnvelope(k.config(k.orderers))}}}
	b.Header.DataHash = sha256Sum(b.Data.Data[0])
	b.Metadata = &common.BlockMetadata{Metadata: [][]byte{marshal(k.t, &common.Metadata{Value: marshal(k.t, &common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: 0}})}), nil, nil, nil, nil}}
	k.last = b
	k.configs = append(k.configs, marshal(k.t, b))
}

func (k *kit) genesisHash() string { return fmt.Sprintf("%x", configblock.HeaderHash(k.last0())) }

func (k *kit) last0() *common.BlockHeader {
	var b common.Block
	require.NoError(k.t, proto.Unmarshal(k.configs[0], &b))
	return b.Header
}

// cut makes and signs the next block of envs; a config block when config.
func (k *kit) cut(envs [][]byte, config bool) *common.Block {
	t := k.t
	num := k.last.Header.Number + 1
	b := &common.Block{Header: &common.BlockHeader{Number: num, PreviousHash: configblock.HeaderHash(k.last.Header)}, Data: &common.BlockData{Data: envs}}
	var all []byte
	for _, e := range envs {
		all = append(all, e...)
	}
	b.Header.DataHash = sha256Sum(all)
	if config {
		k.lastConfig = num
	}
	value := marshal(t, &common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: k.lastConfig}})
	header := configblock.HeaderBytes(b.Header)
	md := &common.Metadata{Value: value}
	for _, i := range k.signers {
		o := k.orderers[i]
		var h []byte
		s := &common.MetadataSignature{}
		if k.bft {
			h = marshal(t, &common.IdentifierHeader{Identifier: uint32(i + 1)})
			s.IdentifierHeader = h
		} else {
			h = marshal(t, &common.SignatureHeader{Creator: o.sid, Nonce: []byte{byte(num)}})
			s.SignatureHeader = h
		}
		s.Signature = o.sign(t, append(append(append([]byte{}, value...), h...), header...))
		md.Signatures = append(md.Signatures, s)
	}
	b.Metadata = &common.BlockMetadata{Metadata: [][]byte{marshal(t, md), nil, make([]byte, len(envs)), nil, nil}}
	k.last = b
	raw := marshal(t, b)
	if config {
		k.configs = append(k.configs, raw)
	} else {
		k.blocks = append(k.blocks, raw)
	}
	return b
}

// reconfigure cuts a config block with a new consenter set.
func (k *kit) reconfigure(consenters []*node) {
	k.sequence++
	k.cut([][]byte{k.configEnvelope(k.config(consenters))}, true)
}

func compositeKey(parts ...string) string {
	s := "\x00"
	for _, p := range parts {
		s += p + "\x00"
	}
	return s
}

// tx makes a transaction created by creator, endorsed by the peers of
// both organisations, writing writes to the mtrace namespace.
func (k *kit) tx(creator *node, id string, at time.Time, writes map[string][]byte) []byte {
	t := k.t
	var kv kvrwset.KVRWSet
	for key, v := range writes {
		kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: key, Value: v})
	}
	rws := marshal(t, &rwset.TxReadWriteSet{NsRwset: []*rwset.NsReadWriteSet{{Namespace: "mtrace", Rwset: marshalDet(t, &kv)}}})
	prp := marshal(t, &peer.ProposalResponsePayload{ProposalHash: sha256Sum([]byte(id)),
		Extension: marshal(t, &peer.ChaincodeAction{Results: rws, Response: &peer.Response{Status: 200}, ChaincodeId: &peer.ChaincodeID{Name: "mtrace"}})})
	var ends []*peer.Endorsement
	for _, m := range []string{org1, org2} {
		p := k.peers[m]
		ends = append(ends, &peer.Endorsement{Endorser: p.sid, Signature: p.sign(t, append(append([]byte{}, prp...), p.sid...))})
	}
	sh := marshal(t, &common.SignatureHeader{Creator: creator.sid, Nonce: []byte(id)})
	cap := marshal(t, &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: ends}})
	ch := marshal(t, &common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: kitChannel, TxId: id, Timestamp: timestamppb.New(at)})
	pl := marshal(t, &common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh},
		Data: marshal(t, &peer.Transaction{Actions: []*peer.TransactionAction{{Header: sh, Payload: cap}}})})
	return marshal(t, &common.Envelope{Payload: pl, Signature: creator.sign(t, pl)})
}

// answer is peer p's signed answer to chaincode fn(args...), which read
// one key last written in block readBlock.
func (k *kit) answer(p *node, chaincode string, payload []byte, readBlock uint64, args ...string) Answer {
	t := k.t
	input := &peer.ChaincodeInput{}
	for _, a := range args {
		input.Args = append(input.Args, []byte(a))
	}
	cis := marshal(t, &peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{ChaincodeId: &peer.ChaincodeID{Name: chaincode}, Input: input}})
	ch := marshal(t, &common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: kitChannel, TxId: "q"})
	sh := marshal(t, &common.SignatureHeader{Creator: k.clients[org1].sid, Nonce: []byte("n")})
	cpp := marshal(t, &peer.ChaincodeProposalPayload{Input: cis})
	prop := marshal(t, &peer.Proposal{Header: marshal(t, &common.Header{ChannelHeader: ch, SignatureHeader: sh}), Payload: cpp})
	h := sha256.New()
	h.Write(ch)
	h.Write(sh)
	h.Write(cpp)
	reads := marshal(t, &rwset.TxReadWriteSet{NsRwset: []*rwset.NsReadWriteSet{{Namespace: chaincode, Rwset: marshal(t, &kvrwset.KVRWSet{
		Reads: []*kvrwset.KVRead{{Key: "k", Version: &kvrwset.Version{BlockNum: readBlock}}}})}}})
	prp := marshal(t, &peer.ProposalResponsePayload{ProposalHash: h.Sum(nil), Extension: marshal(t, &peer.ChaincodeAction{
		Results: reads, Response: &peer.Response{Status: 200, Payload: payload}, ChaincodeId: &peer.ChaincodeID{Name: chaincode}})})
	return Answer{Proposal: prop, Payload: prp, Endorser: p.sid, Signature: p.sign(t, append(append([]byte{}, prp...), p.sid...))}
}

func marshalDet(t testing.TB, m proto.Message) []byte {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	require.NoError(t, err)
	return raw
}

func mustJSON(t testing.TB, v any) []byte {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// chain builds the proof of a chain of n batches: a collection, then n-1
// processes each taking the whole of the batch before, perBlock
// transactions to a block. It returns the proof of the last batch.
func (k *kit) chain(n, perBlock int) *Proof {
	t := k.t
	c := k.clients[org1]
	actor := model.Actor{MSP: org1, Identity: c.cert.Subject.CommonName, EnrollmentID: c.cert.Subject.CommonName}
	const m = model.Grams(1000)
	ev := model.Evidence{}
	var envs [][]byte
	var ids []string
	var prev *model.Batch
	for i := range n {
		id := fmt.Sprintf("B%05d", i)
		tx := fmt.Sprintf("%064x", i+1)
		at := k.tick()
		ts := at.UTC().Format(time.RFC3339)
		b := &model.Batch{ID: id, Material: "PET", Form: model.FormWaste, InitialMass: m, RemainingMass: m, Owner: org1, Submitter: actor,
			Status: model.StatusActive, RecycledContent: model.FullRecycled, CreatedAt: ts, CreatedTx: tx, UpdatedAt: ts, LastTx: tx,
			UpdatedBy: actor, Format: model.CurrentFormat}
		writes := map[string][]byte{}
		if prev == nil {
			b.Origin.Collection = &model.Collection{Location: "here", CollectedAt: ts, Collector: org1}
		} else {
			b.Form = "flakes"
			d := model.Derivation{Step: "shredding", Tx: tx, By: actor, At: ts, Inputs: []model.Take{{ID: prev.ID, Mass: m}}}
			b.Origin.Process = &d
			p := model.Process{Derivation: d, Outputs: []model.Take{{ID: id, Mass: m}}, RecycledContent: model.FullRecycled}
			take := model.Take{ID: id, Mass: m, Tx: tx, At: ts}
			prev.TakenMass, prev.RemainingMass, prev.Takes = m, 0, 1
			prev.LastTx, prev.UpdatedAt = tx, ts
			writes[compositeKey("batch", prev.ID)] = mustJSON(t, prev)
			writes[compositeKey("process", tx)] = mustJSON(t, p)
			writes[compositeKey("take", prev.ID, ts, tx)] = mustJSON(t, take)
			ev.Processes = append(ev.Processes, p)
			ev.Takes = append(ev.Takes, model.TakeOf{Parent: prev.ID, Take: take})
		}
		writes[compositeKey("batch", id)] = mustJSON(t, b)
		envs = append(envs, k.tx(c, tx, at, writes))
		ids = append(ids, tx)
		if len(envs) == perBlock || i == n-1 {
			k.cut(envs, false)
			envs = nil
		}
		if prev != nil {
			ev.Batches = append(ev.Batches, *prev)
		}
		prev = b
	}
	ev.Batches = append(ev.Batches, *prev)
	head := k.last.Header.Number
	p := &Proof{Format: Format, Channel: kitChannel, Chaincode: "mtrace", Batch: prev.ID, Head: head, Configs: k.configs, Blocks: k.blocks}
	payload := mustJSON(t, ev)
	for _, m := range []string{org1, org2} {
		p.State = append(p.State, k.answer(k.peers[m], "mtrace", payload, head, "Evidence", prev.ID))
	}
	// The validity of each block's transactions, or of each transaction,
	// from the blocks.
	for _, raw := range k.blocks {
		if k.perBlock {
			var b common.Block
			require.NoError(t, proto.Unmarshal(raw, &b))
			for _, m := range []string{org1, org2} {
				p.Validity = append(p.Validity, k.answer(k.peers[m], "qscc", raw, 0, "GetBlockByNumber", kitChannel, fmt.Sprint(b.Header.Number)))
			}
			continue
		}
		var b common.Block
		require.NoError(t, proto.Unmarshal(raw, &b))
		for _, d := range b.Data.Data {
			var env common.Envelope
			require.NoError(t, proto.Unmarshal(d, &env))
			id, err := txID(&env)
			require.NoError(t, err)
			pt := marshal(t, &peer.ProcessedTransaction{TransactionEnvelope: &env, ValidationCode: 0})
			for _, m := range []string{org1, org2} {
				p.Validity = append(p.Validity, k.answer(k.peers[m], "qscc", pt, 0, "GetTransactionByID", kitChannel, id))
			}
		}
	}
	require.NoError(t, p.Strip())
	require.NoError(t, p.Compact())
	return p
}
