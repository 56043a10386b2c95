// Package list implements `mtrace identity list`: the identities at the
// organisation's CA, with their role and type, and each certificate's
// serial, expiry and state.
package list

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
	"github.com/mtrace/mtrace/internal/channel"
)

// ExpiryWarning is how close to its expiry a certificate is reported as
// expiring.
const ExpiryWarning = 30 * 24 * time.Hour

// Certificate states.
const (
	StateValid    = "valid"
	StateExpiring = "expiring"
	StateExpired  = "expired"
	StateRevoked  = "revoked"
)

// Options are the inputs of one listing.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	Profile func() (*config.Profile, error)
	OpenCA  shared.Opener
	Now     func() time.Time
}

// Identity is one identity of the CA and its certificates (-o json).
type Identity struct {
	Name         string           `json:"name"`
	Type         string           `json:"type"`
	Role         model.PersonRole `json:"role,omitempty"`
	Certificates []Certificate    `json:"certificates"`
}

// Certificate is one certificate the CA issued.
type Certificate struct {
	Serial    string `json:"serial"`
	NotBefore string `json:"notBefore"`
	NotAfter  string `json:"notAfter"`
	// DaysLeft is the whole days until NotAfter (negative once expired).
	DaysLeft int    `json:"daysLeft"`
	State    string `json:"state"`
}

// NewCmdList builds the command; runF replaces runList in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Profile: f.Profile, OpenCA: shared.Open, Now: time.Now}
	return &cobra.Command{
		Use:   "list",
		Short: "List the identities at your organisation's CA and their certificates (organisation admins only)",
		Long: `List every identity registered at your organisation's Fabric CA: its name,
Fabric type and mtrace.role, and each certificate the CA issued to it, with
its serial number, expiry and state: valid, expiring (within 30 days),
expired, or revoked (listed in the CA's current revocation list).`,
		Example: `  mtrace -p recycler-admin identity list
  mtrace -p recycler-admin identity list -o json`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runList)
		},
	}
}

func runList(ctx context.Context, opts *Options) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if err := shared.RequireAdmin(p, "listing identities"); err != nil {
		return err
	}
	ca, err := opts.OpenCA(p)
	if err != nil {
		return err
	}
	infos, err := ca.Identities(ctx)
	if err != nil {
		return fmt.Errorf("identities at %s: %w", ca.Name, err)
	}
	certs, err := ca.Certificates(ctx, "")
	if err != nil {
		return fmt.Errorf("certificates at %s: %w", ca.Name, err)
	}
	crlPEM, err := ca.GenCRL(ctx)
	if err != nil {
		return fmt.Errorf("revocation list of %s: %w", ca.Name, err)
	}
	crl, err := channel.ParseCRL(crlPEM)
	if err != nil {
		return fmt.Errorf("revocation list of %s: %w", ca.Name, err)
	}
	revoked := map[string]bool{}
	for _, r := range crl.TBSCertList.RevokedCertificates {
		revoked[r.SerialNumber.Text(16)] = true
	}
	// Fabric CA names a certificate's subject after the enrolment ID.
	byName := map[string][]*x509.Certificate{}
	for _, c := range certs {
		byName[c.Subject.CommonName] = append(byName[c.Subject.CommonName], c)
	}
	now := opts.Now()
	out := make([]Identity, 0, len(infos))
	for _, info := range infos {
		id := Identity{Name: info.ID, Type: info.Type, Certificates: []Certificate{}}
		for _, a := range info.Attrs {
			if a.Name == model.RoleAttribute {
				id.Role = model.PersonRole(a.Value)
			}
		}
		cs := byName[info.ID]
		slices.SortFunc(cs, func(a, b *x509.Certificate) int {
			return cmp.Or(a.NotBefore.Compare(b.NotBefore), a.SerialNumber.Cmp(b.SerialNumber))
		})
		for _, c := range cs {
			id.Certificates = append(id.Certificates, Certificate{
				Serial:    c.SerialNumber.Text(16),
				NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
				NotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
				DaysLeft:  int(c.NotAfter.Sub(now).Hours() / 24),
				State:     state(c.NotAfter, c.SerialNumber, revoked, now),
			})
		}
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b Identity) int { return cmp.Compare(a.Name, b.Name) })
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, out)
	}
	t := render.NewTable(opts.IO.Out)
	t.Row("NAME", "TYPE", "ROLE", "SERIAL", "EXPIRES", "STATE")
	for _, id := range out {
		role := render.Or(string(id.Role), "-")
		if len(id.Certificates) == 0 {
			t.Row(id.Name, id.Type, role, "-", "-", "not enrolled")
		}
		for _, c := range id.Certificates {
			st := c.State
			if st == StateExpiring {
				st = fmt.Sprintf("expiring in %d days", c.DaysLeft)
			}
			t.Row(id.Name, id.Type, role, c.Serial, c.NotAfter, st)
		}
	}
	return t.Flush()
}

func state(notAfter time.Time, serial *big.Int, revoked map[string]bool, now time.Time) string {
	switch {
	case revoked[serial.Text(16)]:
		return StateRevoked
	case !now.Before(notAfter):
		return StateExpired
	case notAfter.Sub(now) < ExpiryWarning:
		return StateExpiring
	}
	return StateValid
}
