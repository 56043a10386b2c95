package fabca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
)

// Identity is a registrar's credentials: its enrolment certificate and
// private key.
type Identity struct {
	Cert    *x509.Certificate
	CertPEM []byte
	Key     *ecdsa.PrivateKey
}

// LoadIdentity reads a certificate (PEM) and its ECDSA private key (PEM,
// PKCS #8 as the MSP keystore holds it, or SEC 1).
func LoadIdentity(certFile, keyFile string) (Identity, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return Identity{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return Identity{}, err
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("%s: %w", certFile, err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("%s: %w", keyFile, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return Identity{}, fmt.Errorf("%s is not the key of %s", keyFile, certFile)
	}
	return Identity{Cert: cert, CertPEM: certPEM, Key: key}, nil
}

// ParseCert decodes the first certificate of a PEM text.
func ParseCert(certPEM []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate found")
	}
	return x509.ParseCertificate(b.Bytes)
}

// ParseKey decodes an ECDSA private key from PEM (PKCS #8 or SEC 1).
func ParseKey(keyPEM []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, errors.New("no PEM private key found")
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, not ECDSA", k)
	}
	return ek, nil
}

// KeyPEM encodes a private key as PKCS #8 PEM, the form Fabric's MSP
// keystore reads.
func KeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// tokenPayload is what a token signs: the method, then the base64 of the
// request URI (path and query), of the body and of the certificate PEM,
// joined by dots.
func tokenPayload(method, uri string, body []byte, b64cert string) []byte {
	enc := base64.StdEncoding.EncodeToString
	return []byte(method + "." + enc([]byte(uri)) + "." + enc(body) + "." + b64cert)
}

// token is the authorisation header for a request with body, signed by id:
// base64(certificate PEM) "." base64(DER ECDSA signature over the SHA-256
// of the payload). The signature's S is the lower of the two valid values,
// as Fabric's crypto provider requires.
func (id Identity) token(method, uri string, body []byte) (string, error) {
	if id.Key == nil || len(id.CertPEM) == 0 {
		return "", errors.New("the registrar identity has no certificate or key")
	}
	b64cert := base64.StdEncoding.EncodeToString(id.CertPEM)
	digest := sha256.Sum256(tokenPayload(method, uri, body, b64cert))
	r, s, err := ecdsa.Sign(rand.Reader, id.Key, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing the token: %w", err)
	}
	s = lowS(id.Key.Curve, s)
	sig, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		return "", err
	}
	return b64cert + "." + base64.StdEncoding.EncodeToString(sig), nil
}

// lowS returns s or n-s, whichever is at most half the curve order n.
func lowS(c elliptic.Curve, s *big.Int) *big.Int {
	n := c.Params().N
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		return new(big.Int).Sub(n, s)
	}
	return s
}

// auth signs a request as id: the token goes into the authorization
// header, as the server expects it.
func (id Identity) auth(req *http.Request, body []byte) error {
	tok, err := id.token(req.Method, req.URL.RequestURI(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", tok)
	return nil
}

// b64 decodes a base64 field of a response.
func b64(s, what string) ([]byte, error) {
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("fabric ca: %s is not base64: %w", what, err)
	}
	return out, nil
}
