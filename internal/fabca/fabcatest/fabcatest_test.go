package fabcatest_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
)

func client(t *testing.T, s *fabcatest.Server, ca string) *fabca.Client {
	c, err := fabca.New(s.URL, ca, s.TLSRootPEM)
	require.NoError(t, err)
	return c
}

// The fake serves internal/fabca's whole client: the registrar enrols,
// registers a person with an ecert attribute, who enrols and gets it in
// the certificate; revoking the person puts the certificate on the CRL.
func TestTheFakeServesTheClient(t *testing.T) {
	ctx := context.Background()
	s := fabcatest.New(t, "ca-x", "tlsca-x")
	assert.Equal(t, "https://127.0.0.1:", s.URL[:len("https://127.0.0.1:")])
	assert.Positive(t, s.Port())
	c := client(t, s, "ca-x")

	info, err := c.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, s.CA("ca-x").PEM, info.CAChain)

	e, err := c.Enroll(ctx, "admin", "adminpw", fabca.EnrollOptions{})
	require.NoError(t, err)
	admin, err := e.Identity()
	require.NoError(t, err)

	secret, err := c.Register(ctx, admin, fabca.Registration{Name: "ayse", Type: "client",
		Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: "operator", ECert: true}, {Name: "hidden", Value: "x"}}})
	require.NoError(t, err)
	assert.Equal(t, "chosen-by-ca-ayse", secret)
	_, err = c.Register(ctx, admin, fabca.Registration{Name: "ayse", Type: "client"})
	var fe *fabca.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 409, fe.Status)

	pe, err := c.Enroll(ctx, "ayse", secret, fabca.EnrollOptions{Hosts: []string{"host.example", "127.0.0.1"}})
	require.NoError(t, err)
	cert, err := pe.Cert()
	require.NoError(t, err)
	require.NoError(t, cert.CheckSignatureFrom(s.CA("ca-x").Cert), "issued by the CA named in the request")
	assert.Error(t, cert.CheckSignatureFrom(s.CA("tlsca-x").Cert))
	assert.Equal(t, []string{"client"}, cert.Subject.OrganizationalUnit)
	assert.Equal(t, []string{"host.example"}, cert.DNSNames)
	attrs, err := fabcatest.Attributes(cert)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"hf.EnrollmentID": "ayse", "hf.Type": "client", "hf.Affiliation": "", "mtrace.role": "operator"}, attrs)

	// Asked attributes replace the defaults; a missing one that is not
	// optional fails the enrolment.
	pe, err = c.Enroll(ctx, "ayse", secret, fabca.EnrollOptions{Attrs: []fabca.AttrRequest{{Name: "hidden"}, {Name: "nope", Optional: true}}})
	require.NoError(t, err)
	cert, _ = pe.Cert()
	attrs, _ = fabcatest.Attributes(cert)
	assert.Equal(t, map[string]string{"hidden": "x"}, attrs)
	_, err = c.Enroll(ctx, "ayse", secret, fabca.EnrollOptions{Attrs: []fabca.AttrRequest{{Name: "nope"}}})
	assert.ErrorContains(t, err, "Attribute 'nope' was requested")
	assert.Equal(t, 3, s.Enrolments("ca-x"))

	_, err = c.Enroll(ctx, "ayse", "wrong", fabca.EnrollOptions{})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 401, fe.Status)

	ids, err := c.Identities(ctx, admin)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	assert.Equal(t, "admin", ids[0].ID)
	assert.Equal(t, "ayse", ids[1].ID)
	certs, err := c.Certificates(ctx, admin, "ayse")
	require.NoError(t, err)
	assert.Len(t, certs, 2)

	revoked, err := c.Revoke(ctx, admin, "ayse", "keycompromise")
	require.NoError(t, err)
	assert.Len(t, revoked, 2)
	registered, gone := s.Registered("ca-x", "ayse")
	assert.True(t, registered)
	assert.True(t, gone)
	crlPEM, err := c.GenCRL(ctx, admin)
	require.NoError(t, err)
	b, _ := pem.Decode(crlPEM)
	crl, err := x509.ParseRevocationList(b.Bytes)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(s.CA("ca-x").Cert))
	assert.Len(t, crl.RevokedCertificateEntries, 2)
	_, err = c.Enroll(ctx, "ayse", secret, fabca.EnrollOptions{})
	assert.Error(t, err, "a revoked identity cannot enrol")
}

func TestTheFakeRefuses(t *testing.T) {
	ctx := context.Background()
	s := fabcatest.New(t, "ca-x", "ca-y")
	x, y := client(t, s, "ca-x"), client(t, s, "ca-y")
	e, err := x.Enroll(ctx, "admin", "adminpw", fabca.EnrollOptions{})
	require.NoError(t, err)
	adminX, _ := e.Identity()

	// A token of another CA's registrar is refused.
	_, err = y.Register(ctx, adminX, fabca.Registration{Name: "p", Type: "client"})
	var fe *fabca.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 401, fe.Status)
	assert.Contains(t, fe.Message, "token certificate not issued by this CA")

	_, err = client(t, s, "ca-z").Info(ctx)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 404, fe.Status)

	s.AddUser("ca-y", "bootstrap", "pw", "admin")
	_, err = y.Enroll(ctx, "bootstrap", "pw", fabca.EnrollOptions{})
	require.NoError(t, err)

	s.Refuse(func(ca, endpoint, id string) error {
		if ca == "ca-y" && endpoint == "enroll" && id == "bootstrap" {
			return errors.New("database is locked")
		}
		return nil
	})
	_, err = y.Enroll(ctx, "bootstrap", "pw", fabca.EnrollOptions{})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 500, fe.Status)
	assert.Equal(t, "database is locked", fe.Message)
	_, err = x.Enroll(ctx, "admin", "adminpw", fabca.EnrollOptions{})
	assert.NoError(t, err, "only what refuse names is refused")
	s.Refuse(nil)
	_, err = y.Enroll(ctx, "bootstrap", "pw", fabca.EnrollOptions{})
	assert.NoError(t, err)
}
