package channel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// writeMSP writes an MSP folder in the layout cryptogen and the Fabric CA
// client use: a CA, a TLS CA, node OUs, and one admin's certificate and key.
func writeMSP(t *testing.T, dir, mspID string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + mspID},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Admin@" + mspID, OrganizationalUnit: []string{"admin"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	files := map[string][]byte{
		"cacerts/ca-cert.pem":  caPEM,
		"tlscacerts/tlsca.pem": caPEM,
		"signcerts/admin.pem":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"keystore/priv_sk":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"config.yaml": []byte(`NodeOUs:
  Enable: true
  ClientOUIdentifier: {Certificate: cacerts/ca-cert.pem, OrganizationalUnitIdentifier: client}
  PeerOUIdentifier: {Certificate: cacerts/ca-cert.pem, OrganizationalUnitIdentifier: peer}
  AdminOUIdentifier: {Certificate: cacerts/ca-cert.pem, OrganizationalUnitIdentifier: admin}
  OrdererOUIdentifier: {Certificate: cacerts/ca-cert.pem, OrganizationalUnitIdentifier: orderer}
`),
	}
	for name, raw := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, raw, 0o600))
	}
}

func loadOrg(t *testing.T, mspID string, port int) (configtx.Organization, *configtx.SigningIdentity) {
	t.Helper()
	dir := t.TempDir()
	writeMSP(t, dir, mspID)
	m, err := LoadMSP(dir, mspID)
	require.NoError(t, err)
	id, err := LoadSigner(dir, mspID)
	require.NoError(t, err)
	return MemberOrg(m, "127.0.0.1", port), id
}

func TestLoadMSP(t *testing.T) {
	org, id := loadOrg(t, "KaunasMSP", 25604)
	assert.Equal(t, "KaunasMSP", org.MSP.Name)
	require.Len(t, org.MSP.RootCerts, 1)
	require.Len(t, org.MSP.TLSRootCerts, 1)
	assert.True(t, org.MSP.NodeOUs.Enable)
	assert.Equal(t, "peer", org.MSP.NodeOUs.PeerOUIdentifier.OrganizationalUnitIdentifier)
	assert.Equal(t, org.MSP.RootCerts[0], org.MSP.NodeOUs.AdminOUIdentifier.Certificate)
	assert.Equal(t, "OR('KaunasMSP.admin')", org.Policies[configtx.AdminsPolicyKey].Rule)
	assert.Equal(t, "OR('KaunasMSP.admin', 'KaunasMSP.peer', 'KaunasMSP.client')", org.Policies[configtx.ReadersPolicyKey].Rule)
	assert.Equal(t, []configtx.Address{{Host: "127.0.0.1", Port: 25604}}, org.AnchorPeers)
	assert.Equal(t, "KaunasMSP", id.MSPID)
	assert.Equal(t, "Admin@KaunasMSP", id.Certificate.Subject.CommonName)
}

func TestLoadMSPErrors(t *testing.T) {
	_, err := LoadMSP(t.TempDir(), "KaunasMSP")
	assert.ErrorContains(t, err, "MSP KaunasMSP: no certificate in")

	dir := t.TempDir()
	writeMSP(t, dir, "KaunasMSP")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("NodeOUs:\n  Enable: true\n  PeerOUIdentifier: {OrganizationalUnitIdentifier: peer}\n"), 0o600))
	_, err = LoadMSP(dir, "KaunasMSP")
	assert.ErrorContains(t, err, "names no certificate")

	_, err = LoadSigner(t.TempDir(), "KaunasMSP")
	assert.ErrorContains(t, err, "identity of KaunasMSP")
}

// channelWith builds a configuration whose Application group holds orgs.
func channelWith(t *testing.T, orgs ...configtx.Organization) *cb.Config {
	t.Helper()
	// configtx copies the configuration, and a copy of an empty map is
	// nil: a placeholder keeps the organisations' map, and goes again.
	c := configtx.New(&cb.Config{ChannelGroup: &cb.ConfigGroup{Groups: map[string]*cb.ConfigGroup{
		"Application": {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey},
	}}})
	for _, o := range orgs {
		require.NoError(t, c.Application().SetOrganization(o))
	}
	c.Application().RemoveOrganization("placeholder")
	return c.UpdatedConfig()
}

func TestComputeAddAndRemove(t *testing.T) {
	city, cityAdmin := loadOrg(t, "MunicipalityMSP", 25600)
	rec, recAdmin := loadOrg(t, "RecyclerMSP", 25601)
	kaunas, _ := loadOrg(t, "KaunasMSP", 25604)
	cfg := channelWith(t, city, rec)
	assert.True(t, IsMember(cfg, "RecyclerMSP"))
	assert.False(t, IsMember(cfg, "KaunasMSP"))

	u, err := Compute(cfg, "circular", func(c *configtx.ConfigTx) error { return c.Application().SetOrganization(kaunas) })
	require.NoError(t, err)
	var up cb.ConfigUpdate
	require.NoError(t, proto.Unmarshal(u.Marshaled, &up))
	assert.Equal(t, "circular", up.ChannelId)
	app := up.WriteSet.Groups["Application"]
	require.NotNil(t, app)
	assert.Equal(t, uint64(1), app.Version, "the Application group's membership changes")
	assert.Contains(t, app.Groups, "KaunasMSP")
	assert.Contains(t, app.Groups["KaunasMSP"].Values, "AnchorPeers", "the anchor peer comes in the same update")
	assert.Equal(t, uint64(0), app.Groups["RecyclerMSP"].GetVersion(), "the members are only read")

	require.NoError(t, u.Sign(cityAdmin))
	require.NoError(t, u.Sign(recAdmin))
	env, err := u.Envelope(cityAdmin)
	require.NoError(t, err)
	var pl cb.Payload
	require.NoError(t, proto.Unmarshal(env.Payload, &pl))
	var ue cb.ConfigUpdateEnvelope
	require.NoError(t, proto.Unmarshal(pl.Data, &ue))
	assert.Len(t, ue.Signatures, 2, "one config signature per consenting admin")
	assert.NotEmpty(t, env.Signature, "the submitter signs the envelope")

	u, err = Compute(cfg, "circular", func(c *configtx.ConfigTx) error {
		c.Application().RemoveOrganization("RecyclerMSP")
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, proto.Unmarshal(u.Marshaled, &up))
	assert.NotContains(t, up.WriteSet.Groups["Application"].Groups, "RecyclerMSP")
	assert.Contains(t, up.WriteSet.Groups["Application"].Groups, "MunicipalityMSP")

	_, err = Compute(cfg, "circular", func(*configtx.ConfigTx) error { return nil })
	assert.Error(t, err, "an edit that changes nothing is no update")
}

func TestMajority(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 4} {
		assert.Equal(t, want, Majority(n), "of %d", n)
	}
}
