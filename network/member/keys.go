package member

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/pki"
)

// A Key is a private key found in a folder, and whose it is.
type Key struct {
	Path string // the file that holds it, relative to the folder
	// Owner is the MSP ID of the organisation whose CA certified the
	// key's public key (a certificate with that key, issued by or being
	// one of the organisation's root certificates), or "" when no
	// certificate the check knows has that public key.
	Owner string
	Cert  string // the file of the certificate that names the owner
}

// maxScan is the largest file Keys reads: key files are small; ledgers
// and logs are not read whole.
const maxScan = 4 << 20

// Keys lists every private key (PEM, PKCS#8 or SEC 1, also inside JSON
// strings) in the files under dir, each with its owner as far as the
// certificates in the folder, the organisation roots of member cards and
// config blocks in the folder, and the cards given tell. An
// organisation's folder (with member.yaml) names its own roots.
func Keys(dir string, cards ...*Card) ([]Key, error) {
	type cert struct {
		c    *x509.Certificate
		path string
	}
	var certs []cert
	roots := map[string][]*x509.Certificate{} // MSP ID -> roots
	type found struct {
		path string
		pub  crypto.PublicKey
	}
	var keys []found
	addCard := func(c *Card) {
		for _, p := range []string{c.RootCert, c.TLSRootCert} {
			if x, err := pemCert([]byte(p)); err == nil {
				roots[c.MSPID] = append(roots[c.MSPID], x)
			}
		}
	}
	for _, c := range cards {
		addCard(c)
		for _, p := range []string{c.RootCert, c.TLSRootCert, c.AdminCert, c.Orderer.Identity, c.Orderer.TLSCert} {
			if x, err := pemCert([]byte(p)); err == nil {
				certs = append(certs, cert{x, c.MSPID + "'s member card"})
			}
		}
	}
	// A home's CA server keeps keys that no certificate names (the idemix
	// revocation key) beside their public keys: those are the home's.
	var ownCA, ownMSP string
	pubs := map[string]crypto.PublicKey{} // file -> public key, under ownCA
	if h, err := Open(dir); err == nil {
		ownCA, ownMSP = pki.ServerDir(dir, h.CA()), h.MSPID
		org := h.Org()
		for _, p := range []string{org.CACert(), org.TLSCACert()} {
			if raw, err := os.ReadFile(p); err == nil {
				if x, err := pemCert(raw); err == nil {
					roots[h.MSPID] = append(roots[h.MSPID], x)
				}
			}
		}
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() > maxScan {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if c, err := ParseCardUnchecked(raw); err == nil {
			addCard(c)
		}
		if b := (&cb.Block{}); proto.Unmarshal(raw, b) == nil && b.Header != nil {
			if cfg, err := configblock.Config(b); err == nil {
				for msp, rs := range configRoots(cfg) {
					roots[msp] = append(roots[msp], rs...)
				}
			}
		}
		// PEM inside JSON strings has escaped newlines.
		text := bytes.ReplaceAll(raw, []byte(`\n`), []byte("\n"))
		text = bytes.ReplaceAll(text, []byte("-----BEGIN "), []byte("\n-----BEGIN "))
		for rest := text; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			switch {
			case b.Type == "CERTIFICATE":
				if x, err := x509.ParseCertificate(b.Bytes); err == nil {
					certs = append(certs, cert{x, rel})
				}
			case b.Type == "PUBLIC KEY" && ownCA != "" && strings.HasPrefix(path, ownCA+string(filepath.Separator)):
				if pub, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
					pubs[rel] = pub
				}
			case strings.HasSuffix(b.Type, "PRIVATE KEY"):
				pub, err := publicOf(b)
				if err != nil {
					return fmt.Errorf("%s: a private key that does not parse: %w", rel, err)
				}
				keys = append(keys, found{rel, pub})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	owner := func(x *x509.Certificate) string {
		msps := make([]string, 0, len(roots))
		for m := range roots {
			msps = append(msps, m)
		}
		slices.Sort(msps)
		for _, m := range msps {
			pool := x509.NewCertPool()
			for _, r := range roots[m] {
				if r.Equal(x) {
					return m
				}
				pool.AddCert(r)
			}
			// Expired certificates still say whose a key is.
			if _, err := x.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: x.NotBefore.Add(time.Second),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
				return m
			}
		}
		return ""
	}
	var out []Key
	for _, k := range keys {
		key := Key{Path: k.path}
		for _, c := range certs {
			if eq, ok := c.c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(k.pub) {
				if o := owner(c.c); o != "" {
					key.Owner, key.Cert = o, c.path
					break
				}
			}
		}
		if key.Owner == "" {
			for f, pub := range pubs {
				if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(k.pub) {
					key.Owner, key.Cert = ownMSP, f
				}
			}
		}
		out = append(out, key)
	}
	return out, nil
}

// ForeignKeys lists the private keys under dir that belong to another
// organisation than ownMSP (see Keys), and those whose owner no
// certificate tells: a member's folder should hold neither.
func ForeignKeys(dir, ownMSP string, cards ...*Card) ([]Key, error) {
	ks, err := Keys(dir, cards...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ks, func(k Key) bool { return k.Owner == ownMSP }), nil
}

func publicOf(b *pem.Block) (crypto.PublicKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		var errEC error
		if k, errEC = x509.ParseECPrivateKey(b.Bytes); errEC != nil {
			return nil, err
		}
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T is not a signing key", k)
	}
	return s.Public(), nil
}

// configRoots are the root and TLS root certificates of every MSP in a
// channel configuration.
func configRoots(cfg *cb.Config) map[string][]*x509.Certificate {
	out := map[string][]*x509.Certificate{}
	for _, g := range []string{"Application", "Orderer"} {
		for _, org := range cfg.GetChannelGroup().GetGroups()[g].GetGroups() {
			v := org.GetValues()["MSP"]
			if v == nil {
				continue
			}
			var mc mb.MSPConfig
			var fc mb.FabricMSPConfig
			if proto.Unmarshal(v.Value, &mc) != nil || proto.Unmarshal(mc.Config, &fc) != nil {
				continue
			}
			for _, p := range slices.Concat(fc.RootCerts, fc.TlsRootCerts) {
				if x, err := pemCert(p); err == nil {
					out[fc.Name] = append(out[fc.Name], x)
				}
			}
		}
	}
	return out
}
