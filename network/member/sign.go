package member

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
)

// SignatureFormat names the signature file's format and version.
const SignatureFormat = "mtrace-signature/1"

// A SignatureFile is one organisation admin's consent to one update: the
// ConfigSignature Fabric checks (a signature header naming the admin's
// certificate, and the signature over header and update), with the
// update's hash so that it cannot be taken for another update's.
type SignatureFile struct {
	Format string `json:"format"`
	// Update is the SHA-256 of the config update signed.
	Update string `json:"config_update_sha256"`
	MSPID  string `json:"msp_id"`
	Signer string `json:"signer"` // the admin certificate's common name
	// SignatureHeader and Signature are the ConfigSignature's fields
	// (base64 in the JSON file).
	SignatureHeader []byte `json:"signature_header"`
	Signature       []byte `json:"signature"`
}

// SignatureName is the conventional file name of org's signature of the
// update file at path: X.update gets X.<MSP ID>.sig beside it.
func SignatureName(updatePath, mspID string) string {
	base := updatePath
	if ext := filepath.Ext(base); ext == ".update" {
		base = base[:len(base)-len(ext)]
	}
	return base + "." + mspID + ".sig"
}

// Sign signs the update as the organisation's admin.
func (h *Home) Sign(u *UpdateFile) (*SignatureFile, error) {
	id, err := channel.LoadSigner(filepath.Join(h.AdminDir(), "msp"), h.MSPID)
	if err != nil {
		return nil, err
	}
	s, err := id.CreateConfigSignature(u.ConfigUpdate)
	if err != nil {
		return nil, err
	}
	return &SignatureFile{Format: SignatureFormat, Update: u.SHA256, MSPID: h.MSPID, Signer: id.Certificate.Subject.CommonName,
		SignatureHeader: s.SignatureHeader, Signature: s.Signature}, nil
}

// WriteSignature writes a signature file.
func WriteSignature(path string, s *SignatureFile) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(raw, '\n'), 0o644)
}

// ReadSignature reads a signature file.
func ReadSignature(path string) (*SignatureFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if HoldsPrivateKey(raw) {
		return nil, fmt.Errorf("%s: %w", path, ErrPrivateKey)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var s SignatureFile
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: not a signature file: %w", path, err)
	}
	if s.Format != SignatureFormat {
		return nil, fmt.Errorf("%s: format %q: expected %q", path, s.Format, SignatureFormat)
	}
	if HoldsPrivateKey(s.SignatureHeader) || HoldsPrivateKey(s.Signature) {
		return nil, fmt.Errorf("%s: %w", path, ErrPrivateKey)
	}
	return &s, nil
}

// ConfigSignature is the signature as Fabric carries it.
func (s *SignatureFile) ConfigSignature() *cb.ConfigSignature {
	return &cb.ConfigSignature{SignatureHeader: s.SignatureHeader, Signature: s.Signature}
}

// signer is a signature that verified: who made it.
type signer struct {
	file  string
	mspID string
	cert  *x509.Certificate
	raw   []byte // the serialized identity's certificate bytes (PEM)
}

// verify checks that s signs u (by hash, and cryptographically with the
// certificate its header names) and returns its signer.
func (s *SignatureFile) verify(file string, u *UpdateFile) (*signer, error) {
	if s.Update != u.SHA256 {
		return nil, fmt.Errorf("%s signs another update (%s), not %s", file, short(s.Update), short(u.SHA256))
	}
	var hdr cb.SignatureHeader
	if err := proto.Unmarshal(s.SignatureHeader, &hdr); err != nil {
		return nil, fmt.Errorf("%s: signature header: %w", file, err)
	}
	var id mb.SerializedIdentity
	if err := proto.Unmarshal(hdr.Creator, &id); err != nil {
		return nil, fmt.Errorf("%s: signer: %w", file, err)
	}
	if id.Mspid != s.MSPID {
		return nil, fmt.Errorf("%s: the file says %s signed, its signature header says %s", file, s.MSPID, id.Mspid)
	}
	b, _ := pem.Decode(id.IdBytes)
	if b == nil {
		return nil, fmt.Errorf("%s: the signer's certificate is not PEM", file)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: the signer's certificate: %w", file, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: the signer's key is not ECDSA", file)
	}
	digest := sha256.Sum256(append(append([]byte{}, s.SignatureHeader...), u.ConfigUpdate...))
	if !ecdsa.VerifyASN1(pub, digest[:], s.Signature) {
		return nil, fmt.Errorf("%s: the signature does not verify over update %s: it was made for other bytes or changed", file, short(u.SHA256))
	}
	return &signer{file: file, mspID: id.Mspid, cert: cert, raw: id.IdBytes}, nil
}

// errNoSignatures is Check's error without any signature.
var errNoSignatures = errors.New("no signatures")
