package channel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-config/configtx/membership"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// testCA is a CA certificate and its key.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"mtrace"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte(name),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testCA{cert: cert, key: key}
}

// crl is the CA's CRL (PEM) revoking serials, as Fabric CA's gencrl
// returns it.
func (ca testCA) crl(t *testing.T, number int64, serials ...int64) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func orgOf(ca testCA, mspID string, port int) configtx.Organization {
	m := configtx.MSP{Name: mspID, RootCerts: []*x509.Certificate{ca.cert}, TLSRootCerts: []*x509.Certificate{ca.cert},
		CryptoConfig: membership.CryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"}}
	return MemberOrg(m, "127.0.0.1", port)
}

func TestSetRevocationList(t *testing.T) {
	cityCA, recCA, other := newTestCA(t, "ca.municipality"), newTestCA(t, "ca.recycler"), newTestCA(t, "ca.elsewhere")
	cfg := channelWith(t, orgOf(cityCA, "MunicipalityMSP", 25600), orgOf(recCA, "RecyclerMSP", 25601))

	first, err := ParseCRL(recCA.crl(t, 1, 0x1a2b))
	require.NoError(t, err)
	u, err := Compute(cfg, "circular", func(c *configtx.ConfigTx) error {
		changed, err := SetRevocationList(c, "RecyclerMSP", first)
		assert.True(t, changed)
		return err
	})
	require.NoError(t, err)
	var up cb.ConfigUpdate
	require.NoError(t, proto.Unmarshal(u.Marshaled, &up))
	app := up.WriteSet.Groups["Application"]
	require.NotNil(t, app)
	rec := app.Groups["RecyclerMSP"]
	require.NotNil(t, rec)
	assert.Contains(t, rec.Values, "MSP", "the update writes the recycler's MSP value")
	assert.Equal(t, uint64(1), rec.Values["MSP"].Version)
	assert.Empty(t, app.Groups["MunicipalityMSP"].GetValues(), "the other organisations are only read")
	assert.Equal(t, uint64(0), app.Version, "membership does not change")

	// Applied, the MSP lists the serial; the next CRL of the same CA
	// replaces it, one of another CA is refused, the same one is no change.
	c := configtx.New(cfg)
	_, err = SetRevocationList(&c, "RecyclerMSP", first)
	require.NoError(t, err)
	serials, err := RevokedSerials(&c, "RecyclerMSP")
	require.NoError(t, err)
	assert.Equal(t, []string{"1a2b"}, serials)

	second, err := ParseCRL(recCA.crl(t, 2, 0x1a2b, 0x99))
	require.NoError(t, err)
	changed, err := SetRevocationList(&c, "RecyclerMSP", second)
	require.NoError(t, err)
	assert.True(t, changed)
	serials, err = RevokedSerials(&c, "RecyclerMSP")
	require.NoError(t, err)
	assert.Equal(t, []string{"1a2b", "99"}, serials, "one CRL per CA: the newest")
	m, err := c.Application().Organization("RecyclerMSP").MSP().Configuration()
	require.NoError(t, err)
	assert.Len(t, m.RevocationList, 1)
	assert.Len(t, m.RootCerts, 1, "the rest of the MSP is kept")

	changed, err = SetRevocationList(&c, "RecyclerMSP", second)
	require.NoError(t, err)
	assert.False(t, changed, "the same CRL again changes nothing")

	foreign, err := ParseCRL(other.crl(t, 1, 7))
	require.NoError(t, err)
	_, err = SetRevocationList(&c, "RecyclerMSP", foreign)
	assert.EqualError(t, err, `MSP RecyclerMSP: the CRL is issued by "CN=ca.elsewhere,O=mtrace", which is not a CA of the MSP`)
	// A CRL that names the recycler's CA but is signed by another key (an
	// impostor CA with the same name) is refused, and nothing changes.
	impostor, err := ParseCRL(newTestCA(t, "ca.recycler").crl(t, 3, 0x1a2b, 0x99, 0x42))
	require.NoError(t, err)
	_, err = SetRevocationList(&c, "RecyclerMSP", impostor)
	assert.EqualError(t, err, `MSP RecyclerMSP: the CRL names "CN=ca.recycler,O=mtrace" as its issuer but that CA did not sign it`)
	serials, err = RevokedSerials(&c, "RecyclerMSP")
	require.NoError(t, err)
	assert.Equal(t, []string{"1a2b", "99"}, serials, "the impostor's CRL changed nothing")
	_, err = SetRevocationList(&c, "KaunasMSP", second)
	assert.EqualError(t, err, "KaunasMSP is not an application organisation of the channel")
	serials, err = RevokedSerials(&c, "MunicipalityMSP")
	require.NoError(t, err)
	assert.Empty(t, serials)

	_, err = ParseCRL([]byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"))
	assert.EqualError(t, err, "no PEM CRL found")
}

// A member that runs an orderer has its MSP in the orderer group too; a
// revocation list changes both copies the same way, since Fabric refuses
// a channel whose two copies of one MSP differ.
func TestSetRevocationListInBothGroups(t *testing.T) {
	cityCA, recCA := newTestCA(t, "ca.municipality"), newTestCA(t, "ca.recycler")
	city, rec := orgOf(cityCA, "MunicipalityMSP", 25600), orgOf(recCA, "RecyclerMSP", 25601)
	c := configtx.New(&cb.Config{ChannelGroup: &cb.ConfigGroup{Groups: map[string]*cb.ConfigGroup{
		"Application": {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey},
		"Orderer":     {Groups: map[string]*cb.ConfigGroup{"placeholder": {}}, ModPolicy: configtx.AdminsPolicyKey},
	}}})
	for _, o := range []configtx.Organization{city, rec} {
		require.NoError(t, c.Application().SetOrganization(o))
		require.NoError(t, c.Orderer().SetOrganization(OrdererOrg(o.MSP, "127.0.0.1:25500")))
	}
	c.Application().RemoveOrganization("placeholder")
	c.Orderer().RemoveOrganization("placeholder")
	cfg := c.UpdatedConfig()

	crl, err := ParseCRL(recCA.crl(t, 1, 0x1a2b))
	require.NoError(t, err)
	u, err := Compute(cfg, "circular", func(c *configtx.ConfigTx) error {
		_, err := SetRevocationList(c, "RecyclerMSP", crl)
		return err
	})
	require.NoError(t, err)
	var up cb.ConfigUpdate
	require.NoError(t, proto.Unmarshal(u.Marshaled, &up))
	app := up.WriteSet.Groups["Application"].Groups["RecyclerMSP"].GetValues()["MSP"]
	ord := up.WriteSet.Groups["Orderer"].GetGroups()["RecyclerMSP"].GetValues()["MSP"]
	require.NotNil(t, app)
	require.NotNil(t, ord, "the orderer group's copy of the MSP is written too")
	assert.Equal(t, app.Value, ord.Value, "both copies are the same MSP")
	assert.Empty(t, up.WriteSet.Groups["Orderer"].Groups["MunicipalityMSP"].GetValues(), "other members are only read")
}
