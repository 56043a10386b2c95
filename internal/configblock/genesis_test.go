package configblock

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

func TestGenesisHashIsTheHeaderHash(t *testing.T) {
	h := &cb.BlockHeader{Number: 0, DataHash: []byte{1, 2, 3}}
	raw, err := proto.Marshal(&cb.Block{Header: h, Data: &cb.BlockData{Data: [][]byte{{9}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := GenesisHash(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Fabric's encoding, spelled out: SEQUENCE { INTEGER 0, OCTET STRING
	// (empty previous hash), OCTET STRING data hash }.
	der, err := asn1.Marshal(struct {
		N    *big.Int
		P, D []byte
	}{big.NewInt(0), nil, []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(der)
	if got != hex.EncodeToString(want[:]) {
		t.Errorf("GenesisHash = %s, want %x", got, want)
	}
	if len(got) != 64 {
		t.Errorf("hash %q is not 64 hex digits", got)
	}
	raw, _ = proto.Marshal(&cb.Block{Header: &cb.BlockHeader{Number: 3}})
	if _, err := GenesisHash(raw); err == nil {
		t.Error("block 3 is not a genesis block")
	}
	if _, err := GenesisHash([]byte{0xff}); err == nil {
		t.Error("garbage decodes")
	}
}
