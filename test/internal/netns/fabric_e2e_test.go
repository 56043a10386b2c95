//go:build e2e

package netns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fabricBin is the folder of the Fabric binaries: MTRACE_BIN, or bin/ of
// the repository (make deps puts them there).
func fabricBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MTRACE_BIN")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "bin")
				break
			}
		}
	}
	for _, b := range []string{"fabric-ca-server", "fabric-ca-client"} {
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
