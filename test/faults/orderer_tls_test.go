//go:build e2e

package faults

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// ordererConfig reads the channel configuration from the orderer at addr
// over TLS, presenting cert (none if empty) and signing as profile p,
// and expecting the server name of p's orderer section.
func ordererConfig(t *testing.T, p testnet.Profile, addr string, cert tls.Certificate) error {
	t.Helper()
	id, err := fabca.LoadIdentity(p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	o, err := channel.Dial(addr, p.Orderer.TLSRootCert, p.Orderer.ServerName, cert, p.Channel,
		&configtx.SigningIdentity{Certificate: id.Cert, PrivateKey: id.Key, MSPID: p.MSPID})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = o.Config(ctx)
	return err
}

// TestOrdererRequiresMemberTLSClientCertificate: every orderer refuses a
// TLS client that presents no certificate, or one from a CA outside the
// channel, before any Broadcast or Deliver call reaches it, even when the
// request is signed by a member; the same request with a member's TLS
// client certificate is served.
func TestOrdererRequiresMemberTLSClientCertificate(t *testing.T) {
	p := env.Profiles["municipality"]
	if p.Orderer.Endpoint == "" || p.Orderer.TLSCert == "" {
		t.Fatalf("profile municipality has no orderer section with a TLS client certificate: %+v", p.Orderer)
	}
	member, err := tls.LoadX509KeyPair(p.Orderer.TLSCert, p.Orderer.TLSKey)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := tls.LoadX509KeyPair(foreignIdentity(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orderers {
		// Each member's orderer is the one its own profiles name, with
		// its own TLS CA; the municipality's TLS client certificate is
		// a member's for every one of them.
		own := env.Profiles[strings.TrimSuffix(o, "-orderer")].Orderer
		if own.Endpoint == "" {
			t.Fatalf("no profile names %s", o)
		}
		addr := own.Endpoint
		p.Orderer.ServerName, p.Orderer.TLSRootCert = own.ServerName, own.TLSRootCert
		if err := ordererConfig(t, p, addr, member); err != nil {
			t.Fatalf("%s refuses a member's TLS client certificate: %v", o, err)
		}
		for _, c := range []struct {
			name   string
			cert   tls.Certificate
			reason string // in the orderer's log of the failed handshake
		}{
			{"no client certificate", tls.Certificate{}, "tls: client didn't provide a certificate"},
			{"a client certificate from a CA outside the channel", foreign, "certificate signed by unknown authority"},
		} {
			log := filepath.Join(env.Home, "logs", o+".log")
			from := logSize(t, log)
			err := ordererConfig(t, p, addr, c.cert)
			if err == nil {
				t.Fatalf("%s serves a TLS client with %s", o, c.name)
			}
			if code := status.Code(err); code != codes.Unavailable {
				t.Fatalf("%s, TLS client with %s: %v (code %s); want Unavailable, the connection refused", o, c.name, err, code)
			}
			// The client sees a closed connection; the orderer's log
			// says why it closed it.
			if err := testnet.Eventually(5*time.Second, 100*time.Millisecond, func() error {
				if line := logLineSince(t, log, from, "TLS handshake failed"); !strings.Contains(line, c.reason) {
					return fmt.Errorf("no failed handshake for %q in %s since offset %d (last: %q)", c.reason, log, from, line)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s refuses a TLS client with %s: client sees %s; orderer: %s", o, c.name,
				testnet.OneLine(err.Error(), 120), c.reason)
		}
	}
}

func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logLineSince returns the last line of the log after offset from that
// contains sub, or "".
func logLineSince(t *testing.T, path string, from int64, sub string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, line := range strings.Split(string(raw[min(from, int64(len(raw))):]), "\n") {
		if strings.Contains(line, sub) {
			last = line
		}
	}
	return last
}
