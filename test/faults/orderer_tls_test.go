//go:build e2e

package faults

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"

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
	for i, o := range orderers {
		// orderer n listens on base+n-1; its certificate names
		// orderer<n>.<the ordering organisation's domain>.
		addr := fmt.Sprintf("127.0.0.1:%d", testnet.BasePort()+i)
		p.Orderer.ServerName = strings.Replace(env.Profiles["municipality"].Orderer.ServerName, "orderer1.", o+".", 1)
		if err := ordererConfig(t, p, addr, member); err != nil {
			t.Fatalf("%s refuses a member's TLS client certificate: %v", o, err)
		}
		for _, c := range []struct {
			name string
			cert tls.Certificate
			want []string
		}{
			{"no client certificate", tls.Certificate{}, []string{"certificate required", "bad certificate"}},
			{"a client certificate from a CA outside the channel", foreign, []string{"unknown certificate authority", "bad certificate"}},
		} {
			err := ordererConfig(t, p, addr, c.cert)
			if err == nil {
				t.Fatalf("%s serves a TLS client with %s", o, c.name)
			}
			if !mentionsAny(err.Error(), c.want) {
				t.Fatalf("%s, TLS client with %s: %v; want a TLS refusal (%s)", o, c.name, err, strings.Join(c.want, " or "))
			}
			t.Logf("%s refuses a TLS client with %s: %s", o, c.name, testnet.OneLine(err.Error(), 200))
		}
	}
}

func mentionsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
