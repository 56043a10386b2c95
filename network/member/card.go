package member

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-config/configtx/membership"

	"github.com/mtrace/mtrace/internal/channel"
)

// CardFormat names the member card's format and version.
const CardFormat = "mtrace-member/1"

// A Card is what an organisation gives the others: public material only.
// It is a JSON file, <node>.member.json, that a founder puts into the
// genesis block or an admin into an add-member update.
type Card struct {
	Format string `json:"format"`
	MSPID  string `json:"msp_id"`
	Node   string `json:"node"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	// RootCert signs the organisation's identities (its enrolment CA);
	// TLSRootCert its TLS certificates. Both PEM.
	RootCert    string `json:"root_cert"`
	TLSRootCert string `json:"tls_root_cert"`
	// NodeOUs is true: an identity's role (client, peer, admin, orderer)
	// is its certificate's OU, as the organisation's CA issues it.
	NodeOUs bool `json:"node_ous"`
	// AdminCert is the organisation admin's enrolment certificate (PEM),
	// for the others to recognise its signatures.
	AdminCert string `json:"admin_cert"`
	// Peer is the organisation's peer, also its anchor peer.
	Peer Endpoint `json:"peer"`
	// Orderer is its consenter.
	Orderer OrdererCard `json:"orderer"`
}

// Endpoint is a node's address as the other members reach it.
type Endpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

func (e Endpoint) String() string { return net.JoinHostPort(e.Host, fmt.Sprint(e.Port)) }

// OrdererCard is what the channel's BFT consenter mapping needs of an
// orderer: its endpoint, its enrolment certificate (the identity that
// signs blocks) and its TLS certificate (server and client), PEM.
type OrdererCard struct {
	Endpoint
	Identity string `json:"identity_cert"`
	TLSCert  string `json:"tls_cert"`
}

// Export reads the organisation's public material from its folder.
func (h *Home) Export() (*Card, error) {
	if !h.Enrolled() {
		return nil, fmt.Errorf("%s: the organisation's identities are not enrolled yet (run init with its CA)", h.Crypto())
	}
	read := func(path string) (string, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		return string(raw), nil
	}
	c := &Card{Format: CardFormat, MSPID: h.MSPID, Node: h.Node, Role: h.Role, Name: h.Name, NodeOUs: true,
		Peer:    Endpoint{Host: h.Host, Port: h.Ports.Peer},
		Orderer: OrdererCard{Endpoint: Endpoint{Host: h.Host, Port: h.Ports.Orderer}}}
	org := h.Org()
	msp, err := channel.LoadMSP(h.MSPDir(), h.MSPID)
	if err != nil {
		return nil, err
	}
	if !msp.NodeOUs.Enable {
		return nil, fmt.Errorf("%s/config.yaml: node OUs are off", h.MSPDir())
	}
	for _, f := range []struct {
		into *string
		path string
	}{
		{&c.RootCert, org.CACert()},
		{&c.TLSRootCert, org.TLSCACert()},
		{&c.AdminCert, filepath.Join(h.AdminDir(), "msp", "signcerts", "Admin@"+h.Domain+"-cert.pem")},
		{&c.Orderer.Identity, filepath.Join(h.OrdererDir(), "msp", "signcerts", h.OrdererHost()+"-cert.pem")},
		{&c.Orderer.TLSCert, filepath.Join(h.OrdererDir(), "tls", "server.crt")},
	} {
		if *f.into, err = read(f.path); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(time.Now()); err != nil {
		return nil, fmt.Errorf("the exported card: %w", err)
	}
	return c, nil
}

// WriteCard writes c to path as indented JSON.
func WriteCard(path string, c *Card) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(raw, '\n'), 0o644)
}

// ReadCard reads and checks a member card. It refuses a file that holds
// a private key anywhere (in a known field or not), a file with fields
// the format does not have, and a card whose certificates do not fit
// together (Validate).
func ReadCard(path string) (*Card, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCard(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ErrPrivateKey is the error of a file that holds a private key where
// only public material belongs.
var ErrPrivateKey = errors.New("holds a private key: a member file carries public material only; do not send it on, and treat that key as disclosed")

// ParseCard is ReadCard on the file's bytes.
func ParseCard(raw []byte) (*Card, error) {
	if HoldsPrivateKey(raw) {
		return nil, ErrPrivateKey
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Card
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a member card: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a member card: data after the card")
	}
	if err := c.Validate(time.Now()); err != nil {
		return nil, err
	}
	return &c, nil
}

// HoldsPrivateKey reports whether raw holds a PEM private key, in the
// clear or inside a JSON string (with escaped newlines).
func HoldsPrivateKey(raw []byte) bool {
	return bytes.Contains(raw, []byte("PRIVATE KEY-----"))
}

// Validate checks the card: the names, that every certificate parses,
// that the admin's certificate is issued by the root with OU admin, the
// orderer's identity by the root with OU orderer, and the orderer's TLS
// certificate by the TLS root for its host, all valid at now.
func (c *Card) Validate(now time.Time) error {
	if c.Format != CardFormat {
		return fmt.Errorf("format %q: expected %q", c.Format, CardFormat)
	}
	s := Settings{MSPID: c.MSPID, Node: c.Node, Role: c.Role, Name: c.Name, Host: c.Peer.Host, Domain: "x.example",
		Ports: Ports{Peer: c.Peer.Port, Orderer: c.Orderer.Port, OrdererAdmin: 1, PeerOps: 2, OrdererOps: 3, CA: 4, CAOps: 5, Chaincode: 6}}
	if err := s.Validate(); err != nil {
		return err
	}
	if c.Orderer.Host == "" || (net.ParseIP(c.Orderer.Host) == nil && !hostPattern.MatchString(c.Orderer.Host)) {
		return fmt.Errorf("orderer.host: not an IP address or host name: %q", c.Orderer.Host)
	}
	if !c.NodeOUs {
		return errors.New("node_ous: must be true (roles come from the certificates' OUs)")
	}
	root, err := parseCert("root_cert", c.RootCert)
	if err != nil {
		return err
	}
	tlsRoot, err := parseCert("tls_root_cert", c.TLSRootCert)
	if err != nil {
		return err
	}
	if !root.IsCA || !tlsRoot.IsCA {
		return errors.New("root_cert and tls_root_cert must be CA certificates")
	}
	for _, x := range []struct {
		field, pem string
		root       *x509.Certificate
		ou         string
		host       string
	}{
		{"admin_cert", c.AdminCert, root, "admin", ""},
		{"orderer.identity_cert", c.Orderer.Identity, root, "orderer", ""},
		{"orderer.tls_cert", c.Orderer.TLSCert, tlsRoot, "", c.Orderer.Host},
	} {
		cert, err := parseCert(x.field, x.pem)
		if err != nil {
			return err
		}
		if err := verifyChain(cert, x.root, now); err != nil {
			return fmt.Errorf("%s: %w", x.field, err)
		}
		if x.ou != "" && !slices.Contains(cert.Subject.OrganizationalUnit, x.ou) {
			return fmt.Errorf("%s: the certificate's OU is %v, not %s", x.field, cert.Subject.OrganizationalUnit, x.ou)
		}
		if x.host != "" {
			if err := cert.VerifyHostname(x.host); err != nil {
				return fmt.Errorf("%s: %w", x.field, err)
			}
		}
	}
	return nil
}

// parseCert parses the one PEM certificate of a card field.
func parseCert(field, s string) (*x509.Certificate, error) {
	b, rest := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", field)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s: more than one PEM block", field)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return cert, nil
}

// verifyChain checks that root issued cert and both are valid at now.
func verifyChain(cert, root *x509.Certificate, now time.Time) error {
	pool := x509.NewCertPool()
	pool.AddCert(root)
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// MSP is the card's organisation as a channel MSP definition.
func (c *Card) MSP() (configtx.MSP, error) {
	root, err := parseCert("root_cert", c.RootCert)
	if err != nil {
		return configtx.MSP{}, err
	}
	tlsRoot, err := parseCert("tls_root_cert", c.TLSRootCert)
	if err != nil {
		return configtx.MSP{}, err
	}
	ou := func(id string) membership.OUIdentifier {
		return membership.OUIdentifier{Certificate: root, OrganizationalUnitIdentifier: id}
	}
	return configtx.MSP{
		Name: c.MSPID, RootCerts: []*x509.Certificate{root}, TLSRootCerts: []*x509.Certificate{tlsRoot},
		NodeOUs: membership.NodeOUs{Enable: true, ClientOUIdentifier: ou("client"), PeerOUIdentifier: ou("peer"),
			AdminOUIdentifier: ou("admin"), OrdererOUIdentifier: ou("orderer")},
		CryptoConfig: membership.CryptoConfig{SignatureHashFamily: "SHA2", IdentityIdentifierHashFunction: "SHA256"},
	}, nil
}

// ParseCardUnchecked decodes a card without checking it (for reading
// the roots of cards in a folder).
func ParseCardUnchecked(raw []byte) (*Card, error) {
	var c Card
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Format != CardFormat || c.MSPID == "" {
		return nil, errors.New("not a member card")
	}
	return &c, nil
}
