// Package channeltest is an orderer's client endpoint inside a test
// process: AtomicBroadcast (Deliver and Broadcast) over TLS on a loopback
// port, serving a channel's blocks and taking config updates, for the
// tests of code that reads and changes a channel's configuration
// (internal/channel, mtrace identity revoke) where no orderer runs.
//
// Like an orderer, it answers only envelopes for its channel of the
// expected header type, signed by the certificate their signature header
// names. It checks no policy: what it answers a Broadcast is the test's
// choice (Answer), and what the update orders is the test's too
// (OnBroadcast).
package channeltest

import (
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
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/testport"
)

// ServerName is the name in the TLS certificate of an orderer from New.
const ServerName = "orderer1.test"

// Orderer is a running fake orderer.
type Orderer struct {
	ab.UnimplementedAtomicBroadcastServer

	// Addr is where it listens (127.0.0.1:port); RootFile holds the PEM
	// certificate of the CA that signed its TLS certificate.
	Addr     string
	RootFile string
	Channel  string

	t           testing.TB
	mu          sync.Mutex
	blocks      []*cb.Block
	answer      *ab.BroadcastResponse
	onBroadcast func(*cb.Envelope)
	received    []*cb.Envelope
	seeks       []*ab.SeekPosition
	signers     []string
}

// New starts an orderer of channel with no blocks, and stops it when the
// test ends. Its TLS certificate names ServerName.
func New(t testing.TB, channel string) *Orderer {
	t.Helper()
	return NewNamed(t, channel, ServerName)
}

// NewNamed is New with a TLS certificate for serverName.
func NewNamed(t testing.TB, channel, serverName string) *Orderer {
	t.Helper()
	caKey := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER := must(t, func() ([]byte, error) {
		return x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	})
	caCert := must(t, func() (*x509.Certificate, error) { return x509.ParseCertificate(caDER) })
	key := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: serverName},
		DNSNames: []string{serverName}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	// An orderer reached by its address (127.0.0.1:port, as a channel's
	// Endpoints name it) is checked against the certificate's IPs.
	if ip := net.ParseIP(serverName); ip != nil {
		leaf.IPAddresses = []net.IP{ip}
	}
	der := must(t, func() ([]byte, error) {
		return x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	})
	o := Serve(t, channel, testport.Listen(t), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	o.RootFile = filepath.Join(t.TempDir(), "orderer-tlsca.pem")
	if err := os.WriteFile(o.RootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return o
}

// Serve starts an orderer of channel with no blocks on lis, presenting
// cert (such as an organisation's own orderer's, whose TLS roots the
// test knows: RootFile is empty), and stops it when the test ends.
func Serve(t testing.TB, channel string, lis net.Listener, cert tls.Certificate) *Orderer {
	t.Helper()
	o := &Orderer{t: t, Channel: channel}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	ab.RegisterAtomicBroadcastServer(srv, o)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	o.Addr = lis.Addr().String()
	return o
}

func must[T any](t testing.TB, f func() (T, error)) T {
	t.Helper()
	v, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// AddBlock appends the next block: a config block holding cfg, or, with
// cfg nil, a transaction block. Its metadata names the config block in
// force, as the orderer's does.
func (o *Orderer) AddBlock(cfg *cb.Config) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := uint64(len(o.blocks))
	last := n
	if cfg == nil {
		if n == 0 {
			o.t.Fatal("channeltest: the first block must be a config block")
		}
		last = LastConfig(o.t, o.blocks[n-1])
	}
	typ, data := cb.HeaderType_ENDORSER_TRANSACTION, []byte("tx")
	if cfg != nil {
		typ, data = cb.HeaderType_CONFIG, Marshal(o.t, &cb.ConfigEnvelope{Config: cfg})
	}
	env := &cb.Envelope{Payload: Marshal(o.t, &cb.Payload{
		Header: &cb.Header{ChannelHeader: Marshal(o.t, &cb.ChannelHeader{Type: int32(typ), ChannelId: o.Channel})}, Data: data})}
	o.blocks = append(o.blocks, &cb.Block{Header: &cb.BlockHeader{Number: n}, Data: &cb.BlockData{Data: [][]byte{Marshal(o.t, env)}},
		Metadata: &cb.BlockMetadata{Metadata: SignaturesMetadata(o.t, last)}})
}

// SignaturesMetadata is a block's metadata naming config block last.
func SignaturesMetadata(t testing.TB, last uint64) [][]byte {
	md := make([][]byte, len(cb.BlockMetadataIndex_name))
	md[cb.BlockMetadataIndex_SIGNATURES] = Marshal(t, &cb.Metadata{Value: Marshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: last}})})
	return md
}

// LastConfig reads the config block a block's metadata names.
func LastConfig(t testing.TB, b *cb.Block) uint64 {
	var m cb.Metadata
	var obm cb.OrdererBlockMetadata
	if err := proto.Unmarshal(b.GetMetadata().GetMetadata()[cb.BlockMetadataIndex_SIGNATURES], &m); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(m.Value, &obm); err != nil {
		t.Fatal(err)
	}
	return obm.GetLastConfig().GetIndex()
}

// Marshal marshals m or fails the test.
func Marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	return must(t, func() ([]byte, error) { return proto.Marshal(m) })
}

// EditBlocks changes the blocks, to serve a broken channel.
func (o *Orderer) EditBlocks(edit func([]*cb.Block) []*cb.Block) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.blocks = edit(o.blocks)
}

// Blocks is how many blocks the channel has.
func (o *Orderer) Blocks() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.blocks)
}

// Answer sets what Broadcast answers a well-signed envelope; nil is
// SUCCESS.
func (o *Orderer) Answer(r *ab.BroadcastResponse) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.answer = r
}

// OnBroadcast sets what happens after Broadcast answers SUCCESS, such as
// AddBlock with the updated configuration.
func (o *Orderer) OnBroadcast(f func(*cb.Envelope)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onBroadcast = f
}

// Received lists the envelopes Broadcast received, in order.
func (o *Orderer) Received() []*cb.Envelope {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*cb.Envelope(nil), o.received...)
}

// Seeks lists where each Deliver asked to start, in order.
func (o *Orderer) Seeks() []*ab.SeekPosition {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*ab.SeekPosition(nil), o.seeks...)
}

// Signers lists the MSP of each well-signed envelope's creator, in order.
func (o *Orderer) Signers() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.signers...)
}

// Reset forgets the requests recorded so far.
func (o *Orderer) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.received, o.seeks, o.signers = nil, nil, nil
}

// open checks an envelope's header and signature and returns its
// payload. o.mu is held.
func (o *Orderer) open(env *cb.Envelope, want cb.HeaderType) (*cb.Payload, error) {
	var p cb.Payload
	if err := proto.Unmarshal(env.Payload, &p); err != nil {
		return nil, err
	}
	var ch cb.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, err
	}
	if ch.ChannelId != o.Channel || ch.Type != int32(want) {
		return nil, fmt.Errorf("header for channel %q, type %d", ch.ChannelId, ch.Type)
	}
	var sh cb.SignatureHeader
	if err := proto.Unmarshal(p.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, err
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(sh.Creator, &id); err != nil {
		return nil, err
	}
	b, _ := pem.Decode(id.IdBytes)
	if b == nil {
		return nil, errors.New("no creator certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	digest := sha256.Sum256(env.Payload)
	if !ok || !ecdsa.VerifyASN1(pub, digest[:], env.Signature) {
		return nil, errors.New("bad envelope signature")
	}
	o.signers = append(o.signers, id.Mspid)
	return &p, nil
}

// Deliver serves one block: the newest, or the one asked for.
func (o *Orderer) Deliver(s ab.AtomicBroadcast_DeliverServer) error {
	env, err := s.Recv()
	if err != nil {
		return err
	}
	status := func(st cb.Status) error {
		return s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Status{Status: st}})
	}
	o.mu.Lock()
	p, err := o.open(env, cb.HeaderType_DELIVER_SEEK_INFO)
	if err != nil {
		o.mu.Unlock()
		return status(cb.Status_BAD_REQUEST)
	}
	var seek ab.SeekInfo
	if err := proto.Unmarshal(p.Data, &seek); err != nil {
		o.mu.Unlock()
		return status(cb.Status_BAD_REQUEST)
	}
	o.seeks = append(o.seeks, seek.Start)
	var b *cb.Block
	switch at := seek.Start.GetType().(type) {
	case *ab.SeekPosition_Newest:
		if len(o.blocks) > 0 {
			b = o.blocks[len(o.blocks)-1]
		}
	case *ab.SeekPosition_Specified:
		if at.Specified.Number < uint64(len(o.blocks)) {
			b = o.blocks[at.Specified.Number]
		}
	}
	o.mu.Unlock()
	if b == nil {
		return status(cb.Status_NOT_FOUND)
	}
	if err := s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Block{Block: b}}); err != nil {
		return err
	}
	return status(cb.Status_SUCCESS)
}

// Broadcast takes one config update.
func (o *Orderer) Broadcast(s ab.AtomicBroadcast_BroadcastServer) error {
	env, err := s.Recv()
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.received = append(o.received, env)
	answer := o.answer
	if _, err := o.open(env, cb.HeaderType_CONFIG_UPDATE); err != nil {
		answer = &ab.BroadcastResponse{Status: cb.Status_BAD_REQUEST, Info: err.Error()}
	}
	if answer == nil {
		answer = &ab.BroadcastResponse{Status: cb.Status_SUCCESS}
	}
	after := o.onBroadcast
	o.mu.Unlock()
	if answer.Status == cb.Status_SUCCESS && after != nil {
		after(env)
	}
	return s.Send(answer)
}
