package enroll

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

var expiry = time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)

// run runs enroll with a CA that issues a certificate with attrs for the
// secret "s3cr3t"; it answers the enrolment calls the CA saw.
func run(t *testing.T, cfg *identitytest.Config, e *cmdtest.Env, attrs map[string]string, args ...string) ([]string, error) {
	var calls []string
	cmd := NewCmdEnroll(e.F, func(o *Options) error {
		o.OpenCA = func(p *config.Profile) (*shared.CA, error) {
			return &shared.CA{Name: "ca-recycler", Enroll: func(_ context.Context, id, secret string, opt fabca.EnrollOptions) (*fabca.Enrolment, error) {
				calls = append(calls, id)
				assert.Equal(t, []fabca.AttrRequest{{Name: "mtrace.role"}}, opt.Attrs, "the role is asked for")
				if secret != "s3cr3t" {
					return nil, &fabca.Error{Status: 401, Code: 20, Message: "Authentication failure"}
				}
				return cfg.CA.Issue(t, id, "client", 0x5eed, expiry, attrs), nil
			}}, nil
		}
		return runEnroll(context.Background(), o)
	})
	return calls, e.Run(cmd, args...)
}

func TestEnroll(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	e := cfg.Env(t)
	calls, err := run(t, cfg, e, map[string]string{"mtrace.role": "operator"}, "enroll", "derya", "--secret", "s3cr3t", "-p", "recycler-admin")
	require.NoError(t, err)
	assert.Equal(t, []string{"derya"}, calls)
	dir := filepath.Join(filepath.Dir(cfg.Path), "identities", "recycler-derya")
	assert.Equal(t, "Enrolled derya (RecyclerMSP, mtrace.role operator): certificate 5eed, expires 2027-12-01T00:00:00Z.\n"+
		"Key and certificate in "+dir+"; profile recycler-derya added to "+cfg.Path+".\n", e.Out.String())

	// The new profile is the chosen one with the new certificate and key,
	// which belong together; the key is the owner's alone.
	p := cfg.Profile(t, "recycler-derya")
	admin := cfg.Profile(t, "recycler-admin")
	assert.Equal(t, filepath.Join(dir, "cert.pem"), p.Cert)
	assert.Equal(t, filepath.Join(dir, "key.pem"), p.Key)
	assert.Equal(t, admin.Endpoint, p.Endpoint)
	assert.Equal(t, admin.CA, p.CA)
	assert.Equal(t, admin.Orderer, p.Orderer)
	require.NoError(t, p.Check())
	id, err := fabca.LoadIdentity(p.Cert, p.Key)
	require.NoError(t, err)
	role, err := shared.Role(id.Cert)
	require.NoError(t, err)
	assert.Equal(t, "operator", string(role))
	st, err := os.Stat(p.Key)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.FileExists(t, filepath.Join(dir, "ca-chain.pem"))

	// The same name again is refused before the CA is asked (the secret
	// would be spent), unless --force.
	e = cfg.Env(t)
	calls, err = run(t, cfg, e, map[string]string{"mtrace.role": "operator"}, "enroll", "derya", "--secret", "s3cr3t", "-p", "recycler")
	assert.EqualError(t, err, "profile recycler-derya exists in "+cfg.Path+"; pass --force to replace it, or --profile-name")
	assert.Empty(t, calls)
	e = cfg.Env(t)
	_, err = run(t, cfg, e, map[string]string{"mtrace.role": "viewer"}, "enroll", "derya", "--secret", "s3cr3t", "-p", "recycler", "--force", "-o", "json")
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &res))
	assert.Equal(t, "viewer", string(res.Role))
	assert.Equal(t, "recycler-derya", res.Profile)
	f, err := config.Load(cfg.Path)
	require.NoError(t, err)
	assert.Equal(t, []string{"cryptogen", "recycler", "recycler-admin", "recycler-derya"}, f.Names())
}

func TestEnrollSecretFileAndProfileName(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	secret := filepath.Join(t.TempDir(), "s")
	require.NoError(t, os.WriteFile(secret, []byte("s3cr3t\n"), 0o600))
	e := cfg.Env(t)
	_, err := run(t, cfg, e, map[string]string{"mtrace.role": "viewer"}, "enroll", "ayse", "--secret-file", secret, "--profile-name", "city-viewer")
	require.NoError(t, err)
	assert.Contains(t, e.Out.String(), "profile city-viewer added")
	assert.Equal(t, filepath.Join(filepath.Dir(cfg.Path), "identities", "city-viewer", "cert.pem"), cfg.Profile(t, "city-viewer").Cert)
}

func TestEnrollErrors(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	before, err := os.ReadFile(cfg.Path)
	require.NoError(t, err)
	tests := []struct {
		name  string
		attrs map[string]string
		args  []string
		want  string
	}{
		{"no secret", nil, []string{"enroll", "x"}, "pass the enrolment secret with --secret or --secret-file (one of them)"},
		{"both secrets", nil, []string{"enroll", "x", "--secret", "a", "--secret-file", "b"}, "(one of them)"},
		{"missing secret file", nil, []string{"enroll", "x", "--secret-file", "/nonexistent/s"}, "--secret-file: open /nonexistent/s"},
		{"wrong secret", nil, []string{"enroll", "x", "--secret", "guess"},
			"enrol x at ca-recycler: fabric ca: Authentication failure (code 20, HTTP 401)"},
		{"no role in the certificate", map[string]string{}, []string{"enroll", "x", "--secret", "s3cr3t"},
			`enrol x: the CA issued a certificate with mtrace.role "", which the chaincode refuses; nothing was written`},
		{"unknown role", map[string]string{"mtrace.role": "boss"}, []string{"enroll", "x", "--secret", "s3cr3t"},
			`mtrace.role "boss", which the chaincode refuses`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cfg.Env(t)
			_, err := run(t, cfg, e, tt.attrs, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, e.Out.String())
			after, err := os.ReadFile(cfg.Path)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "the config is unchanged")
			assert.NoDirExists(t, filepath.Join(filepath.Dir(cfg.Path), "identities", "recycler-x"))
		})
	}
}
