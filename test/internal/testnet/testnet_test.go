package testnet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/testport"
)

const peerName = "peer0.test.local"

// pemPair makes a self-signed ECDSA certificate for cn and its key.
func pemPair(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func write(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, mode))
}

// call is one qscc call the fake gateway answered.
type call struct {
	Channel string // the proposal's channel
	MSPID   string // the creator's
	CC      string
	Args    []string // function first
}

// fakeGateway is a Fabric Gateway service that answers qscc queries with
// scripted functions.
type fakeGateway struct {
	gateway.UnimplementedGatewayServer
	mu     sync.Mutex
	calls  []call
	answer func(c call) ([]byte, error)
}

func (g *fakeGateway) Evaluate(_ context.Context, req *gateway.EvaluateRequest) (*gateway.EvaluateResponse, error) {
	var prop peer.Proposal
	if err := proto.Unmarshal(req.GetProposedTransaction().GetProposalBytes(), &prop); err != nil {
		return nil, err
	}
	var hdr common.Header
	var ch common.ChannelHeader
	var sh common.SignatureHeader
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	// Each step reads a field the step before it filled in.
	for _, step := range []struct {
		raw func() []byte
		m   proto.Message
	}{
		{func() []byte { return prop.Header }, &hdr},
		{func() []byte { return hdr.ChannelHeader }, &ch},
		{func() []byte { return hdr.SignatureHeader }, &sh},
		{func() []byte { return prop.Payload }, &cpp},
		{func() []byte { return cpp.Input }, &cis},
	} {
		if err := proto.Unmarshal(step.raw(), step.m); err != nil {
			return nil, err
		}
	}
	c := call{Channel: ch.ChannelId, MSPID: mspOf(sh.Creator), CC: cis.GetChaincodeSpec().GetChaincodeId().GetName()}
	for _, a := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		c.Args = append(c.Args, string(a))
	}
	g.mu.Lock()
	g.calls = append(g.calls, c)
	answer := g.answer
	g.mu.Unlock()
	payload, err := answer(c)
	if err != nil {
		return nil, err
	}
	return &gateway.EvaluateResponse{Result: &peer.Response{Status: 200, Payload: payload}}, nil
}

func mspOf(creator []byte) string {
	var id msp.SerializedIdentity
	if proto.Unmarshal(creator, &id) != nil {
		return ""
	}
	return id.Mspid
}

// fixture is a fake network home: a repository root with bin/ and
// scripts/, a runtime folder, a CLI config whose four peer profiles all
// point at one fake gateway.
type fixture struct {
	env  *Env
	gw   *fakeGateway
	root string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{root: root, gw: &fakeGateway{}}
	srvCert, srvKey := pemPair(t, peerName)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	require.NoError(t, err)
	lis := testport.Listen(t)
	s := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&pair)))
	gateway.RegisterGatewayServer(s, f.gw)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)

	tlsRoot := filepath.Join(root, "crypto", "tlsca.pem")
	write(t, tlsRoot, srvCert, 0o644)
	var cfg strings.Builder
	cfg.WriteString("profiles:\n")
	for _, p := range Peers {
		cert, key := pemPair(t, "User1@"+p)
		user := filepath.Join(root, "crypto", p, "users", "User1")
		certPath := filepath.Join(user, "msp", "signcerts", "cert.pem")
		keyPath := filepath.Join(user, "msp", "keystore", "key.pem")
		write(t, certPath, cert, 0o644)
		write(t, keyPath, key, 0o600)
		fmt.Fprintf(&cfg, "  %s:\n    endpoint: %s\n    tlsRootCert: %s\n    serverName: %s\n    mspId: %sMSP\n    cert: %s\n    key: %s\n    channel: circular\n    chaincode: mtrace\n",
			p, lis.Addr(), tlsRoot, peerName, p, certPath, keyPath)
	}
	config := filepath.Join(root, "home", "config.yaml")
	write(t, config, []byte(cfg.String()), 0o644)
	t.Setenv("MTRACE_CONFIG", config)
	t.Setenv("MTRACE_HOME", filepath.Join(root, "home"))
	t.Setenv("MTRACE_BIN", filepath.Join(root, "bin"))
	f.env, err = Load()
	require.NoError(t, err)
	return f
}

func TestLoad(t *testing.T) {
	f := newFixture(t)
	e := f.env
	assert.Equal(t, filepath.Join(f.root, "home", "config.yaml"), e.Config)
	assert.Equal(t, filepath.Join(f.root, "home"), e.Home)
	assert.Equal(t, filepath.Join(f.root, "bin"), e.Bin)
	assert.Equal(t, f.root, e.Root, "the repository holds bin/")
	require.Len(t, e.Profiles, 4)
	p := e.Profiles["maker"]
	assert.Equal(t, "makerMSP", p.MSPID)
	assert.Equal(t, peerName, p.ServerName)
	assert.Equal(t, "circular", p.Channel)
	assert.Equal(t, "mtrace", p.Chaincode)
	assert.Equal(t, filepath.Join(f.root, "crypto", "maker", "users", "User1", "msp", "signcerts", "cert.pem"), p.Cert)
	assert.Equal(t, "circular", e.Channel())
}

func TestLoadOrdererSection(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	write(t, cfg, []byte(`profiles:
  maker:
    endpoint: 127.0.0.1:1
    channel: circular
    orderer:
      endpoint: 127.0.0.1:2
      tlsRootCert: /o/tlsca.pem
      serverName: orderer1.test
      tlsCert: /u/tls/client.crt
      tlsKey: /u/tls/client.key
`), 0o644)
	t.Setenv("MTRACE_CONFIG", cfg)
	t.Setenv("MTRACE_HOME", dir)
	t.Setenv("MTRACE_BIN", filepath.Join(dir, "bin"))
	e, err := Load()
	require.NoError(t, err)
	o := e.Profiles["maker"].Orderer
	assert.Equal(t, "127.0.0.1:2", o.Endpoint)
	assert.Equal(t, "/o/tlsca.pem", o.TLSRootCert)
	assert.Equal(t, "orderer1.test", o.ServerName)
	assert.Equal(t, "/u/tls/client.crt", o.TLSCert)
	assert.Equal(t, "/u/tls/client.key", o.TLSKey)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, unset := range []string{"MTRACE_CONFIG", "MTRACE_HOME", "MTRACE_BIN"} {
		t.Run(unset, func(t *testing.T) {
			t.Setenv("MTRACE_CONFIG", filepath.Join(dir, "config.yaml"))
			t.Setenv("MTRACE_HOME", dir)
			t.Setenv("MTRACE_BIN", dir)
			t.Setenv(unset, "")
			_, err := Load()
			assert.EqualError(t, err, "MTRACE_CONFIG, MTRACE_HOME and MTRACE_BIN must be set: run these tests with `make test` or `make test-e2e`")
		})
	}
	t.Setenv("MTRACE_HOME", dir)
	t.Setenv("MTRACE_BIN", dir)

	missing := filepath.Join(dir, "missing.yaml")
	t.Setenv("MTRACE_CONFIG", missing)
	_, err := Load()
	assert.ErrorContains(t, err, "read CLI config: ")
	assert.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(dir, "bad.yaml")
	write(t, bad, []byte("profiles: [unclosed"), 0o644)
	t.Setenv("MTRACE_CONFIG", bad)
	_, err = Load()
	assert.ErrorContains(t, err, "parse "+bad+": ")

	// Reload keeps the old environment when the new one does not load.
	e := &Env{Config: "old"}
	assert.Error(t, e.Reload())
	assert.Equal(t, "old", e.Config)
}

func TestReload(t *testing.T) {
	f := newFixture(t)
	raw, err := os.ReadFile(f.env.Config)
	require.NoError(t, err)
	// The network's tooling rewrites the file: one organisation left.
	i := strings.Index(string(raw), "  auditor:")
	require.Positive(t, i)
	write(t, f.env.Config, raw[:i], 0o644)
	require.NoError(t, f.env.Reload())
	assert.Len(t, f.env.Profiles, 3)
	assert.NotContains(t, f.env.Profiles, "auditor")
}

func TestSigner(t *testing.T) {
	f := newFixture(t)
	p := f.env.Profiles["recycler"]
	id, sign, err := Signer(p.MSPID, p.Cert, p.Key)
	require.NoError(t, err)
	assert.Equal(t, "recyclerMSP", id.MspID())
	certPEM, err := os.ReadFile(p.Cert)
	require.NoError(t, err)
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	d := sha256.Sum256([]byte("msg"))
	sig, err := sign(d[:])
	require.NoError(t, err)
	assert.True(t, ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), d[:], sig), "the key signs for the certificate")

	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	write(t, junk, []byte("junk"), 0o600)
	_, _, err = Signer("X", filepath.Join(dir, "missing"), p.Key)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, _, err = Signer("X", junk, p.Key)
	assert.Error(t, err)
	_, _, err = Signer("X", p.Cert, filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, _, err = Signer("X", p.Cert, junk)
	assert.Error(t, err)
}

func TestGatewayErrors(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.env.Gateway("nobody")
	assert.EqualError(t, err, `no profile "nobody" in `+f.env.Config)

	p := f.env.Profiles["maker"]
	bad := p
	bad.TLSRootCert = filepath.Join(t.TempDir(), "missing.pem")
	_, _, err = Connect(bad)
	assert.ErrorIs(t, err, os.ErrNotExist)
	bad = p
	bad.Key = filepath.Join(t.TempDir(), "missing.pem")
	_, _, err = Connect(bad)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestHeight(t *testing.T) {
	f := newFixture(t)
	f.gw.answer = func(c call) ([]byte, error) {
		return proto.Marshal(&common.BlockchainInfo{Height: 42})
	}
	h, err := f.env.Height("maker")
	require.NoError(t, err)
	assert.Equal(t, uint64(42), h)
	require.Len(t, f.gw.calls, 1)
	assert.Equal(t, call{Channel: "circular", MSPID: "makerMSP", CC: "qscc", Args: []string{"GetChainInfo", "circular"}}, f.gw.calls[0])

	hs, err := f.env.Heights()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"municipality": 42, "recycler": 42, "maker": 42, "auditor": 42}, hs)
	var msps []string
	for _, c := range f.gw.calls[1:] {
		msps = append(msps, c.MSPID)
	}
	assert.Equal(t, []string{"municipalityMSP", "recyclerMSP", "makerMSP", "auditorMSP"}, msps, "each peer is asked as its own organisation")

	f.gw.answer = func(c call) ([]byte, error) { return []byte{0xff}, nil }
	_, err = f.env.Height("maker")
	assert.Error(t, err, "an answer that is no BlockchainInfo")

	f.gw.answer = func(c call) ([]byte, error) { return nil, status.Error(codes.Unavailable, "peer down") }
	_, err = f.env.Heights()
	assert.ErrorContains(t, err, "height of municipality: ")
	_, err = f.env.Height("nobody")
	assert.ErrorContains(t, err, `no profile "nobody"`)
}

func TestAgreed(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	n := uint64(0)
	// Every answer is higher than the last: the peers never agree.
	f.gw.answer = func(c call) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return proto.Marshal(&common.BlockchainInfo{Height: n})
	}
	_, err := f.env.Agreed(300*time.Millisecond, 0)
	assert.ErrorContains(t, err, "peer heights differ or lag: ")

	f.gw.answer = func(c call) ([]byte, error) { return proto.Marshal(&common.BlockchainInfo{Height: 7}) }
	h, err := f.env.Agreed(time.Second, 7)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), h)
	_, err = f.env.Agreed(300*time.Millisecond, 8)
	assert.ErrorContains(t, err, "(want all >= 8)")
}

func TestBlock(t *testing.T) {
	f := newFixture(t)
	want := &common.Block{Header: &common.BlockHeader{Number: 5}, Metadata: &common.BlockMetadata{Metadata: [][]byte{nil, nil, {0, 11}}}}
	f.gw.answer = func(c call) ([]byte, error) {
		switch {
		case c.Args[0] == "GetBlockByNumber" && c.Args[2] == "5", c.Args[0] == "GetBlockByTxID" && c.Args[2] == "tx5":
			return proto.Marshal(want)
		case c.Args[0] == "GetBlockByNumber" && c.Args[2] == "6":
			return []byte{0xff}, nil
		}
		st, err := status.New(codes.Aborted, "evaluate call to endorser returned error").WithDetails(
			&gateway.ErrorDetail{Address: "peer0:7051", MspId: "MakerMSP", Message: "chaincode response 500, no such block"})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	b, err := f.env.Block("maker", 5)
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, b), "the peer's block, with its metadata")
	b, err = f.env.BlockByTxID("auditor", "tx5")
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, b))
	assert.Equal(t, []string{"GetBlockByNumber", "circular", "5"}, f.gw.calls[0].Args)
	assert.Equal(t, "makerMSP", f.gw.calls[0].MSPID)
	assert.Equal(t, []string{"GetBlockByTxID", "circular", "tx5"}, f.gw.calls[1].Args)
	assert.Equal(t, "auditorMSP", f.gw.calls[1].MSPID)

	_, err = f.env.BlockByTxID("maker", "nope")
	assert.EqualError(t, err, "qscc GetBlockByTxID nope on maker's peer: evaluate call to endorser returned error; MakerMSP: chaincode response 500, no such block")
	_, err = f.env.Block("maker", 6)
	assert.ErrorContains(t, err, "qscc GetBlockByNumber 6: ")
	_, err = f.env.Block("nobody", 1)
	assert.ErrorContains(t, err, `no profile "nobody"`)
}

func TestConnectOptions(t *testing.T) {
	f := newFixture(t)
	f.gw.answer = func(c call) ([]byte, error) { return []byte("ok"), nil }
	gw, done, err := f.env.Gateway("recycler", client.WithEvaluateTimeout(5*time.Second))
	require.NoError(t, err)
	defer done()
	res, err := gw.GetNetwork("circular").GetContract("mtrace").EvaluateTransaction("ReadBatch", "B-1")
	require.NoError(t, err)
	assert.Equal(t, "ok", string(res))
	assert.Equal(t, call{Channel: "circular", MSPID: "recyclerMSP", CC: "mtrace", Args: []string{"ReadBatch", "B-1"}}, f.gw.calls[0])
}

func TestMessage(t *testing.T) {
	assert.Equal(t, "", Message(nil))
	assert.Equal(t, "plain failure", Message(errors.New("plain failure")))
	assert.Equal(t, "wrapped: plain", Message(fmt.Errorf("wrapped: %w", errors.New("plain"))))

	st, err := status.New(codes.Aborted, "failed to endorse transaction").WithDetails(
		&gateway.ErrorDetail{Address: "a:1", MspId: "MakerMSP", Message: "chaincode response 500, not yours"},
		&common.Envelope{}, // not an ErrorDetail: left out
		&gateway.ErrorDetail{Address: "b:1", MspId: "AuditorMSP", Message: "timeout"},
	)
	require.NoError(t, err)
	assert.Equal(t, "failed to endorse transaction; MakerMSP: chaincode response 500, not yours; AuditorMSP: timeout", Message(st.Err()))
	assert.Equal(t, "no details", Message(status.Error(codes.Unknown, "no details")))
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, "a b c", OneLine("  a\n\tb   c\n", 100))
	assert.Equal(t, "abc…", OneLine("abcdef", 3))
	assert.Equal(t, "abc", OneLine("abc", 3), "exactly n bytes is not cut")
	assert.Equal(t, "", OneLine(" \n ", 5))
}

func TestClientTLS(t *testing.T) {
	var p Profile
	p.Cert = "/crypto/maker/users/User1/msp/signcerts/cert.pem"
	c, k := p.ClientTLS()
	assert.Equal(t, "/crypto/maker/users/User1/tls/client.crt", c)
	assert.Equal(t, "/crypto/maker/users/User1/tls/client.key", k)

	p.Orderer.TLSCert, p.Orderer.TLSKey = "/o/client.crt", "/o/client.key"
	c, k = p.ClientTLS()
	assert.Equal(t, "/o/client.crt", c)
	assert.Equal(t, "/o/client.key", k)
}

// fakeMtrace is a stand-in for the mtrace binary: it prints its
// arguments and the config it was given, and fails on request.
const fakeMtrace = `#!/bin/sh
echo "config=$MTRACE_CONFIG" >&2
case "$3" in
fail) echo "it failed" >&2; exit 3 ;;
json) printf '{"args":"%s"}\n' "$*" ;;
badjson) echo "not json" ;;
*) echo "args=$*" ;;
esac
`

func TestRun(t *testing.T) {
	f := newFixture(t)
	write(t, filepath.Join(f.env.Bin, "mtrace"), []byte(fakeMtrace), 0o755)

	r := f.env.Run(t, "maker", "batch", "show", "B-1")
	assert.Equal(t, []string{"-p", "maker", "batch", "show", "B-1"}, r.Args)
	assert.Equal(t, 0, r.Code)
	assert.Equal(t, "args=-p maker batch show B-1\n", r.Stdout)
	assert.Equal(t, "config="+f.env.Config+"\n", r.Stderr, "the binary gets the test's CLI config")
	assert.Equal(t, "mtrace -p maker batch show B-1\nexit 0\nstdout:\nargs=-p maker batch show B-1\n\nstderr:\nconfig="+f.env.Config+"\n", r.String())

	r = f.env.Run(t, "maker", "fail")
	assert.Equal(t, 3, r.Code)
	assert.Contains(t, r.Stderr, "it failed")

	r = f.env.MustRun(t, "auditor", "x")
	assert.Equal(t, "args=-p auditor x\n", r.Stdout)

	var v struct{ Args string }
	f.env.JSON(t, &v, "maker", "json", "a")
	assert.Equal(t, "-p maker json a -o json", v.Args, "JSON asks for -o json")
}

// fatalTB records a Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func fatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb.msg
}

func TestRunFailures(t *testing.T) {
	f := newFixture(t)
	msg := fatal(t, func(tb testing.TB) { f.env.Run(tb, "maker", "x") })
	assert.Contains(t, msg, "run mtrace [-p maker x]: ", "no binary is a fatal error")

	write(t, filepath.Join(f.env.Bin, "mtrace"), []byte(fakeMtrace), 0o755)
	msg = fatal(t, func(tb testing.TB) { f.env.MustRun(tb, "maker", "fail") })
	assert.True(t, strings.HasPrefix(msg, "command failed:\nmtrace -p maker fail\nexit 3\n"), msg)
	msg = fatal(t, func(tb testing.TB) { f.env.JSON(tb, &struct{}{}, "maker", "badjson") })
	assert.Contains(t, msg, "decode JSON of [-p maker badjson -o json]: ")
	assert.Equal(t, "", fatal(t, func(tb testing.TB) { f.env.MustRun(tb, "maker", "ok") }))
}

// fakeNetworkSh is a stand-in for scripts/network.sh: status prints what
// FAKE_STATUS holds.
const fakeNetworkSh = `#!/bin/sh
case "$1" in
status) printf '%b' "$FAKE_STATUS" ;;
stop) echo "stopped $2" ;;
*) echo "unknown command $1" >&2; exit 2 ;;
esac
`

func TestNetworkStatus(t *testing.T) {
	f := newFixture(t)
	write(t, filepath.Join(f.root, "scripts", "network.sh"), []byte(fakeNetworkSh), 0o755)

	out, err := f.env.Network("stop", "peer0.maker")
	require.NoError(t, err)
	assert.Equal(t, "stopped peer0.maker\n", out)
	out, err = f.env.Network("explode")
	assert.Equal(t, "unknown command explode\n", out)
	assert.ErrorContains(t, err, "network.sh explode: ")
	assert.ErrorContains(t, err, "unknown command explode")

	t.Setenv("FAKE_STATUS", `network up\norderer1 running pid 10\nmunicipality height 12\nrecycler height 12\n  maker   height  11\nauditor height 12 extra\n`)
	hs, err := f.env.StatusHeights()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"municipality": 12, "recycler": 12, "maker": 11}, hs, "only lines of the form <peer> height <n>")

	t.Setenv("FAKE_STATUS", `municipality height 12\nmaker height -\n`)
	_, err = f.env.StatusHeights()
	assert.ErrorContains(t, err, `network.sh status: peer maker has height "-":`)

	require.NoError(t, os.Remove(filepath.Join(f.root, "scripts", "network.sh")))
	_, err = f.env.StatusHeights()
	assert.ErrorContains(t, err, "network.sh status: ")
}

func TestMembership(t *testing.T) {
	f := newFixture(t)
	_, err := f.env.Membership()
	assert.ErrorContains(t, err, "mtrace-net channel show: ")

	write(t, filepath.Join(f.env.Bin, "mtrace-net"), []byte(`#!/bin/sh
[ "$*" = "channel show -o json" ] || exit 1
echo '{"configBlock": 4, "members": ["MunicipalityMSP", "MakerMSP"]}'
`), 0o755)
	m, err := f.env.Membership()
	require.NoError(t, err)
	assert.Equal(t, Membership{ConfigBlock: 4, Members: []string{"MunicipalityMSP", "MakerMSP"}}, m)
}

func TestPID(t *testing.T) {
	f := newFixture(t)
	write(t, filepath.Join(f.env.Home, "pids", "recycler-orderer.pid"), []byte("4242\n"), 0o644)
	pid, err := f.env.PID("recycler-orderer")
	require.NoError(t, err)
	assert.Equal(t, 4242, pid)
	_, err = f.env.PID("maker-orderer")
	assert.ErrorIs(t, err, os.ErrNotExist)
	write(t, filepath.Join(f.env.Home, "pids", "bad.pid"), []byte("x"), 0o644)
	_, err = f.env.PID("bad")
	assert.Error(t, err)
}

func TestEventually(t *testing.T) {
	n := 0
	err := Eventually(time.Second, time.Millisecond, func() error {
		n++
		if n < 3 {
			return fmt.Errorf("try %d", n)
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, n)

	n = 0
	err = Eventually(20*time.Millisecond, time.Millisecond, func() error {
		n++
		return fmt.Errorf("try %d", n)
	})
	assert.EqualError(t, err, "try "+strconv.Itoa(n), "the last error")
	assert.Greater(t, n, 1)
}

func TestOpsAddr(t *testing.T) {
	t.Setenv("MTRACE_BASE_PORT", "")
	assert.Equal(t, 27000, BasePort())
	t.Setenv("MTRACE_BASE_PORT", "junk")
	assert.Equal(t, 27000, BasePort())
	t.Setenv("MTRACE_BASE_PORT", "-5")
	assert.Equal(t, 27000, BasePort())
	t.Setenv("MTRACE_BASE_PORT", "28000")
	assert.Equal(t, 28000, BasePort())

	for node, want := range map[string]string{
		"municipality-orderer": "127.0.0.1:28020", "maker-orderer": "127.0.0.1:28022", "auditor-orderer": "127.0.0.1:28023", "kaunas-orderer": "127.0.0.1:28024",
		"municipality": "127.0.0.1:28120", "recycler": "127.0.0.1:28121", "maker": "127.0.0.1:28122", "auditor": "127.0.0.1:28123",
	} {
		got, err := OpsAddr(node)
		require.NoError(t, err, node)
		assert.Equal(t, want, got, node)
	}
	for _, node := range []string{"vilnius-orderer", "-orderer"} {
		_, err := OpsAddr(node)
		assert.EqualError(t, err, fmt.Sprintf("no orderer %q", node))
	}
	_, err := OpsAddr("peer9")
	assert.EqualError(t, err, `no node "peer9"`)
	_, err = OpsAddr("orderer1")
	assert.EqualError(t, err, `no node "orderer1"`, "the Raft layout's orderers are gone")
}

func TestMetric(t *testing.T) {
	srv := testport.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `# HELP ledger_blockchain_height Height of the chain in blocks.
ledger_blockchain_height{channel="other"} 99
ledger_blockchain_height{channel="circular"} 17
consensus_BFT_is_leader{channel="circular"} 1
`)
	}))
	defer srv.Close()
	_, portStr, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	port, err := strconv.Atoi(portStr)
	require.NoError(t, err)

	// The maker's peer (base+122) is the fake.
	t.Setenv("MTRACE_BASE_PORT", strconv.Itoa(port-122))
	v, err := Metric("maker", "ledger_blockchain_height", "circular")
	require.NoError(t, err)
	assert.Equal(t, 17.0, v)
	v, err = Metric("maker", "consensus_BFT_is_leader", "circular")
	require.NoError(t, err)
	assert.Equal(t, 1.0, v)
	_, err = Metric("maker", "ledger_blockchain_height", "absent")
	assert.EqualError(t, err, "maker has no metric ledger_blockchain_height for channel absent")
	_, err = Metric("nobody", "x", "circular")
	assert.EqualError(t, err, `no node "nobody"`)

	srv.Close()
	_, err = Metric("maker", "ledger_blockchain_height", "circular")
	assert.Error(t, err, "nothing answers")
}

func TestAlive(t *testing.T) {
	assert.True(t, Alive(os.Getpid()))
	assert.False(t, Alive(0))
	assert.False(t, Alive(-1))

	// A child that exited but is not reaped yet is a zombie: not alive.
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	require.NoError(t, Eventually(5*time.Second, 5*time.Millisecond, func() error {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || !strings.Contains(string(raw), ") Z ") {
			return fmt.Errorf("process %d is not a zombie yet", pid)
		}
		return nil
	}))
	assert.False(t, Alive(pid))
	_ = cmd.Wait()
	assert.False(t, Alive(pid), "reaped")
}
