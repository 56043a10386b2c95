package fabca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

// fakeCA is a Fabric CA stand-in over TLS that checks what the real one
// checks: basic authentication and the CN of an enrolment's request, and
// the signature of every registrar token over method, URI, body and
// certificate (with a low S), and the token certificate's issuer.
type fakeCA struct {
	t      *testing.T
	name   string
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	pem    []byte
	mu     sync.Mutex
	users  map[string]*fakeUser
	issued []*x509.Certificate
	serial int64
	// lastProfile is the profile of the last enrolment.
	lastProfile string
}

type fakeUser struct {
	secret, typ string
	attrs       []Attribute
	revoked     bool
}

func newFakeCA(t *testing.T, name string) (*fakeCA, *httptest.Server) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca := &fakeCA{t: t, name: name, key: key, cert: cert, serial: 100,
		pem:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		users: map[string]*fakeUser{"admin": {secret: "adminpw", typ: "client"}}}
	srv := testport.NewTLSServer(t, http.HandlerFunc(ca.serve))
	t.Cleanup(srv.Close)
	return ca, srv
}

// client is a fabca client of srv that trusts the test server's TLS cert.
func client(t *testing.T, srv *httptest.Server, caName string) *Client {
	tlsPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := New(srv.URL, caName, tlsPEM)
	require.NoError(t, err)
	return c
}

func (ca *fakeCA) reply(w http.ResponseWriter, status int, result any, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	out := map[string]any{"result": result, "errors": []any{}, "messages": []any{}, "success": code == 0}
	if code != 0 {
		out["errors"] = []any{map[string]any{"code": code, "message": msg}}
		out["result"] = ""
	}
	_ = json.NewEncoder(w).Encode(out)
}

// verifyToken checks the authorization header as the Fabric CA does, and
// returns the caller's enrolment ID.
func (ca *fakeCA) verifyToken(r *http.Request, body []byte) (string, error) {
	tok := r.Header.Get("authorization")
	b64cert, b64sig, ok := strings.Cut(tok, ".")
	if !ok {
		return "", errors.New("malformed token")
	}
	certPEM, err := base64.StdEncoding.DecodeString(b64cert)
	if err != nil {
		return "", err
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		return "", err
	}
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		return "", errors.New("token certificate not issued by this CA")
	}
	der, err := base64.StdEncoding.DecodeString(b64sig)
	if err != nil {
		return "", err
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return "", err
	}
	if sig.S.Cmp(new(big.Int).Rsh(elliptic.P256().Params().N, 1)) > 0 {
		return "", errors.New("invalid S: must be smaller than half the order")
	}
	enc := base64.StdEncoding.EncodeToString
	payload := r.Method + "." + enc([]byte(r.URL.RequestURI())) + "." + enc(body) + "." + b64cert
	digest := sha256.Sum256([]byte(payload))
	if !ecdsa.Verify(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig.R, sig.S) {
		return "", errors.New("token signature validation failed")
	}
	return cert.Subject.CommonName, nil
}

func (ca *fakeCA) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	var req struct {
		CAName  string `json:"caname"`
		ID      string `json:"id"`
		Reason  string `json:"reason"`
		Request string `json:"certificate_request"`
		Profile string `json:"profile"`
		Hosts   []string
		Registration
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			ca.reply(w, 400, nil, 1, "bad body")
			return
		}
	} else {
		req.CAName = r.URL.Query().Get("ca")
	}
	if req.CAName != ca.name {
		ca.reply(w, 404, nil, 19, "CA '"+req.CAName+"' does not exist")
		return
	}
	ep := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	switch ep {
	case "cainfo":
		ca.reply(w, 200, map[string]any{"CAName": ca.name, "CAChain": base64.StdEncoding.EncodeToString(ca.pem), "Version": "1.5.15"}, 0, "")
		return
	case "enroll":
		ca.enroll(w, r, req.Request, req.Profile, req.Hosts)
		return
	}
	caller, err := ca.verifyToken(r, body)
	if err != nil {
		ca.reply(w, 401, nil, 20, "Authorization failure: "+err.Error())
		return
	}
	if u := ca.users[caller]; u == nil || u.revoked {
		ca.reply(w, 401, nil, 20, "caller is unknown or revoked")
		return
	}
	switch ep {
	case "register":
		if _, dup := ca.users[req.ID]; dup {
			ca.reply(w, 409, nil, 74, "Identity '"+req.ID+"' is already registered")
			return
		}
		if req.Secret == "" {
			req.Secret = "chosen-by-ca"
		}
		ca.users[req.ID] = &fakeUser{secret: req.Secret, typ: req.Type, attrs: req.Attrs}
		ca.reply(w, 201, map[string]string{"secret": req.Secret}, 0, "")
	case "revoke":
		u := ca.users[req.ID]
		if u == nil {
			ca.reply(w, 404, nil, 63, "identity not found")
			return
		}
		u.revoked = true
		var revoked []map[string]string
		for _, c := range ca.issued {
			if c.Subject.CommonName == req.ID {
				revoked = append(revoked, map[string]string{"Serial": c.SerialNumber.Text(16), "AKI": "010203"})
			}
		}
		ca.reply(w, 200, map[string]any{"RevokedCerts": revoked}, 0, "")
	case "gencrl":
		var entries []x509.RevocationListEntry
		for _, c := range ca.issued {
			if ca.users[c.Subject.CommonName].revoked {
				entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
			}
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), RevokedCertificateEntries: entries,
			ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, ca.cert, ca.key)
		require.NoError(ca.t, err)
		crl := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
		ca.reply(w, 200, map[string]string{"CRL": base64.StdEncoding.EncodeToString(crl)}, 0, "")
	case "identities":
		var ids []IdentityInfo
		for _, n := range []string{"admin", "alice", "bob"} {
			if u := ca.users[n]; u != nil {
				ids = append(ids, IdentityInfo{ID: n, Type: u.typ, Attrs: u.attrs, MaxEnrollments: -1})
			}
		}
		ca.reply(w, 200, map[string]any{"identities": ids, "caname": ca.name}, 0, "")
	case "certificates":
		var certs []map[string]string
		for _, c := range ca.issued {
			if id := r.URL.Query().Get("id"); id == "" || id == c.Subject.CommonName {
				certs = append(certs, map[string]string{"PEM": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))})
			}
		}
		ca.reply(w, 200, map[string]any{"certs": certs, "caname": ca.name}, 0, "")
	default:
		ca.reply(w, 404, nil, 1, "no such endpoint")
	}
}

func (ca *fakeCA) enroll(w http.ResponseWriter, r *http.Request, csrPEM, profile string, hosts []string) {
	id, secret, ok := r.BasicAuth()
	u := ca.users[id]
	if !ok || u == nil || u.secret != secret || u.revoked {
		ca.reply(w, 401, nil, 20, "Authentication failure")
		return
	}
	b, _ := pem.Decode([]byte(csrPEM))
	require.NotNil(ca.t, b)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	require.NoError(ca.t, err)
	require.NoError(ca.t, csr.CheckSignature())
	if csr.Subject.CommonName != id {
		ca.reply(w, 403, nil, 41, "The CSR subject common name must equal the enrollment ID")
		return
	}
	assert.Equal(ca.t, len(hosts), len(csr.DNSNames)+len(csr.IPAddresses), "hosts in the request and the CSR")
	ca.serial++
	ca.lastProfile = profile
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial),
		Subject:   pkix.Name{CommonName: id, OrganizationalUnit: []string{u.typ}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses, AuthorityKeyId: ca.cert.SubjectKeyId}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	require.NoError(ca.t, err)
	cert, _ := x509.ParseCertificate(der)
	ca.issued = append(ca.issued, cert)
	ca.reply(w, 201, map[string]any{
		"Cert":       base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"ServerInfo": map[string]any{"CAName": ca.name, "CAChain": base64.StdEncoding.EncodeToString(ca.pem)},
	}, 0, "")
}

func enrolAdmin(t *testing.T, c *Client) Identity {
	e, err := c.Enroll(context.Background(), "admin", "adminpw", EnrollOptions{})
	require.NoError(t, err)
	id, err := e.Identity()
	require.NoError(t, err)
	return id
}

func TestEnrollIssuesACertificateForANewKey(t *testing.T) {
	ca, srv := newFakeCA(t, "tlsca-recycler")
	c := client(t, srv, "tlsca-recycler")
	e, err := c.Enroll(context.Background(), "admin", "adminpw",
		EnrollOptions{Profile: "tls", Hosts: []string{"peer0.recycler.mtrace.local", "127.0.0.1"}})
	require.NoError(t, err)
	cert, err := e.Cert()
	require.NoError(t, err)
	assert.Equal(t, "admin", cert.Subject.CommonName)
	assert.True(t, e.Key.PublicKey.Equal(cert.PublicKey))
	assert.Equal(t, []string{"peer0.recycler.mtrace.local"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 1)
	assert.Equal(t, "127.0.0.1", cert.IPAddresses[0].String())
	assert.Equal(t, "tls", ca.lastProfile)
	assert.Equal(t, ca.pem, e.ChainPEM)
}

func TestEnrollWithAWrongSecretIsATypedError(t *testing.T) {
	_, srv := newFakeCA(t, "ca-recycler")
	_, err := client(t, srv, "ca-recycler").Enroll(context.Background(), "admin", "nope", EnrollOptions{})
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 401, ce.Status)
	assert.Equal(t, 20, ce.Code)
	assert.Contains(t, err.Error(), "Authentication failure")
	_, err = client(t, srv, "ca-recycler").Enroll(context.Background(), "admin", "", EnrollOptions{})
	assert.ErrorContains(t, err, "must not be empty")
}

func TestWrongCANameIsRefused(t *testing.T) {
	_, srv := newFakeCA(t, "ca-recycler")
	_, err := client(t, srv, "ca-maker").Info(context.Background())
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 19, ce.Code)
}

func TestRegisterThenEnrolWithTheSecret(t *testing.T) {
	ca, srv := newFakeCA(t, "ca-recycler")
	c := client(t, srv, "ca-recycler")
	admin := enrolAdmin(t, c)
	ctx := context.Background()
	reg := Registration{Name: "alice", Type: "client", MaxEnrollments: -1,
		Attrs: []Attribute{{Name: "mtrace.role", Value: "operator", ECert: true}}}
	secret, err := c.Register(ctx, admin, reg)
	require.NoError(t, err)
	assert.Equal(t, "chosen-by-ca", secret)
	assert.Equal(t, []Attribute{{Name: "mtrace.role", Value: "operator", ECert: true}}, ca.users["alice"].attrs)
	e, err := c.Enroll(ctx, "alice", secret, EnrollOptions{})
	require.NoError(t, err)
	cert, err := e.Cert()
	require.NoError(t, err)
	assert.Equal(t, []string{"client"}, cert.Subject.OrganizationalUnit)

	reg.Name, reg.Secret = "bob", "bobpw"
	secret, err = c.Register(ctx, admin, reg)
	require.NoError(t, err)
	assert.Equal(t, "bobpw", secret)

	_, err = c.Register(ctx, admin, reg)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 74, ce.Code)
}

func TestATokenSignedWithAnotherKeyIsRefused(t *testing.T) {
	_, srv := newFakeCA(t, "ca-recycler")
	c := client(t, srv, "ca-recycler")
	admin := enrolAdmin(t, c)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	forged := Identity{Cert: admin.Cert, CertPEM: admin.CertPEM, Key: other}
	_, err = c.Register(context.Background(), forged, Registration{Name: "mallory", Type: "client"})
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 401, ce.Status)
	assert.Contains(t, ce.Message, "signature validation failed")
	_, err = c.GenCRL(context.Background(), Identity{})
	assert.ErrorContains(t, err, "no certificate or key")
}

func TestTokenSignaturesHaveALowS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	id := Identity{CertPEM: []byte("cert"), Key: key}
	half := new(big.Int).Rsh(elliptic.P256().Params().N, 1)
	for range 64 {
		tok, err := id.token("POST", "/api/v1/register", []byte("{}"))
		require.NoError(t, err)
		_, b64sig, _ := strings.Cut(tok, ".")
		der, err := base64.StdEncoding.DecodeString(b64sig)
		require.NoError(t, err)
		var sig struct{ R, S *big.Int }
		_, err = asn1.Unmarshal(der, &sig)
		require.NoError(t, err)
		require.LessOrEqual(t, sig.S.Cmp(half), 0)
	}
}

func TestRevokeGenCRLIdentitiesAndCertificates(t *testing.T) {
	_, srv := newFakeCA(t, "ca-recycler")
	c := client(t, srv, "ca-recycler")
	admin := enrolAdmin(t, c)
	ctx := context.Background()
	_, err := c.Register(ctx, admin, Registration{Name: "alice", Secret: "pw", Type: "client"})
	require.NoError(t, err)
	e, err := c.Enroll(ctx, "alice", "pw", EnrollOptions{})
	require.NoError(t, err)
	alice, err := e.Cert()
	require.NoError(t, err)

	ids, err := c.Identities(ctx, admin)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	assert.Equal(t, "alice", ids[1].ID)

	certs, err := c.Certificates(ctx, admin, "alice")
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assert.Equal(t, alice.SerialNumber, certs[0].SerialNumber)
	all, err := c.Certificates(ctx, admin, "")
	require.NoError(t, err)
	assert.Len(t, all, 2)

	crlPEM, err := c.GenCRL(ctx, admin)
	require.NoError(t, err)
	assert.Empty(t, parseCRL(t, crlPEM).RevokedCertificateEntries)

	revoked, err := c.Revoke(ctx, admin, "alice", "keycompromise")
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	assert.Equal(t, alice.SerialNumber.Text(16), revoked[0].Serial)

	crl := parseCRL(t, mustGenCRL(t, c, admin))
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, alice.SerialNumber, crl.RevokedCertificateEntries[0].SerialNumber)

	_, err = c.Enroll(ctx, "alice", "pw", EnrollOptions{})
	assert.ErrorContains(t, err, "Authentication failure")
	_, err = c.Revoke(ctx, admin, "", "x")
	assert.ErrorContains(t, err, "name the identity")
}

func mustGenCRL(t *testing.T, c *Client, admin Identity) []byte {
	crl, err := c.GenCRL(context.Background(), admin)
	require.NoError(t, err)
	return crl
}

func parseCRL(t *testing.T, crlPEM []byte) *x509.RevocationList {
	b, _ := pem.Decode(crlPEM)
	require.NotNil(t, b)
	require.Equal(t, "X509 CRL", b.Type)
	crl, err := x509.ParseRevocationList(b.Bytes)
	require.NoError(t, err)
	return crl
}

func TestInfo(t *testing.T) {
	ca, srv := newFakeCA(t, "ca-recycler")
	info, err := client(t, srv, "ca-recycler").Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ca-recycler", info.CAName)
	assert.Equal(t, ca.pem, info.CAChain)
	assert.Equal(t, "1.5.15", info.Version)
}

func TestLoadIdentity(t *testing.T) {
	_, srv := newFakeCA(t, "ca-recycler")
	c := client(t, srv, "ca-recycler")
	e, err := c.Enroll(context.Background(), "admin", "adminpw", EnrollOptions{})
	require.NoError(t, err)
	dir := t.TempDir()
	keyPEM, err := KeyPEM(e.Key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "priv_sk")
	require.NoError(t, os.WriteFile(certFile, e.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	id, err := LoadIdentity(certFile, keyFile)
	require.NoError(t, err)
	assert.Equal(t, "admin", id.Cert.Subject.CommonName)
	_, err = c.Identities(context.Background(), id)
	require.NoError(t, err, "a loaded identity signs tokens the CA accepts")

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	otherPEM, err := KeyPEM(other)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, otherPEM, 0o600))
	_, err = LoadIdentity(certFile, keyFile)
	assert.ErrorContains(t, err, "is not the key of")
}

func TestNewChecksItsArguments(t *testing.T) {
	_, err := New("127.0.0.1:7054", "ca", nil)
	assert.ErrorContains(t, err, "must start with https://")
	_, err = New("https://127.0.0.1:7054", "ca", []byte("not pem"))
	assert.ErrorContains(t, err, "no PEM certificate")
}
