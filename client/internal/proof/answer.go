package proof

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// answer is a checked Answer: which organisation's peer signed what
// answer to which question.
type answer struct {
	org       string
	chaincode string
	args      []string
	payload   []byte
	// newest is the newest block that wrote a key the answer read.
	newest uint64
}

// check verifies a peer's signed answer against c: the proposal is on
// channel, the response names its hash, the answer succeeded, and a peer
// of an organisation of c signed it, its certificate valid at time at.
func (c *config) answer(a *Answer, channel string, at time.Time) (*answer, error) {
	var prop peer.Proposal
	if err := proto.Unmarshal(a.Proposal, &prop); err != nil {
		return nil, fmt.Errorf("decode proposal: %w", err)
	}
	var hdr common.Header
	if err := proto.Unmarshal(prop.GetHeader(), &hdr); err != nil {
		return nil, fmt.Errorf("decode proposal header: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(hdr.GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("decode proposal channel header: %w", err)
	}
	if ch.GetChannelId() != channel {
		return nil, fmt.Errorf("a proposal on channel %q, not %q", ch.GetChannelId(), channel)
	}
	var cpp peer.ChaincodeProposalPayload
	if err := proto.Unmarshal(prop.GetPayload(), &cpp); err != nil {
		return nil, fmt.Errorf("decode proposal payload: %w", err)
	}
	var cis peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(cpp.GetInput(), &cis); err != nil {
		return nil, fmt.Errorf("decode proposal input: %w", err)
	}
	noTransient, err := proto.Marshal(&peer.ChaincodeProposalPayload{Input: cpp.GetInput()})
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(hdr.GetChannelHeader())
	h.Write(hdr.GetSignatureHeader())
	h.Write(noTransient)

	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(a.Payload, &prp); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if !bytes.Equal(prp.GetProposalHash(), h.Sum(nil)) {
		return nil, fmt.Errorf("the response answers another proposal")
	}
	var act peer.ChaincodeAction
	if err := proto.Unmarshal(prp.GetExtension(), &act); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if s := act.GetResponse().GetStatus(); s != 200 {
		return nil, fmt.Errorf("the answer failed (status %d: %s)", s, act.GetResponse().GetMessage())
	}
	name := cis.GetChaincodeSpec().GetChaincodeId().GetName()
	if act.GetChaincodeId().GetName() != name {
		return nil, fmt.Errorf("asked chaincode %q, answered by %q", name, act.GetChaincodeId().GetName())
	}
	id, err := c.identity(a.Endorser, at)
	if err == nil && (!c.app[id.msp] || !id.hasOU("peer")) {
		err = fmt.Errorf("%s (%s) is not a peer of a member", id.cert.Subject.CommonName, id.msp)
	}
	if err == nil {
		msg := make([]byte, 0, len(a.Payload)+len(a.Endorser))
		err = verifySig(id.cert, append(append(msg, a.Payload...), a.Endorser...), a.Signature)
	}
	if err != nil {
		return nil, fmt.Errorf("endorsement: %w", err)
	}
	out := &answer{org: id.msp, chaincode: name, payload: act.GetResponse().GetPayload()}
	for _, arg := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		out.args = append(out.args, string(arg))
	}
	if len(act.GetResults()) > 0 {
		var rws rwset.TxReadWriteSet
		if err := proto.Unmarshal(act.GetResults(), &rws); err != nil {
			return nil, fmt.Errorf("decode read set: %w", err)
		}
		for _, ns := range rws.GetNsRwset() {
			var kv kvrwset.KVRWSet
			if err := proto.Unmarshal(ns.GetRwset(), &kv); err != nil {
				return nil, fmt.Errorf("decode read set: %w", err)
			}
			for _, r := range kv.GetReads() {
				out.newest = max(out.newest, r.GetVersion().GetBlockNum())
			}
		}
	}
	return out, nil
}

// ResponsePayload returns the answer's response payload, unchecked.
func (a *Answer) ResponsePayload() ([]byte, error) {
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(a.Payload, &prp); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	var act peer.ChaincodeAction
	if err := proto.Unmarshal(prp.GetExtension(), &act); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return act.GetResponse().GetPayload(), nil
}
