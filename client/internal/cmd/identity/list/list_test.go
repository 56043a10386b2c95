package list

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/identitytest"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newCmd(t *testing.T, cfg *identitytest.Config, e *cmdtest.Env) *cobra.Command {
	day := 24 * time.Hour
	cert := func(cn string, serial int64, notAfter time.Time) *x509.Certificate {
		c, err := cfg.CA.Issue(t, cn, "client", serial, notAfter, map[string]string{}).Cert()
		require.NoError(t, err)
		return c
	}
	certs := []*x509.Certificate{
		cert("derya", 0x2b, now.Add(365*day)),
		cert("derya", 0x1a, now.Add(10*day)), // the older one, first after sorting
		cert("ayse", 0x3c, now.Add(200*day)),
		cert("User1", 0x4d, now.Add(-day)),
	}
	// derya's certificate 1a was issued before 2b.
	certs[1].NotBefore, certs[0].NotBefore = now.Add(-100*day), now.Add(-day)
	return NewCmdList(e.F, func(o *Options) error {
		o.Now = func() time.Time { return now }
		o.OpenCA = func(*config.Profile) (*shared.CA, error) {
			return &shared.CA{Name: "ca-recycler",
				Identities: func(context.Context) ([]fabca.IdentityInfo, error) {
					return []fabca.IdentityInfo{
						{ID: "derya", Type: "client", Attrs: []fabca.Attribute{{Name: "hf.EnrollmentID", Value: "derya"}, {Name: "mtrace.role", Value: "operator", ECert: true}}},
						{ID: "ayse", Type: "client", Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: "viewer", ECert: true}}},
						{ID: "User1", Type: "client"},
						{ID: "new", Type: "admin", Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: "admin", ECert: true}}},
					}, nil
				},
				Certificates: func(_ context.Context, id string) ([]*x509.Certificate, error) {
					assert.Empty(t, id, "one call for all certificates")
					return certs, nil
				},
				GenCRL: func(context.Context) ([]byte, error) { return cfg.CA.CRL(t, 0x3c), nil },
			}, nil
		}
		return runList(context.Background(), o)
	})
}

func TestList(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	e := cfg.Env(t)
	require.NoError(t, e.Run(newCmd(t, cfg, e), "list", "-p", "recycler-admin"))
	want := "" +
		"NAME   TYPE    ROLE      SERIAL  EXPIRES               STATE\n" +
		"User1  client  -         4d      2026-11-30T12:00:00Z  expired\n" +
		"ayse   client  viewer    3c      2027-06-19T12:00:00Z  revoked\n" +
		"derya  client  operator  1a      2026-12-11T12:00:00Z  expiring in 10 days\n" +
		"derya  client  operator  2b      2027-12-01T12:00:00Z  valid\n" +
		"new    admin   admin     -       -                     not enrolled\n"
	assert.Equal(t, want, e.Out.String())

	e = cfg.Env(t)
	require.NoError(t, e.Run(newCmd(t, cfg, e), "list", "-p", "recycler-admin", "-o", "json"))
	var got []Identity
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	require.Len(t, got, 4)
	assert.Equal(t, Identity{Name: "derya", Type: "client", Role: "operator", Certificates: []Certificate{
		{Serial: "1a", NotBefore: "2026-08-23T12:00:00Z", NotAfter: "2026-12-11T12:00:00Z", DaysLeft: 10, State: StateExpiring},
		{Serial: "2b", NotBefore: "2026-11-30T12:00:00Z", NotAfter: "2027-12-01T12:00:00Z", DaysLeft: 365, State: StateValid},
	}}, got[2])
	assert.Equal(t, []Certificate{}, got[3].Certificates)
}

func TestListNeedsAnAdmin(t *testing.T) {
	cfg := identitytest.NewConfig(t)
	e := cfg.Env(t)
	err := e.Run(newCmd(t, cfg, e), "list", "-p", "recycler")
	assert.ErrorContains(t, err, "profile recycler is not an organisation admin (User1 has mtrace.role operator, OU client): listing identities needs")
	assert.Empty(t, e.Out.String())
}
