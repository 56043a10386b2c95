package member

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

// tlsNode listens on a port of testport as a node whose TLS certificate
// is certFile/keyFile would, requiring a client certificate from the CA
// of caFile, and sends the common name of each client certificate it
// sees on the channel it returns.
func tlsNode(t *testing.T, certFile, keyFile, caFile string) (port int, clients <-chan string) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	ca, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	lis := testport.Listen(t)
	l := tls.NewListener(lis, &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	ch := make(chan string, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if tc.Handshake() == nil {
				if cs := tc.ConnectionState().PeerCertificates; len(cs) > 0 {
					select {
					case ch <- cs[0].Subject.CommonName:
					default:
					}
				}
			}
			_ = c.Close()
		}
	}()
	return lis.Addr().(*net.TCPAddr).Port, ch
}

// A node is up when it completes a TLS handshake as the node of the
// organisation (its name, the organisation's TLS root), with the admin's
// client certificate, and its /healthz answers OK.
func TestProbeNeedsTheNodesTLSHandshakeAndHealth(t *testing.T) {
	orgs, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "kaunas")
	h := orgs["kaunas"].Home
	tlsDir := filepath.Join(h.OrdererDir(), "tls")
	port, clients := tlsNode(t, filepath.Join(tlsDir, "server.crt"), filepath.Join(tlsDir, "server.key"), filepath.Join(tlsDir, "ca.crt"))
	healthy := true
	health := testport.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	}))
	h.Ports.Orderer = port
	h.Ports.OrdererOps = health.Listener.Addr().(*net.TCPAddr).Port

	p, err := h.program(NodeOrderer, "/opt/fabric/bin")
	require.NoError(t, err)
	assert.Equal(t, "/opt/fabric/bin/orderer", p.bin)
	require.NotNil(t, p.tls, "an enrolled organisation's orderer is probed over TLS")
	assert.Equal(t, h.OrdererHost(), p.tls.ServerName)
	client := &http.Client{Timeout: 2 * time.Second}
	require.NoError(t, probe(client, p))
	select {
	case cn := <-clients:
		assert.Equal(t, "Admin@"+h.Domain, cn, "the probe presents the admin's TLS client certificate")
	case <-time.After(5 * time.Second):
		t.Fatal("the node saw no client certificate")
	}

	healthy = false
	err = probe(client, p)
	assert.EqualError(t, err, "http://"+local(h.Ports.OrdererOps)+"/healthz: 503 Service Unavailable")

	// A listener with another organisation's certificate is not the node.
	other, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "leuven")
	otherTLS := filepath.Join(other["leuven"].OrdererDir(), "tls")
	h.Ports.Orderer, _ = tlsNode(t, filepath.Join(otherTLS, "server.crt"), filepath.Join(otherTLS, "server.key"), filepath.Join(otherTLS, "ca.crt"))
	healthy = true
	p, err = h.program(NodeOrderer, "/opt/fabric/bin")
	require.NoError(t, err)
	err = probe(client, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no TLS handshake on "+h.OrdererAddress())

	// The peer is probed the same way, as the peer's host.
	p, err = h.program(NodePeer, "/opt/fabric/bin")
	require.NoError(t, err)
	require.NotNil(t, p.tls)
	assert.Equal(t, h.PeerHost(), p.tls.ServerName)
}

// Without the TLS root or the admin's client certificate there is no TLS
// to probe with: the node is probed by its port alone.
func TestClientTLSNeedsTheRootAndTheAdminsCertificate(t *testing.T) {
	orgs, _ := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", DefaultPorts }, "kaunas")
	h := orgs["kaunas"].Home
	root := filepath.Join(h.OrdererDir(), "tls", "ca.crt")
	c := h.clientTLS(h.OrdererHost(), root)
	require.NotNil(t, c)
	require.Len(t, c.Certificates, 1)
	assert.Equal(t, []string{"h2"}, c.NextProtos)
	assert.Equal(t, uint16(tls.VersionTLS12), c.MinVersion)

	assert.Nil(t, h.clientTLS(h.OrdererHost(), filepath.Join(t.TempDir(), "none.crt")), "no root file")
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o644))
	assert.Nil(t, h.clientTLS(h.OrdererHost(), notPEM), "a root file without a certificate")
	require.NoError(t, os.Remove(filepath.Join(h.AdminDir(), "tls", "client.key")))
	assert.Nil(t, h.clientTLS(h.OrdererHost(), root), "no admin client key")
}

func TestNodeStateString(t *testing.T) {
	for want, s := range map[string]NodeState{
		"peer: stopped":                                        {Node: "peer"},
		"peer: stopped (stale PID file removed)":               {Node: "peer", Stale: true},
		"peer: running (PID 42), healthy":                      {Node: "peer", PID: 42, Healthy: true},
		"peer: running (PID 42), not healthy: 503 Unavailable": {Node: "peer", PID: 42, Detail: "503 Unavailable"},
	} {
		assert.Equal(t, want, s.String())
	}
}
