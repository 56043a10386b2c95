//go:build e2e

package netns

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the folder of the repository's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Fatalf("no go.mod above %s", wd)
	return ""
}

// fabricBin is the folder of the Fabric binaries: MTRACE_BIN, or bin/ of
// the repository (make deps puts them there).
func fabricBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MTRACE_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "bin")
	}
	for _, b := range []string{"fabric-ca-server", "fabric-ca-client", "orderer", "osnadmin"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("the Fabric binaries are missing (%v): run make deps, or set MTRACE_BIN", err)
		}
	}
	return dir
}

// A first real trial: a Fabric CA server runs on one host, on the host's
// address; another host enrolls with fabric-ca-client (a program run in
// the host) and reads the CA's info over HTTP from the test process (the
// in-process dialer). The CA is then cut off and frozen, and comes back.
func TestFabricCAAcrossHosts(t *testing.T) {
	bin := fabricBin(t)
	l := New(t, "fabric")
	ca, member := l.AddHost("ca"), l.AddHost("member")
	url := "http://" + ca.AddrPort(7054)
	p := ca.Start("fabric-ca-server", filepath.Join(bin, "fabric-ca-server"),
		[]string{"start", "-b", "admin:adminpw", "--address", ca.Addr().String(), "--port", "7054", "-H", filepath.Join(ca.Home(), "ca")}, nil, "")
	if err := member.WaitTCP(ca.AddrPort(7054), 60*time.Second); err != nil {
		t.Fatalf("%v (log %s)", err, p.Log())
	}

	// The CLI path: fabric-ca-client inside the member's host.
	home := filepath.Join(member.Home(), "admin")
	if _, err := member.Run(context.Background(), nil, filepath.Join(bin, "fabric-ca-client"),
		"enroll", "-u", "http://admin:adminpw@"+ca.AddrPort(7054), "-H", home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "msp", "signcerts", "cert.pem")); err != nil {
		t.Fatalf("enrolled, but no certificate: %v", err)
	}
	keys, err := filepath.Glob(filepath.Join(home, "msp", "keystore", "*_sk"))
	if err != nil || len(keys) != 1 {
		t.Fatalf("enrolled, keystore holds %v (%v), want one key", keys, err)
	}
	// The member's key was made on the member's host and stays there.
	key, err := os.ReadFile(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(ca.Home(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, bytes.TrimSpace(key)) {
			return errors.New("the member's private key is in the CA's home: " + path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The in-process path: the test's HTTP client dials as the member.
	client := &http.Client{Transport: &http.Transport{DialContext: member.DialContext, DisableKeepAlives: true}, Timeout: 3 * time.Second}
	cainfo := func() error {
		res, err := client.Get(url + "/cainfo")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var body struct {
			Success bool
			Result  struct{ CAChain string }
		}
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &body); err != nil || !body.Success || body.Result.CAChain == "" {
			return errors.New("cainfo: " + res.Status + ": " + string(b))
		}
		return nil
	}
	if err := cainfo(); err != nil {
		t.Fatal(err)
	}

	if err := ca.Cut(); err != nil {
		t.Fatal(err)
	}
	if err := cainfo(); err == nil {
		t.Fatal("the member reached the cut CA")
	}
	if err := ca.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if err := member.WaitTCP(ca.AddrPort(7054), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := cainfo(); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}

	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the CA to stop", p.Stopped)
	if err := cainfo(); err == nil {
		t.Fatal("the frozen CA answered")
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := cainfo(); err != nil {
		t.Fatalf("after SIGCONT: %v", err)
	}
}

// tlsFiles writes a TLS CA (ca.crt) and a server certificate for h's
// address signed by it (server.crt, server.key) into dir.
func tlsFiles(t *testing.T, dir string, h *Host) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab tls ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: h.Name()},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{h.Addr().AsSlice()},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, srv, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.crt":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.crt": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: pkcs8},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// An orderer runs on one host, listening on the host's address, with no
// channel yet (channel participation on); another host lists its channels
// with osnadmin through the admin endpoint and reaches its gRPC port. The
// orderer's identity is Fabric's sample MSP, from the Fabric module the
// repository's tools pin (network/tools).
func TestOrdererAcrossHosts(t *testing.T) {
	bin := fabricBin(t)
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hyperledger/fabric")
	list.Dir = filepath.Join(repoRoot(t), "network", "tools")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("locating Fabric's sample configuration: %v", err)
	}
	sample := os.DirFS(filepath.Join(strings.TrimSpace(string(out)), "sampleconfig"))

	l := New(t, "orderer")
	o, member := l.AddHost("orderer"), l.AddHost("member")
	cfg := filepath.Join(o.Home(), "config")
	if err := os.CopyFS(cfg, sample); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"FABRIC_CFG_PATH=" + cfg,
		"ORDERER_GENERAL_LISTENADDRESS=" + o.Addr().String(),
		"ORDERER_GENERAL_LISTENPORT=7050",
		"ORDERER_GENERAL_LOCALMSPID=SampleOrg",
		"ORDERER_GENERAL_LOCALMSPDIR=" + filepath.Join(cfg, "msp"),
		"ORDERER_GENERAL_BOOTSTRAPMETHOD=none",
		"ORDERER_GENERAL_TLS_ENABLED=true",
		"ORDERER_GENERAL_TLS_CERTIFICATE=" + filepath.Join(o.Home(), "tls", "server.crt"),
		"ORDERER_GENERAL_TLS_PRIVATEKEY=" + filepath.Join(o.Home(), "tls", "server.key"),
		"ORDERER_GENERAL_TLS_ROOTCAS=[" + filepath.Join(o.Home(), "tls", "ca.crt") + "]",
		"ORDERER_CHANNELPARTICIPATION_ENABLED=true",
		"ORDERER_FILELEDGER_LOCATION=" + filepath.Join(o.Home(), "ledger"),
		"ORDERER_CONSENSUS_WALDIR=" + filepath.Join(o.Home(), "wal"),
		"ORDERER_CONSENSUS_SNAPDIR=" + filepath.Join(o.Home(), "snap"),
		"ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:8443",
		"ORDERER_ADMIN_LISTENADDRESS=" + o.AddrPort(7053),
		"ORDERER_ADMIN_TLS_ENABLED=false",
	}
	tlsFiles(t, filepath.Join(o.Home(), "tls"), o)
	p := o.Start("orderer", filepath.Join(bin, "orderer"), nil, env, "")
	for _, port := range []uint16{7050, 7053} {
		if err := member.WaitTCP(o.AddrPort(port), 60*time.Second); err != nil {
			t.Fatalf("%v (log %s)", err, p.Log())
		}
	}
	got, err := member.Run(context.Background(), nil, filepath.Join(bin, "osnadmin"), "channel", "list", "-o", o.AddrPort(7053))
	if err != nil {
		t.Fatalf("%v (log %s)", err, p.Log())
	}
	t.Logf("osnadmin channel list from the member:\n%s", got)
	if !strings.Contains(string(got), "Status: 200") || !strings.Contains(string(got), `"channels"`) {
		t.Fatalf("osnadmin channel list from the member: %s", got)
	}
	// The orderer itself is the program the lab recorded.
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(p.PID()) + "/exe"); err != nil || filepath.Base(exe) != "orderer" {
		t.Fatalf("pid %d runs %q (%v), want the orderer", p.PID(), exe, err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := member.Run(context.Background(), nil, filepath.Join(bin, "osnadmin"), "channel", "list", "-o", o.AddrPort(7053)); err == nil {
		t.Fatal("osnadmin reached a stopped orderer")
	}
}
