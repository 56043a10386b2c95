package proof

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/attrmgr"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
)

// txID reads an envelope's transaction id.
func txID(env *common.Envelope) (string, error) {
	var pl common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &pl); err != nil {
		return "", err
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch); err != nil {
		return "", err
	}
	return ch.GetTxId(), nil
}

// Signer is an identity a transaction names, as its MSP vouches for it.
type Signer struct {
	MSP  string
	Cert *x509.Certificate
	// Peer is true when the identity may endorse: it carries the peer
	// node OU, or its MSP uses no node OUs.
	Peer bool
}

// Identify resolves a serialized identity as of time at: it checks that
// its certificate chains to the MSP it names (and is not revoked).
type Identify func(raw []byte, at time.Time) (*Signer, error)

// DecodeTx checks one transaction envelope: the creator's signature on
// the envelope and every endorser's on the proposal response, each
// identity resolved by identify at the transaction's time, and what it
// wrote to the namespace's batch, process record, take, hold and document
// keys (model.SignedTx.Wrote). valid and code are the validation result
// the caller trusts. With want set, a transaction whose ID it refuses is
// skipped (nil, nil). A problem with a signature or an identity is listed
// in the result's Problems; an envelope that does not decode is an error.
// Package signatures (online) and the proof (offline) share it.
func DecodeTx(env *common.Envelope, valid bool, code, namespace string, identify Identify, want func(id string) bool) (*model.SignedTx, error) {
	var pl common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &pl); err != nil {
		return nil, fmt.Errorf("decode transaction payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("decode channel header: %w", err)
	}
	if want != nil && !want(ch.GetTxId()) {
		return nil, nil
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(pl.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, fmt.Errorf("decode signature header: %w", err)
	}
	tx := &model.SignedTx{ID: ch.GetTxId(), Valid: valid, Code: code,
		Batches: map[string]json.RawMessage{}, Processes: map[string]json.RawMessage{}, Takes: map[string]json.RawMessage{},
		Holds: map[string]json.RawMessage{}, Documents: map[string]json.RawMessage{}}
	at := ch.GetTimestamp().AsTime()

	creator, err := identify(sh.GetCreator(), at)
	if err == nil {
		err = verifySig(creator.Cert, env.GetPayload(), env.GetSignature())
	}
	if err != nil {
		tx.Problems = append(tx.Problems, "creator: "+err.Error())
	}
	if creator != nil {
		a, err := certActor(creator.MSP, creator.Cert)
		if err != nil {
			tx.Problems = append(tx.Problems, "creator: "+err.Error())
		}
		tx.Creator = a
	}
	if ch.GetType() != int32(common.HeaderType_ENDORSER_TRANSACTION) {
		tx.Problems = append(tx.Problems, "not an endorser transaction")
		return tx, nil
	}
	var t peer.Transaction
	if err := proto.Unmarshal(pl.GetData(), &t); err != nil {
		return nil, fmt.Errorf("decode transaction %s: %w", tx.ID, err)
	}
	if len(t.GetActions()) != 1 {
		tx.Problems = append(tx.Problems, fmt.Sprintf("%d actions, want 1", len(t.GetActions())))
		return tx, nil
	}
	var pay peer.ChaincodeActionPayload
	if err := proto.Unmarshal(t.GetActions()[0].GetPayload(), &pay); err != nil {
		return nil, fmt.Errorf("decode action of %s: %w", tx.ID, err)
	}
	act := pay.GetAction()
	prp := act.GetProposalResponsePayload()
	for i, e := range act.GetEndorsements() {
		id, err := identify(e.GetEndorser(), at)
		if err == nil && !id.Peer {
			err = fmt.Errorf("%s (%s) is not a peer", id.Cert.Subject.CommonName, id.MSP)
		}
		if err == nil {
			err = verifySig(id.Cert, append(slices.Clone(prp), e.GetEndorser()...), e.GetSignature())
		}
		if err != nil {
			tx.Problems = append(tx.Problems, fmt.Sprintf("endorsement %d: %v", i, err))
			continue
		}
		tx.Endorsers = append(tx.Endorsers, id.MSP)
	}
	slices.Sort(tx.Endorsers)
	tx.Endorsers = slices.Compact(tx.Endorsers)
	if err := writes(tx, prp, namespace); err != nil {
		return nil, fmt.Errorf("decode writes of %s: %w", tx.ID, err)
	}
	return tx, nil
}

// signedTx checks one transaction envelope against c, the configuration
// in force at its block (DecodeTx). valid is what the peers attested.
func (c *config) signedTx(env *common.Envelope, valid bool, code, namespace string) (*model.SignedTx, error) {
	return DecodeTx(env, valid, code, namespace, func(raw []byte, at time.Time) (*Signer, error) {
		id, err := c.identity(raw, at)
		if id == nil {
			return nil, err
		}
		return &Signer{MSP: id.msp, Cert: id.cert, Peer: id.hasOU("peer")}, err
	}, nil)
}

// writes keeps what the transaction wrote to the namespace's keys.
func writes(tx *model.SignedTx, prp []byte, namespace string) error {
	var resp peer.ProposalResponsePayload
	if err := proto.Unmarshal(prp, &resp); err != nil {
		return err
	}
	var ca peer.ChaincodeAction
	if err := proto.Unmarshal(resp.GetExtension(), &ca); err != nil {
		return err
	}
	var rws rwset.TxReadWriteSet
	if err := proto.Unmarshal(ca.GetResults(), &rws); err != nil {
		return err
	}
	for _, ns := range rws.GetNsRwset() {
		if ns.GetNamespace() != namespace {
			continue
		}
		var kv kvrwset.KVRWSet
		if err := proto.Unmarshal(ns.GetRwset(), &kv); err != nil {
			return err
		}
		for _, w := range kv.GetWrites() {
			if !w.GetIsDelete() {
				tx.Wrote(w.GetKey(), w.GetValue())
			}
		}
	}
	return nil
}

// certActor is who a certificate says acted, as the chaincode records
// the person: organisation, common name, hf.EnrollmentID and mtrace.role.
func certActor(msp string, cert *x509.Certificate) (model.Actor, error) {
	a := model.Actor{MSP: msp, Identity: cert.Subject.CommonName, EnrollmentID: cert.Subject.CommonName}
	attrs, err := attrmgr.New().GetAttributesFromCert(cert)
	if err != nil {
		return a, fmt.Errorf("attributes of %s: %w", cert.Subject.CommonName, err)
	}
	if id, ok, _ := attrs.Value("hf.EnrollmentID"); ok && id != "" {
		a.EnrollmentID = id
	}
	if role, ok, _ := attrs.Value(model.RoleAttribute); ok {
		a.Role = model.PersonRole(role)
	}
	return a, nil
}
