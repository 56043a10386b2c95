package proofnet

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
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/internal/testport"
)

// question is one proposal a fake peer received: its channel and
// chaincode, and the arguments.
type question struct {
	Channel   string
	Chaincode string
	Args      []string
}

// fakePeer is a peer's Endorser service on 127.0.0.1 behind TLS. It
// checks that every proposal is signed by the key it is given and answers
// with answer.
type fakePeer struct {
	peer.UnimplementedEndorserServer
	msp      string
	endpoint string
	tlsRoot  string // PEM file of the CA that issued its TLS certificate
	client   *ecdsa.PublicKey
	stop     func()

	mu     sync.Mutex
	asked  []question
	answer func(q question, n int) (*peer.ProposalResponse, error)
}

// Asked returns the questions the peer received.
func (p *fakePeer) Asked() []question {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]question(nil), p.asked...)
}

func (p *fakePeer) ProcessProposal(_ context.Context, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	d := sha256.Sum256(sp.GetProposalBytes())
	if !ecdsa.VerifyASN1(p.client, d[:], sp.GetSignature()) {
		return nil, errors.New("the proposal's signature does not verify")
	}
	var prop peer.Proposal
	var hdr common.Header
	var ch common.ChannelHeader
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	// Each step decodes what the one before it decoded.
	for _, step := range []struct {
		raw func() []byte
		m   proto.Message
	}{
		{sp.GetProposalBytes, &prop}, {prop.GetHeader, &hdr}, {hdr.GetChannelHeader, &ch},
		{prop.GetPayload, &cpp}, {cpp.GetInput, &cis},
	} {
		if err := proto.Unmarshal(step.raw(), step.m); err != nil {
			return nil, err
		}
	}
	q := question{Channel: ch.GetChannelId(), Chaincode: cis.GetChaincodeSpec().GetChaincodeId().GetName()}
	for _, a := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		q.Args = append(q.Args, string(a))
	}
	p.mu.Lock()
	n := 0
	for _, prev := range p.asked {
		if fmt.Sprint(prev) == fmt.Sprint(q) {
			n++
		}
	}
	p.asked = append(p.asked, q)
	p.mu.Unlock()
	return p.answer(q, n)
}

// signed is a successful, signed answer with payload.
func signed(msp string, payload []byte) *peer.ProposalResponse {
	return &peer.ProposalResponse{Response: &peer.Response{Status: 200}, Payload: payload,
		Endorsement: &peer.Endorsement{Endorser: []byte("peer of " + msp), Signature: []byte("signature of " + msp)}}
}

// failed is a refusal, as a peer answers a query it cannot run.
func failed(msg string) *peer.ProposalResponse {
	return &peer.ProposalResponse{Response: &peer.Response{Status: 500, Message: msg}}
}

func pemFile(t *testing.T, path, typ string, der []byte) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// identityFiles writes a self-signed certificate and its PKCS#8 key, the
// files a profile's cert and key name.
func identityFiles(t *testing.T, dir, name string) (cert, key string, pub *ecdsa.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pemFile(t, filepath.Join(dir, name+"-cert.pem"), "CERTIFICATE", der),
		pemFile(t, filepath.Join(dir, name+"-key.pem"), "PRIVATE KEY", kder), &k.PublicKey
}

// startPeer serves a fake Endorser for msp with a TLS certificate for
// serverName issued by a CA of its own, whose certificate it writes to dir.
func startPeer(t *testing.T, dir, msp, serverName string, client *ecdsa.PublicKey,
	answer func(q question, n int) (*peer.ProposalResponse, error)) *fakePeer {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca." + msp},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: serverName}, DNSNames: []string{serverName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	require.NoError(t, err)

	p := &fakePeer{msp: msp, client: client, answer: answer,
		tlsRoot: pemFile(t, filepath.Join(dir, msp+"-tlsca.pem"), "CERTIFICATE", caDER)}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})))
	peer.RegisterEndorserServer(srv, p)
	lis := testport.Listen(t)
	p.endpoint = lis.Addr().String()
	go func() { _ = srv.Serve(lis) }()
	var once sync.Once
	p.stop = func() { once.Do(srv.Stop) }
	t.Cleanup(p.stop)
	return p
}

// recorded is a proof of the test data, the network's answers to replay.
func recorded(t *testing.T, name string) *proof.Proof {
	t.Helper()
	raw, err := os.ReadFile("../proof/testdata/" + name)
	require.NoError(t, err)
	p, err := proof.Decode(raw)
	require.NoError(t, err)
	return p
}

// ledgerOf is a fake ledger that serves the blocks of p: by transaction,
// by number, and p's head as the newest block.
func ledgerOf(t *testing.T, p *proof.Proof) *ledgertest.Fake {
	t.Helper()
	byTx := map[string][]byte{}
	byNum := map[string][]byte{}
	for _, raw := range append(append([][]byte{}, p.Configs...), p.Blocks...) {
		b, err := decode(raw)
		require.NoError(t, err)
		byNum[strconv.FormatUint(b.GetHeader().GetNumber(), 10)] = raw
		for _, id := range txIDs(b) {
			byTx[id] = raw
		}
	}
	byNum["newest"] = byNum[strconv.FormatUint(p.Head, 10)]
	l := ledgertest.New()
	l.On(ledgertest.BlockByTxID, func(args []string) ([]byte, error) {
		if raw, ok := byTx[args[0]]; ok {
			return raw, nil
		}
		return nil, fmt.Errorf("no block holds tx %s", args[0])
	})
	l.On(ledgertest.Block, func(args []string) ([]byte, error) {
		if raw, ok := byNum[args[0]]; ok {
			return raw, nil
		}
		return nil, fmt.Errorf("no block %s", args[0])
	})
	return l
}
