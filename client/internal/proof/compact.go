package proof

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"
)

// TxRef names a transaction of a block of the proof: the index of the
// block in Blocks and of the transaction in the block's data, or
// WholeBlock for all of the block's transactions.
type TxRef struct {
	Block int `json:"block"`
	Index int `json:"index"`
}

// WholeBlock is the TxRef index that stands for all of a block's
// transactions (a qscc GetBlockByNumber answer).
const WholeBlock = -1

// Compact takes out of every validity answer the transaction envelope it
// repeats from a block of the proof, and names the block and index
// instead (Answer.Envelope). The checks put it back before they verify
// the peer's signature, so the signature still covers every byte. An
// answer whose bytes would not come back identical is left whole.
func (p *Proof) Compact() error {
	type loc struct {
		ref TxRef
		env []byte
	}
	where := map[string]loc{}
	for i, raw := range p.Blocks {
		var b common.Block
		if err := proto.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("decode block: %w", err)
		}
		for j, d := range b.GetData().GetData() {
			where[string(d)] = loc{TxRef{i, j}, d}
		}
	}
	byHash := map[string]int{} // the proof's blocks by their hash
	blockData := make([][][]byte, len(p.Blocks))
	for i, raw := range p.Blocks {
		var b common.Block
		if err := proto.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("decode block: %w", err)
		}
		byHash[string(configblock.HeaderHash(b.GetHeader()))] = i
		blockData[i] = b.GetData().GetData()
	}
	for i := range p.Validity {
		a := &p.Validity[i]
		if a.Envelope != nil {
			continue
		}
		if hash, elided, err := splitBlockData(a.Payload); err == nil {
			j, ok := byHash[string(hash)]
			if !ok {
				continue
			}
			if back, err := joinBlockData(elided, blockData[j]); err != nil || !bytes.Equal(back, a.Payload) {
				continue
			}
			a.Payload, a.Envelope = elided, &TxRef{Block: j, Index: WholeBlock}
			continue
		}
		env, elided, err := splitEnvelope(a.Payload)
		if err != nil {
			return err
		}
		l, ok := where[string(env)]
		if !ok {
			continue
		}
		back, err := joinEnvelope(elided, l.env)
		if err != nil || !bytes.Equal(back, a.Payload) {
			continue
		}
		ref := l.ref
		a.Payload, a.Envelope = elided, &ref
	}
	return nil
}

// qsccAnswer is a qscc answer (a proposal response payload) opened down to
// the message its chaincode response carries.
type qsccAnswer struct {
	prp peer.ProposalResponsePayload
	act peer.ChaincodeAction
}

// openAnswer decodes raw down to its response's payload, into m.
func openAnswer(raw []byte, m proto.Message) (*qsccAnswer, error) {
	a := &qsccAnswer{}
	if err := proto.Unmarshal(raw, &a.prp); err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(a.prp.GetExtension(), &a.act); err != nil {
		return nil, err
	}
	if a.act.GetResponse() == nil {
		return nil, errors.New("the answer holds no response")
	}
	if err := proto.Unmarshal(a.act.GetResponse().GetPayload(), m); err != nil {
		return nil, err
	}
	return a, nil
}

// seal encodes the answer again with m as its response's payload.
func (a *qsccAnswer) seal(m proto.Message) ([]byte, error) {
	var err error
	if a.act.Response.Payload, err = proto.Marshal(m); err != nil {
		return nil, err
	}
	if a.prp.Extension, err = proto.Marshal(&a.act); err != nil {
		return nil, err
	}
	return proto.Marshal(&a.prp)
}

// splitEnvelope reads a GetTransactionByID answer's payload and returns
// the transaction envelope it holds, and the payload without it.
func splitEnvelope(payload []byte) (env, elided []byte, err error) {
	var pt peer.ProcessedTransaction
	a, err := openAnswer(payload, &pt)
	if err != nil {
		return nil, nil, err
	}
	if env, err = proto.Marshal(pt.GetTransactionEnvelope()); err != nil {
		return nil, nil, err
	}
	pt.TransactionEnvelope = nil
	if elided, err = a.seal(&pt); err != nil {
		return nil, nil, err
	}
	return env, elided, nil
}

// joinEnvelope puts env back into an elided payload.
func joinEnvelope(elided, env []byte) ([]byte, error) {
	var pt peer.ProcessedTransaction
	a, err := openAnswer(elided, &pt)
	if err != nil {
		return nil, err
	}
	if pt.GetTransactionEnvelope() != nil {
		return nil, errors.New("the answer already holds a transaction")
	}
	var e common.Envelope
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, err
	}
	pt.TransactionEnvelope = &e
	return a.seal(&pt)
}

// splitBlockData reads a GetBlockByNumber answer's payload and returns
// the block's hash and the payload without the block's transactions. It
// fails on an answer that holds no block with transactions.
func splitBlockData(payload []byte) (hash, elided []byte, err error) {
	var b common.Block
	a, err := openAnswer(payload, &b)
	if err != nil {
		return nil, nil, err
	}
	if b.GetHeader() == nil || len(b.GetData().GetData()) == 0 {
		return nil, nil, errors.New("not a block")
	}
	b.Data = nil
	elided, err = a.seal(&b)
	return configblock.HeaderHash(b.GetHeader()), elided, err
}

// joinBlockData puts a block's transactions back into an elided
// GetBlockByNumber answer.
func joinBlockData(elided []byte, data [][]byte) ([]byte, error) {
	var b common.Block
	a, err := openAnswer(elided, &b)
	if err != nil {
		return nil, err
	}
	if len(b.GetData().GetData()) > 0 {
		return nil, errors.New("the answer already holds transactions")
	}
	b.Data = &common.BlockData{Data: data}
	return a.seal(&b)
}
