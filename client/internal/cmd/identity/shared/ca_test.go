package shared

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
)

func write(t *testing.T, dir, name string, raw []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, raw, 0o600))
	return p
}

// adminProfile is a profile whose certificate the fake CA issued to its
// registrar, with a ca section pointing at the fake.
func adminProfile(t *testing.T, s *fabcatest.Server) *config.Profile {
	t.Helper()
	c, err := fabca.New(s.URL, "ca-recycler", s.TLSRootPEM)
	require.NoError(t, err)
	e, err := c.Enroll(context.Background(), "admin", "adminpw", fabca.EnrollOptions{})
	require.NoError(t, err)
	key, err := fabca.KeyPEM(e.Key)
	require.NoError(t, err)
	dir := t.TempDir()
	return &config.Profile{Name: "recycler-admin", MSPID: "RecyclerMSP",
		Cert: write(t, dir, "cert.pem", e.CertPEM), Key: write(t, dir, "key.pem", key),
		CA: &config.CA{URL: s.URL, Name: "ca-recycler", TLSRootCert: write(t, dir, "ca-tls.pem", s.TLSRootPEM)}}
}

// Open's functions reach the profile's CA, signed as the profile.
func TestOpenTalksToTheProfilesCA(t *testing.T) {
	ctx := context.Background()
	s := fabcatest.New(t, "ca-recycler")
	p := adminProfile(t, s)
	ca, err := Open(p)
	require.NoError(t, err)
	assert.Equal(t, "ca-recycler at "+s.URL, ca.Name)

	secret, err := ca.Register(ctx, fabca.Registration{Name: "derya", Type: "client",
		Attrs: []fabca.Attribute{{Name: model.RoleAttribute, Value: "viewer", ECert: true}}})
	require.NoError(t, err)
	e, err := ca.Enroll(ctx, "derya", secret, fabca.EnrollOptions{})
	require.NoError(t, err)
	cert, err := e.Cert()
	require.NoError(t, err)
	role, err := Role(cert)
	require.NoError(t, err)
	assert.Equal(t, model.PersonViewer, role)

	ids, err := ca.Identities(ctx)
	require.NoError(t, err)
	var names []string
	for _, i := range ids {
		names = append(names, i.ID)
	}
	assert.Equal(t, []string{"admin", "derya"}, names)
	certs, err := ca.Certificates(ctx, "derya")
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assert.Equal(t, cert.SerialNumber, certs[0].SerialNumber)

	revoked, err := ca.Revoke(ctx, "derya", "keycompromise")
	require.NoError(t, err)
	assert.Len(t, revoked, 1)
	crlPEM, err := ca.GenCRL(ctx)
	require.NoError(t, err)
	b, _ := pem.Decode(crlPEM)
	crl, err := x509.ParseRevocationList(b.Bytes)
	require.NoError(t, err)
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, cert.SerialNumber, crl.RevokedCertificateEntries[0].SerialNumber)

	// Without a CA name the URL alone names it.
	p.CA.Name = ""
	ca, err = Open(p)
	require.NoError(t, err)
	assert.Equal(t, s.URL, ca.Name)
}

func TestOpenErrors(t *testing.T) {
	s := fabcatest.New(t, "ca-recycler")
	p := adminProfile(t, s)

	noCA := *p
	noCA.CA = nil
	_, err := Open(&noCA)
	assert.ErrorContains(t, err, "profile recycler-admin has no ca section")

	dirRoot := *p
	dirRoot.CA = &config.CA{URL: s.URL, TLSRootCert: t.TempDir()}
	_, err = Open(&dirRoot)
	assert.ErrorContains(t, err, "profile recycler-admin: CA TLS root certificate: ")

	badURL := *p
	badURL.CA = &config.CA{URL: "127.0.0.1:7054"}
	_, err = Open(&badURL)
	assert.ErrorContains(t, err, `profile recycler-admin: fabric ca url "127.0.0.1:7054": must start with https://`)

	// A registrar whose key is missing fails every registrar call before
	// anything is sent.
	noKey := *p
	noKey.Key = filepath.Join(t.TempDir(), "gone.pem")
	ca, err := Open(&noKey)
	require.NoError(t, err, "the key is read when needed")
	ctx := context.Background()
	_, err = ca.Register(ctx, fabca.Registration{Name: "x", Type: "client"})
	assert.ErrorContains(t, err, "profile recycler-admin: ")
	_, err = ca.Revoke(ctx, "admin", "")
	assert.ErrorContains(t, err, "profile recycler-admin: ")
	_, err = ca.GenCRL(ctx)
	assert.ErrorContains(t, err, "profile recycler-admin: ")
	_, err = ca.Identities(ctx)
	assert.ErrorContains(t, err, "profile recycler-admin: ")
	_, err = ca.Certificates(ctx, "admin")
	assert.ErrorContains(t, err, "profile recycler-admin: ")
	registered, revoked := s.Registered("ca-recycler", "x")
	assert.False(t, registered)
	_, revoked = s.Registered("ca-recycler", "admin")
	assert.False(t, revoked, "nothing reached the CA")
}

func TestRoleAndRequireAdmin(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	assert.NoError(t, RequireAdmin(cfg.Profile(t, "recycler-admin"), "identity register"))

	err := RequireAdmin(cfg.Profile(t, "recycler"), "identity register")
	assert.EqualError(t, err, "profile recycler is not an organisation admin (User1 has mtrace.role operator, OU client): "+
		"identity register needs mtrace.role admin and OU admin; use your organisation's admin profile, such as recycler-admin")
	err = RequireAdmin(cfg.Profile(t, "cryptogen"), "identity revoke")
	assert.ErrorContains(t, err, "(Admin@recycler.mtrace.local has mtrace.role none, OU admin): identity revoke needs")

	// An admin role with a client OU (registered as a client) is not enough.
	ca := identitytest.NewCA(t)
	e := ca.Issue(t, "olli", "client", 7, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), map[string]string{model.RoleAttribute: "admin"})
	p := &config.Profile{Name: "recycler-olli", Cert: write(t, t.TempDir(), "cert.pem", e.CertPEM)}
	assert.ErrorContains(t, RequireAdmin(p, "identity list"), "(olli has mtrace.role admin, OU client)")
	// No OU at all.
	e = ca.Issue(t, "nou", "", 8, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), map[string]string{model.RoleAttribute: "admin"})
	p.Cert = write(t, t.TempDir(), "cert.pem", e.CertPEM)
	assert.ErrorContains(t, RequireAdmin(p, "identity list"), "OU none)")

	p.Cert = filepath.Join(t.TempDir(), "missing.pem")
	assert.ErrorContains(t, RequireAdmin(p, "x"), "profile recycler-olli: certificate "+p.Cert+": ")
	p.Cert = write(t, t.TempDir(), "cert.pem", []byte("not a certificate"))
	assert.ErrorContains(t, RequireAdmin(p, "x"), "profile recycler-olli: certificate "+p.Cert+": ")

	// Role reads the attribute, and nothing from a certificate without it.
	e = ca.Issue(t, "plain", "client", 9, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	c, err := e.Cert()
	require.NoError(t, err)
	r, err := Role(c)
	require.NoError(t, err)
	assert.Equal(t, model.PersonRole(""), r)
}
