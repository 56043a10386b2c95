package channeltest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/channel/channeltest"
)

func signer(t *testing.T, mspID string) *configtx.SigningIdentity {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Admin@" + mspID},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &configtx.SigningIdentity{Certificate: cert, PrivateKey: key, MSPID: mspID}
}

// The fake serves the blocks it was given to channel.Orderer and takes
// its updates, recording who signed.
func TestTheFakeServesTheOrdererClient(t *testing.T) {
	ctx := context.Background()
	o := channeltest.New(t, "circular")
	cfg0 := &cb.Config{Sequence: 1}
	cfg2 := &cb.Config{Sequence: 2}
	o.AddBlock(cfg0)
	o.AddBlock(nil)
	assert.Equal(t, uint64(0), channeltest.LastConfig(t, func() *cb.Block {
		var b *cb.Block
		o.EditBlocks(func(bs []*cb.Block) []*cb.Block { b = bs[1]; return bs })
		return b
	}()), "a transaction block names the config block before it")

	id := signer(t, "RecyclerMSP")
	c, err := channel.Dial(o.Addr, o.RootFile, channeltest.ServerName, tls.Certificate{}, "circular", id)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Config(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), got.Block)
	assert.True(t, proto.Equal(cfg0, got.Config))
	assert.Equal(t, []string{"RecyclerMSP", "RecyclerMSP"}, o.Signers())
	assert.Len(t, o.Seeks(), 2)

	o.OnBroadcast(func(*cb.Envelope) { o.AddBlock(cfg2) })
	env := &cb.Envelope{Payload: channeltest.Marshal(t, &cb.Payload{Header: &cb.Header{
		ChannelHeader: channeltest.Marshal(t, &cb.ChannelHeader{Type: int32(cb.HeaderType_CONFIG_UPDATE), ChannelId: "circular"})}})}
	require.NoError(t, id.SignEnvelope(env))
	require.NoError(t, c.Submit(ctx, env))
	assert.Equal(t, 3, o.Blocks())
	got, err = c.WaitConfig(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Block)
	require.Len(t, o.Received(), 1)

	o.Answer(&ab.BroadcastResponse{Status: cb.Status_SERVICE_UNAVAILABLE, Info: "no leader"})
	err = c.Submit(ctx, env)
	assert.EqualError(t, err, "the orderer refused the update (SERVICE_UNAVAILABLE): no leader")
	assert.Equal(t, 3, o.Blocks(), "a refused update orders nothing")

	o.Answer(nil)
	unsigned := proto.Clone(env).(*cb.Envelope)
	unsigned.Signature = []byte("x")
	assert.ErrorContains(t, c.Submit(ctx, unsigned), "bad envelope signature")

	o.Reset()
	assert.Empty(t, o.Received())
	assert.Empty(t, o.Seeks())
	assert.Empty(t, o.Signers())

	o.EditBlocks(func([]*cb.Block) []*cb.Block { return nil })
	_, err = c.Config(ctx)
	assert.EqualError(t, err, "deliver: the orderer answered NOT_FOUND", "an empty channel has no newest block")
}
