// Package rawtx lets the end-to-end tests act as a hostile member acts:
// build endorser transactions by hand, well formed or broken in one chosen
// place, sign them with a member's own client key, send them straight to
// an orderer's Broadcast service (no peer, no gateway, no endorsement),
// and read blocks back, from the orderers' Deliver service and from each
// peer's query system chaincode.
//
// Nothing here checks what it builds: producing what an honest client
// never would is the point.
package rawtx

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/hyperledger/fabric-gateway/pkg/identity"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Signer is a member's client identity with its private key.
type Signer struct {
	MSPID string
	Cert  []byte // PEM
	sign  identity.Sign
}

// LoadSigner reads a member's signing certificate and private key (PEM).
func LoadSigner(mspID, certPath, keyPath string) (*Signer, error) {
	cert, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := identity.PrivateKeyFromPEM(raw)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyPath, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, err
	}
	return &Signer{MSPID: mspID, Cert: cert, sign: sign}, nil
}

// Creator is the serialized identity that headers carry.
func (s *Signer) Creator() []byte {
	raw, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: s.MSPID, IdBytes: s.Cert})
	return raw
}

// Sign signs msg (its SHA-256 digest, as Fabric expects).
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	return s.sign(d[:])
}

// Envelope signs payload into an envelope.
func (s *Signer) Envelope(payload []byte) (*cb.Envelope, error) {
	sig, err := s.Sign(payload)
	if err != nil {
		return nil, err
	}
	return &cb.Envelope{Payload: payload, Signature: sig}, nil
}

// TxID is the transaction ID Fabric derives from a nonce and a creator.
func TxID(nonce, creator []byte) string {
	h := sha256.New()
	h.Write(nonce)
	h.Write(creator)
	return hex.EncodeToString(h.Sum(nil))
}

// Tx is an endorser transaction to be built. The zero value of each
// override means "as an honest client builds it"; setting one breaks the
// transaction in that place only, and everything around it is still built
// (and signed) correctly, so that each override tests one check.
type Tx struct {
	Channel   string
	Chaincode string // named in the header extension and the action
	Version   string // the chaincode version the action claims; "1" if empty
	Results   []byte // the action's marshalled read-write set
	Events    []byte // the action's marshalled chaincode event, if any

	// Overrides.
	TxID          string              // a transaction ID other than the derived one
	Extension     []byte              // the channel header's extension, instead of one naming Chaincode
	ActionCC      *peer.ChaincodeID   // the chaincode the action names, instead of Chaincode
	ProposalHash  []byte              // instead of the hash of the header and input
	ActionPayload []byte              // the transaction action's payload, instead of the endorsed action
	NoActions     bool                // a transaction with no action at all
	Data          []byte              // the payload's data, instead of the marshalled transaction
	Endorsements  []*peer.Endorsement // none by default: the orderers do not ask for any
}

// Build signs the transaction as s and returns its envelope and ID.
func (t *Tx) Build(s *Signer) (*cb.Envelope, string, error) {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", err
	}
	creator := s.Creator()
	txID := t.TxID
	if txID == "" {
		txID = TxID(nonce, creator)
	}
	ext := t.Extension
	if ext == nil {
		var err error
		ext, err = proto.Marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: t.Chaincode}})
		if err != nil {
			return nil, "", err
		}
	}
	chdr, err := proto.Marshal(&cb.ChannelHeader{
		Type: int32(cb.HeaderType_ENDORSER_TRANSACTION), ChannelId: t.Channel, TxId: txID,
		Timestamp: timestamppb.Now(), Extension: ext,
	})
	if err != nil {
		return nil, "", err
	}
	shdr, err := proto.Marshal(&cb.SignatureHeader{Creator: creator, Nonce: nonce})
	if err != nil {
		return nil, "", err
	}
	data := t.Data
	if data == nil {
		data, err = t.transaction(chdr, shdr)
		if err != nil {
			return nil, "", err
		}
	}
	payload, err := proto.Marshal(&cb.Payload{Header: &cb.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: data})
	if err != nil {
		return nil, "", err
	}
	env, err := s.Envelope(payload)
	return env, txID, err
}

// transaction is the payload data: one action holding the chaincode's
// action, unless overridden.
func (t *Tx) transaction(chdr, shdr []byte) ([]byte, error) {
	if t.NoActions {
		return proto.Marshal(&peer.Transaction{})
	}
	input, err := proto.Marshal(&peer.ChaincodeProposalPayload{Input: []byte("rawtx")})
	if err != nil {
		return nil, err
	}
	ap := t.ActionPayload
	if ap == nil {
		cc := t.ActionCC
		if cc == nil {
			v := t.Version
			if v == "" {
				v = "1"
			}
			cc = &peer.ChaincodeID{Name: t.Chaincode, Version: v}
		}
		action, err := proto.Marshal(&peer.ChaincodeAction{
			Results: t.Results, Events: t.Events, Response: &peer.Response{Status: 200}, ChaincodeId: cc,
		})
		if err != nil {
			return nil, err
		}
		hash := t.ProposalHash
		if hash == nil {
			h := sha256.New()
			h.Write(chdr)
			h.Write(shdr)
			h.Write(input)
			hash = h.Sum(nil)
		}
		prp, err := proto.Marshal(&peer.ProposalResponsePayload{ProposalHash: hash, Extension: action})
		if err != nil {
			return nil, err
		}
		ap, err = proto.Marshal(&peer.ChaincodeActionPayload{
			ChaincodeProposalPayload: input,
			Action:                   &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: t.Endorsements},
		})
		if err != nil {
			return nil, err
		}
	}
	return proto.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Header: shdr, Payload: ap}}})
}

// Namespace is one namespace's part of a read-write set.
type Namespace struct {
	Name  string
	KV    *kvrwset.KVRWSet
	Raw   []byte // used instead of KV when set
	Colls []*rwset.CollectionHashedReadWriteSet
}

// RWSet marshals a read-write set of the given namespaces, in order
// (duplicates allowed).
func RWSet(nss ...Namespace) ([]byte, error) {
	set := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV}
	for _, ns := range nss {
		raw := ns.Raw
		if raw == nil {
			var err error
			if raw, err = proto.Marshal(ns.KV); err != nil {
				return nil, err
			}
		}
		set.NsRwset = append(set.NsRwset, &rwset.NsReadWriteSet{Namespace: ns.Name, Rwset: raw, CollectionHashedRwset: ns.Colls})
	}
	return proto.Marshal(set)
}

// Namespaces splits a marshalled read-write set into its namespaces.
func Namespaces(results []byte) ([]Namespace, error) {
	var set rwset.TxReadWriteSet
	if err := proto.Unmarshal(results, &set); err != nil {
		return nil, err
	}
	out := make([]Namespace, 0, len(set.NsRwset))
	for _, ns := range set.NsRwset {
		var kv kvrwset.KVRWSet
		if err := proto.Unmarshal(ns.Rwset, &kv); err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns.Namespace, err)
		}
		out = append(out, Namespace{Name: ns.Namespace, KV: &kv, Raw: ns.Rwset, Colls: ns.CollectionHashedRwset})
	}
	return out, nil
}

// Find returns the namespace named name.
func Find(nss []Namespace, name string) (Namespace, bool) {
	for _, ns := range nss {
		if ns.Name == name {
			return ns, true
		}
	}
	return Namespace{}, false
}

// Parsed is an endorser transaction taken apart.
type Parsed struct {
	TxID      string
	Chaincode string // from the header extension
	Version   string // the chaincode version the action names
	Creator   []byte
	Results   []byte // the action's read-write set
}

// Parse takes a marshalled endorser transaction envelope apart.
func Parse(env []byte) (*Parsed, error) {
	var e cb.Envelope
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	var p cb.Payload
	if err := proto.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var ch cb.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	var sh cb.SignatureHeader
	if err := proto.Unmarshal(p.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	out := &Parsed{TxID: ch.TxId, Creator: sh.Creator}
	var ext peer.ChaincodeHeaderExtension
	if err := proto.Unmarshal(ch.Extension, &ext); err == nil {
		out.Chaincode = ext.GetChaincodeId().GetName()
	}
	if cb.HeaderType(ch.Type) != cb.HeaderType_ENDORSER_TRANSACTION {
		return out, nil
	}
	var tx peer.Transaction
	if err := proto.Unmarshal(p.Data, &tx); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	if len(tx.Actions) != 1 {
		return nil, fmt.Errorf("transaction has %d actions", len(tx.Actions))
	}
	var ap peer.ChaincodeActionPayload
	if err := proto.Unmarshal(tx.Actions[0].Payload, &ap); err != nil {
		return nil, fmt.Errorf("action payload: %w", err)
	}
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(ap.GetAction().GetProposalResponsePayload(), &prp); err != nil {
		return nil, fmt.Errorf("proposal response payload: %w", err)
	}
	var ca peer.ChaincodeAction
	if err := proto.Unmarshal(prp.Extension, &ca); err != nil {
		return nil, fmt.Errorf("chaincode action: %w", err)
	}
	out.Results, out.Version = ca.Results, ca.GetChaincodeId().GetVersion()
	return out, nil
}

// ChannelTxID is the transaction ID in an envelope's channel header, or ""
// when the envelope does not parse that far.
func ChannelTxID(env []byte) string {
	var e cb.Envelope
	var p cb.Payload
	var ch cb.ChannelHeader
	if proto.Unmarshal(env, &e) != nil || proto.Unmarshal(e.Payload, &p) != nil ||
		proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch) != nil {
		return ""
	}
	return ch.TxId
}

// Index is the position of the first transaction with ID txID in block,
// or -1.
func Index(b *cb.Block, txID string) int {
	for i, d := range b.GetData().GetData() {
		if ChannelTxID(d) == txID {
			return i
		}
	}
	return -1
}

// Codes are a block's validation codes, one per transaction, as the peer
// that returned the block recorded them.
func Codes(b *cb.Block) ([]peer.TxValidationCode, error) {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(cb.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		return nil, errors.New("block has no transactions filter")
	}
	f := md[cb.BlockMetadataIndex_TRANSACTIONS_FILTER]
	if len(f) != len(b.GetData().GetData()) {
		return nil, fmt.Errorf("transactions filter has %d entries for %d transactions", len(f), len(b.GetData().GetData()))
	}
	out := make([]peer.TxValidationCode, len(f))
	for i, c := range f {
		out[i] = peer.TxValidationCode(c)
	}
	return out, nil
}

// CommitHash is the commit hash a peer recorded in a block's metadata:
// the hash of the state updates of every valid transaction so far.
func CommitHash(b *cb.Block) ([]byte, error) {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(cb.BlockMetadataIndex_COMMIT_HASH) || len(md[cb.BlockMetadataIndex_COMMIT_HASH]) == 0 {
		return nil, fmt.Errorf("block %d has no commit hash", b.GetHeader().GetNumber())
	}
	var m cb.Metadata
	if err := proto.Unmarshal(md[cb.BlockMetadataIndex_COMMIT_HASH], &m); err != nil {
		return nil, fmt.Errorf("block %d commit hash: %w", b.GetHeader().GetNumber(), err)
	}
	if len(m.Value) == 0 {
		return nil, fmt.Errorf("block %d has an empty commit hash", b.GetHeader().GetNumber())
	}
	return m.Value, nil
}
