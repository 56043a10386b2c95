package pki

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mtrace/mtrace/internal/fabca"
)

// The MSP folder layout is cryptogen's, so that configtxgen, the peer and
// orderer, internal/channel and the tests read it unchanged:
//
//	<org>/ca/ca.<domain>-cert.pem          enrolment CA certificate
//	<org>/tlsca/tlsca.<domain>-cert.pem    TLS CA certificate
//	<org>/msp/                             the channel MSP: cacerts/, tlscacerts/, config.yaml, crls/
//	<holder>/msp/                          a local MSP: the same, with signcerts/<file>-cert.pem and keystore/priv_sk
//	<holder>/tls/                          ca.crt, and server.crt/.key (nodes) or client.crt/.key (users)
//
// config.yaml turns node OUs on: the OU of a certificate issued by the
// enrolment CA (its Fabric identity type) says whether it is a client,
// peer, admin or orderer.

const nodeOUs = `NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/%[1]s
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/%[1]s
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/%[1]s
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/%[1]s
    OrganizationalUnitIdentifier: orderer
`

// tlsFiles are a holder's TLS certificate and key names.
func tlsFiles(h Holder) (cert, key string) {
	if h.Node() {
		return "server.crt", "server.key"
	}
	return "client.crt", "client.key"
}

// complete reports whether h's folders hold both certificates (written
// last, after their keys).
func complete(h Holder) bool {
	cert, _ := tlsFiles(h)
	return exists(filepath.Join(h.Dir, "msp", "signcerts", h.File+"-cert.pem")) && exists(filepath.Join(h.Dir, "tls", cert))
}

// writeMSPBase writes the parts every MSP folder shares: the CA
// certificates and config.yaml.
func (s *server) writeMSPBase(msp string) error {
	caFile := "ca." + s.org.CA.Domain + "-cert.pem"
	for _, f := range []struct {
		path string
		raw  []byte
	}{
		{filepath.Join(msp, "cacerts", caFile), s.caPEM},
		{filepath.Join(msp, "tlscacerts", "tlsca."+s.org.CA.Domain+"-cert.pem"), s.tlsCAPEM},
		{filepath.Join(msp, "config.yaml"), fmt.Appendf(nil, nodeOUs, caFile)},
	} {
		if err := writeFile(f.path, f.raw, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeOrgMSP writes the organisation's CA certificates and channel MSP.
func (s *server) writeOrgMSP() error {
	if err := writeFile(s.org.CACert(), s.caPEM, 0o644); err != nil {
		return err
	}
	if err := writeFile(s.org.TLSCACert(), s.tlsCAPEM, 0o644); err != nil {
		return err
	}
	return s.writeMSPBase(filepath.Join(s.org.Dir, "msp"))
}

// writeMSP writes h's local MSP from its enrolment.
func (s *server) writeMSP(h Holder, e *fabca.Enrolment) error {
	msp := filepath.Join(h.Dir, "msp")
	if err := s.writeMSPBase(msp); err != nil {
		return err
	}
	key, err := fabca.KeyPEM(e.Key)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(msp, "keystore")); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(msp, "keystore", "priv_sk"), key, 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(msp, "signcerts", h.File+"-cert.pem"), e.CertPEM, 0o644)
}

// writeTLS writes h's TLS folder from its TLS enrolment.
func (s *server) writeTLS(h Holder, e *fabca.Enrolment) error {
	dir := filepath.Join(h.Dir, "tls")
	certName, keyName := tlsFiles(h)
	key, err := fabca.KeyPEM(e.Key)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "ca.crt"), s.tlsCAPEM, 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, keyName), key, 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, certName), e.CertPEM, 0o644)
}
