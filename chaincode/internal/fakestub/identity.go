package fakestub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// Identity is a client identity that submits transactions: an MSP ID and a
// real X.509 certificate, serialized the way Fabric puts it in a proposal.
type Identity struct {
	MSP        string
	CommonName string
	OUs        []string
	// Attrs are the attributes in the certificate's attribute extension,
	// nil when it has none.
	Attrs   map[string]string
	Cert    *x509.Certificate
	Creator []byte // proto-encoded msp.SerializedIdentity, as returned by GetCreator
}

// AttrOID is the object identifier of the certificate extension in which
// Fabric CA puts an identity's attributes, as JSON {"attrs":{...}}.
var AttrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// NewIdentity creates an identity of the given MSP with a self-signed ECDSA
// P-256 certificate whose subject has the common name and organizational
// units (for example "client", "admin", "peer"), and no attributes, as
// cryptogen makes them. It panics only if the standard library cannot
// create a key or certificate, which does not happen in practice; tests
// need no error to check.
func NewIdentity(mspID, commonName string, ous ...string) *Identity {
	return newIdentity(mspID, commonName, nil, nil, ous)
}

// NewEnrolled creates an identity the way Fabric CA enrols one: the common
// name is the enrolment ID, and the attribute extension holds attrs and
// the three attributes Fabric CA always adds: hf.EnrollmentID, hf.Type
// (the first OU) and hf.Affiliation (empty).
func NewEnrolled(mspID, enrollmentID string, attrs map[string]string, ous ...string) *Identity {
	all := map[string]string{"hf.EnrollmentID": enrollmentID, "hf.Affiliation": ""}
	if len(ous) > 0 {
		all["hf.Type"] = ous[0]
	}
	for k, v := range attrs {
		all[k] = v
	}
	return NewWithAttributes(mspID, enrollmentID, all, ous...)
}

// NewWithAttributes creates an identity whose attribute extension holds
// exactly attrs.
func NewWithAttributes(mspID, commonName string, attrs map[string]string, ous ...string) *Identity {
	raw, err := json.Marshal(struct {
		Attrs map[string]string `json:"attrs"`
	}{attrs})
	if err != nil {
		panic(fmt.Sprintf("fakestub: encode attributes: %v", err))
	}
	return newIdentity(mspID, commonName, raw, attrs, ous)
}

// NewWithExtension creates an identity whose attribute extension holds
// raw as it is, for tests of malformed extensions.
func NewWithExtension(mspID, commonName string, raw []byte, ous ...string) *Identity {
	return newIdentity(mspID, commonName, raw, nil, ous)
}

func newIdentity(mspID, commonName string, ext []byte, attrs map[string]string, ous []string) *Identity {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("fakestub: generate key: %v", err))
	}
	sum := sha256.Sum256([]byte(mspID + "\x00" + commonName + "\x00" + string(ext)))
	name := pkix.Name{
		Organization:       []string{mspID},
		OrganizationalUnit: ous,
		CommonName:         commonName,
	}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sum[:16]),
		Subject:               name,
		Issuer:                name,
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	if ext != nil {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: AttrOID, Value: ext}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(fmt.Sprintf("fakestub: create certificate: %v", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("fakestub: parse certificate: %v", err))
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: pemCert})
	if err != nil {
		panic(fmt.Sprintf("fakestub: marshal identity: %v", err))
	}
	return &Identity{
		MSP:        mspID,
		CommonName: commonName,
		OUs:        append([]string(nil), ous...),
		Attrs:      attrs,
		Cert:       cert,
		Creator:    creator,
	}
}
