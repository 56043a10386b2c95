package channel

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/hyperledger/fabric-config/configtx/membership"
	"go.yaml.in/yaml/v3"
)

// An MSP folder is the layout both cryptogen and a Fabric CA client write:
// cacerts/, intermediatecerts/, tlscacerts/, tlsintermediatecerts/ and a
// config.yaml naming the node OUs; a user's folder adds signcerts/ and
// keystore/. Reading only this layout keeps the update code independent
// of where the identities came from.

// LoadMSP reads an organisation's channel MSP definition from its MSP
// folder.
func LoadMSP(dir, mspID string) (configtx.MSP, error) {
	m := configtx.MSP{
		Name: mspID,
		CryptoConfig: membership.CryptoConfig{
			SignatureHashFamily:            "SHA2",
			IdentityIdentifierHashFunction: "SHA256",
		},
	}
	var err error
	for _, f := range []struct {
		sub      string
		into     *[]*x509.Certificate
		required bool
	}{
		{"cacerts", &m.RootCerts, true},
		{"intermediatecerts", &m.IntermediateCerts, false},
		{"tlscacerts", &m.TLSRootCerts, true},
		{"tlsintermediatecerts", &m.TLSIntermediateCerts, false},
	} {
		if *f.into, err = certsIn(filepath.Join(dir, f.sub), f.required); err != nil {
			return configtx.MSP{}, fmt.Errorf("MSP %s: %w", mspID, err)
		}
	}
	if m.NodeOUs, err = nodeOUs(dir); err != nil {
		return configtx.MSP{}, fmt.Errorf("MSP %s: %w", mspID, err)
	}
	return m, nil
}

// nodeOUs reads config.yaml's NodeOUs section; without the file, node OUs
// are off.
func nodeOUs(dir string) (membership.NodeOUs, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return membership.NodeOUs{}, nil
	}
	if err != nil {
		return membership.NodeOUs{}, err
	}
	type ou struct {
		Certificate                  string `yaml:"Certificate"`
		OrganizationalUnitIdentifier string `yaml:"OrganizationalUnitIdentifier"`
	}
	var cfg struct {
		NodeOUs struct {
			Enable              bool `yaml:"Enable"`
			ClientOUIdentifier  ou   `yaml:"ClientOUIdentifier"`
			PeerOUIdentifier    ou   `yaml:"PeerOUIdentifier"`
			AdminOUIdentifier   ou   `yaml:"AdminOUIdentifier"`
			OrdererOUIdentifier ou   `yaml:"OrdererOUIdentifier"`
		} `yaml:"NodeOUs"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return membership.NodeOUs{}, fmt.Errorf("parse %s/config.yaml: %w", dir, err)
	}
	n := membership.NodeOUs{Enable: cfg.NodeOUs.Enable}
	for _, f := range []struct {
		from ou
		into *membership.OUIdentifier
	}{
		{cfg.NodeOUs.ClientOUIdentifier, &n.ClientOUIdentifier},
		{cfg.NodeOUs.PeerOUIdentifier, &n.PeerOUIdentifier},
		{cfg.NodeOUs.AdminOUIdentifier, &n.AdminOUIdentifier},
		{cfg.NodeOUs.OrdererOUIdentifier, &n.OrdererOUIdentifier},
	} {
		f.into.OrganizationalUnitIdentifier = f.from.OrganizationalUnitIdentifier
		if f.from.Certificate == "" {
			// fabric-config encodes every node OU's certificate.
			return membership.NodeOUs{}, fmt.Errorf("%s/config.yaml: node OU %q names no certificate", dir, f.from.OrganizationalUnitIdentifier)
		}
		c, err := certFile(filepath.Join(dir, f.from.Certificate))
		if err != nil {
			return membership.NodeOUs{}, err
		}
		f.into.Certificate = c
	}
	return n, nil
}

// certsIn reads every PEM certificate in a folder, in name order.
func certsIn(dir string, required bool) ([]*x509.Certificate, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var cs []*x509.Certificate
	for _, n := range names {
		c, err := certFile(n)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	if required && len(cs) == 0 {
		return nil, fmt.Errorf("no certificate in %s", dir)
	}
	return cs, nil
}

func certFile(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// LoadSigner reads a user's signing identity (signcerts/ and keystore/)
// from its MSP folder.
func LoadSigner(dir, mspID string) (*configtx.SigningIdentity, error) {
	certs, err := certsIn(filepath.Join(dir, "signcerts"), true)
	if err != nil {
		return nil, fmt.Errorf("identity of %s: %w", mspID, err)
	}
	keys, err := filepath.Glob(filepath.Join(dir, "keystore", "*"))
	if err != nil || len(keys) == 0 {
		return nil, fmt.Errorf("identity of %s: no private key in %s/keystore", mspID, dir)
	}
	raw, err := os.ReadFile(keys[0])
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, fmt.Errorf("identity of %s: %s holds no PEM key", mspID, keys[0])
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity of %s: %s: %w", mspID, keys[0], err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("identity of %s: %s is not a signing key", mspID, keys[0])
	}
	return &configtx.SigningIdentity{Certificate: certs[0], PrivateKey: key, MSPID: mspID}, nil
}

// MemberOrg is the channel definition of a member organisation with the
// usual policies (readers: admin, peer, client; writers: admin, client;
// admins: admin; endorsement: peer) and its anchor peer.
func MemberOrg(m configtx.MSP, anchorHost string, anchorPort int) configtx.Organization {
	sig := func(roles ...string) configtx.Policy {
		rule := "OR("
		for i, r := range roles {
			if i > 0 {
				rule += ", "
			}
			rule += fmt.Sprintf("'%s.%s'", m.Name, r)
		}
		return configtx.Policy{Type: configtx.SignaturePolicyType, Rule: rule + ")"}
	}
	return configtx.Organization{
		Name: m.Name,
		MSP:  m,
		Policies: map[string]configtx.Policy{
			configtx.ReadersPolicyKey:     sig("admin", "peer", "client"),
			configtx.WritersPolicyKey:     sig("admin", "client"),
			configtx.AdminsPolicyKey:      sig("admin"),
			configtx.EndorsementPolicyKey: sig("peer"),
		},
		AnchorPeers: []configtx.Address{{Host: anchorHost, Port: anchorPort}},
	}
}

// OrdererOrg is the orderer-group definition of a member organisation
// that runs a SmartBFT consenter at endpoint: its orderer reads (pulls
// blocks) and writes (SmartBFT checks consenters' votes against
// /Channel/Orderer/Writers); its admins administer it.
func OrdererOrg(m configtx.MSP, endpoint string) configtx.Organization {
	sig := func(roles ...string) configtx.Policy {
		rule := "OR("
		for i, r := range roles {
			if i > 0 {
				rule += ", "
			}
			rule += fmt.Sprintf("'%s.%s'", m.Name, r)
		}
		return configtx.Policy{Type: configtx.SignaturePolicyType, Rule: rule + ")"}
	}
	return configtx.Organization{
		Name: m.Name,
		MSP:  m,
		Policies: map[string]configtx.Policy{
			configtx.ReadersPolicyKey: sig("admin", "peer", "client", "orderer"),
			configtx.WritersPolicyKey: sig("orderer"),
			configtx.AdminsPolicyKey:  sig("admin"),
		},
		OrdererEndpoints: []string{endpoint},
	}
}
