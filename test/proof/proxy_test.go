//go:build e2e

package proof

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// raw passes gRPC messages through as bytes.
type raw struct{}

func (raw) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (raw) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (raw) Name() string { return "proto" }

// alter rewrites one answer of the peer: the method, the request it
// answers and the answer; it returns the answer to send.
type alter func(method string, req, resp []byte) []byte

// proxy stands between the CLI and a peer and holds the peer's own TLS
// certificate and key, so that what it serves is what that peer could
// serve: every call is passed through, and alter may rewrite answers.
type proxy struct {
	addr string
	srv  *grpc.Server
}

func startProxy(t *testing.T, node, peerAddr string, p testnet.Profile, change alter) *proxy {
	dir := filepath.Join(env.Home, "crypto", "peerOrganizations", strings.TrimPrefix(p.ServerName, "peer0."), "peers", p.ServerName, "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	require.NoError(t, err, "the test network's TLS key of %s", node)
	rootPEM, err := os.ReadFile(p.TLSRootCert)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(rootPEM))
	backend, err := grpc.NewClient("passthrough:///"+peerAddr,
		grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(roots, p.ServerName)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(100<<20), grpc.ForceCodec(raw{})))
	require.NoError(t, err)
	t.Cleanup(func() { backend.Close() })

	// A port of this network's range that no node uses.
	addr := fmt.Sprintf("127.0.0.1:%d", testnet.BasePort()+95)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)), grpc.ForceServerCodec(raw{}),
		grpc.MaxRecvMsgSize(100<<20), grpc.MaxSendMsgSize(100<<20),
		grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(ss)
			md, _ := metadata.FromIncomingContext(ss.Context())
			ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ss.Context(), md))
			defer cancel()
			cs, err := backend.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
			if err != nil {
				return err
			}
			var mu sync.Mutex
			var last []byte
			go func() {
				for {
					var m []byte
					if err := ss.RecvMsg(&m); err != nil {
						cs.CloseSend()
						return
					}
					mu.Lock()
					last = m
					mu.Unlock()
					if cs.SendMsg(&m) != nil {
						return
					}
				}
			}()
			for {
				var m []byte
				if err := cs.RecvMsg(&m); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
				mu.Lock()
				req := last
				mu.Unlock()
				m = change(method, req, m)
				if err := ss.SendMsg(&m); err != nil {
					return err
				}
			}
		}))
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return &proxy{addr: addr, srv: srv}
}

// qsccCall reads the qscc function an Evaluate request calls.
func qsccCall(req []byte) string {
	var er gateway.EvaluateRequest
	if proto.Unmarshal(req, &er) != nil {
		return ""
	}
	var prop peer.Proposal
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if proto.Unmarshal(er.GetProposedTransaction().GetProposalBytes(), &prop) != nil ||
		proto.Unmarshal(prop.GetPayload(), &cpp) != nil || proto.Unmarshal(cpp.GetInput(), &cis) != nil {
		return ""
	}
	args := cis.GetChaincodeSpec().GetInput().GetArgs()
	if cis.GetChaincodeSpec().GetChaincodeId().GetName() != "qscc" || len(args) == 0 {
		return ""
	}
	return string(args[0])
}

// blockAnswer rewrites the block in a qscc GetBlockByTxID answer.
func blockAnswer(change func(*common.Block)) alter {
	return func(method string, req, resp []byte) []byte {
		if method != "/gateway.Gateway/Evaluate" || qsccCall(req) != "GetBlockByTxID" {
			return resp
		}
		var er gateway.EvaluateResponse
		var b common.Block
		if proto.Unmarshal(resp, &er) != nil || proto.Unmarshal(er.GetResult().GetPayload(), &b) != nil {
			return resp
		}
		change(&b)
		er.Result.Payload, _ = proto.Marshal(&b)
		out, _ := proto.Marshal(&er)
		return out
	}
}

// throughProxy writes a copy of the CLI config whose maker profile talks
// to the proxy, and returns its path.
func throughProxy(t *testing.T, addr string) string {
	rawCfg, err := os.ReadFile(env.Config)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(rawCfg, &doc))
	var cfg map[string]any
	require.NoError(t, doc.Decode(&cfg))
	profiles := cfg["profiles"].(map[string]any)
	maker := profiles["maker"].(map[string]any)
	maker["endpoint"] = addr
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	return path
}

func TestAPeerServingAlteredBlocksFailsVerify(t *testing.T) {
	vase, _ := product(t, "altered")
	p := env.Profiles["maker"]
	cases := []struct {
		name   string
		change func(*common.Block)
		check  string
	}{
		{"honest proxy", func(*common.Block) {}, ""},
		{"altered block", func(b *common.Block) {
			d := b.Data.Data[len(b.Data.Data)-1]
			d[len(d)/2] ^= 0x20
		}, "data-hash"},
		{"forged validity flag", func(b *common.Block) {
			flags := b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
			for i := range flags {
				flags[i] = byte(peer.TxValidationCode_MVCC_READ_CONFLICT)
			}
		}, "validity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			px := startProxy(t, "maker", p.Endpoint, p, blockAnswer(c.change))
			cfg := throughProxy(t, px.addr)
			e := *env
			e.Config = cfg
			r := e.Run(t, "maker", "verify", vase)
			if c.check == "" {
				require.Equal(t, 0, r.Code, "through an honest proxy verify holds:\n%s", r)
				return
			}
			assert.Equal(t, 1, r.Code, "%s", r)
			assert.Regexp(t, `(?m)^FAIL +`+c.check+` `, r.Stdout)
		})
	}
}

// proposalCall reads the chaincode function a ProcessProposal request
// calls.
func proposalCall(req []byte) string {
	var sp peer.SignedProposal
	var prop peer.Proposal
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if proto.Unmarshal(req, &sp) != nil || proto.Unmarshal(sp.GetProposalBytes(), &prop) != nil ||
		proto.Unmarshal(prop.GetPayload(), &cpp) != nil || proto.Unmarshal(cpp.GetInput(), &cis) != nil {
		return ""
	}
	args := cis.GetChaincodeSpec().GetInput().GetArgs()
	if len(args) == 0 {
		return ""
	}
	return string(args[0])
}

func TestAPeerRollingBackStateFailsVerify(t *testing.T) {
	vase, usk := product(t, "rollback")
	p := env.Profiles["maker"]
	// The proxy keeps the peer's signed records of the vase, and once
	// told to, answers every later request for them with those: a peer
	// that hides what was written since.
	var mu sync.Mutex
	var kept []byte
	replay := false
	px := startProxy(t, "maker", p.Endpoint, p, func(method string, req, resp []byte) []byte {
		if method != "/protos.Endorser/ProcessProposal" || proposalCall(req) != "Evidence" {
			return resp
		}
		mu.Lock()
		defer mu.Unlock()
		if replay {
			return kept
		}
		kept = resp
		return resp
	})
	e := *env
	e.Config = throughProxy(t, px.addr)
	r := e.Run(t, "maker", "verify", vase)
	require.Equal(t, 0, r.Code, "%s", r)

	env.MustRun(t, "auditor", "batch", "quarantine", usk, "--reason", "contamination")
	mu.Lock()
	replay = true
	mu.Unlock()
	r = e.Run(t, "maker", "verify", vase)
	assert.Equal(t, 1, r.Code, "%s", r)
	assert.Regexp(t, `(?m)^FAIL +state `, r.Stdout, "the rolled-back records are caught")
	assert.Regexp(t, `(?m)^ok +not-quarantined `, r.Stdout, "the hidden quarantine itself is not seen: the state check is what fails")
	// Without the proxy the quarantine shows.
	r = env.Run(t, "maker", "verify", vase)
	assert.Regexp(t, `(?m)^FAIL +not-quarantined `, r.Stdout)
}
