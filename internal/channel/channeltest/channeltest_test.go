package channeltest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
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
	"github.com/mtrace/mtrace/internal/testport"
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

// Serve listens where it is told, with the TLS certificate it is given:
// a client that trusts that certificate's CA, for its name, reads the
// channel; one that trusts another CA does not.
func TestServeUsesTheGivenListenerAndCertificate(t *testing.T) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca.kaunas"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "orderer0.kaunas"}, DNSNames: []string{"orderer0.kaunas"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	root := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))

	lis := testport.Listen(t)
	o := channeltest.Serve(t, "circular", lis, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	assert.Equal(t, lis.Addr().String(), o.Addr)
	assert.Empty(t, o.RootFile, "the caller knows the roots")
	o.AddBlock(&cb.Config{Sequence: 1})

	ctx := context.Background()
	c, err := channel.Dial(o.Addr, root, "orderer0.kaunas", tls.Certificate{}, "circular", signer(t, "KaunasMSP"))
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Config(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), got.Config.Sequence)

	other := channeltest.New(t, "circular")
	c2, err := channel.Dial(o.Addr, other.RootFile, "orderer0.kaunas", tls.Certificate{}, "circular", signer(t, "KaunasMSP"))
	require.NoError(t, err)
	defer c2.Close()
	_, err = c2.Config(ctx)
	assert.ErrorContains(t, err, "certificate signed by unknown authority")
}
