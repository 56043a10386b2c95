package configblock

import (
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// withSignatures is a block whose signatures metadata holds value.
func withSignatures(t *testing.T, value []byte) *cb.Block {
	md := make([][]byte, len(cb.BlockMetadataIndex_name))
	md[cb.BlockMetadataIndex_SIGNATURES] = marshal(t, &cb.Metadata{Value: value})
	return &cb.Block{Header: &cb.BlockHeader{Number: 9}, Metadata: &cb.BlockMetadata{Metadata: md}}
}

func TestLastConfig(t *testing.T) {
	b := withSignatures(t, marshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: 4}}))
	n, err := LastConfig(b)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), n)

	b = withSignatures(t, marshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: 0}}))
	n, err = LastConfig(b)
	require.NoError(t, err)
	assert.Zero(t, n, "the genesis block")

	for name, c := range map[string]struct {
		b    *cb.Block
		want string
	}{
		"no metadata":         {&cb.Block{}, "block has no signatures metadata"},
		"metadata not proto":  {&cb.Block{Metadata: &cb.BlockMetadata{Metadata: [][]byte{{0xff, 0xff}}}}, "block metadata: "},
		"orderer metadata":    {withSignatures(t, []byte{0xff, 0xff}), "orderer block metadata: "},
		"no last config":      {withSignatures(t, marshal(t, &cb.OrdererBlockMetadata{})), "block metadata names no config block"},
		"empty metadata list": {&cb.Block{Metadata: &cb.BlockMetadata{}}, "block has no signatures metadata"},
	} {
		_, err := LastConfig(c.b)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

// configBlock is block n carrying one envelope of type typ whose payload
// data is data.
func configBlock(t *testing.T, n uint64, typ cb.HeaderType, data []byte) *cb.Block {
	payload := &cb.Payload{
		Header: &cb.Header{ChannelHeader: marshal(t, &cb.ChannelHeader{Type: int32(typ), ChannelId: "circular"})},
		Data:   data,
	}
	env := &cb.Envelope{Payload: marshal(t, payload)}
	return &cb.Block{Header: &cb.BlockHeader{Number: n}, Data: &cb.BlockData{Data: [][]byte{marshal(t, env)}}}
}

func TestConfig(t *testing.T) {
	want := &cb.Config{Sequence: 7, ChannelGroup: &cb.ConfigGroup{Version: 3}}
	b := configBlock(t, 5, cb.HeaderType_CONFIG, marshal(t, &cb.ConfigEnvelope{Config: want}))
	got, err := Config(b)
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, got))

	for name, c := range map[string]struct {
		b    *cb.Block
		want string
	}{
		"a transaction block": {configBlock(t, 6, cb.HeaderType_ENDORSER_TRANSACTION, nil), "block 6 is not a config block"},
		"two envelopes":       {&cb.Block{Header: &cb.BlockHeader{Number: 8}, Data: &cb.BlockData{Data: [][]byte{{}, {}}}}, "block 8 is not a config block"},
		"no data":             {&cb.Block{Header: &cb.BlockHeader{Number: 1}}, "block 1 is not a config block"},
		"no configuration":    {configBlock(t, 2, cb.HeaderType_CONFIG, marshal(t, &cb.ConfigEnvelope{})), "config block 2 holds no configuration"},
		"envelope not proto":  {&cb.Block{Header: &cb.BlockHeader{Number: 3}, Data: &cb.BlockData{Data: [][]byte{{0xff, 0xff}}}}, "cannot parse"},
		"config not proto":    {configBlock(t, 4, cb.HeaderType_CONFIG, []byte{0xff, 0xff}), "cannot parse"},
	} {
		_, err := Config(c.b)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}
