package channel

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
)

// ParseCRL decodes a PEM certificate revocation list, as Fabric CA's
// gencrl returns it, into the form fabric-config stores in an MSP.
func ParseCRL(crlPEM []byte) (*pkix.CertificateList, error) {
	b, _ := pem.Decode(crlPEM)
	if b == nil || b.Type != "X509 CRL" {
		return nil, errors.New("no PEM CRL found")
	}
	// Deprecated, but fabric-config keeps an MSP's CRLs as pkix.CertificateList, which only ParseCRL yields.
	crl, err := x509.ParseCRL(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CRL: %w", err)
	}
	return crl, nil
}

// SetRevocationList makes crl the revocation list of mspID's CA in the
// channel configuration c: a CRL in the organisation's MSP from the same
// issuer is replaced (a CA's CRL lists everything it has revoked, so the
// newest one is all that is needed), CRLs of other issuers are kept, and
// the CRL is added when the MSP has none from its issuer. It reports
// whether the MSP changed. The organisation must be an application
// organisation of the channel; when it is also in the orderer group (it
// runs an orderer), its MSP there changes the same way.
func SetRevocationList(c *configtx.ConfigTx, mspID string, crl *pkix.CertificateList) (bool, error) {
	org := c.Application().Organization(mspID)
	if org == nil {
		return false, fmt.Errorf("%s is not an application organisation of the channel", mspID)
	}
	m, err := org.MSP().Configuration()
	if err != nil {
		return false, fmt.Errorf("MSP %s: %w", mspID, err)
	}
	issuer := issuerOf(crl)
	if err := signedByMSP(m, issuer, crl); err != nil {
		return false, fmt.Errorf("MSP %s: %w", mspID, err)
	}
	var list []*pkix.CertificateList
	replaced, changed := false, false
	for _, old := range m.RevocationList {
		if issuerOf(old) != issuer {
			list = append(list, old)
			continue
		}
		if replaced {
			changed = true // a second CRL of the same issuer: dropped
			continue
		}
		replaced = true
		list = append(list, crl)
		if !bytes.Equal(old.TBSCertList.Raw, crl.TBSCertList.Raw) {
			changed = true
		}
	}
	if !replaced {
		list = append(list, crl)
		changed = true
	}
	if !changed {
		return false, nil
	}
	m.RevocationList = list
	if err := org.SetMSP(m); err != nil {
		return false, fmt.Errorf("MSP %s: %w", mspID, err)
	}
	// A member that runs an orderer is in the orderer group too, with
	// the same MSP: Fabric refuses a channel that defines one MSP ID in
	// two versions, so both change together.
	if cfg := c.UpdatedConfig(); cfg.GetChannelGroup().GetGroups()["Orderer"] != nil {
		if oo := c.Orderer().Organization(mspID); oo != nil {
			if err := oo.SetMSP(m); err != nil {
				return false, fmt.Errorf("MSP %s in the orderer group: %w", mspID, err)
			}
		}
	}
	return true, nil
}

// issuerOf names the CA that signed crl.
func issuerOf(crl *pkix.CertificateList) string {
	var n pkix.Name
	n.FillFromRDNSequence(&crl.TBSCertList.Issuer)
	return n.String()
}

// signedByMSP checks that the CRL is signed by one of the MSP's root or
// intermediate CA certificates whose subject is its issuer: a list that
// only names a CA, unsigned or signed by another key, is refused before it
// reaches the channel, where the peers would reject it.
func signedByMSP(m configtx.MSP, issuer string, crl *pkix.CertificateList) error {
	raw, err := asn1.Marshal(*crl)
	if err != nil {
		return fmt.Errorf("encode the CRL: %w", err)
	}
	rl, err := x509.ParseRevocationList(raw)
	if err != nil {
		return fmt.Errorf("parse the CRL: %w", err)
	}
	named := false
	for _, cs := range [][]*x509.Certificate{m.RootCerts, m.IntermediateCerts} {
		for _, c := range cs {
			if c.Subject.String() != issuer {
				continue
			}
			named = true
			if rl.CheckSignatureFrom(c) == nil {
				return nil
			}
		}
	}
	if !named {
		return fmt.Errorf("the CRL is issued by %q, which is not a CA of the MSP", issuer)
	}
	return fmt.Errorf("the CRL names %q as its issuer but that CA did not sign it", issuer)
}

// RevokedSerials lists the serial numbers (hex) in the revocation list of
// mspID's MSP in cfg.
func RevokedSerials(c *configtx.ConfigTx, mspID string) ([]string, error) {
	org := c.Application().Organization(mspID)
	if org == nil {
		return nil, fmt.Errorf("%s is not an application organisation of the channel", mspID)
	}
	m, err := org.MSP().Configuration()
	if err != nil {
		return nil, fmt.Errorf("MSP %s: %w", mspID, err)
	}
	var out []string
	for _, crl := range m.RevocationList {
		for _, r := range crl.TBSCertList.RevokedCertificates {
			out = append(out, r.SerialNumber.Text(16))
		}
	}
	return out, nil
}

// WaitConfig waits until the channel's last config block is newer than
// after, and returns that configuration. It asks the orderer once a
// second until ctx ends.
func (o *Orderer) WaitConfig(ctx context.Context, after uint64) (*Config, error) {
	for {
		cfg, err := o.Config(ctx)
		if err != nil {
			return nil, err
		}
		if cfg.Block > after {
			return cfg, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the channel configuration is still that of block %d: %w", cfg.Block, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
