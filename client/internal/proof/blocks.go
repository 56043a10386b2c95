package proof

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"
)

// block is a decoded block with what the checks read from it.
type block struct {
	raw        []byte
	b          *common.Block
	num        uint64
	lastConfig uint64
	at         time.Time // the newest transaction timestamp in it
	envs       []*common.Envelope
}

func decodeBlock(raw []byte) (*block, error) {
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	if b.GetHeader() == nil {
		return nil, errors.New("block has no header")
	}
	k := &block{raw: raw, b: &b, num: b.GetHeader().GetNumber()}
	for i, d := range b.GetData().GetData() {
		var env common.Envelope
		if err := proto.Unmarshal(d, &env); err != nil {
			return nil, fmt.Errorf("block %d: transaction %d: %w", k.num, i, err)
		}
		var pl common.Payload
		if err := proto.Unmarshal(env.GetPayload(), &pl); err != nil {
			return nil, fmt.Errorf("block %d: transaction %d: %w", k.num, i, err)
		}
		var ch common.ChannelHeader
		if err := proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch); err != nil {
			return nil, fmt.Errorf("block %d: transaction %d: %w", k.num, i, err)
		}
		if t := ch.GetTimestamp().AsTime(); t.After(k.at) {
			k.at = t
		}
		k.envs = append(k.envs, &env)
	}
	return k, nil
}

// dataHash checks the header's data hash: the SHA-256 of the block's
// transactions, concatenated.
func (k *block) dataHash() error {
	sum := sha256.Sum256(bytes.Join(k.b.GetData().GetData(), nil))
	if !bytes.Equal(sum[:], k.b.GetHeader().GetDataHash()) {
		return fmt.Errorf("block %d: its transactions do not hash to its header's data hash", k.num)
	}
	return nil
}

// hash is the block's hash, the SHA-256 of its header.
func (k *block) hash() []byte { return configblock.HeaderHash(k.b.GetHeader()) }

// ordererSignatures checks the orderers' signatures on k against c, the
// configuration in force when it was cut: each signature is over the
// metadata value, the signature (Raft) or identifier (BFT) header and the
// ASN.1 block header; the set must satisfy /Channel/Orderer/BlockValidation.
// A BFT signature names its consenter by ID in the consenter mapping.
func (c *config) ordererSignatures(k *block) error {
	md := k.b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_SIGNATURES) {
		return fmt.Errorf("block %d carries no signatures", k.num)
	}
	var m common.Metadata
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], &m); err != nil {
		return fmt.Errorf("block %d: signatures metadata: %w", k.num, err)
	}
	if len(m.GetSignatures()) == 0 {
		return fmt.Errorf("block %d carries no signatures", k.num)
	}
	header := configblock.HeaderBytes(k.b.GetHeader())
	var sigs []signed
	for i, s := range m.GetSignatures() {
		var id, signedHeader []byte
		if c.bft && len(s.GetSignatureHeader()) == 0 && len(s.GetIdentifierHeader()) > 0 {
			var ih common.IdentifierHeader
			if err := proto.Unmarshal(s.GetIdentifierHeader(), &ih); err != nil {
				return fmt.Errorf("block %d: signature %d: identifier header: %w", k.num, i, err)
			}
			cs := c.consenters[ih.GetIdentifier()]
			if cs == nil {
				continue // not a consenter of this configuration: counts for nothing
			}
			var err error
			if id, err = proto.Marshal(&msp.SerializedIdentity{Mspid: cs.GetMspId(), IdBytes: cs.GetIdentity()}); err != nil {
				return err
			}
			signedHeader = s.GetIdentifierHeader()
		} else {
			var sh common.SignatureHeader
			if err := proto.Unmarshal(s.GetSignatureHeader(), &sh); err != nil {
				return fmt.Errorf("block %d: signature %d: signature header: %w", k.num, i, err)
			}
			id, signedHeader = sh.GetCreator(), s.GetSignatureHeader()
		}
		data := make([]byte, 0, len(m.GetValue())+len(signedHeader)+len(header))
		data = append(append(append(data, m.GetValue()...), signedHeader...), header...)
		sigs = append(sigs, signed{identity: id, data: data, signature: s.GetSignature()})
	}
	if err := c.satisfied(c.blockValidation, sigs, k.at); err != nil {
		return fmt.Errorf("block %d: orderers' signatures under the configuration of block %d: %w", k.num, c.block, err)
	}
	return nil
}

// unsignedMetadata checks that the block carries no metadata but the
// orderers' signatures and, optionally, the peer's validity flags (which
// the checks hold against the peers' signed answers): any other entry is
// signed by no one.
func (k *block) unsignedMetadata() error {
	for i, md := range k.b.GetMetadata().GetMetadata() {
		if len(md) > 0 && i != int(common.BlockMetadataIndex_SIGNATURES) && i != int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
			return fmt.Errorf("block %d carries metadata %d that no one signed", k.num, i)
		}
	}
	return nil
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
