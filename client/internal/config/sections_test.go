package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const withSections = `# the network's profiles
defaultProfile: recycler-admin
profiles:
  recycler-admin:
    endpoint: 127.0.0.1:27200
    tlsRootCert: tls.pem
    serverName: peer0.recycler.mtrace.local
    mspId: RecyclerMSP
    cert: cert.pem
    key: key.pem
    ca:                       # the organisation's Fabric CA
      url: https://127.0.0.1:27250
      name: ca-recycler
      tlsRootCert: ca/tls.pem
    orderer:
      endpoint: 127.0.0.1:27050
      tlsRootCert: /abs/orderer-tlsca.pem
      serverName: orderer1.orderer.mtrace.local
  recycler:
    endpoint: 127.0.0.1:27200
    tlsRootCert: tls.pem
    mspId: RecyclerMSP
    cert: cert.pem
    key: key.pem
`

func TestProfileSections(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"tls.pem", "cert.pem", "key.pem", "ca/tls.pem"} {
		write(t, dir, n, "x")
	}
	cfg := write(t, dir, "config.yaml", withSections)
	f, err := Load(cfg)
	require.NoError(t, err)

	p, err := f.Profile("recycler-admin")
	require.NoError(t, err)
	assert.Equal(t, &CA{URL: "https://127.0.0.1:27250", Name: "ca-recycler", TLSRootCert: filepath.Join(dir, "ca/tls.pem")}, p.CA)
	assert.Equal(t, &Orderer{Endpoint: "127.0.0.1:27050", TLSRootCert: "/abs/orderer-tlsca.pem", ServerName: "orderer1.orderer.mtrace.local"}, p.Orderer)
	assert.Equal(t, "ca/tls.pem", f.Profiles["recycler-admin"].CA.TLSRootCert, "resolving paths leaves the file's own values alone")
	require.NoError(t, p.CheckCA())
	assert.EqualError(t, p.CheckOrderer(), "profile recycler-admin: orderer TLS root certificate /abs/orderer-tlsca.pem: no such file")

	// Both sections are optional.
	p, err = f.Profile("recycler")
	require.NoError(t, err)
	require.NoError(t, p.Check())
	assert.Nil(t, p.CA)
	assert.Nil(t, p.Orderer)
	assert.EqualError(t, p.CheckCA(), "profile recycler has no ca section (url, name, tlsRootCert of the organisation's Fabric CA)")
	assert.EqualError(t, p.CheckOrderer(), "profile recycler has no orderer section (endpoint, tlsRootCert, serverName of an orderer)")
}

func TestAddProfile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"tls.pem", "cert.pem", "key.pem", "ca/tls.pem"} {
		write(t, dir, n, "x")
	}
	cfg := write(t, dir, "config.yaml", withSections)
	f, err := Load(cfg)
	require.NoError(t, err)
	admin, err := f.Profile("recycler-admin")
	require.NoError(t, err)

	derya := *admin
	derya.Cert, derya.Key = filepath.Join(dir, "derya/cert.pem"), filepath.Join(dir, "derya/key.pem")
	require.NoError(t, AddProfile(cfg, "recycler-derya", derya, false))

	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "# the network's profiles", "comments are kept")
	assert.Contains(t, string(raw), "# the organisation's Fabric CA")
	st, err := os.Stat(cfg)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	f, err = Load(cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"recycler", "recycler-admin", "recycler-derya"}, f.Names())
	assert.Equal(t, "recycler-admin", f.DefaultProfile)
	got, err := f.Profile("recycler-derya")
	require.NoError(t, err)
	assert.Equal(t, derya.Cert, got.Cert)
	assert.Equal(t, admin.CA, got.CA)
	assert.Equal(t, admin.Orderer, got.Orderer)
	assert.Equal(t, "RecyclerMSP", got.MSPID)

	// A name that is taken is refused, unless replacing.
	err = AddProfile(cfg, "recycler-derya", *admin, false)
	assert.True(t, errors.Is(err, ErrProfileExists), "%v", err)
	require.NoError(t, AddProfile(cfg, "recycler-derya", *admin, true))
	f, err = Load(cfg)
	require.NoError(t, err)
	assert.Equal(t, admin.Cert, f.Profiles["recycler-derya"].Cert)
	assert.Len(t, f.Profiles, 3)

	assert.ErrorContains(t, AddProfile(filepath.Join(dir, "none.yaml"), "x", *admin, false), "no such file")
	bad := write(t, dir, "list.yaml", "- a\n- b\n")
	assert.ErrorContains(t, AddProfile(bad, "x", *admin, false), "not a mapping of settings")
}

func TestCheckOrdererNeedsTLSClientCertificate(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"tls.pem", "cert.pem", "key.pem", "orderer-tlsca.pem", "tls/client.crt"} {
		write(t, dir, n, "x")
	}
	profile := func(extra string) *Profile {
		t.Helper()
		cfg := write(t, dir, "config.yaml", "profiles:\n  admin:\n    endpoint: 127.0.0.1:27200\n    tlsRootCert: tls.pem\n"+
			"    mspId: RecyclerMSP\n    cert: cert.pem\n    key: key.pem\n    orderer:\n      endpoint: 127.0.0.1:27050\n"+
			"      tlsRootCert: orderer-tlsca.pem\n      serverName: orderer1.orderer.mtrace.local\n"+extra)
		f, err := Load(cfg)
		require.NoError(t, err)
		p, err := f.Profile("admin")
		require.NoError(t, err)
		return p
	}

	assert.EqualError(t, profile("").CheckOrderer(),
		"profile admin: the orderer section has no tlsCert and tlsKey (the orderers require a TLS client certificate)")
	assert.EqualError(t, profile("      tlsCert: tls/client.crt\n      tlsKey: tls/client.key\n").CheckOrderer(),
		"profile admin: orderer TLS client key "+filepath.Join(dir, "tls/client.key")+": no such file")
	write(t, dir, "tls/client.key", "x")
	p := profile("      tlsCert: tls/client.crt\n      tlsKey: tls/client.key\n")
	require.NoError(t, p.CheckOrderer())
	assert.Equal(t, filepath.Join(dir, "tls/client.crt"), p.Orderer.TLSCert, "relative paths are resolved")
}
