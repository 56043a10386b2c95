package fakestub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
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
	Cert       *x509.Certificate
	Creator    []byte // proto-encoded msp.SerializedIdentity, as returned by GetCreator
}

// NewIdentity creates an identity of the given MSP with a self-signed ECDSA
// P-256 certificate whose subject has the common name and organizational
// units (for example "client", "admin", "peer"). It panics only if the
// standard library cannot create a key or certificate, which does not
// happen in practice; tests need no error to check.
func NewIdentity(mspID, commonName string, ous ...string) *Identity {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("fakestub: generate key: %v", err))
	}
	sum := sha256.Sum256([]byte(mspID + "\x00" + commonName))
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
		Cert:       cert,
		Creator:    creator,
	}
}
