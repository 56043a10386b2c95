// Package dpp writes a product's passport as a UN Transparency Protocol
// (UNTP 0.6.1) Digital Product Passport: a W3C Verifiable Credential 2.0
// that the maker's organisation signs as an enveloped JOSE credential
// (media type vc+jwt, a compact JWS whose payload is the credential),
// with ES256 and the signer's certificate in the x5c header, so that it
// verifies against the maker's certificate authority.
//
// The credential carries the product, its material with the recycled
// share the proof proves, a recycled-content conformity claim whose
// evidence is the proof file (its SHA-256 in a SecureLink), and the
// provenance steps. docs/reference/passport-credential.md lists the
// fields.
package dpp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Contexts of a UNTP 0.6.1 DPP credential, in the order the schema pins.
var Contexts = []string{"https://www.w3.org/ns/credentials/v2", "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/"}

// MediaType is the JOSE typ of the signed credential.
const MediaType = "vc+jwt"

// LinkTypeConformity is the UNTP link type of conformity evidence.
const LinkTypeConformity = "https://test.uncefact.org/vocabulary/linkTypes/dcc"

// Credential is a UNTP Digital Product Passport.
type Credential struct {
	Context   []string `json:"@context"`
	Type      []string `json:"type"`
	ID        string   `json:"id"`
	Issuer    Issuer   `json:"issuer"`
	ValidFrom string   `json:"validFrom"`
	Subject   Passport `json:"credentialSubject"`
}

// Issuer is the organisation that signs the credential.
type Issuer struct {
	Type []string `json:"type"`
	ID   string   `json:"id"`
	Name string   `json:"name"`
}

// Passport is the credential's subject (UNTP ProductPassport).
type Passport struct {
	Type         []string       `json:"type"`
	ID           string         `json:"id"`
	Product      Product        `json:"product"`
	Granularity  string         `json:"granularityLevel"`
	Materials    []Material     `json:"materialsProvenance"`
	Claims       []Claim        `json:"conformityClaim"`
	Circularity  Circularity    `json:"circularityScorecard"`
	Traceability []Traceability `json:"traceabilityInformation,omitempty"`
}

// Product is the passport's product.
type Product struct {
	Type           []string   `json:"type"`
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Description    string     `json:"description,omitempty"`
	BatchNumber    string     `json:"batchNumber"`
	ProducedBy     Party      `json:"producedByParty"`
	ProductionDate string     `json:"productionDate,omitempty"`
	Dimensions     *Dimension `json:"dimensions,omitempty"`
	Information    []Link     `json:"furtherInformation,omitempty"`
}

// Party names an organisation.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Dimension holds the product's weight.
type Dimension struct {
	Weight Measure `json:"weight"`
}

// Measure is a value in a UNECE Recommendation 20 unit (KGM, P1).
type Measure struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Material is one material of the product (UNTP Material).
type Material struct {
	Type                 []string `json:"type"`
	Name                 string   `json:"name"`
	MassFraction         float64  `json:"massFraction"`
	RecycledMassFraction float64  `json:"recycledMassFraction"`
	Mass                 *Measure `json:"mass,omitempty"`
}

// Claim is a conformity claim (UNTP Claim).
type Claim struct {
	Type        []string   `json:"type"`
	ID          string     `json:"id"`
	Description string     `json:"description"`
	Conformance bool       `json:"conformance"`
	Topic       string     `json:"conformityTopic"`
	Date        string     `json:"assessmentDate"`
	Declared    []Metric   `json:"declaredValue"`
	Evidence    SecureLink `json:"conformityEvidence"`
}

// Metric is a declared value.
type Metric struct {
	Name  string  `json:"metricName"`
	Value Measure `json:"metricValue"`
}

// Link points at a resource.
type Link struct {
	URL  string `json:"linkURL"`
	Name string `json:"linkName"`
	Type string `json:"linkType,omitempty"`
}

// SecureLink points at a resource by its hash.
type SecureLink struct {
	Type       []string `json:"type"`
	URL        string   `json:"linkURL"`
	Name       string   `json:"linkName"`
	LinkType   string   `json:"linkType"`
	Digest     string   `json:"hashDigest"`
	HashMethod string   `json:"hashMethod"`
	Encryption string   `json:"encryptionMethod"`
}

// Circularity is the circularity scorecard.
type Circularity struct {
	Type            []string `json:"type"`
	RecycledContent float64  `json:"recycledContent"`
}

// Traceability is one value-chain process and the evidence of it.
type Traceability struct {
	Type     []string     `json:"type"`
	Process  string       `json:"valueChainProcess"`
	Verified float64      `json:"verifiedRatio"`
	Events   []SecureLink `json:"traceabilityEvent"`
}

// Input is what a passport credential says.
type Input struct {
	// ID is the credential's URI; ProductID the product's.
	ID, ProductID string
	Issuer        Party
	Batch         string
	Name          string // the product's name
	Description   string
	Material      string
	MassGrams     int64
	// RecycledBp is the recycled share in basis points, as the proof
	// proves it; Holds says whether the provenance holds.
	RecycledBp int64
	Holds      bool
	Made       time.Time
	Issued     time.Time
	// Steps are the value-chain processes the proof covers.
	Steps []string
	// PassportURL is the passport page; ProofURL and ProofSHA256 the
	// proof file and its hash (hex).
	PassportURL, ProofURL, ProofSHA256 string
	// ProofHead is the block the proof speaks for.
	ProofHead uint64
}

// New builds the credential.
func New(in Input) (*Credential, error) {
	switch {
	case in.ID == "" || in.ProductID == "" || in.Issuer.ID == "" || in.Issuer.Name == "":
		return nil, errors.New("passport credential: an id, a product id and the issuer's id and name are required")
	case in.RecycledBp < 0 || in.RecycledBp > 10000:
		return nil, fmt.Errorf("passport credential: recycled share %d bp is out of 0..10000", in.RecycledBp)
	case len(in.ProofSHA256) != 64:
		return nil, errors.New("passport credential: the proof's SHA-256 (hex) is required")
	}
	share := float64(in.RecycledBp) / 10000
	kg := float64(in.MassGrams) / 1000
	proofLink := SecureLink{
		Type: []string{"SecureLink", "Link"}, URL: in.ProofURL,
		Name:     fmt.Sprintf("mtrace provenance proof of %s as of block %d", in.Batch, in.ProofHead),
		LinkType: LinkTypeConformity, Digest: in.ProofSHA256, HashMethod: "SHA-256", Encryption: "none",
	}
	c := &Credential{
		Context:   Contexts,
		Type:      []string{"DigitalProductPassport", "VerifiableCredential"},
		ID:        in.ID,
		Issuer:    Issuer{Type: []string{"CredentialIssuer"}, ID: in.Issuer.ID, Name: in.Issuer.Name},
		ValidFrom: in.Issued.UTC().Format(time.RFC3339),
		Subject: Passport{
			Type: []string{"ProductPassport"},
			ID:   in.ProductID,
			Product: Product{
				Type: []string{"Product"}, ID: in.ProductID, Name: in.Name, Description: in.Description,
				BatchNumber: in.Batch, ProducedBy: in.Issuer,
			},
			Granularity: "batch",
			Materials: []Material{{
				Type: []string{"Material"}, Name: in.Material, MassFraction: 1, RecycledMassFraction: share,
			}},
			Claims: []Claim{{
				Type: []string{"Claim", "Declaration"},
				ID:   in.ID + "#recycled-content",
				Description: fmt.Sprintf("%s holds %s post-consumer recycled content, traced to municipal collection; %s",
					in.Batch, percent(in.RecycledBp), holdsText(in.Holds)),
				Conformance: in.Holds,
				Topic:       "circularity.content",
				Date:        in.Issued.UTC().Format(time.DateOnly),
				Declared:    []Metric{{Name: "recycled content", Value: Measure{Value: round(share*100, 2), Unit: "P1"}}},
				Evidence:    proofLink,
			}},
			Circularity: Circularity{Type: []string{"CircularityPerformance"}, RecycledContent: share},
		},
	}
	if !in.Made.IsZero() {
		c.Subject.Product.ProductionDate = in.Made.UTC().Format(time.DateOnly)
	}
	if in.MassGrams > 0 {
		c.Subject.Product.Dimensions = &Dimension{Weight: Measure{Value: kg, Unit: "KGM"}}
		c.Subject.Materials[0].Mass = &Measure{Value: kg, Unit: "KGM"}
	}
	if in.PassportURL != "" {
		c.Subject.Product.Information = []Link{{URL: in.PassportURL, Name: "Product passport page (checks the proof in your browser)"}}
	}
	for _, s := range in.Steps {
		verified := 0.0
		if in.Holds {
			verified = 1
		}
		c.Subject.Traceability = append(c.Subject.Traceability, Traceability{
			Type: []string{"TraceabilityPerformance"}, Process: s, Verified: verified, Events: []SecureLink{proofLink},
		})
	}
	return c, nil
}

func holdsText(ok bool) string {
	if ok {
		return "the provenance proof is authentic and its provenance holds."
	}
	return "the provenance proof does NOT show that its provenance holds."
}

func percent(bp int64) string { return fmt.Sprintf("%d.%02d%%", bp/100, bp%100) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// Sign signs the credential as the maker's organisation: ES256 with key,
// whose certificate is chain[0] (and its issuers after it, if any), put in
// the protected header as x5c.
func Sign(c *Credential, key *ecdsa.PrivateKey, chain []*x509.Certificate) (string, error) {
	if key.Curve != elliptic.P256() {
		return "", errors.New("sign passport: the key is not ECDSA P-256")
	}
	if pub, ok := firstKey(chain); !ok || !pub.Equal(&key.PublicKey) {
		return "", errors.New("sign passport: the certificate is not the key's")
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	x5c := make([]string, len(chain))
	for i, cert := range chain {
		x5c[i] = base64.StdEncoding.EncodeToString(cert.Raw)
	}
	opts := (&jose.SignerOptions{}).WithType(MediaType).WithContentType("vc").WithHeader("x5c", x5c)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("sign passport: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign passport: %w", err)
	}
	return jws.CompactSerialize()
}

// Verify checks a signed credential: a compact JWS of type vc+jwt signed
// with ES256 by the certificate in its x5c header, which must chain to one
// of roots (the maker organisation's certificate authorities) and have
// been valid at the credential's validFrom; and the credential's issuer
// must be the one the caller expects (issuer "" accepts any). It returns
// the credential.
func Verify(token string, roots *x509.CertPool, issuer string) (*Credential, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("verify passport: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("verify passport: want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != MediaType {
		return nil, fmt.Errorf("verify passport: typ %q, want %q", typ, MediaType)
	}
	// The signing time is validFrom, read before the signature is checked
	// only to pick the time at which to check the certificate chain.
	var unverified Credential
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return nil, fmt.Errorf("verify passport: %w", err)
	}
	at, err := time.Parse(time.RFC3339, unverified.ValidFrom)
	if err != nil {
		return nil, fmt.Errorf("verify passport: validFrom: %w", err)
	}
	chains, err := h.Certificates(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("verify passport: the signer's certificate: %w", err)
	}
	payload, err := jws.Verify(chains[0][0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("verify passport: %w", err)
	}
	var c Credential
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("verify passport: %w", err)
	}
	if issuer != "" && c.Issuer.ID != issuer {
		return nil, fmt.Errorf("verify passport: issued by %q, not %q", c.Issuer.ID, issuer)
	}
	return &c, nil
}

func firstKey(chain []*x509.Certificate) (*ecdsa.PublicKey, bool) {
	if len(chain) == 0 {
		return nil, false
	}
	pub, ok := chain[0].PublicKey.(*ecdsa.PublicKey)
	return pub, ok
}
