package revoke

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-config/configtx/membership"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/channel/channeltest"
)

// recyclerChannel is a fake orderer of channel circular whose config
// block 0 has the recycler (its MSP rooted at the test config's CA) as
// an application organisation, and the recycler-admin profile pointed at
// it. An accepted update is ordered as the next config block, holding
// what the update's CRL makes of the configuration.
func recyclerChannel(t *testing.T) (*identitytest.Config, *config.Profile, *channeltest.Orderer, *cb.Config) {
	cfg := identitytest.NewConfig(t)
	m := configtx.MSP{Name: "RecyclerMSP", RootCerts: []*x509.Certificate{cfg.CA.Cert}, TLSRootCerts: []*x509.Certificate{cfg.CA.Cert},
		CryptoConfig: membership.CryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"}}
	c := configtx.New(&cb.Config{ChannelGroup: &cb.ConfigGroup{Groups: map[string]*cb.ConfigGroup{
		"Application": {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey},
	}}})
	require.NoError(t, c.Application().SetOrganization(channel.MemberOrg(m, "127.0.0.1", 25601)))
	c.Application().RemoveOrganization("placeholder")
	genesis := c.UpdatedConfig()

	o := channeltest.New(t, "circular")
	o.AddBlock(genesis)
	o.AddBlock(nil)
	p := cfg.Profile(t, "recycler-admin")
	p.Channel = "circular"
	// The fake orderer asks for no client certificate; the profile names
	// one all the same, as every profile must.
	p.Orderer = &config.Orderer{Endpoint: o.Addr, TLSRootCert: o.RootFile, ServerName: channeltest.ServerName, TLSCert: p.Cert, TLSKey: p.Key}
	return cfg, p, o, genesis
}

// orderCRL makes the orderer order an accepted update as a config block
// with crlPEM in the recycler's MSP.
func orderCRL(t *testing.T, o *channeltest.Orderer, base *cb.Config, crlPEM []byte) {
	o.OnBroadcast(func(*cb.Envelope) {
		crl, err := channel.ParseCRL(crlPEM)
		require.NoError(t, err)
		c := configtx.New(base)
		_, err = channel.SetRevocationList(&c, "RecyclerMSP", crl)
		require.NoError(t, err)
		o.AddBlock(c.UpdatedConfig())
	})
}

func TestSetChannelCRL(t *testing.T) {
	cfg, p, o, genesis := recyclerChannel(t)
	crl := cfg.CA.CRL(t, 0x1a2b, 0x99)
	orderCRL(t, o, genesis, crl)

	got, err := SetChannelCRL(context.Background(), p, crl)
	require.NoError(t, err)
	assert.Equal(t, &ChannelCRL{Block: 2, Changed: true, Serials: []string{"1a2b", "99"}}, got)

	// What reached the orderer is a config update of the recycler's MSP,
	// signed by the profile's admin.
	env := o.Received()
	require.Len(t, env, 1)
	var pl cb.Payload
	require.NoError(t, proto.Unmarshal(env[0].Payload, &pl))
	var ue cb.ConfigUpdateEnvelope
	require.NoError(t, proto.Unmarshal(pl.Data, &ue))
	require.Len(t, ue.Signatures, 1, "the organisation's admin consents")
	var up cb.ConfigUpdate
	require.NoError(t, proto.Unmarshal(ue.ConfigUpdate, &up))
	assert.Equal(t, "circular", up.ChannelId)
	assert.Contains(t, up.WriteSet.Groups["Application"].Groups["RecyclerMSP"].Values, "MSP")
	for _, s := range o.Signers() {
		assert.Equal(t, "RecyclerMSP", s)
	}

	// Again with the same list: nothing is sent, and the channel's list is
	// reported as it is.
	o.Reset()
	again, err := SetChannelCRL(context.Background(), p, crl)
	require.NoError(t, err)
	assert.Equal(t, &ChannelCRL{Block: 2, Changed: false, Serials: []string{"1a2b", "99"}}, again)
	assert.Empty(t, o.Received())
}

func TestSetChannelCRLErrors(t *testing.T) {
	cfg, p, o, _ := recyclerChannel(t)
	crl := cfg.CA.CRL(t, 0x1a2b)
	ctx := context.Background()

	_, err := SetChannelCRL(ctx, p, []byte("not a CRL"))
	assert.EqualError(t, err, "no PEM CRL found")

	noKey := *p
	noKey.Key = p.Key + ".gone"
	_, err = SetChannelCRL(ctx, &noKey, crl)
	assert.ErrorContains(t, err, "profile recycler-admin: ")

	badRoot := *p
	badRoot.Orderer = &config.Orderer{Endpoint: o.Addr, TLSRootCert: p.Key, ServerName: channeltest.ServerName, TLSCert: p.Cert, TLSKey: p.Key}
	_, err = SetChannelCRL(ctx, &badRoot, crl)
	assert.ErrorContains(t, err, "holds no certificate")

	otherChannel := *p
	otherChannel.Channel = "elsewhere"
	_, err = SetChannelCRL(ctx, &otherChannel, crl)
	assert.EqualError(t, err, "channel elsewhere configuration: deliver: the orderer answered BAD_REQUEST")

	// A CRL of a CA that is not the recycler's.
	_, err = SetChannelCRL(ctx, p, foreignCRL(t))
	assert.ErrorContains(t, err, "which is not a CA of the MSP")
	assert.Empty(t, o.Received(), "nothing is sent for a CRL the channel would refuse")

	// The orderer refuses the update: nothing is ordered.
	o.Answer(&ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"})
	_, err = SetChannelCRL(ctx, p, crl)
	var re *channel.RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 2, o.Blocks())

	// The update is accepted but no config block comes.
	o.Answer(nil)
	o.OnBroadcast(nil)
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	_, err = SetChannelCRL(short, p, crl)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "deadline"), err.Error())
}

// foreignCRL is a CRL of a CA named ca-elsewhere.
func foreignCRL(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca-elsewhere"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, ca, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
}
