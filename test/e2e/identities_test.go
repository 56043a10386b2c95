//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/network/pki"
	"github.com/mtrace/mtrace/network/topology"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// attrsOID is the certificate extension in which Fabric CA puts an
// enrolment certificate's attributes.
var attrsOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// networkOrgs are the running network's organisations and their holders,
// as network/pki enrolled them.
func networkOrgs(t *testing.T) []pki.Org {
	t.Helper()
	top, err := topology.Load(filepath.Join(env.Home, "consortium.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return pki.Orgs(top, testnet.BasePort(), filepath.Join(env.Home, "crypto"))
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fabca.ParseCert(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// caClient is a client of one CA of o's server.
func caClient(t *testing.T, o pki.Org, name string) *fabca.Client {
	t.Helper()
	root, err := os.ReadFile(o.CACert())
	if err != nil {
		t.Fatal(err)
	}
	c, err := fabca.New(o.CA.URL(), name, root)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// adminOf is the organisation Admin's identity, a registrar at its CA.
func adminOf(t *testing.T, o pki.Org) fabca.Identity {
	t.Helper()
	a := o.Admin()
	id, err := fabca.LoadIdentity(filepath.Join(a.Dir, "msp", "signcerts", a.File+"-cert.pem"),
		filepath.Join(a.Dir, "msp", "keystore", "priv_sk"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestIdentitiesComeFromTheCAs: every organisation's CA server answers
// with the certificates its MSP folders hold; every signing certificate of
// a node, Admin, User1 or person chains to the organisation's enrolment
// CA with its Fabric type as OU and its mtrace.role attribute, every TLS
// certificate to the TLS CA (a node's names its host and 127.0.0.1), and
// every MSP holds the CA's signed CRL.
func TestIdentitiesComeFromTheCAs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range networkOrgs(t) {
		caCert, tlsCert := readCert(t, o.CACert()), readCert(t, o.TLSCACert())
		if caCert.Equal(tlsCert) {
			t.Errorf("%s: the enrolment and TLS CAs are one certificate", o.CA.Org)
		}
		for _, c := range []struct {
			name string
			want *x509.Certificate
		}{{o.CA.Name, caCert}, {o.CA.TLSName, tlsCert}} {
			info, err := caClient(t, o, c.name).Info(ctx)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got, err := fabca.ParseCert(info.CAChain)
			if err != nil || !got.Equal(c.want) {
				t.Errorf("%s serves a CA certificate other than the MSP's (%v)", c.name, err)
			}
		}
		roots, tlsRoots := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(caCert)
		tlsRoots.AddCert(tlsCert)
		for _, h := range o.Holders {
			checkHolder(t, h, roots, tlsRoots)
		}
		filepath.WalkDir(o.Dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() != "msp" {
				return err
			}
			raw, err := os.ReadFile(filepath.Join(path, pki.CRLFile))
			if err != nil {
				t.Errorf("%s has no CRL: %v", path, err)
				return filepath.SkipDir
			}
			b, _ := pem.Decode(raw)
			crl, err := x509.ParseRevocationList(b.Bytes)
			if err != nil || crl.CheckSignatureFrom(caCert) != nil {
				t.Errorf("%s: the CRL is not one signed by %s (%v)", path, o.CA.Name, err)
			}
			return filepath.SkipDir
		})
	}
}

func checkHolder(t *testing.T, h pki.Holder, roots, tlsRoots *x509.CertPool) {
	t.Helper()
	sign := readCert(t, filepath.Join(h.Dir, "msp", "signcerts", h.File+"-cert.pem"))
	if _, err := sign.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("%s: the signing certificate does not chain to the organisation's CA: %v", h.ID, err)
	}
	if sign.Subject.CommonName != h.ID || !slices.Contains(sign.Subject.OrganizationalUnit, h.Type) {
		t.Errorf("%s: subject %s, want CN %s and OU %s", h.ID, sign.Subject, h.ID, h.Type)
	}
	var attrs struct {
		Attrs map[string]string `json:"attrs"`
	}
	for _, x := range sign.Extensions {
		if x.Id.Equal(attrsOID) {
			if err := json.Unmarshal(x.Value, &attrs); err != nil {
				t.Errorf("%s: attributes: %v", h.ID, err)
			}
		}
	}
	if got := attrs.Attrs["mtrace.role"]; got != h.Role {
		t.Errorf("%s: mtrace.role %q, want %q", h.ID, got, h.Role)
	}
	if h.Role != "" && attrs.Attrs["hf.EnrollmentID"] != h.ID {
		t.Errorf("%s: hf.EnrollmentID %q", h.ID, attrs.Attrs["hf.EnrollmentID"])
	}
	tlsFile, usage := "client.crt", x509.ExtKeyUsageClientAuth
	if h.Node() {
		tlsFile, usage = "server.crt", x509.ExtKeyUsageServerAuth
	}
	tc := readCert(t, filepath.Join(h.Dir, "tls", tlsFile))
	opts := x509.VerifyOptions{Roots: tlsRoots, KeyUsages: []x509.ExtKeyUsage{usage}}
	if h.Node() {
		opts.DNSName = "127.0.0.1"
	}
	if _, err := tc.Verify(opts); err != nil {
		t.Errorf("%s: the TLS certificate does not chain to the TLS CA for %v: %v", h.ID, usage, err)
	}
	if h.Node() && !slices.Contains(tc.DNSNames, h.ID) {
		t.Errorf("%s: the TLS certificate names %v, not its host", h.ID, tc.DNSNames)
	}
}

// caRegistry lists the identities of o's enrolment CA, as its Admin.
func caRegistry(t *testing.T, o pki.Org) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids, err := caClient(t, o, o.CA.Name).Identities(ctx, adminOf(t, o))
	if err != nil {
		t.Fatalf("identities of %s: %v", o.CA.Name, err)
	}
	var names []string
	for _, id := range ids {
		names = append(names, id.ID)
	}
	slices.Sort(names)
	return names
}
