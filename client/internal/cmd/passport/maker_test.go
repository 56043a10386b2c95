package passport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// makerEnv is a command environment whose profile (MSP X) holds the
// fixture's certificate and key as PEM files.
func makerEnv(t *testing.T, fx *fixture) (*cmdtest.Env, string) {
	t.Helper()
	e := cmdtest.New(t)
	dir := filepath.Dir(e.Config)
	der, err := x509.MarshalPKCS8PrivateKey(fx.maker.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fx.maker.Cert.Raw}), 0o600))
	return e, dir
}

func TestLoadMaker(t *testing.T) {
	fx := newFixture(t)
	e, _ := makerEnv(t, fx)
	e.Fake.OnJSON(api.GetRegistry, model.Registry{Participants: []model.Participant{
		{MSP: "Y", Role: model.RoleRecycler, Name: "Other"},
		{MSP: "X", Role: model.RoleMaker, Name: "Kadıköy Makerspace"},
	}})
	m, err := loadMaker(context.Background(), e.F)
	require.NoError(t, err)
	assert.Equal(t, "X", m.MSP)
	assert.Equal(t, "Kadıköy Makerspace", m.Name, "the name is the registry's")
	assert.True(t, m.Key.Equal(fx.maker.Key), "the profile's key")
	assert.True(t, m.Cert.Equal(fx.maker.Cert), "the profile's certificate")
	assert.Len(t, e.Fake.CallsTo(api.GetRegistry), 1)
}

func TestLoadMakerNotInTheRegistry(t *testing.T) {
	fx := newFixture(t)
	e, _ := makerEnv(t, fx)
	e.Fake.OnJSON(api.GetRegistry, model.Registry{Participants: []model.Participant{{MSP: "Y", Role: model.RoleMaker, Name: "Other"}}})
	m, err := loadMaker(context.Background(), e.F)
	require.NoError(t, err)
	assert.Equal(t, "X", m.Name, "an organisation the registry does not name is called by its MSP ID")
}

func TestLoadMakerErrors(t *testing.T) {
	fx := newFixture(t)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	require.NoError(t, err)
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, e *cmdtest.Env, dir string)
		want  string
	}{
		{"no certificate", func(t *testing.T, _ *cmdtest.Env, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "cert.pem")))
		}, "certificate"},
		{"a certificate that is not PEM", func(t *testing.T, _ *cmdtest.Env, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("x"), 0o600))
		}, "cert.pem"},
		{"no key", func(t *testing.T, _ *cmdtest.Env, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "key.pem")))
		}, "private key"},
		{"a key that is not PEM", func(t *testing.T, _ *cmdtest.Env, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), []byte("x"), 0o600))
		}, "key.pem"},
		{"an Ed25519 key", func(t *testing.T, _ *cmdtest.Env, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER}), 0o600))
		}, "not ECDSA"},
		{"the registry cannot be read", func(t *testing.T, e *cmdtest.Env, _ string) {
			e.Fake.OnError(api.GetRegistry, errors.New("peer unreachable"))
		}, "peer unreachable"},
		{"no such profile", func(t *testing.T, e *cmdtest.Env, _ string) {
			e.F.Globals.Profile = "nobody"
		}, "nobody"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, dir := makerEnv(t, fx)
			e.Fake.OnJSON(api.GetRegistry, model.Registry{})
			c.setup(t, e, dir)
			m, err := loadMaker(context.Background(), e.F)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if c.name != "the registry cannot be read" {
				assert.Nil(t, m)
			}
		})
	}
}

func TestPassportFailsWithoutWriting(t *testing.T) {
	t.Run("built without wasm_exec.js", func(t *testing.T) {
		fx := newFixture(t)
		delete(fx.assets, "wasm_exec.js")
		dir := filepath.Join(t.TempDir(), "out")
		_, err := fx.run(t, batch, "--out", dir)
		require.ErrorContains(t, err, "wasm_exec.js")
		assert.NoDirExists(t, dir)
	})
	t.Run("the maker cannot be loaded", func(t *testing.T) {
		fx := newFixture(t)
		e := cmdtest.New(t)
		dir := filepath.Join(t.TempDir(), "out")
		cmd := NewCmdPassport(e.F, func(o *Options) error {
			o.Collect = func(context.Context, string) (*proof.Proof, error) { return proof.Decode(fx.raw) }
			o.Genesis, o.Assets, o.Now = fx.genesis, fx.assets, func() time.Time { return now }
			// o.Maker is the command's own: cmdtest's certificate is not PEM.
			return runPassport(context.Background(), o)
		})
		err := e.Run(cmd, "passport", batch, "--out", dir)
		require.ErrorContains(t, err, "cert.pem")
		assert.NoDirExists(t, dir)
	})
	t.Run("the directory cannot be made", func(t *testing.T) {
		fx := newFixture(t)
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
		_, err := fx.run(t, batch, "--out", filepath.Join(file, "out"))
		require.Error(t, err)
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, "x", string(b), "the file in the way is untouched")
	})
	t.Run("a file cannot be written", func(t *testing.T) {
		fx := newFixture(t)
		dir := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(dir, "index.html"), 0o755))
		_, err := fx.run(t, batch, "--out", dir)
		require.ErrorContains(t, err, "write passport")
	})
}
