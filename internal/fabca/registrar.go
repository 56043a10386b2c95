package fabca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Registration is a new identity for the CA's registry. Type is the
// Fabric identity type (client, peer, orderer, admin), which the CA puts
// into the certificate as its OU. An empty Secret lets the CA choose one.
// MaxEnrollments 0 takes the CA's default; -1 is unlimited.
type Registration struct {
	Name           string      `json:"id"`
	Secret         string      `json:"secret,omitempty"`
	Type           string      `json:"type"`
	Affiliation    string      `json:"affiliation"`
	MaxEnrollments int         `json:"max_enrollments,omitempty"`
	Attrs          []Attribute `json:"attrs,omitempty"`
}

// Attribute is a registered attribute; with ECert, enrolments put it into
// the certificate by default.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	ECert bool   `json:"ecert,omitempty"`
}

// IdentityInfo is one identity of the CA's registry.
type IdentityInfo struct {
	ID             string      `json:"id"`
	Type           string      `json:"type"`
	Affiliation    string      `json:"affiliation"`
	Attrs          []Attribute `json:"attrs"`
	MaxEnrollments int         `json:"max_enrollments"`
}

// RevokedCert names one certificate a revocation covered: its serial
// number and the key identifier of the CA that issued it (both hex).
type RevokedCert struct {
	Serial string
	AKI    string
}

// Register adds r to the CA's registry as registrar, and returns the
// enrolment secret (r.Secret, or the one the CA chose).
func (c *Client) Register(ctx context.Context, registrar Identity, r Registration) (string, error) {
	if r.Name == "" {
		return "", errors.New("fabric ca register: the identity needs a name")
	}
	body := struct {
		Registration
		CAName string `json:"caname,omitempty"`
	}{r, c.CAName}
	var res struct {
		Secret string `json:"secret"`
	}
	if err := c.call(ctx, http.MethodPost, "register", nil, body, registrar.auth, &res); err != nil {
		return "", err
	}
	return res.Secret, nil
}

// Revoke revokes every certificate of the identity name and the identity
// itself, so that it cannot enrol again. reason is one of RFC 5280's reason
// names in lower case (keycompromise, superseded, privilegewithdrawn, ...);
// the CA records any other text as unspecified.
func (c *Client) Revoke(ctx context.Context, registrar Identity, name, reason string) ([]RevokedCert, error) {
	if name == "" {
		return nil, errors.New("fabric ca revoke: name the identity to revoke")
	}
	body := struct {
		Name   string `json:"id"`
		Reason string `json:"reason,omitempty"`
		CAName string `json:"caname,omitempty"`
	}{name, reason, c.CAName}
	var res struct{ RevokedCerts []RevokedCert }
	if err := c.call(ctx, http.MethodPost, "revoke", nil, body, registrar.auth, &res); err != nil {
		return nil, err
	}
	return res.RevokedCerts, nil
}

// GenCRL returns the CA's current certificate revocation list (PEM),
// signed by the CA. The registrar needs hf.GenCRL.
func (c *Client) GenCRL(ctx context.Context, registrar Identity) ([]byte, error) {
	body := struct {
		CAName string `json:"caname,omitempty"`
	}{c.CAName}
	var res struct{ CRL string }
	if err := c.call(ctx, http.MethodPost, "gencrl", nil, body, registrar.auth, &res); err != nil {
		return nil, err
	}
	return b64(res.CRL, "CRL")
}

// Identities lists the identities the registrar may see.
func (c *Client) Identities(ctx context.Context, registrar Identity) ([]IdentityInfo, error) {
	var res struct {
		Identities []IdentityInfo `json:"identities"`
	}
	if err := c.call(ctx, http.MethodGet, "identities", c.query(nil), nil, registrar.auth, &res); err != nil {
		return nil, err
	}
	return res.Identities, nil
}

// Certificates lists the certificates the CA issued to the identity id
// (all identities the registrar may see, when id is empty), revoked and
// expired ones included.
func (c *Client) Certificates(ctx context.Context, registrar Identity, id string) ([]*x509.Certificate, error) {
	q := url.Values{}
	if id != "" {
		q.Set("id", id)
	}
	var res struct {
		Certs []struct{ PEM string } `json:"certs"`
	}
	if err := c.call(ctx, http.MethodGet, "certificates", c.query(q), nil, registrar.auth, &res); err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, 0, len(res.Certs))
	for i, p := range res.Certs {
		cert, err := ParseCert([]byte(p.PEM))
		if err != nil {
			return nil, fmt.Errorf("fabric ca certificates: entry %d: %w", i, err)
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

// query adds the CA name to a GET request's query, where the server looks
// for it.
func (c *Client) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if c.CAName != "" {
		q.Set("ca", c.CAName)
	}
	return q
}
