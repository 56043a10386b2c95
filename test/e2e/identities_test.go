//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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
	c, err := fabca.ParseCert(mustRead(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// caClient is a client of one CA of o's server.
func caClient(t *testing.T, o pki.Org, name string) *fabca.Client {
	t.Helper()
	c, err := fabca.New(o.CA.URL(), name, mustRead(t, o.CACert()))
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
		orderers := 0
		for _, h := range o.Holders {
			checkHolder(t, h, roots, tlsRoots)
			if h.Type == "orderer" {
				orderers++
			}
		}
		// Every member runs its own orderer, issued by its own CA.
		if orderers != 1 {
			t.Errorf("%s: %d orderer identities, want its own one", o.CA.Org, orderers)
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
	if got := attrs.Attrs["mtrace.role"]; got != string(h.Role) {
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

// peerAdminCall runs `peer lifecycle chaincode queryinstalled`, an
// operation the peer authorises against its own (local) MSP's admins, on
// the recycler's peer with the local MSP in msp.
func peerAdminCall(t *testing.T, o pki.Org, msp string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	peer := o.Holders[0]
	cmd := exec.CommandContext(ctx, filepath.Join(env.Bin, "peer"), "lifecycle", "chaincode", "queryinstalled")
	cmd.Env = append(os.Environ(), "FABRIC_CFG_PATH="+filepath.Join(env.Home, "config"), "FABRIC_LOGGING_SPEC=warning",
		"CORE_PEER_TLS_ENABLED=true", "CORE_PEER_LOCALMSPID="+o.CA.MSP, "CORE_PEER_MSPCONFIGPATH="+msp,
		"CORE_PEER_ADDRESS="+env.Profiles[o.CA.Org].Endpoint, "CORE_PEER_TLS_ROOTCERT_FILE="+filepath.Join(peer.Dir, "tls", "ca.crt"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestRestartedPeerEnforcesItsLocalCRL: an admin identity the recycler's
// CA issued may run a peer admin operation; once the CA has revoked it,
// the running peer (which read its MSP at start) still lets it, and after
// the peer restarts with the CRL that `network.sh up` copied into its
// local MSP, the peer refuses it, while the organisation's Admin still
// works. (The channel's copy of the CRL is a config update; this is the
// local MSP's.)
func TestRestartedPeerEnforcesItsLocalCRL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rec := networkOrgs(t)[1]
	if rec.CA.Org != "recycler" {
		t.Fatalf("organisation 1 is %s, want recycler", rec.CA.Org)
	}
	ca, admin := caClient(t, rec, rec.CA.Name), adminOf(t, rec)
	name := "crl-" + run
	secret, err := ca.Register(ctx, admin, fabca.Registration{Name: name, Type: "admin",
		Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: "admin", ECert: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ca.Enroll(ctx, name, secret, fabca.EnrollOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The identity's own MSP folder: the organisation Admin's, with this
	// certificate and key and without a CRL (so that the CLI itself signs).
	msp := t.TempDir()
	adminMSP := filepath.Join(rec.Admin().Dir, "msp")
	for _, sub := range []string{"cacerts", "tlscacerts"} {
		copyDir(t, filepath.Join(adminMSP, sub), filepath.Join(msp, sub))
	}
	key, err := fabca.KeyPEM(e.Key)
	if err != nil {
		t.Fatal(err)
	}
	for path, raw := range map[string][]byte{"config.yaml": mustRead(t, filepath.Join(adminMSP, "config.yaml")),
		"signcerts/cert.pem": e.CertPEM, "keystore/priv_sk": key} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(msp, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(msp, path), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := peerAdminCall(t, rec, msp); err != nil {
		t.Fatalf("a new admin identity of the recycler is refused before any revocation: %v\n%s", err, out)
	}

	revoked, err := ca.Revoke(ctx, admin, name, "keycompromise")
	if err != nil || len(revoked) != 1 {
		t.Fatalf("revoke %s: %v %v", name, revoked, err)
	}
	if out, err := peerAdminCall(t, rec, msp); err != nil {
		t.Fatalf("the running peer refused the identity before it read the CRL: %v\n%s", err, out)
	}

	start := time.Now()
	if out, err := env.Network("stop", "recycler"); err != nil {
		t.Fatalf("stop recycler: %v\n%s", err, out)
	}
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	t.Logf("the recycler's peer restarted with the CA's current CRL in %s", time.Since(start).Round(time.Millisecond))
	crl := mustRead(t, filepath.Join(rec.Holders[0].Dir, "msp", pki.CRLFile))
	b, _ := pem.Decode(crl)
	list, err := x509.ParseRevocationList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := e.Cert()
	if !slices.ContainsFunc(list.RevokedCertificateEntries, func(r x509.RevocationListEntry) bool {
		return r.SerialNumber.Cmp(cert.SerialNumber) == 0
	}) {
		t.Fatalf("the peer's local CRL does not list the revoked certificate %x", cert.SerialNumber)
	}
	out, err := peerAdminCall(t, rec, msp)
	if err == nil {
		t.Fatalf("the restarted peer still lets the revoked identity run an admin operation:\n%s", out)
	}
	t.Logf("the revoked identity after the restart: %s", strings.TrimSpace(out))
	// The peer says why in its log: its local MSP holds the CRL.
	why := "The certificate has been revoked (certificate subject=CN=" + name + ","
	if log := mustRead(t, filepath.Join(env.Home, "logs", "recycler.log")); !bytes.Contains(log, []byte(why)) {
		t.Errorf("the recycler peer's log does not say %q", why)
	}
	if out, err := peerAdminCall(t, rec, filepath.Join(rec.Admin().Dir, "msp")); err != nil {
		t.Fatalf("the recycler's Admin is refused after the restart: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(to, e.Name()), mustRead(t, filepath.Join(from, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
