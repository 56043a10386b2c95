package proof

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

// certActor reads the person and role Fabric CA writes into a
// certificate's attribute extension; without it, the common name.
func TestCertActor(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	mk := func(ext []pkix.Extension) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ayse", OrganizationalUnit: []string{"client"}},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), ExtraExtensions: ext}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return cert
	}
	oid := []int{1, 2, 3, 4, 5, 6, 7, 8, 1}
	a, err := certActor("MunicipalityMSP", mk([]pkix.Extension{{Id: oid,
		Value: []byte(`{"attrs":{"hf.Affiliation":"","hf.EnrollmentID":"ayse.k","hf.Type":"client","mtrace.role":"viewer"}}`)}}))
	require.NoError(t, err)
	assert.Equal(t, model.Actor{MSP: "MunicipalityMSP", Identity: "ayse", EnrollmentID: "ayse.k", Role: model.PersonViewer}, a)

	a, err = certActor("MunicipalityMSP", mk(nil))
	require.NoError(t, err)
	assert.Equal(t, model.Actor{MSP: "MunicipalityMSP", Identity: "ayse", EnrollmentID: "ayse"}, a, "a certificate without attributes: its common name")

	_, err = certActor("MunicipalityMSP", mk([]pkix.Extension{{Id: oid, Value: []byte("not json")}}))
	assert.ErrorContains(t, err, "attributes of ayse")
}
