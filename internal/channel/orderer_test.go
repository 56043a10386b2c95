package channel

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
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// fakeOrderer is an orderer's client endpoint in the test process: Deliver
// serves its blocks (block i is number i), Broadcast answers with
// answer and, on success, runs onBroadcast. Both check that the envelope
// is signed by the certificate in its signature header, as an orderer
// does before any policy, and record the signer's MSP.
type fakeOrderer struct {
	ab.UnimplementedAtomicBroadcastServer
	t           *testing.T
	channel     string
	mu          sync.Mutex
	blocks      []*cb.Block
	answer      *ab.BroadcastResponse
	onBroadcast func(*cb.Envelope)
	got         []*cb.Envelope
	seeks       []*ab.SeekPosition
	signers     []string
}

func (o *fakeOrderer) open(env *cb.Envelope, want cb.HeaderType) (*cb.Payload, error) {
	var p cb.Payload
	if err := proto.Unmarshal(env.Payload, &p); err != nil {
		return nil, err
	}
	var ch cb.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, err
	}
	if ch.ChannelId != o.channel || ch.Type != int32(want) {
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
	digest := sha256.Sum256(env.Payload)
	if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], env.Signature) {
		return nil, errors.New("bad envelope signature")
	}
	o.signers = append(o.signers, id.Mspid)
	return &p, nil
}

func (o *fakeOrderer) Deliver(s ab.AtomicBroadcast_DeliverServer) error {
	env, err := s.Recv()
	if err != nil {
		return err
	}
	o.mu.Lock()
	p, err := o.open(env, cb.HeaderType_DELIVER_SEEK_INFO)
	if err != nil {
		o.mu.Unlock()
		return s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Status{Status: cb.Status_BAD_REQUEST}})
	}
	var seek ab.SeekInfo
	require.NoError(o.t, proto.Unmarshal(p.Data, &seek))
	o.seeks = append(o.seeks, seek.Start)
	var b *cb.Block
	switch at := seek.Start.Type.(type) {
	case *ab.SeekPosition_Newest:
		b = o.blocks[len(o.blocks)-1]
	case *ab.SeekPosition_Specified:
		if at.Specified.Number < uint64(len(o.blocks)) {
			b = o.blocks[at.Specified.Number]
		}
	}
	o.mu.Unlock()
	if b == nil {
		return s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Status{Status: cb.Status_NOT_FOUND}})
	}
	if err := s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Block{Block: b}}); err != nil {
		return err
	}
	return s.Send(&ab.DeliverResponse{Type: &ab.DeliverResponse_Status{Status: cb.Status_SUCCESS}})
}

func (o *fakeOrderer) Broadcast(s ab.AtomicBroadcast_BroadcastServer) error {
	env, err := s.Recv()
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.got = append(o.got, env)
	_, err = o.open(env, cb.HeaderType_CONFIG_UPDATE)
	answer := o.answer
	if err != nil {
		answer = &ab.BroadcastResponse{Status: cb.Status_BAD_REQUEST, Info: err.Error()}
	}
	if answer == nil {
		answer = &ab.BroadcastResponse{Status: cb.Status_SUCCESS}
	}
	if answer.Status == cb.Status_SUCCESS && o.onBroadcast != nil {
		o.onBroadcast(env)
	}
	o.mu.Unlock()
	return s.Send(answer)
}

// addBlock appends block n: a config block holding cfg, or (cfg nil) a
// transaction block; its metadata names the config block in force.
func (o *fakeOrderer) addBlock(t *testing.T, cfg *cb.Config) {
	n := uint64(len(o.blocks))
	last := n
	if cfg == nil {
		last = lastConfigOf(t, o.blocks[n-1])
	}
	typ, data := cb.HeaderType_ENDORSER_TRANSACTION, []byte("tx")
	if cfg != nil {
		typ, data = cb.HeaderType_CONFIG, mustMarshal(t, &cb.ConfigEnvelope{Config: cfg})
	}
	env := &cb.Envelope{Payload: mustMarshal(t, &cb.Payload{
		Header: &cb.Header{ChannelHeader: mustMarshal(t, &cb.ChannelHeader{Type: int32(typ), ChannelId: o.channel})}, Data: data})}
	md := make([][]byte, len(cb.BlockMetadataIndex_name))
	md[cb.BlockMetadataIndex_SIGNATURES] = mustMarshal(t, &cb.Metadata{Value: mustMarshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: last}})})
	o.blocks = append(o.blocks, &cb.Block{Header: &cb.BlockHeader{Number: n}, Data: &cb.BlockData{Data: [][]byte{mustMarshal(t, env)}},
		Metadata: &cb.BlockMetadata{Metadata: md}})
}

func lastConfigOf(t *testing.T, b *cb.Block) uint64 {
	var m cb.Metadata
	require.NoError(t, proto.Unmarshal(b.Metadata.Metadata[cb.BlockMetadataIndex_SIGNATURES], &m))
	var obm cb.OrdererBlockMetadata
	require.NoError(t, proto.Unmarshal(m.Value, &obm))
	return obm.LastConfig.Index
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// serveTLS starts the orderer on a loopback port with a certificate for
// orderer1.test, and returns its address and the root to trust.
func serveTLS(t *testing.T, o *fakeOrderer) (addr, rootFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "orderer1.test"},
		DNSNames: []string{"orderer1.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})))
	ab.RegisterAtomicBroadcastServer(srv, o)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	rootFile = filepath.Join(t.TempDir(), "tlsca.pem")
	require.NoError(t, os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	return lis.Addr().String(), rootFile
}

// ordering is a channel with config block 0 holding cfg0, a transaction
// block, config block 2 holding cfg2 and another transaction block, served
// by a fake orderer, and an admin of the municipality connected to it.
type ordering struct {
	o          *fakeOrderer
	conn       *Orderer
	admin      *configtx.SigningIdentity
	cfg0, cfg2 *cb.Config
	addr, root string
}

func newOrdering(t *testing.T) *ordering {
	city, admin := loadOrg(t, "MunicipalityMSP", 25600)
	rec, _ := loadOrg(t, "RecyclerMSP", 25601)
	w := &ordering{o: &fakeOrderer{t: t, channel: "circular"}, admin: admin,
		cfg0: channelWith(t, city), cfg2: channelWith(t, city, rec)}
	w.o.addBlock(t, w.cfg0)
	w.o.addBlock(t, nil)
	w.o.addBlock(t, w.cfg2)
	w.o.addBlock(t, nil)
	w.addr, w.root = serveTLS(t, w.o)
	var err error
	w.conn, err = Dial(w.addr, w.root, "orderer1.test", "circular", admin)
	require.NoError(t, err)
	t.Cleanup(func() { w.conn.Close() })
	return w
}

func TestOrdererConfig(t *testing.T) {
	w := newOrdering(t)
	cfg, err := w.conn.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), cfg.Block, "the newest block names config block 2")
	assert.True(t, proto.Equal(w.cfg2, cfg.Config))
	members, err := Members(cfg.Config)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MunicipalityMSP", "RecyclerMSP"}, members)
	require.Len(t, w.o.seeks, 2, "the newest block, then the config block it names")
	assert.NotNil(t, w.o.seeks[0].GetNewest())
	assert.Equal(t, uint64(2), w.o.seeks[1].GetSpecified().GetNumber())
	assert.Equal(t, []string{"MunicipalityMSP", "MunicipalityMSP"}, w.o.signers, "every request is signed by the identity")

	// When the newest block is the config block, one read is enough.
	w.o.mu.Lock()
	w.o.blocks = w.o.blocks[:3]
	w.o.seeks = nil
	w.o.mu.Unlock()
	cfg, err = w.conn.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), cfg.Block)
	assert.Len(t, w.o.seeks, 1)
}

func TestOrdererConfigErrors(t *testing.T) {
	w := newOrdering(t)
	// The newest block names a config block the orderer does not have.
	w.o.mu.Lock()
	w.o.blocks = w.o.blocks[:2]
	w.o.blocks[1].Metadata.Metadata[cb.BlockMetadataIndex_SIGNATURES] = mustMarshal(t, &cb.Metadata{Value: mustMarshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: 7}})})
	w.o.mu.Unlock()
	_, err := w.conn.Config(context.Background())
	assert.EqualError(t, err, "deliver: the orderer answered NOT_FOUND")

	// It names a transaction block.
	w.o.mu.Lock()
	w.o.blocks[1].Metadata.Metadata[cb.BlockMetadataIndex_SIGNATURES] = mustMarshal(t, &cb.Metadata{Value: mustMarshal(t, &cb.OrdererBlockMetadata{LastConfig: &cb.LastConfig{Index: 1}})})
	w.o.mu.Unlock()
	_, err = w.conn.Config(context.Background())
	assert.EqualError(t, err, "config block 1: block 1 is not a config block")

	// It names none.
	w.o.mu.Lock()
	w.o.blocks[1].Metadata = nil
	w.o.mu.Unlock()
	_, err = w.conn.Config(context.Background())
	assert.EqualError(t, err, "block has no signatures metadata")

	// A request for another channel is refused.
	other, err := Dial(w.addr, w.root, "orderer1.test", "elsewhere", w.admin)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Config(context.Background())
	assert.EqualError(t, err, "deliver: the orderer answered BAD_REQUEST")
}

func TestDialChecksTheOrderersCertificate(t *testing.T) {
	w := newOrdering(t)
	_, err := Dial(w.addr, filepath.Join(t.TempDir(), "none.pem"), "orderer1.test", "circular", w.admin)
	assert.ErrorIs(t, err, os.ErrNotExist)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("no certificate here"), 0o644))
	_, err = Dial(w.addr, empty, "orderer1.test", "circular", w.admin)
	assert.EqualError(t, err, empty+" holds no certificate")

	// An orderer whose certificate does not name the expected server is
	// never asked anything.
	impostor, err := Dial(w.addr, w.root, "orderer2.test", "circular", w.admin)
	require.NoError(t, err)
	defer impostor.Close()
	_, err = impostor.Config(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deliver: ")
	assert.Empty(t, w.o.seeks)
	assert.Error(t, impostor.Submit(context.Background(), &cb.Envelope{}))
	assert.Empty(t, w.o.got)
}

func TestSubmitAndWaitConfig(t *testing.T) {
	w := newOrdering(t)
	kaunas, kaunasAdmin := loadOrg(t, "KaunasMSP", 25604)
	// The orderer orders a successful update as config block 4.
	w.o.onBroadcast = func(*cb.Envelope) { w.o.addBlock(t, channelWith(t, kaunas)) }
	u, err := Compute(w.cfg2, "circular", func(c *configtx.ConfigTx) error { return c.Application().SetOrganization(kaunas) })
	require.NoError(t, err)
	require.NoError(t, u.Sign(w.admin))
	env, err := u.Envelope(w.admin)
	require.NoError(t, err)

	require.NoError(t, w.conn.Submit(context.Background(), env))
	require.Len(t, w.o.got, 1)
	assert.True(t, proto.Equal(env, w.o.got[0]), "the envelope arrives as sent")
	cfg, err := w.conn.WaitConfig(context.Background(), 2)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), cfg.Block)
	assert.True(t, IsMember(cfg.Config, "KaunasMSP"))

	// A refusal comes back with the orderer's status and reason.
	w.o.answer = &ab.BroadcastResponse{Status: cb.Status_FORBIDDEN, Info: "implicit policy evaluation failed"}
	err = w.conn.Submit(context.Background(), env)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, cb.Status_FORBIDDEN, re.Status)
	assert.EqualError(t, err, "the orderer refused the update (FORBIDDEN): implicit policy evaluation failed")
	assert.Len(t, w.o.blocks, 5, "nothing was ordered")

	// An envelope signed by someone else than its header says is refused
	// before any policy.
	w.o.answer = nil
	forged, err := u.Envelope(kaunasAdmin)
	require.NoError(t, err)
	forged.Signature = env.Signature
	err = w.conn.Submit(context.Background(), forged)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, cb.Status_BAD_REQUEST, re.Status)
	assert.Contains(t, re.Info, "bad envelope signature")

	// No newer configuration: WaitConfig gives up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = w.conn.WaitConfig(ctx, 4)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the channel configuration is still that of block 4")
}
