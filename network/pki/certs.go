package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Cert is one certificate the network holds, for the expiry check.
type Cert struct {
	Path     string // relative to the folder searched
	Subject  string // common name
	Kind     string // node, user, TLS, CA
	NotAfter time.Time
}

// Certs reads every certificate of the network under home: the MSP
// folders' signing certificates, TLS certificates and CA certificates in
// crypto/, and each CA server's own TLS certificate in ca/. They are
// sorted by expiry, the first to expire first.
func Certs(home string) ([]Cert, error) {
	var out []Cert
	for _, sub := range []string{"crypto", "ca"} {
		root := filepath.Join(home, sub)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			kind := certKind(sub, path)
			if kind == "" {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b, _ := pem.Decode(raw)
			if b == nil || b.Type != "CERTIFICATE" {
				return fmt.Errorf("%s: no PEM certificate", path)
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			rel, _ := filepath.Rel(home, path)
			out = append(out, Cert{Path: rel, Subject: c.Subject.CommonName, Kind: kind, NotAfter: c.NotAfter})
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b Cert) int { return a.NotAfter.Compare(b.NotAfter) })
	return out, nil
}

// certKind says what a file under crypto/ or ca/ is, or "" for a file
// that is not one of the certificates the check covers (copies of CA
// certificates inside MSP folders are covered once, in ca/ and tlsca/).
func certKind(sub, path string) string {
	dir, file := filepath.Base(filepath.Dir(path)), filepath.Base(path)
	switch {
	case sub == "ca":
		if file == "tls-cert.pem" {
			return "CA server TLS"
		}
		return ""
	case dir == "signcerts" && strings.Contains(path, string(filepath.Separator)+"users"+string(filepath.Separator)):
		return "user"
	case dir == "signcerts":
		return "node"
	case dir == "tls" && (file == "server.crt" || file == "client.crt"):
		return "TLS"
	case (dir == "ca" || dir == "tlsca") && strings.HasSuffix(file, "-cert.pem"):
		return "CA"
	}
	return ""
}

// Expiring returns the certificates that expire before now+within (those
// already expired included), in the order given.
func Expiring(certs []Cert, now time.Time, within time.Duration) []Cert {
	var out []Cert
	for _, c := range certs {
		if c.NotAfter.Before(now.Add(within)) {
			out = append(out, c)
		}
	}
	return out
}
