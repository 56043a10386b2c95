// Package configblock reads what a channel's blocks say about its
// configuration: which block holds the configuration in force, and the
// configuration a config block carries. The network tooling and the CLI's
// signature checks both walk config blocks with it.
package configblock

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// LastConfig is the number of the config block in force when b was cut,
// from the orderer's metadata in b.
func LastConfig(b *cb.Block) (uint64, error) {
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(cb.BlockMetadataIndex_SIGNATURES) {
		return 0, errors.New("block has no signatures metadata")
	}
	var m cb.Metadata
	if err := proto.Unmarshal(md[cb.BlockMetadataIndex_SIGNATURES], &m); err != nil {
		return 0, fmt.Errorf("block metadata: %w", err)
	}
	var obm cb.OrdererBlockMetadata
	if err := proto.Unmarshal(m.GetValue(), &obm); err != nil {
		return 0, fmt.Errorf("orderer block metadata: %w", err)
	}
	if obm.GetLastConfig() == nil {
		return 0, errors.New("block metadata names no config block")
	}
	return obm.GetLastConfig().GetIndex(), nil
}

// Config is the configuration a config block carries.
func Config(b *cb.Block) (*cb.Config, error) {
	if len(b.GetData().GetData()) != 1 {
		return nil, fmt.Errorf("block %d is not a config block", b.GetHeader().GetNumber())
	}
	var env cb.Envelope
	if err := proto.Unmarshal(b.Data.Data[0], &env); err != nil {
		return nil, err
	}
	var p cb.Payload
	if err := proto.Unmarshal(env.Payload, &p); err != nil {
		return nil, err
	}
	var ch cb.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, err
	}
	if ch.Type != int32(cb.HeaderType_CONFIG) {
		return nil, fmt.Errorf("block %d is not a config block", b.GetHeader().GetNumber())
	}
	var ce cb.ConfigEnvelope
	if err := proto.Unmarshal(p.Data, &ce); err != nil {
		return nil, err
	}
	if ce.Config == nil {
		return nil, fmt.Errorf("config block %d holds no configuration", b.GetHeader().GetNumber())
	}
	return ce.Config, nil
}

// HeaderHash is the SHA-256 of the block header's ASN.1 encoding (number,
// previous hash, data hash), which is how Fabric names a block: the next
// block's previous hash and a channel's genesis hash are this value.
func HeaderHash(h *cb.BlockHeader) []byte {
	sum := sha256.Sum256(HeaderBytes(h))
	return sum[:]
}

// HeaderBytes is the ASN.1 DER encoding of a block header that the
// orderers sign and hash.
func HeaderBytes(h *cb.BlockHeader) []byte {
	raw, err := asn1.Marshal(struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}{new(big.Int).SetUint64(h.GetNumber()), h.GetPreviousHash(), h.GetDataHash()})
	if err != nil {
		panic(err) // a big.Int and two byte strings always encode
	}
	return raw
}

// GenesisHash reads a channel's genesis block file and returns the hex
// SHA-256 of its header (HeaderHash), the value the CLI profiles pin.
func GenesisHash(raw []byte) (string, error) {
	var b cb.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return "", fmt.Errorf("decode genesis block: %w", err)
	}
	if b.GetHeader().GetNumber() != 0 {
		return "", fmt.Errorf("block %d is not a genesis block", b.GetHeader().GetNumber())
	}
	return hex.EncodeToString(HeaderHash(b.GetHeader())), nil
}
