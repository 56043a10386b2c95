package identitytest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
)

func TestIssueAsFabricCADoes(t *testing.T) {
	ca := NewCA(t)
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := ca.Issue(t, "derya", "client", 42, until, map[string]string{"mtrace.role": "viewer"})
	c, err := e.Cert()
	require.NoError(t, err)
	require.NoError(t, c.CheckSignatureFrom(ca.Cert))
	assert.Equal(t, "derya", c.Subject.CommonName)
	assert.Equal(t, []string{"client"}, c.Subject.OrganizationalUnit)
	assert.Equal(t, int64(42), c.SerialNumber.Int64())
	assert.Equal(t, until, c.NotAfter)
	assert.True(t, e.Key.PublicKey.Equal(c.PublicKey))
	attrs, err := fabcatest.Attributes(c)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"hf.EnrollmentID": "derya", "hf.Type": "client", "hf.Affiliation": "", "mtrace.role": "viewer"}, attrs)
	chain, _ := pem.Decode(e.ChainPEM)
	require.NotNil(t, chain)
	assert.Equal(t, ca.Cert.Raw, chain.Bytes)

	plain := ca.Issue(t, "cryptogen", "admin", 1, until, nil)
	c, err = plain.Cert()
	require.NoError(t, err)
	attrs, err = fabcatest.Attributes(c)
	require.NoError(t, err)
	assert.Nil(t, attrs, "no attribute extension")

	b, _ := pem.Decode(ca.CRL(t, 42, 7))
	crl, err := x509.ParseRevocationList(b.Bytes)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(ca.Cert))
	require.Len(t, crl.RevokedCertificateEntries, 2)
	assert.Equal(t, int64(42), crl.RevokedCertificateEntries[0].SerialNumber.Int64())
}

func TestConfigProfiles(t *testing.T) {
	cfg := NewConfig(t)
	for name, want := range map[string]struct{ cn, ou string }{
		"recycler-admin": {"Admin", "admin"}, "recycler": {"User1", "client"}, "cryptogen": {"Admin@recycler.mtrace.local", "admin"},
	} {
		p := cfg.Profile(t, name)
		assert.Equal(t, "RecyclerMSP", p.MSPID)
		require.NotNil(t, p.CA)
		require.NotNil(t, p.Orderer)
		require.NoError(t, p.CheckCA())
		require.NoError(t, p.CheckOrderer())
		id, err := fabca.LoadIdentity(p.Cert, p.Key)
		require.NoError(t, err, name)
		assert.Equal(t, want.cn, id.Cert.Subject.CommonName)
		assert.Equal(t, []string{want.ou}, id.Cert.Subject.OrganizationalUnit)
		require.NoError(t, id.Cert.CheckSignatureFrom(cfg.CA.Cert))
	}
	e := cfg.Env(t)
	assert.Equal(t, cfg.Path, e.Config)
	assert.Equal(t, cfg.Path, e.F.Getenv(config.EnvConfig))
	assert.Empty(t, e.F.Getenv("HOME"))
	p, err := e.F.Profile()
	require.NoError(t, err)
	assert.Equal(t, "recycler", p.Name, "the file's default")
	_, err = e.F.Ledger(context.Background())
	require.NoError(t, err)
}
