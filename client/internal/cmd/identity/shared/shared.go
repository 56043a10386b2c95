// Package shared holds what the `mtrace identity` commands share: the
// organisation's Fabric CA as a set of functions (so tests can stand in
// for it), and the checks of the profile's own certificate.
package shared

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/attrmgr"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

// CA is what the identity commands ask of an organisation's Fabric CA.
// Open fills every function from the profile; tests set only those they
// need.
type CA struct {
	// Name is the CA's name and URL, for messages.
	Name string

	Register     func(ctx context.Context, r fabca.Registration) (secret string, err error)
	Enroll       func(ctx context.Context, id, secret string, opt fabca.EnrollOptions) (*fabca.Enrolment, error)
	Revoke       func(ctx context.Context, name, reason string) ([]fabca.RevokedCert, error)
	GenCRL       func(ctx context.Context) ([]byte, error)
	Identities   func(ctx context.Context) ([]fabca.IdentityInfo, error)
	Certificates func(ctx context.Context, id string) ([]*x509.Certificate, error)
}

// Opener connects to the CA of a profile.
type Opener func(p *config.Profile) (*CA, error)

// Open connects to the CA named in the profile's ca section. The
// registrar's calls are signed with the profile's own certificate and key;
// Enroll needs neither.
func Open(p *config.Profile) (*CA, error) {
	if err := p.CheckCA(); err != nil {
		return nil, err
	}
	var root []byte
	if p.CA.TLSRootCert != "" {
		var err error
		if root, err = os.ReadFile(p.CA.TLSRootCert); err != nil {
			return nil, fmt.Errorf("profile %s: CA TLS root certificate: %w", p.Name, err)
		}
	}
	c, err := fabca.New(p.CA.URL, p.CA.Name, root)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	registrar := func() (fabca.Identity, error) {
		id, err := fabca.LoadIdentity(p.Cert, p.Key)
		if err != nil {
			return fabca.Identity{}, fmt.Errorf("profile %s: %w", p.Name, err)
		}
		return id, nil
	}
	name := p.CA.URL
	if p.CA.Name != "" {
		name = p.CA.Name + " at " + p.CA.URL
	}
	return &CA{
		Name: name,
		Register: func(ctx context.Context, r fabca.Registration) (string, error) {
			id, err := registrar()
			if err != nil {
				return "", err
			}
			return c.Register(ctx, id, r)
		},
		Enroll: c.Enroll,
		Revoke: func(ctx context.Context, name, reason string) ([]fabca.RevokedCert, error) {
			id, err := registrar()
			if err != nil {
				return nil, err
			}
			return c.Revoke(ctx, id, name, reason)
		},
		GenCRL: func(ctx context.Context) ([]byte, error) {
			id, err := registrar()
			if err != nil {
				return nil, err
			}
			return c.GenCRL(ctx, id)
		},
		Identities: func(ctx context.Context) ([]fabca.IdentityInfo, error) {
			id, err := registrar()
			if err != nil {
				return nil, err
			}
			return c.Identities(ctx, id)
		},
		Certificates: func(ctx context.Context, name string) ([]*x509.Certificate, error) {
			id, err := registrar()
			if err != nil {
				return nil, err
			}
			return c.Certificates(ctx, id, name)
		},
	}, nil
}

// Role reads the mtrace.role attribute of a certificate; "" when it has
// none.
func Role(cert *x509.Certificate) (model.PersonRole, error) {
	attrs, err := attrmgr.New().GetAttributesFromCert(cert)
	if err != nil {
		return "", fmt.Errorf("certificate %s: %w", cert.Subject.CommonName, err)
	}
	v, _, err := attrs.Value(model.RoleAttribute)
	if err != nil {
		return "", fmt.Errorf("certificate %s: %w", cert.Subject.CommonName, err)
	}
	return model.PersonRole(v), nil
}

// RequireAdmin checks that the profile acts as an organisation admin: its
// certificate carries mtrace.role admin and the admin OU (Fabric type
// admin), which an organisation's channel configuration and its CA's
// registrar rights both need. what names the action for the message.
func RequireAdmin(p *config.Profile, what string) error {
	raw, err := os.ReadFile(p.Cert)
	if err != nil {
		return fmt.Errorf("profile %s: certificate %s: %w", p.Name, p.Cert, err)
	}
	cert, err := fabca.ParseCert(raw)
	if err != nil {
		return fmt.Errorf("profile %s: certificate %s: %w", p.Name, p.Cert, err)
	}
	role, err := Role(cert)
	if err != nil {
		return fmt.Errorf("profile %s: %w", p.Name, err)
	}
	ous := cert.Subject.OrganizationalUnit
	if role == model.PersonAdmin && slices.Contains(ous, "admin") {
		return nil
	}
	ou := strings.Join(ous, ", ")
	if ou == "" {
		ou = "none"
	}
	shown := string(role)
	if shown == "" {
		shown = "none"
	}
	return fmt.Errorf("profile %s is not an organisation admin (%s has mtrace.role %s, OU %s): %s needs mtrace.role admin and OU admin; use your organisation's admin profile, such as %s-admin",
		p.Name, cert.Subject.CommonName, shown, ou, what, Node(p.Name, nil))
}

// Node is the network node (organisation) a profile belongs to: profiles
// are named <node> or <node>-<person>. names are the profile names of the
// config file; the shortest of them that the profile's name extends (with
// a dash) is the node, so node names may contain dashes. Otherwise it is
// the name up to its first dash.
func Node(profile string, names []string) string {
	best := ""
	for _, n := range names {
		if n != "" && strings.HasPrefix(profile, n+"-") && (best == "" || len(n) < len(best)) {
			best = n
		}
	}
	if best != "" {
		return best
	}
	node, _, _ := strings.Cut(profile, "-")
	return node
}

// FabricType is the Fabric CA identity type for a person role: admins are
// of type admin (certificate OU admin), everyone else is a client.
func FabricType(r model.PersonRole) string {
	if r == model.PersonAdmin {
		return "admin"
	}
	return "client"
}

// ParseRole reads a --role value.
func ParseRole(s string) (model.PersonRole, error) {
	r := model.PersonRole(strings.ToLower(strings.TrimSpace(s)))
	if !r.Known() {
		return "", fmt.Errorf("--role: must be %s, got %q", strings.Join(model.PersonRoleNames(), ", "), s)
	}
	return r, nil
}

// CheckName checks an identity name: 1 to 64 letters, digits and . _ @ -.
func CheckName(name string) (string, error) {
	if name == "" || len(name) > 64 {
		return "", fmt.Errorf("identity name: must be 1 to 64 characters, got %d", len(name))
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)
		if !ok {
			return "", fmt.Errorf("identity name %q: only letters, digits and . _ @ - are allowed", name)
		}
	}
	return name, nil
}
