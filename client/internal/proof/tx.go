package proof

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"

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

// signedTx checks one transaction envelope against c, the configuration
// in force at its block: the creator's signature on the envelope and
// every endorser's on the proposal response, each certificate chaining to
// the MSP it names, and what it wrote to the namespace's batch, process
// and take keys. valid is what the peers attested.
func (c *config) signedTx(env *common.Envelope, valid bool, code, namespace string) (*model.SignedTx, error) {
	var pl common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &pl); err != nil {
		return nil, fmt.Errorf("decode transaction payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("decode channel header: %w", err)
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(pl.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, fmt.Errorf("decode signature header: %w", err)
	}
	tx := &model.SignedTx{ID: ch.GetTxId(), Valid: valid, Code: code,
		Batches: map[string]json.RawMessage{}, Processes: map[string]json.RawMessage{}, Takes: map[string]json.RawMessage{}}
	at := ch.GetTimestamp().AsTime()

	creator, err := c.identity(sh.GetCreator(), at)
	if err == nil {
		err = verifySig(creator.cert, env.GetPayload(), env.GetSignature())
	}
	if err != nil {
		tx.Problems = append(tx.Problems, "creator: "+err.Error())
	}
	if creator != nil {
		a, err := certActor(creator.msp, creator.cert)
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
		id, err := c.identity(e.GetEndorser(), at)
		if err == nil && !id.hasOU("peer") {
			err = fmt.Errorf("%s (%s) is not a peer", id.cert.Subject.CommonName, id.msp)
		}
		if err == nil {
			err = verifySig(id.cert, append(slices.Clone(prp), e.GetEndorser()...), e.GetSignature())
		}
		if err != nil {
			tx.Problems = append(tx.Problems, fmt.Sprintf("endorsement %d: %v", i, err))
			continue
		}
		tx.Endorsers = append(tx.Endorsers, id.msp)
	}
	slices.Sort(tx.Endorsers)
	tx.Endorsers = slices.Compact(tx.Endorsers)
	if err := writes(tx, prp, namespace); err != nil {
		return nil, fmt.Errorf("decode writes of %s: %w", tx.ID, err)
	}
	return tx, nil
}

// writes keeps what the transaction wrote to batch, process record and
// take keys of the namespace.
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
			if w.GetIsDelete() {
				continue
			}
			tx.Wrote(w.GetKey(), w.GetValue())
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
