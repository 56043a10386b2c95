package fabca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// EnrollOptions shape the certificate: the CA's signing profile (such as
// "tls"), the host names and IP addresses it names, and the attributes to
// put into it.
type EnrollOptions struct {
	Profile string
	Hosts   []string
	Attrs   []AttrRequest
}

// AttrRequest asks for one of the identity's registered attributes in the
// certificate; without Optional, the enrolment fails when it is missing.
type AttrRequest struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional,omitempty"`
}

// Enrolment is what an enrolment gives: a new private key, the
// certificate the CA issued for it and the CA's chain (PEM).
type Enrolment struct {
	Key      *ecdsa.PrivateKey
	CertPEM  []byte
	ChainPEM []byte
}

// Cert parses the enrolment's certificate.
func (e *Enrolment) Cert() (*x509.Certificate, error) { return ParseCert(e.CertPEM) }

// Identity is the enrolment as a registrar's credentials.
func (e *Enrolment) Identity() (Identity, error) {
	c, err := e.Cert()
	if err != nil {
		return Identity{}, err
	}
	return Identity{Cert: c, CertPEM: e.CertPEM, Key: e.Key}, nil
}

// Enroll makes a P-256 key, sends a certificate request for it with the
// identity's enrolment ID and secret, and returns the key with the issued
// certificate. The CA insists that the request's common name is the
// enrolment ID.
func (c *Client) Enroll(ctx context.Context, id, secret string, opt EnrollOptions) (*Enrolment, error) {
	if id == "" || secret == "" {
		return nil, errors.New("fabric ca enroll: the enrolment ID and secret must not be empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: id}}
	for _, h := range opt.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("fabric ca enroll %s: certificate request: %w", id, err)
	}
	body := struct {
		Hosts   []string      `json:"hosts,omitempty"`
		Request string        `json:"certificate_request"`
		Profile string        `json:"profile,omitempty"`
		CAName  string        `json:"caname,omitempty"`
		Attrs   []AttrRequest `json:"attr_reqs,omitempty"`
	}{
		Hosts:   opt.Hosts,
		Request: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		Profile: opt.Profile,
		CAName:  c.CAName,
		Attrs:   opt.Attrs,
	}
	var res struct {
		Cert       string
		ServerInfo struct{ CAChain string }
	}
	basic := func(req *http.Request, _ []byte) error {
		req.SetBasicAuth(id, secret)
		return nil
	}
	if err := c.call(ctx, http.MethodPost, "enroll", nil, body, basic, &res); err != nil {
		return nil, err
	}
	e := &Enrolment{Key: key}
	if e.CertPEM, err = b64(res.Cert, "certificate"); err != nil {
		return nil, err
	}
	if e.ChainPEM, err = b64(res.ServerInfo.CAChain, "CA chain"); err != nil {
		return nil, err
	}
	cert, err := e.Cert()
	if err != nil {
		return nil, fmt.Errorf("fabric ca enroll %s: %w", id, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("fabric ca enroll %s: the issued certificate is not for the requested key", id)
	}
	return e, nil
}
