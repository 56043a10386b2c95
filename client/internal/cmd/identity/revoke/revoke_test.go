package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

// fake is a CA and a channel that record what they were asked.
type fake struct {
	revoked   []fabca.RevokedCert
	crlErr    error
	setErr    error
	unchanged bool

	calls []string
	crl   []byte
}

func (f *fake) cmd(t *testing.T, cfg *identitytest.Config, e *cmdtest.Env) *cobra.Command {
	return NewCmdRevoke(e.F, func(o *Options) error {
		o.OpenCA = func(*config.Profile) (*shared.CA, error) {
			return &shared.CA{Name: "ca-recycler",
				Revoke: func(_ context.Context, name, reason string) ([]fabca.RevokedCert, error) {
					f.calls = append(f.calls, "revoke "+name+" "+reason)
					return f.revoked, nil
				},
				GenCRL: func(context.Context) ([]byte, error) {
					f.calls = append(f.calls, "gencrl")
					f.crl = cfg.CA.CRL(t, 0x1a2b, 0x99)
					return f.crl, f.crlErr
				},
			}, nil
		}
		o.SetCRL = func(_ context.Context, p *config.Profile, crl []byte) (*ChannelCRL, error) {
			f.calls = append(f.calls, "channel "+p.MSPID+" as "+p.Name)
			assert.Equal(t, f.crl, crl, "the CA's list goes to the channel as it is")
			if f.setErr != nil {
				return nil, f.setErr
			}
			return &ChannelCRL{Block: 7, Changed: !f.unchanged, Serials: []string{"1a2b", "99"}}, nil
		}
		return runRevoke(context.Background(), o)
	})
}

func TestRevoke(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	e := cfg.Env(t)
	f := &fake{revoked: []fabca.RevokedCert{{Serial: "1A2B", AKI: "abc"}}}
	require.NoError(t, e.Run(f.cmd(t, cfg, e), "revoke", "derya", "--reason", "Key Compromise", "-p", "recycler-admin"))
	assert.Equal(t, []string{"revoke derya keycompromise", "gencrl", "channel RecyclerMSP as recycler-admin"}, f.calls)
	assert.Equal(t, "Revoked derya at ca-recycler (keycompromise): certificate 1a2b.\n"+
		"RecyclerMSP's revocation list (2 certificate(s)) is in the channel configuration from config block 7: every peer and orderer now refuses them.\n", e.Out.String())
	assert.Empty(t, e.Err.String())

	// Free text is recorded as unspecified; a rerun that finds nothing new
	// at the CA or in the channel says so.
	e = cfg.Env(t)
	f = &fake{unchanged: true}
	require.NoError(t, e.Run(f.cmd(t, cfg, e), "revoke", "derya", "--reason", "laptop lost on the train", "-p", "recycler-admin", "-o", "json"))
	var res Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &res))
	assert.Equal(t, Result{Name: "derya", MSP: "RecyclerMSP", CA: "ca-recycler", Reason: "laptop lost on the train", Code: "unspecified",
		Revoked: []string{}, ChannelCRL: ChannelCRL{Block: 7, Serials: []string{"1a2b", "99"}}}, res)

	e = cfg.Env(t)
	f = &fake{unchanged: true}
	require.NoError(t, e.Run(f.cmd(t, cfg, e), "revoke", "derya", "--reason", "superseded", "-p", "recycler-admin"))
	assert.Equal(t, "Revoked derya at ca-recycler: no certificate was still valid at the CA (the identity can no longer enrol).\n"+
		"The channel already held this revocation list (config block 7); RecyclerMSP revokes 2 certificate(s).\n", e.Out.String())

	// A revoked serial the channel's list lacks is reported.
	e = cfg.Env(t)
	f = &fake{revoked: []fabca.RevokedCert{{Serial: "0c"}}}
	require.NoError(t, e.Run(f.cmd(t, cfg, e), "revoke", "derya", "--reason", "superseded", "-p", "recycler-admin"))
	assert.Equal(t, "warning: certificate c is not in the channel's revocation list (expired?)\n", e.Err.String())
}

func TestRevokeErrors(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	tests := []struct {
		name  string
		f     *fake
		args  []string
		want  string
		calls []string
	}{
		{"no reason", &fake{}, []string{"revoke", "derya", "-p", "recycler-admin"}, `required flag(s) "reason" not set`, nil},
		{"blank reason", &fake{}, []string{"revoke", "derya", "--reason", " ", "-p", "recycler-admin"}, "--reason: say why the identity is revoked", nil},
		{"not an admin", &fake{}, []string{"revoke", "derya", "--reason", "x", "-p", "recycler"},
			"profile recycler is not an organisation admin (User1 has mtrace.role operator, OU client): revoking identities needs mtrace.role admin and OU admin; use your organisation's admin profile, such as recycler-admin", nil},
		{"CA down", &fake{crlErr: errors.New("connection refused")}, []string{"revoke", "derya", "--reason", "x", "-p", "recycler-admin"},
			"revoked derya at ca-recycler, but the CA gave no revocation list (run revoke again): connection refused",
			[]string{"revoke derya unspecified", "gencrl"}},
		{"orderer refuses", &fake{setErr: errors.New("the orderer refused the update (FORBIDDEN): implicit policy evaluation failed")},
			[]string{"revoke", "derya", "--reason", "x", "-p", "recycler-admin"},
			"revoked derya at ca-recycler, but the channel does not know it yet (run revoke again): the orderer refused the update (FORBIDDEN)",
			[]string{"revoke derya unspecified", "gencrl", "channel RecyclerMSP as recycler-admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cfg.Env(t)
			err := e.Run(tt.f.cmd(t, cfg, e), tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.calls, tt.f.calls)
			assert.Empty(t, e.Out.String())
		})
	}
}

func TestRevokeNeedsAnOrderer(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	p := cfg.Profile(t, "recycler-admin")
	p.Orderer = nil
	require.NoError(t, config.AddProfile(cfg.Path, "recycler-admin", *p, true))
	e := cfg.Env(t)
	f := &fake{}
	err := e.Run(f.cmd(t, cfg, e), "revoke", "derya", "--reason", "x", "-p", "recycler-admin")
	assert.EqualError(t, err, "profile recycler-admin has no orderer section (endpoint, tlsRootCert, serverName of an orderer): revocation updates the channel configuration through an orderer")
	assert.Empty(t, f.calls, "nothing is revoked at the CA when the channel cannot be updated")
}

func TestReasonCode(t *testing.T) {
	for text, want := range map[string]string{
		"keycompromise": "keycompromise", "Key Compromise": "keycompromise", "privilege withdrawn": "privilegewithdrawn",
		"left the company": "unspecified", "SUPERSEDED": "superseded",
	} {
		assert.Equal(t, want, reasonCode(text), text)
	}
}
