package dpp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var issued = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// ca is an organisation's certificate authority and a member it issued.
type ca struct {
	root     *x509.Certificate
	pool     *x509.CertPool
	key      *ecdsa.PrivateKey // the member's
	cert     *x509.Certificate // the member's
	rootKey  *ecdsa.PrivateKey
	memberCN string
}

func newCA(t *testing.T, org string) *ca {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + org, Organization: []string{org}},
		NotBefore: issued.Add(-time.Hour), NotAfter: issued.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "User1@" + org, OrganizationalUnit: []string{"client"}},
		NotBefore: issued.Add(-time.Hour), NotAfter: issued.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err = x509.CreateCertificate(rand.Reader, leaf, root, &key.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &ca{root: root, pool: pool, key: key, cert: cert, rootKey: rootKey, memberCN: leaf.Subject.CommonName}
}

func input() Input {
	return Input{
		ID: "https://maker.example/passports/VASE-001", ProductID: "https://maker.example/products/VASE-001",
		Issuer: Party{ID: "did:web:maker.example", Name: "Kadıköy Makerspace"},
		Batch:  "VASE-001", Name: "VASE-001 (PET product)", Material: "PET", MassGrams: 310,
		RecycledBp: 9677, Holds: true, Made: issued.Add(-time.Hour), Issued: issued,
		Steps:       []string{"collection", "sorting", "printing"},
		PassportURL: "https://maker.example/passports/VASE-001/", ProofURL: "https://maker.example/passports/VASE-001/VASE-001.proof",
		ProofSHA256: strings.Repeat("ab", 32), ProofHead: 41,
	}
}

// schema compiles the UNTP 0.6.1 DPP schema (test data, GPL-3.0) with
// format assertions on, so that a bad URI or date fails.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/untp-0.6.1/untp-dpp-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("untp-dpp-schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("untp-dpp-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, raw []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

func TestCredentialMatchesUNTPSchema(t *testing.T) {
	s := schema(t)
	for name, mod := range map[string]func(*Input){
		"holds":         func(*Input) {},
		"fails":         func(in *Input) { in.Holds = false; in.RecycledBp = 0 },
		"no page, mass": func(in *Input) { in.PassportURL = ""; in.MassGrams = 0; in.Steps = nil },
	} {
		t.Run(name, func(t *testing.T) {
			in := input()
			mod(&in)
			c, err := New(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, s, raw); err != nil {
				t.Fatalf("the credential does not match the UNTP 0.6.1 DPP schema: %v\n%s", err, raw)
			}
		})
	}
	// The schema check is not vacuous: a credential that breaks it fails.
	c, _ := New(input())
	c.Issuer.ID = "not a uri"
	raw, _ := json.Marshal(c)
	if err := validate(t, s, raw); err == nil {
		t.Fatal("an issuer id that is no URI passed the schema")
	}
	c, _ = New(input())
	c.Context = []string{Contexts[0]}
	raw, _ = json.Marshal(c)
	if err := validate(t, s, raw); err == nil {
		t.Fatal("a credential without the UNTP 0.6.1 context passed the schema")
	}
}

func TestCredentialFields(t *testing.T) {
	c, err := New(input())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Subject.Circularity.RecycledContent; got != 0.9677 {
		t.Errorf("recycledContent = %v, want 0.9677", got)
	}
	m := c.Subject.Materials[0]
	if m.Name != "PET" || m.MassFraction != 1 || m.RecycledMassFraction != 0.9677 || m.Mass.Value != 0.31 || m.Mass.Unit != "KGM" {
		t.Errorf("material = %+v", m)
	}
	cl := c.Subject.Claims[0]
	if !cl.Conformance || cl.Topic != "circularity.content" || cl.Evidence.Digest != strings.Repeat("ab", 32) || cl.Evidence.HashMethod != "SHA-256" || cl.Declared[0].Value.Value != 96.77 {
		t.Errorf("claim = %+v", cl)
	}
	if c.ValidFrom != "2026-12-06T10:00:00Z" || c.Subject.Product.ProductionDate != "2026-12-06" {
		t.Errorf("dates: validFrom %s, productionDate %s", c.ValidFrom, c.Subject.Product.ProductionDate)
	}
	for name, mod := range map[string]func(*Input){
		"no issuer":     func(in *Input) { in.Issuer.ID = "" },
		"no proof hash": func(in *Input) { in.ProofSHA256 = "" },
		"share > 100%":  func(in *Input) { in.RecycledBp = 10001 },
		"negative":      func(in *Input) { in.RecycledBp = -1 },
	} {
		in := input()
		mod(&in)
		if _, err := New(in); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestSignedCredentialVerifiesAgainstTheMakersCA(t *testing.T) {
	maker := newCA(t, "maker.example")
	c, err := New(input())
	if err != nil {
		t.Fatal(err)
	}
	token, err := Sign(c, maker.key, []*x509.Certificate{maker.cert})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(token, ".") != 2 {
		t.Fatalf("not a compact JWS: %.60s", token)
	}
	// go-jose's own verifier, by hand: the header, the x5c chain to the
	// maker's CA, the signature with the certificate's key.
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != "vc+jwt" || h.ExtraHeaders["cty"] != "vc" {
		t.Fatalf("header: alg %s, extra %v", h.Algorithm, h.ExtraHeaders)
	}
	chains, err := h.Certificates(x509.VerifyOptions{Roots: maker.pool, CurrentTime: issued, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		t.Fatal(err)
	}
	if chains[0][0].Subject.CommonName != maker.memberCN {
		t.Fatalf("x5c names %s", chains[0][0].Subject.CommonName)
	}
	payload, err := jws.Verify(chains[0][0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, schema(t), payload); err != nil {
		t.Fatalf("the signed payload does not match the schema: %v", err)
	}
	got, err := Verify(token, maker.pool, "did:web:maker.example")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject.Circularity.RecycledContent != 0.9677 || got.Issuer.Name != "Kadıköy Makerspace" {
		t.Fatalf("verified credential: %+v", got)
	}

	t.Run("a changed claim fails", func(t *testing.T) {
		parts := strings.Split(token, ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		changed := bytes.Replace(raw, []byte(`"recycledContent":0.9677`), []byte(`"recycledContent":1`), 1)
		if bytes.Equal(changed, raw) {
			t.Fatal("the payload holds no recycledContent to change")
		}
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(changed) + "." + parts[2]
		if _, err := Verify(forged, maker.pool, ""); err == nil {
			t.Fatal("a credential with a changed recycled content verified")
		}
		jws, err := jose.ParseSigned(forged, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jws.Verify(&maker.key.PublicKey); err == nil {
			t.Fatal("go-jose verified a changed payload")
		}
	})
	t.Run("another organisation's CA", func(t *testing.T) {
		other := newCA(t, "other.example")
		if _, err := Verify(token, other.pool, ""); err == nil {
			t.Fatal("verified against a CA that did not issue the signer's certificate")
		}
	})
	t.Run("signed by another organisation in the maker's name", func(t *testing.T) {
		other := newCA(t, "other.example")
		// The other organisation's key, but the maker's certificate in x5c.
		if _, err := Sign(c, other.key, []*x509.Certificate{maker.cert}); err == nil {
			t.Fatal("Sign accepted a certificate that is not the key's")
		}
		x5c := []string{base64.StdEncoding.EncodeToString(maker.cert.Raw)}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: other.key},
			(&jose.SignerOptions{}).WithType(MediaType).WithHeader("x5c", x5c))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(c)
		j, _ := s.Sign(payload)
		forged, _ := j.CompactSerialize()
		if _, err := Verify(forged, maker.pool, ""); err == nil {
			t.Fatal("a credential signed with another key under the maker's certificate verified")
		}
	})
	t.Run("wrong issuer", func(t *testing.T) {
		if _, err := Verify(token, maker.pool, "did:web:other.example"); err == nil {
			t.Fatal("accepted a credential of another issuer")
		}
	})
	t.Run("not vc+jwt", func(t *testing.T) {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: maker.key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(maker.cert.Raw)}))
		payload, _ := json.Marshal(c)
		j, _ := s.Sign(payload)
		tok, _ := j.CompactSerialize()
		if _, err := Verify(tok, maker.pool, ""); err == nil {
			t.Fatal("accepted typ JWT")
		}
	})
}
