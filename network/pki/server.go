// Package pki gives the local network its identities from Fabric CAs. Each
// organisation, the ordering one included, runs one Fabric CA server with
// two CAs: the enrolment CA ca-<node>, whose certificates make the MSP,
// and the TLS CA tlsca-<node>, whose certificates secure the connections.
// The package writes the servers' configuration, registers and enrols
// every node, Admin, User1 and person of the consortium file into the MSP
// folder layout cryptogen used to write (so that every tool and test
// reads the folders unchanged), copies each organisation's current CRL
// into its local MSPs, and lists the certificates that expire soon.
//
// Where things live in MTRACE_HOME:
//
//	ca/<org>/                   the CA server's home: its config, CA key and
//	                            certificate, TLS certificate and database
//	ca/<org>/tlsca/             the TLS CA's config, key, certificate, database
//	ca/<org>/registrar/{ca,tlsca}/  the CA registrar's enrolment (cert.pem, key.pem)
//	ca/<org>/secrets/{ca,tlsca}/    enrolment secrets of identities registered
//	                            but not yet written into crypto/
//	crypto/                     the MSP folders (network/README.md)
//
// <org> is the member's node name. scripts/network.sh starts
// and stops the servers; this package only talks to them.
package pki

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/mtrace/mtrace/network/topology"
)

//go:embed templates/*.tmpl
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "templates/*.tmpl"))

// Registrar is the enrolment ID of each CA's own registrar.
const Registrar = "registrar"

// ServerDir is the CA server's home: MTRACE_HOME/ca/<org>.
func ServerDir(home string, ca topology.CA) string { return filepath.Join(home, "ca", ca.Org) }

// TLSRoot is the certificate that signs the CA server's TLS certificate:
// its enrolment CA's certificate, which the server writes at its first
// start.
func TLSRoot(home string, ca topology.CA) string {
	return filepath.Join(ServerDir(home, ca), "ca-cert.pem")
}

// WriteServerConfig writes the configuration of ca's server (the enrolment
// CA's, which names the TLS CA's) under ServerDir. The registrar's secret
// is made at the first call and kept; the CAs' keys and databases are the
// server's and survive any later call.
func WriteServerConfig(home string, ca topology.CA) error {
	dir := ServerDir(home, ca)
	if err := os.MkdirAll(filepath.Join(dir, "tlsca"), 0o700); err != nil {
		return err
	}
	secret, err := registrarSecret(dir)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		server   bool
		name, cn string
		path     string
	}{
		{true, ca.Name, "ca." + ca.Domain, filepath.Join(dir, "fabric-ca-server-config.yaml")},
		{false, ca.TLSName, "tlsca." + ca.Domain, filepath.Join(dir, "tlsca", "fabric-ca-server-config.yaml")},
	} {
		var b bytes.Buffer
		err := tmpl.ExecuteTemplate(&b, "fabric-ca-server-config.yaml.tmpl", struct {
			CA                          topology.CA
			Server                      bool
			Name, CN, Registrar, Secret string
		}{ca, c.server, c.name, c.cn, Registrar, secret})
		if err != nil {
			return fmt.Errorf("render the config of %s: %w", c.name, err)
		}
		if err := writeFile(c.path, b.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// registrarSecret is the CA registrar's secret, made once and kept in the
// server's home.
func registrarSecret(dir string) (string, error) {
	path := filepath.Join(dir, "registrar.secret")
	raw, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s, err := newSecret()
	if err != nil {
		return "", err
	}
	return s, writeFile(path, []byte(s+"\n"), 0o600)
}

// newSecret is a random enrolment secret.
func newSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeFile writes through a temporary file, so that a reader (or a run
// that stopped half way) never sees half a file, creating the folder.
func writeFile(path string, raw []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
