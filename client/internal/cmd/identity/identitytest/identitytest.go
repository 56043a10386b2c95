// Package identitytest builds what the identity commands' tests need: a
// config file whose profiles carry real certificates with the attributes
// Fabric CA puts into them, and a CA made of functions.
package identitytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/fabca"
)

// attrOID is the certificate extension of Fabric CA's attributes.
var attrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca-recycler"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der := must(t, func() ([]byte, error) { return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key) })
	return &CA{Cert: must(t, func() (*x509.Certificate, error) { return x509.ParseCertificate(der) }), Key: key}
}

// Issue makes a certificate for cn as Fabric CA enrols one: OU the Fabric
// type, and the attribute extension with hf.EnrollmentID, hf.Type and
// attrs (mtrace.role, for instance). A nil attrs leaves the extension out.
// It answers the enrolment (key and PEM certificate).
func (ca *CA) Issue(t testing.TB, cn, fabricType string, serial int64, notAfter time.Time, attrs map[string]string) *fabca.Enrolment {
	t.Helper()
	key := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial),
		Subject:   pkix.Name{CommonName: cn, OrganizationalUnit: []string{fabricType}},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature}
	if attrs != nil {
		all := map[string]string{"hf.EnrollmentID": cn, "hf.Type": fabricType, "hf.Affiliation": ""}
		for k, v := range attrs {
			all[k] = v
		}
		raw := must(t, func() ([]byte, error) { return json.Marshal(map[string]any{"attrs": all}) })
		tmpl.ExtraExtensions = []pkix.Extension{{Id: attrOID, Value: raw}}
	}
	der := must(t, func() ([]byte, error) {
		return x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	})
	return &fabca.Enrolment{
		Key:      key,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		ChainPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}),
	}
}

// CRL is the CA's revocation list of serials, PEM.
func (ca *CA) CRL(t testing.TB, serials ...int64) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: time.Now()})
	}
	der := must(t, func() ([]byte, error) { return x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key) })
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// Config is a config file with the profiles recycler-admin (mtrace.role
// admin, type admin), recycler (operator) and cryptogen (no attributes),
// each with ca and orderer sections.
type Config struct {
	Path string
	CA   *CA
}

// NewConfig writes the config file into a temporary folder.
func NewConfig(t testing.TB) *Config {
	t.Helper()
	dir := t.TempDir()
	ca := NewCA(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("tls.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
	body := "defaultProfile: recycler\nprofiles:\n"
	for _, p := range []struct {
		name, cn, typ string
		attrs         map[string]string
	}{
		{"recycler-admin", "Admin", "admin", map[string]string{"mtrace.role": "admin"}},
		{"recycler", "User1", "client", map[string]string{"mtrace.role": "operator"}},
		{"cryptogen", "Admin@recycler.mtrace.local", "admin", nil},
	} {
		e := ca.Issue(t, p.cn, p.typ, 100, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), p.attrs)
		keyPEM := must(t, func() ([]byte, error) { return fabca.KeyPEM(e.Key) })
		write(p.name+"/cert.pem", e.CertPEM)
		write(p.name+"/key.pem", keyPEM)
		// The TLS client pair the orderer section names; these tests never
		// dial an orderer, so the enrolment pair stands in for it.
		write(p.name+"/tls/client.crt", e.CertPEM)
		write(p.name+"/tls/client.key", keyPEM)
		body += "  " + p.name + ":\n    endpoint: 127.0.0.1:29200\n    tlsRootCert: tls.pem\n    serverName: peer0.recycler.mtrace.local\n" +
			"    mspId: RecyclerMSP\n    cert: " + p.name + "/cert.pem\n    key: " + p.name + "/key.pem\n" +
			"    ca:\n      url: https://127.0.0.1:29250\n      name: ca-recycler\n      tlsRootCert: tls.pem\n" +
			"    orderer:\n      endpoint: 127.0.0.1:29050\n      tlsRootCert: tls.pem\n      serverName: orderer1.orderer.mtrace.local\n" +
			"      tlsCert: " + p.name + "/tls/client.crt\n      tlsKey: " + p.name + "/tls/client.key\n"
	}
	return &Config{Path: write("config.yaml", []byte(body)), CA: ca}
}

// Profile resolves one of the config's profiles.
func (c *Config) Profile(t testing.TB, name string) *config.Profile {
	t.Helper()
	f, err := config.Load(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Profile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func must[T any](t testing.TB, f func() (T, error)) T {
	t.Helper()
	v, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Env is cmdtest's Env whose config file is c's.
func (c *Config) Env(t *testing.T) *cmdtest.Env {
	e := cmdtest.New(t)
	e.Config = c.Path
	e.F.Getenv = func(k string) string {
		if k == config.EnvConfig {
			return c.Path
		}
		return ""
	}
	return e
}
