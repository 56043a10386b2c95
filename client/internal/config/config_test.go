package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

const sample = `defaultProfile: municipality
profiles:
  municipality:
    endpoint: 127.0.0.1:27100
    tlsRootCert: tls.pem
    serverName: peer0.municipality.mtrace.local
    mspId: MunicipalityMSP
    cert: cert.pem
    key: key.pem
  recycler:
    endpoint: 127.0.0.1:27200
    tlsRootCert: tls.pem
    mspId: RecyclerMSP
    cert: missing-cert.pem
    key: key.pem
    channel: other
    chaincode: cc
`

func fixture(t *testing.T) (string, string) {
	dir := t.TempDir()
	for _, n := range []string{"tls.pem", "cert.pem", "key.pem"} {
		write(t, dir, n, "x")
	}
	return dir, write(t, dir, "config.yaml", sample)
}

func TestFindPathOrder(t *testing.T) {
	dir := t.TempDir()
	xdg := write(t, dir, "xdg/mtrace/config.yaml", sample)
	home := write(t, dir, "home/.config/mtrace/config.yaml", sample)

	p, err := FindPath("/flag.yaml", env(map[string]string{EnvConfig: "/env.yaml"}))
	require.NoError(t, err)
	assert.Equal(t, "/flag.yaml", p)

	p, err = FindPath("", env(map[string]string{EnvConfig: "/env.yaml", "XDG_CONFIG_HOME": filepath.Join(dir, "xdg")}))
	require.NoError(t, err)
	assert.Equal(t, "/env.yaml", p)

	p, err = FindPath("", env(map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "xdg")}))
	require.NoError(t, err)
	assert.Equal(t, xdg, p)

	p, err = FindPath("", env(map[string]string{"HOME": filepath.Join(dir, "home")}))
	require.NoError(t, err)
	assert.Equal(t, home, p)

	_, err = FindPath("", env(map[string]string{"HOME": filepath.Join(dir, "nowhere")}))
	assert.EqualError(t, err, "no config file: pass --config or set MTRACE_CONFIG")
}

func TestResolve(t *testing.T) {
	dir, cfg := fixture(t)
	p, err := Resolve(cfg, "", env(nil))
	require.NoError(t, err)
	assert.Equal(t, "municipality", p.Name)
	assert.Equal(t, filepath.Join(dir, "tls.pem"), p.TLSRootCert)
	assert.Equal(t, DefaultChannel, p.Channel)
	assert.Equal(t, DefaultChaincode, p.Chaincode)
	assert.Equal(t, "peer0.municipality.mtrace.local", p.ServerName)

	// MTRACE_PROFILE beats defaultProfile; the flag beats both.
	_, err = Resolve(cfg, "", env(map[string]string{EnvProfile: "recycler"}))
	assert.EqualError(t, err, "profile recycler: certificate "+filepath.Join(dir, "missing-cert.pem")+": no such file")
	p, err = Resolve(cfg, "municipality", env(map[string]string{EnvProfile: "recycler"}))
	require.NoError(t, err)
	assert.Equal(t, "municipality", p.Name)

	_, err = Resolve(cfg, "x", env(nil))
	assert.EqualError(t, err, `profile "x" not found in `+cfg+` (profiles: municipality, recycler)`)
}

func TestProfileDefaults(t *testing.T) {
	_, cfg := fixture(t)
	f, err := Load(cfg)
	require.NoError(t, err)
	p, err := f.Profile("recycler")
	require.NoError(t, err)
	assert.Equal(t, "other", p.Channel)
	assert.Equal(t, "cc", p.Chaincode)

	f.DefaultProfile = ""
	_, err = f.Profile("")
	assert.ErrorContains(t, err, "no profile chosen")
	delete(f.Profiles, "recycler")
	p, err = f.Profile("")
	require.NoError(t, err)
	assert.Equal(t, "municipality", p.Name, "a single profile needs no default")
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "none.yaml"))
	assert.EqualError(t, err, "config "+filepath.Join(dir, "none.yaml")+": no such file")
	_, err = Load(write(t, dir, "bad.yaml", "profiles: [1, 2"))
	assert.ErrorContains(t, err, "bad.yaml: yaml:")
	_, err = Load(write(t, dir, "empty.yaml", "defaultProfile: x\n"))
	assert.ErrorContains(t, err, "no profiles defined")

	p := &Profile{Name: "m", Endpoint: "e", MSPID: "M", TLSRootCert: "t", Cert: "c"}
	assert.EqualError(t, p.Check(), "profile m: key is required")
}
