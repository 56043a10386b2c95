package rawtx

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/testport"
)

const ordererName = "orderer1.test"

// fakeOrderer is an AtomicBroadcast service on 127.0.0.1 that records what
// it is sent and answers as scripted.
type fakeOrderer struct {
	ab.UnimplementedAtomicBroadcastServer
	mu        sync.Mutex
	received  []*cb.Envelope
	status    cb.Status // the answer to every broadcast envelope
	failAfter int       // with >0, the broadcast stream ends after that many answers
	blocks    []*cb.Block
	endStatus cb.Status // sent after the blocks, if not UNKNOWN
	seeks     []*cb.Envelope
	peerCerts [][]byte // the client certificate (DER) of each Deliver stream, if any
}

func (o *fakeOrderer) Broadcast(stream ab.AtomicBroadcast_BroadcastServer) error {
	n := 0
	for {
		env, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		o.mu.Lock()
		o.received = append(o.received, env)
		o.mu.Unlock()
		if o.failAfter > 0 && n == o.failAfter {
			return errors.New("orderer gave up")
		}
		if err := stream.Send(&ab.BroadcastResponse{Status: o.status, Info: digest(env.Payload)}); err != nil {
			return err
		}
		n++
	}
}

// digest names a payload in a broadcast answer.
func digest(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

func (o *fakeOrderer) Deliver(stream ab.AtomicBroadcast_DeliverServer) error {
	env, err := stream.Recv()
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.seeks = append(o.seeks, env)
	o.mu.Unlock()
	var seek ab.SeekInfo
	var p cb.Payload
	if err := proto.Unmarshal(env.Payload, &p); err != nil {
		return err
	}
	if err := proto.Unmarshal(p.Data, &seek); err != nil {
		return err
	}
	from := seek.GetStart().GetSpecified().GetNumber()
	for _, b := range o.blocks {
		if b.Header.Number < from {
			continue
		}
		if err := stream.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Block{Block: b}}); err != nil {
			return err
		}
	}
	if o.endStatus != cb.Status_UNKNOWN {
		return stream.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Status{Status: o.endStatus}})
	}
	<-stream.Context().Done()
	return nil
}

// serveOrderer starts o with a TLS certificate for ordererName, asking
// clients for a certificate (any) when clientAuth, and returns its
// address and the path of its TLS root.
func serveOrderer(t *testing.T, o *fakeOrderer, clientAuth bool) (addr, root string) {
	t.Helper()
	certPEM, keyPEM, _ := certAndKey(t, ordererName)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		cfg.ClientAuth = tls.RequireAnyClientCert
	}
	creds := &recordingCreds{TransportCredentials: credentials.NewTLS(cfg), o: o}
	srv := grpc.NewServer(grpc.Creds(creds))
	ab.RegisterAtomicBroadcastServer(srv, o)
	lis := testport.Listen(t)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	root = filepath.Join(t.TempDir(), "tlsca.pem")
	require.NoError(t, os.WriteFile(root, certPEM, 0o600))
	return lis.Addr().String(), root
}

// recordingCreds notes the client certificate of each TLS handshake.
type recordingCreds struct {
	credentials.TransportCredentials
	o *fakeOrderer
}

func (c *recordingCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err == nil {
		if ti, ok := info.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
			c.o.mu.Lock()
			c.o.peerCerts = append(c.o.peerCerts, ti.State.PeerCertificates[0].Raw)
			c.o.mu.Unlock()
		}
	}
	return out, info, err
}

func TestBroadcast(t *testing.T) {
	fo := &fakeOrderer{status: cb.Status_SUCCESS}
	addr, root := serveOrderer(t, fo, false)
	o, err := Dial(addr, TLS{Root: root, ServerName: ordererName})
	require.NoError(t, err)
	defer o.Close()
	s, key := member(t)

	var envs []*cb.Envelope
	for _, cc := range []string{"a", "b", "c"} {
		env, _, err := (&Tx{Channel: "circular", Chaincode: cc}).Build(s)
		require.NoError(t, err)
		envs = append(envs, env)
	}
	resps, err := o.Broadcast(context.Background(), envs...)
	require.NoError(t, err)
	require.Len(t, resps, 3)
	for i, r := range resps {
		assert.Equal(t, cb.Status_SUCCESS, r.Status)
		assert.Equal(t, digest(envs[i].Payload), r.Info, "answer %d is to envelope %d", i, i)
	}
	require.Len(t, fo.received, 3)
	for i, env := range fo.received {
		assert.True(t, proto.Equal(envs[i], env), "envelope %d arrives as sent, in order", i)
		verify(t, env, key)
	}

	fo.failAfter = 1
	resps, err = o.Broadcast(context.Background(), envs...)
	assert.ErrorContains(t, err, "broadcast answer 1: ")
	assert.ErrorContains(t, err, "orderer gave up")
	assert.Len(t, resps, 1, "the answers read before the failure are returned")
}

func TestBroadcastUnreachable(t *testing.T) {
	lis := testport.Listen(t)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	certPEM, _, _ := certAndKey(t, ordererName)
	root := filepath.Join(t.TempDir(), "tlsca.pem")
	require.NoError(t, os.WriteFile(root, certPEM, 0o600))
	o, err := Dial(addr, TLS{Root: root, ServerName: ordererName})
	require.NoError(t, err, "the connection is lazy")
	defer o.Close()
	s, _ := member(t)
	env, _, err := (&Tx{Channel: "c", Chaincode: "cc"}).Build(s)
	require.NoError(t, err)
	_, err = o.Broadcast(context.Background(), env)
	assert.ErrorContains(t, err, "broadcast")
}

func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Dial("127.0.0.1:1", TLS{Root: filepath.Join(dir, "missing.pem")})
	assert.ErrorIs(t, err, os.ErrNotExist)

	junk := filepath.Join(dir, "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("no certificate here"), 0o600))
	_, err = Dial("127.0.0.1:1", TLS{Root: junk})
	assert.EqualError(t, err, junk+" holds no certificate")

	certPEM, _, _ := certAndKey(t, ordererName)
	root := filepath.Join(dir, "root.pem")
	require.NoError(t, os.WriteFile(root, certPEM, 0o600))
	_, err = Dial("127.0.0.1:1", TLS{Root: root, ClientCert: filepath.Join(dir, "missing.crt"), ClientKey: filepath.Join(dir, "missing.key")})
	assert.ErrorContains(t, err, "client TLS certificate: ")
}

// seekOf takes a Deliver request apart.
func seekOf(t *testing.T, env *cb.Envelope) (*cb.ChannelHeader, *cb.SignatureHeader, *ab.SeekInfo) {
	t.Helper()
	var p cb.Payload
	unmarshal(t, env.Payload, &p)
	var ch cb.ChannelHeader
	unmarshal(t, p.Header.ChannelHeader, &ch)
	var sh cb.SignatureHeader
	unmarshal(t, p.Header.SignatureHeader, &sh)
	var seek ab.SeekInfo
	unmarshal(t, p.Data, &seek)
	return &ch, &sh, &seek
}

func blocks(n int) []*cb.Block {
	var out []*cb.Block
	for i := range n {
		out = append(out, &cb.Block{Header: &cb.BlockHeader{Number: uint64(i)}})
	}
	return out
}

func TestBlocksWithClientCertificate(t *testing.T) {
	fo := &fakeOrderer{blocks: blocks(5)}
	addr, root := serveOrderer(t, fo, true)
	certPEM, keyPEM, _ := certAndKey(t, "User1@maker.test.tls")
	cc, ck := writePair(t, t.TempDir(), "client", certPEM, keyPEM)
	o, err := Dial(addr, TLS{Root: root, ServerName: ordererName, ClientCert: cc, ClientKey: ck})
	require.NoError(t, err)
	defer o.Close()
	s, key := member(t)

	var got []uint64
	err = o.Blocks(context.Background(), s, "circular", 2, func(b *cb.Block) bool {
		got = append(got, b.Header.Number)
		return len(got) < 2
	})
	require.NoError(t, err, "each returning false ends the read without error")
	assert.Equal(t, []uint64{2, 3}, got)

	require.Len(t, fo.seeks, 1)
	verify(t, fo.seeks[0], key)
	ch, sh, seek := seekOf(t, fo.seeks[0])
	assert.Equal(t, cb.HeaderType_DELIVER_SEEK_INFO, cb.HeaderType(ch.Type))
	assert.Equal(t, "circular", ch.ChannelId)
	assert.NotNil(t, ch.Timestamp)
	assert.Equal(t, s.Creator(), sh.Creator)
	assert.Len(t, sh.Nonce, 24)
	assert.Equal(t, uint64(2), seek.GetStart().GetSpecified().GetNumber())
	assert.Equal(t, uint64(math.MaxUint64), seek.GetStop().GetSpecified().GetNumber())
	assert.Equal(t, ab.SeekInfo_BLOCK_UNTIL_READY, seek.Behavior)

	// The request is bound to the TLS client certificate the orderer saw.
	block, _ := pem.Decode(certPEM)
	require.NotEmpty(t, fo.peerCerts)
	assert.Equal(t, block.Bytes, fo.peerCerts[len(fo.peerCerts)-1])
	want := sha256.Sum256(block.Bytes)
	assert.Equal(t, want[:], ch.TlsCertHash)
}

func TestBlocksWithoutClientCertificate(t *testing.T) {
	fo := &fakeOrderer{blocks: blocks(2), endStatus: cb.Status_NOT_FOUND}
	addr, root := serveOrderer(t, fo, false)
	o, err := Dial(addr, TLS{Root: root, ServerName: ordererName})
	require.NoError(t, err)
	defer o.Close()
	s, _ := member(t)

	var got []uint64
	err = o.Blocks(context.Background(), s, "circular", 0, func(b *cb.Block) bool {
		got = append(got, b.Header.Number)
		return true
	})
	assert.EqualError(t, err, "deliver: the orderer answered NOT_FOUND")
	assert.Equal(t, []uint64{0, 1}, got)
	require.Len(t, fo.seeks, 1)
	ch, _, _ := seekOf(t, fo.seeks[0])
	assert.Empty(t, ch.TlsCertHash, "no client certificate, no binding")
	assert.Empty(t, fo.peerCerts)

	// A context that ends stops a read that waits for blocks.
	fo.endStatus = cb.Status_UNKNOWN
	ctx, cancel := context.WithCancel(context.Background())
	err = o.Blocks(ctx, s, "circular", 0, func(b *cb.Block) bool {
		if b.Header.Number == 1 {
			cancel()
		}
		return true
	})
	assert.ErrorContains(t, err, "deliver: ")
	assert.ErrorContains(t, err, "context canceled")
}

func TestSignerKeyMatchesCert(t *testing.T) {
	// The creator a Deliver request carries holds the certificate whose key
	// signed it: the orderer checks exactly that.
	s, _ := member(t)
	env, err := s.signed(cb.HeaderType_DELIVER_SEEK_INFO, "circular", nil, nil)
	require.NoError(t, err)
	_, sh, _ := seekOf(t, env)
	block, _ := pem.Decode(s.Cert)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	d := sha256.Sum256(env.Payload)
	assert.True(t, ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), d[:], env.Signature))
	assert.Equal(t, s.Creator(), sh.Creator)
}
