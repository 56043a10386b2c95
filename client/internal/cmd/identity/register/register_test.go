package register

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

// fakeCA records registrations and answers secret.
func fakeCA(got *[]fabca.Registration, err error) shared.Opener {
	return func(p *config.Profile) (*shared.CA, error) {
		return &shared.CA{Name: "ca-recycler at " + p.CA.URL, Register: func(_ context.Context, r fabca.Registration) (string, error) {
			*got = append(*got, r)
			return "s3cr3t", err
		}}, nil
	}
}

func TestRegister(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	for _, tt := range []struct {
		flag, role, typ string
	}{{"operator", "operator", "client"}, {"viewer", "viewer", "client"}, {"ADMIN", "admin", "admin"}} {
		e := cfg.Env(t)
		var got []fabca.Registration
		cmd := NewCmdRegister(e.F, func(o *Options) error { o.OpenCA = fakeCA(&got, nil); return runRegister(context.Background(), o) })
		require.NoError(t, e.Run(cmd, "register", "derya", "--role", tt.flag, "-p", "recycler-admin"))
		require.Len(t, got, 1)
		assert.Equal(t, fabca.Registration{Name: "derya", Type: tt.typ, MaxEnrollments: 1,
			Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: tt.role, ECert: true}}}, got[0])
		assert.Contains(t, e.Out.String(), "Registered derya at ca-recycler at https://127.0.0.1:29250 (RecyclerMSP) with mtrace.role "+tt.role+" (Fabric type "+tt.typ+").\n")
		assert.Contains(t, e.Out.String(), "Enrolment secret (usable once): s3cr3t\n")
	}
}

func TestRegisterSecretFileAndJSON(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	e := cfg.Env(t)
	file := filepath.Join(t.TempDir(), "ayse.secret")
	var got []fabca.Registration
	cmd := NewCmdRegister(e.F, func(o *Options) error { o.OpenCA = fakeCA(&got, nil); return runRegister(context.Background(), o) })
	require.NoError(t, e.Run(cmd, "register", "ayse", "--role", "viewer", "--secret-file", file, "--max-enrollments", "2", "-p", "recycler-admin", "-o", "json"))
	var res Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &res))
	assert.Equal(t, Result{Name: "ayse", MSP: "RecyclerMSP", Role: "viewer", Type: "client", CA: "ca-recycler at https://127.0.0.1:29250",
		MaxEnrollments: 2, SecretFile: file}, res, "the secret is not printed")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "s3cr3t\n", string(raw))
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, 2, got[0].MaxEnrollments)

	// An existing secret file is never overwritten, and nothing is registered.
	e = cfg.Env(t)
	got = nil
	cmd = NewCmdRegister(e.F, func(o *Options) error { o.OpenCA = fakeCA(&got, nil); return runRegister(context.Background(), o) })
	assert.EqualError(t, e.Run(cmd, "register", "ayse2", "--role", "viewer", "--secret-file", file, "-p", "recycler-admin"),
		"--secret-file "+file+" exists; it is never overwritten")
	assert.Empty(t, got)
}

func TestRegisterErrors(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	tests := []struct {
		name string
		args []string
		err  error
		want string
	}{
		{"no role", []string{"register", "x"}, nil, `required flag(s) "role" not set`},
		{"bad role", []string{"register", "x", "--role", "boss", "-p", "recycler-admin"}, nil, `--role: must be operator, viewer, admin, got "boss"`},
		{"bad name", []string{"register", "a b", "--role", "viewer", "-p", "recycler-admin"}, nil, `identity name "a b": only letters, digits and . _ @ - are allowed`},
		{"no uses", []string{"register", "x", "--role", "viewer", "--max-enrollments", "0", "-p", "recycler-admin"}, nil, "--max-enrollments: must be 1 or more, got 0"},
		{"operator profile", []string{"register", "x", "--role", "viewer", "-p", "recycler"}, nil,
			"profile recycler is not an organisation admin (User1 has mtrace.role operator, OU client): registering identities needs mtrace.role admin and OU admin; use your organisation's admin profile, such as recycler-admin"},
		{"no attributes", []string{"register", "x", "--role", "viewer", "-p", "cryptogen"}, nil,
			"profile cryptogen is not an organisation admin (Admin@recycler.mtrace.local has mtrace.role none, OU admin)"},
		{"refused by the CA", []string{"register", "x", "--role", "viewer", "-p", "recycler-admin"},
			&fabca.Error{Status: 403, Code: 71, Message: "Authorization failure"},
			"register x at ca-recycler at https://127.0.0.1:29250: fabric ca: Authorization failure (code 71, HTTP 403)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cfg.Env(t)
			var got []fabca.Registration
			cmd := NewCmdRegister(e.F, func(o *Options) error { o.OpenCA = fakeCA(&got, tt.err); return runRegister(context.Background(), o) })
			err := e.Run(cmd, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, e.Out.String())
			if tt.err == nil {
				assert.Empty(t, got, "nothing reached the CA")
			}
			var fe *fabca.Error
			assert.Equal(t, tt.err != nil, errors.As(err, &fe), "the CA's error is kept typed")
		})
	}
}
