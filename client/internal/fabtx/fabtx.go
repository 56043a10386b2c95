// Package fabtx decodes the transactions in a Fabric block's data: the
// envelope, its payload and channel header and, for an endorser
// transaction, the chaincode action of each of its actions. The replay of
// events and the SQL projection read blocks through it.
package fabtx

import (
	"fmt"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Tx is one decoded transaction of a block.
type Tx struct {
	Header *common.ChannelHeader
	// Endorser reports whether it is an endorser transaction; only then
	// are there Actions.
	Endorser bool
	// Actions are the chaincode actions its endorsers agreed on: the
	// read-write set, the event and the response of each action.
	Actions []*peer.ChaincodeAction
}

// Decode decodes one envelope of a block's data.
func Decode(raw []byte) (*Tx, error) {
	env, pl, ch := &common.Envelope{}, &common.Payload{}, &common.ChannelHeader{}
	if err := Unmarshal(raw, env, "envelope"); err != nil {
		return nil, err
	}
	if err := Unmarshal(env.GetPayload(), pl, "payload"); err != nil {
		return nil, err
	}
	if err := Unmarshal(pl.GetHeader().GetChannelHeader(), ch, "channel header"); err != nil {
		return nil, err
	}
	tx := &Tx{Header: ch}
	if common.HeaderType(ch.GetType()) != common.HeaderType_ENDORSER_TRANSACTION {
		return tx, nil
	}
	tx.Endorser = true
	ptx := &peer.Transaction{}
	if err := Unmarshal(pl.GetData(), ptx, "transaction"); err != nil {
		return nil, err
	}
	for _, a := range ptx.GetActions() {
		cap, prp, cca := &peer.ChaincodeActionPayload{}, &peer.ProposalResponsePayload{}, &peer.ChaincodeAction{}
		if err := Unmarshal(a.GetPayload(), cap, "action payload"); err != nil {
			return nil, err
		}
		if err := Unmarshal(cap.GetAction().GetProposalResponsePayload(), prp, "proposal response"); err != nil {
			return nil, err
		}
		if err := Unmarshal(prp.GetExtension(), cca, "chaincode action"); err != nil {
			return nil, err
		}
		tx.Actions = append(tx.Actions, cca)
	}
	return tx, nil
}

// Unmarshal decodes raw into m; an error names what was being decoded.
func Unmarshal(raw []byte, m proto.Message, what string) error {
	if err := proto.Unmarshal(raw, m); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}
