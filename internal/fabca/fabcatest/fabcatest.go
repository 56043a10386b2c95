// Package fabcatest is a Fabric CA server inside a test process: the REST
// API of fabric-ca-server that internal/fabca speaks (cainfo, enroll,
// register, revoke, gencrl, identities, certificates), over TLS on a
// loopback port, for the tests of code that talks to a CA (network/pki,
// the identity commands) where no fabric-ca-server runs.
//
// One server hosts any number of CAs, told apart by the caname of each
// request, as a fabric-ca-server with a TLS CA beside its enrolment CA
// does. Each CA checks what the real one checks: an enrolment's basic
// authentication and that its request's common name is the enrolment ID;
// a registrar token's signature over method, URI, body and certificate
// (with a low S), and that the token's certificate is the CA's and its
// holder registered and not revoked. It issues certificates as the real
// CA does: OU the identity's type, and the attribute extension with
// hf.EnrollmentID, hf.Type, hf.Affiliation and the attributes registered
// with ecert. It checks no registrar rights (hf.Registrar.Roles).
package fabcatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtrace/mtrace/internal/testport"
)

// AttrOID is the certificate extension Fabric CA writes attributes into.
var AttrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// Server is a running fake Fabric CA server.
type Server struct {
	// URL is the server's address, https://127.0.0.1:<port>.
	URL string
	// TLSRootPEM is the certificate a client must trust to reach it.
	TLSRootPEM []byte

	srv *httptest.Server
	mu  sync.Mutex
	cas map[string]*CA
	// refuse, when set, may refuse a request before the CA sees it.
	refuse func(ca, endpoint, id string) error
}

// CA is one certificate authority of the server.
type CA struct {
	Name string
	Cert *x509.Certificate
	PEM  []byte

	key    *ecdsa.PrivateKey
	users  map[string]*user
	issued []*x509.Certificate
	serial int64
	// enrolments counts the certificates issued.
	enrolments int
}

type user struct {
	secret, typ string
	attrs       []attribute
	revoked     bool
}

type attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	ECert bool   `json:"ecert,omitempty"`
}

// New starts a server with a CA for each name, and stops it when the test
// ends. Each CA has its bootstrap registrar "admin" with secret "adminpw";
// AddUser adds others.
func New(t testing.TB, names ...string) *Server {
	t.Helper()
	s := &Server{cas: map[string]*CA{}}
	for i, n := range names {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ski := sha256.Sum256([]byte(n))
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: n},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: ski[:20]}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		s.cas[n] = &CA{Name: n, Cert: cert, key: key, serial: 1000,
			PEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			users: map[string]*user{"admin": {secret: "adminpw", typ: "client"}}}
	}
	s.srv = testport.NewTLSServer(t, http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	s.TLSRootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() int {
	u, _ := url.Parse(s.URL)
	p, _ := strconv.Atoi(u.Port())
	return p
}

// CA returns the CA named name, or nil.
func (s *Server) CA(name string) *CA {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cas[name]
}

// Refuse makes the server answer a request with a 500 and err's message
// when refuse returns an error for it: the CA's name, the endpoint
// (enroll, register, ...) and the enrolment ID it concerns. nil restores
// normal service.
func (s *Server) Refuse(refuse func(ca, endpoint, id string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = refuse
}

// AddUser registers id with secret and Fabric type typ, as a CA's
// bootstrap identities are.
func (s *Server) AddUser(ca, id, secret, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cas[ca].users[id] = &user{secret: secret, typ: typ}
}

// Registered reports whether id is registered at ca, and whether it is
// revoked.
func (s *Server) Registered(ca, id string) (registered, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.cas[ca].users[id]
	return u != nil, u != nil && u.revoked
}

// Enrolments counts the certificates ca has issued.
func (s *Server) Enrolments(ca string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cas[ca].enrolments
}

// Attributes reads the Fabric CA attributes of a certificate (nil when it
// has none).
func Attributes(cert *x509.Certificate) (map[string]string, error) {
	for _, e := range cert.Extensions {
		if e.Id.Equal(AttrOID) {
			var v struct {
				Attrs map[string]string `json:"attrs"`
			}
			if err := json.Unmarshal(e.Value, &v); err != nil {
				return nil, err
			}
			return v.Attrs, nil
		}
	}
	return nil, nil
}

func reply(w http.ResponseWriter, status int, result any, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	out := map[string]any{"result": result, "errors": []any{}, "messages": []any{}, "success": code == 0}
	if code != 0 {
		out["errors"] = []any{map[string]any{"code": code, "message": msg}}
		out["result"] = ""
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		CAName  string      `json:"caname"`
		ID      string      `json:"id"`
		Secret  string      `json:"secret"`
		Type    string      `json:"type"`
		Attrs   []attribute `json:"attrs"`
		Request string      `json:"certificate_request"`
		Hosts   []string    `json:"hosts"`
		AttrReq []struct {
			Name     string `json:"name"`
			Optional bool   `json:"optional"`
		} `json:"attr_reqs"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			reply(w, 400, nil, 1, "bad body")
			return
		}
	} else {
		req.CAName = r.URL.Query().Get("ca")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca := s.cas[req.CAName]
	if ca == nil {
		reply(w, 404, nil, 19, "CA '"+req.CAName+"' does not exist")
		return
	}
	ep := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	if s.refuse != nil {
		id := req.ID
		if ep == "enroll" {
			id, _, _ = r.BasicAuth()
		}
		if err := s.refuse(ca.Name, ep, id); err != nil {
			reply(w, 500, nil, 1, err.Error())
			return
		}
	}
	switch ep {
	case "cainfo":
		reply(w, 200, map[string]any{"CAName": ca.Name, "CAChain": base64.StdEncoding.EncodeToString(ca.PEM), "Version": "1.5.15"}, 0, "")
		return
	case "enroll":
		var asked map[string]bool // name: optional
		if len(req.AttrReq) > 0 {
			asked = map[string]bool{}
			for _, a := range req.AttrReq {
				asked[a.Name] = a.Optional
			}
		}
		ca.enroll(w, r, req.Request, req.Hosts, asked)
		return
	}
	caller, err := ca.verifyToken(r, body)
	if err != nil {
		reply(w, 401, nil, 20, "Authorization failure: "+err.Error())
		return
	}
	if u := ca.users[caller]; u == nil || u.revoked {
		reply(w, 401, nil, 20, "Authorization failure: caller is unknown or revoked")
		return
	}
	switch ep {
	case "register":
		if _, dup := ca.users[req.ID]; dup {
			reply(w, 409, nil, 74, "Identity '"+req.ID+"' is already registered")
			return
		}
		if req.Secret == "" {
			req.Secret = "chosen-by-ca-" + req.ID
		}
		ca.users[req.ID] = &user{secret: req.Secret, typ: req.Type, attrs: req.Attrs}
		reply(w, 201, map[string]string{"secret": req.Secret}, 0, "")
	case "revoke":
		u := ca.users[req.ID]
		if u == nil {
			reply(w, 404, nil, 63, "Identity '"+req.ID+"' not found")
			return
		}
		u.revoked = true
		revoked := []map[string]string{}
		for _, c := range ca.issued {
			if c.Subject.CommonName == req.ID {
				revoked = append(revoked, map[string]string{"Serial": c.SerialNumber.Text(16), "AKI": hex.EncodeToString(ca.Cert.SubjectKeyId)})
			}
		}
		reply(w, 200, map[string]any{"RevokedCerts": revoked}, 0, "")
	case "gencrl":
		var entries []x509.RevocationListEntry
		for _, c := range ca.issued {
			if u := ca.users[c.Subject.CommonName]; u != nil && u.revoked {
				entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
			}
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(int64(len(entries) + 1)),
			RevokedCertificateEntries: entries, ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, ca.Cert, ca.key)
		if err != nil {
			reply(w, 500, nil, 1, err.Error())
			return
		}
		crl := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
		reply(w, 200, map[string]string{"CRL": base64.StdEncoding.EncodeToString(crl)}, 0, "")
	case "identities":
		var ids []map[string]any
		for _, n := range slices.Sorted(maps.Keys(ca.users)) {
			u := ca.users[n]
			ids = append(ids, map[string]any{"id": n, "type": u.typ, "affiliation": "", "attrs": u.attrs, "max_enrollments": -1})
		}
		reply(w, 200, map[string]any{"identities": ids, "caname": ca.Name}, 0, "")
	case "certificates":
		certs := []map[string]string{}
		for _, c := range ca.issued {
			if id := r.URL.Query().Get("id"); id == "" || id == c.Subject.CommonName {
				certs = append(certs, map[string]string{"PEM": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))})
			}
		}
		reply(w, 200, map[string]any{"certs": certs, "caname": ca.Name}, 0, "")
	default:
		reply(w, 404, nil, 1, "no such endpoint")
	}
}

// verifyToken checks a registrar's authorization header and returns the
// caller's enrolment ID.
func (ca *CA) verifyToken(r *http.Request, body []byte) (string, error) {
	b64cert, b64sig, ok := strings.Cut(r.Header.Get("authorization"), ".")
	if !ok {
		return "", errors.New("malformed token")
	}
	certPEM, err := base64.StdEncoding.DecodeString(b64cert)
	if err != nil {
		return "", err
	}
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return "", errors.New("no certificate in the token")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return "", err
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
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
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !ecdsa.Verify(pub, digest[:], sig.R, sig.S) {
		return "", errors.New("token signature validation failed")
	}
	return cert.Subject.CommonName, nil
}

// enroll issues a certificate. asked, when not nil, names the attributes
// the certificate must carry (true: optional); otherwise it carries the
// default ones and those registered with ecert.
func (ca *CA) enroll(w http.ResponseWriter, r *http.Request, csrPEM string, hosts []string, asked map[string]bool) {
	id, secret, ok := r.BasicAuth()
	u := ca.users[id]
	if !ok || u == nil || u.secret != secret || u.revoked {
		reply(w, 401, nil, 20, "Authentication failure")
		return
	}
	b, _ := pem.Decode([]byte(csrPEM))
	if b == nil {
		reply(w, 400, nil, 1, "no certificate request")
		return
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		reply(w, 400, nil, 1, "bad certificate request: "+err.Error())
		return
	}
	if csr.Subject.CommonName != id {
		reply(w, 403, nil, 41, "The CSR subject common name must equal the enrollment ID")
		return
	}
	if len(hosts) != len(csr.DNSNames)+len(csr.IPAddresses) {
		reply(w, 400, nil, 1, "the hosts of the request and of the CSR differ")
		return
	}
	registered := map[string]string{"hf.EnrollmentID": id, "hf.Type": u.typ, "hf.Affiliation": ""}
	attrs := maps.Clone(registered)
	for _, a := range u.attrs {
		registered[a.Name] = a.Value
		if a.ECert {
			attrs[a.Name] = a.Value
		}
	}
	if asked != nil {
		attrs = map[string]string{}
		for name, optional := range asked {
			v, ok := registered[name]
			if !ok && !optional {
				reply(w, 400, nil, 1, "Attribute '"+name+"' was requested but the identity does not have it")
				return
			}
			if ok {
				attrs[name] = v
			}
		}
	}
	ext, _ := json.Marshal(map[string]any{"attrs": attrs})
	ca.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial),
		Subject:   pkix.Name{CommonName: id, OrganizationalUnit: []string{u.typ}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses, AuthorityKeyId: ca.Cert.SubjectKeyId,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: AttrOID, Value: ext}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.key)
	if err != nil {
		reply(w, 500, nil, 1, err.Error())
		return
	}
	cert, _ := x509.ParseCertificate(der)
	ca.issued = append(ca.issued, cert)
	ca.enrolments++
	reply(w, 201, map[string]any{
		"Cert":       base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"ServerInfo": map[string]any{"CAName": ca.Name, "CAChain": base64.StdEncoding.EncodeToString(ca.PEM)},
	}, 0, "")
}
