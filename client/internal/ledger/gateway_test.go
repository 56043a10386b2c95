package ledger

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/internal/testport"
)

// pemPair makes a self-signed ECDSA certificate for host and its key.
func pemPair(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{host}, IsCA: true, BasicConstraintsValid: true,
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

// fakeGateway is a Fabric Gateway service with scripted answers.
type fakeGateway struct {
	gateway.UnimplementedGatewayServer
	mu           sync.Mutex
	evaluateErr  error
	result       []byte
	statuses     []peer.TxValidationCode // one per commit, in order
	endorsements int
	submitErr    error    // what Submit answers, if not success
	endorseErrs  []error  // what the next endorsements answer, in order
	commitTxIDs  []string // the transaction IDs CommitStatus was asked for
	eventsReqs   []*gateway.ChaincodeEventsRequest
	events       []*gateway.ChaincodeEventsResponse
	// answers, when set, answer evaluations by "<chaincode> <function>";
	// evaluated records each evaluation as "<chaincode> <args...>".
	answers   map[string][]byte
	evaluated []string
}

func (g *fakeGateway) Evaluate(_ context.Context, req *gateway.EvaluateRequest) (*gateway.EvaluateResponse, error) {
	if g.evaluateErr != nil {
		return nil, g.evaluateErr
	}
	if g.answers != nil {
		cc, args, err := invocation(req.GetProposedTransaction())
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		g.evaluated = append(g.evaluated, strings.Join(append([]string{cc}, args...), " "))
		g.mu.Unlock()
		res, ok := g.answers[cc+" "+args[0]]
		if !ok {
			return nil, status.Error(codes.Unknown, "no answer for "+cc+" "+args[0])
		}
		return &gateway.EvaluateResponse{Result: &peer.Response{Status: 200, Payload: res}}, nil
	}
	return &gateway.EvaluateResponse{Result: &peer.Response{Status: 200, Payload: g.result}}, nil
}

// invocation is the chaincode and arguments a signed proposal invokes.
func invocation(sp *peer.SignedProposal) (string, []string, error) {
	var prop peer.Proposal
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(sp.GetProposalBytes(), &prop); err != nil {
		return "", nil, err
	}
	if err := proto.Unmarshal(prop.GetPayload(), &cpp); err != nil {
		return "", nil, err
	}
	if err := proto.Unmarshal(cpp.GetInput(), &cis); err != nil {
		return "", nil, err
	}
	var args []string
	for _, a := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		args = append(args, string(a))
	}
	if len(args) == 0 {
		return "", nil, errors.New("no function")
	}
	return cis.GetChaincodeSpec().GetChaincodeId().GetName(), args, nil
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func (g *fakeGateway) Endorse(_ context.Context, req *gateway.EndorseRequest) (*gateway.EndorseResponse, error) {
	g.mu.Lock()
	g.endorsements++
	if len(g.endorseErrs) > 0 {
		err := g.endorseErrs[0]
		g.endorseErrs = g.endorseErrs[1:]
		g.mu.Unlock()
		return nil, err
	}
	g.mu.Unlock()
	action := mustMarshal(&peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{
		ProposalResponsePayload: mustMarshal(&peer.ProposalResponsePayload{
			Extension: mustMarshal(&peer.ChaincodeAction{Response: &peer.Response{Status: 200, Payload: g.result}}),
		}),
	}})
	payload := &common.Payload{
		Header: &common.Header{ChannelHeader: mustMarshal(&common.ChannelHeader{ChannelId: req.GetChannelId(), TxId: req.GetTransactionId()})},
		Data:   mustMarshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: action}}}),
	}
	return &gateway.EndorseResponse{PreparedTransaction: &common.Envelope{Payload: mustMarshal(payload)}}, nil
}

func (g *fakeGateway) Submit(context.Context, *gateway.SubmitRequest) (*gateway.SubmitResponse, error) {
	if g.submitErr != nil {
		return nil, g.submitErr
	}
	return &gateway.SubmitResponse{}, nil
}

func (g *fakeGateway) CommitStatus(_ context.Context, sreq *gateway.SignedCommitStatusRequest) (*gateway.CommitStatusResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var req gateway.CommitStatusRequest
	if err := proto.Unmarshal(sreq.GetRequest(), &req); err != nil {
		return nil, err
	}
	g.commitTxIDs = append(g.commitTxIDs, req.GetTransactionId())
	code := peer.TxValidationCode_VALID
	if len(g.statuses) > 0 {
		code, g.statuses = g.statuses[0], g.statuses[1:]
	}
	return &gateway.CommitStatusResponse{Result: code, BlockNumber: 5}, nil
}

func (g *fakeGateway) ChaincodeEvents(sreq *gateway.SignedChaincodeEventsRequest, stream grpc.ServerStreamingServer[gateway.ChaincodeEventsResponse]) error {
	req := &gateway.ChaincodeEventsRequest{}
	if err := proto.Unmarshal(sreq.GetRequest(), req); err != nil {
		return err
	}
	g.mu.Lock()
	g.eventsReqs = append(g.eventsReqs, req)
	g.mu.Unlock()
	for _, r := range g.events {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// serve starts fg on 127.0.0.1 with TLS and returns a profile for it.
func serve(t *testing.T, fg *fakeGateway) *config.Profile {
	t.Helper()
	dir := t.TempDir()
	srvCert, srvKey := pemPair(t, "peer0.test.local")
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	require.NoError(t, err)
	lis := testport.Listen(t)
	s := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&pair)))
	gateway.RegisterGatewayServer(s, fg)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return profileFor(t, dir, lis.Addr().String(), srvCert)
}

func profileFor(t *testing.T, dir, endpoint string, rootPEM []byte) *config.Profile {
	cert, key := pemPair(t, "User1@test.local")
	p := &config.Profile{Name: "test", Endpoint: endpoint, ServerName: "peer0.test.local", MSPID: "TestMSP",
		TLSRootCert: filepath.Join(dir, "tls.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem"),
		Channel: "circular", Chaincode: "mtrace"}
	require.NoError(t, os.WriteFile(p.TLSRootCert, rootPEM, 0o600))
	require.NoError(t, os.WriteFile(p.Cert, cert, 0o600))
	require.NoError(t, os.WriteFile(p.Key, key, 0o600))
	return p
}

func TestGatewayEvaluate(t *testing.T) {
	fg := &fakeGateway{result: []byte(`{"id":"PET-1"}`)}
	g, err := Dial(serve(t, fg), Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer g.Close()
	res, err := g.Evaluate(context.Background(), api.ReadBatch, "PET-1")
	require.NoError(t, err)
	assert.Equal(t, `{"id":"PET-1"}`, string(res))

	st, err := status.New(codes.Unknown, "evaluate call to endorser returned error").WithDetails(
		&gateway.ErrorDetail{Address: "peer0:7051", MspId: "TestMSP", Message: `chaincode response 500, batch "X" not found`})
	require.NoError(t, err)
	fg.evaluateErr = st.Err()
	_, err = g.Evaluate(context.Background(), api.ReadBatch, "X")
	assert.EqualError(t, err, `rejected by chaincode: batch "X" not found`)
}

func TestGatewaySubmitRetriesConflicts(t *testing.T) {
	fg := &fakeGateway{result: []byte(`"ok"`), statuses: []peer.TxValidationCode{
		peer.TxValidationCode_MVCC_READ_CONFLICT, peer.TxValidationCode_PHANTOM_READ_CONFLICT,
	}}
	g, err := Dial(serve(t, fg), Options{Timeout: 5 * time.Second, Retries: DefaultRetries, Backoff: time.Millisecond})
	require.NoError(t, err)
	defer g.Close()
	res, err := g.Submit(context.Background(), api.RegisterBatch, "{}")
	require.NoError(t, err)
	assert.Equal(t, `"ok"`, string(res))
	assert.Equal(t, 3, fg.endorsements, "two conflicts, then success")

	fg.statuses = []peer.TxValidationCode{peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE}
	fg.endorsements = 0
	_, err = g.Submit(context.Background(), api.OfferTransfer, "A", "B")
	var ce *CommitError
	require.ErrorAs(t, err, &ce)
	assert.Regexp(t, `^transaction [0-9a-f]{64} failed validation: ENDORSEMENT_POLICY_FAILURE$`, err.Error())
	assert.Equal(t, 1, fg.endorsements, "other validation failures are not retried")
}

// refusedBy is the gateway's answer when the chaincode on the peers of
// msps refused a proposal.
func refusedBy(t *testing.T, msg string, msps ...string) error {
	st := status.New(codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info")
	for i, m := range msps {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{Address: fmt.Sprintf("127.0.0.1:2100%d", i), MspId: m, Message: "chaincode response 500, " + msg})
		require.NoError(t, err)
	}
	return st.Err()
}

// Another organisation's peer that has not yet received the block of the
// client's last transaction refuses what follows from it; the submission
// is tried again and succeeds once that peer has caught up. A refusal by
// the client's own organisation's peer is final at once.
func TestGatewaySubmitRetriesRefusalsByALaggingPeer(t *testing.T) {
	lag := `batch "B" is not in transit`
	fg := &fakeGateway{result: []byte(`"ok"`), endorseErrs: []error{refusedBy(t, lag, "MakerMSP"), refusedBy(t, lag, "MakerMSP")}}
	g, err := Dial(serve(t, fg), Options{Timeout: 5 * time.Second, Retries: DefaultRetries, Backoff: time.Millisecond})
	require.NoError(t, err)
	defer g.Close()
	res, err := g.Submit(context.Background(), api.AcceptTransfer, "B", "0")
	require.NoError(t, err)
	assert.Equal(t, `"ok"`, string(res))
	assert.Equal(t, 3, fg.endorsements, "two refusals by the maker's peer, then success")

	fg.endorseErrs = []error{refusedBy(t, lag, "TestMSP")}
	fg.endorsements = 0
	_, err = g.Submit(context.Background(), api.AcceptTransfer, "B", "0")
	assert.EqualError(t, err, "rejected by chaincode: "+lag)
	assert.Equal(t, 1, fg.endorsements, "our own peer's refusal is not retried")

	fg.endorseErrs = nil
	for i := 0; i <= DefaultRetries; i++ {
		fg.endorseErrs = append(fg.endorseErrs, refusedBy(t, lag, "MakerMSP"))
	}
	fg.endorsements = 0
	_, err = g.Submit(context.Background(), api.AcceptTransfer, "B", "0")
	assert.EqualError(t, err, "rejected by chaincode: "+lag)
	assert.Equal(t, 1+DefaultRetries, fg.endorsements, "a refusal that persists is reported when the retries are spent")
}

// bftSubmitErr is the gateway's answer when some orderers fail a
// submission (Fabric v3.1.1's wording), each detail one orderer's answer.
func bftSubmitErr(t *testing.T, infos ...string) error {
	st := status.New(codes.Unavailable, "insufficient number of orderers could successfully process transaction to satisfy quorum requirement")
	var ds []protoadapt.MessageV1
	for i, info := range infos {
		ds = append(ds, &gateway.ErrorDetail{Address: fmt.Sprintf("127.0.0.1:2000%d", i), MspId: "RecyclerMSP",
			Message: "received unsuccessful response from orderer: status=SERVICE_UNAVAILABLE, info=" + info})
	}
	st, err := st.WithDetails(ds...)
	require.NoError(t, err)
	return st.Err()
}

// Under BFT an orderer that receives a transaction after the others have
// ordered it answers "request already processed", and the gateway reports
// the submission as failed although the transaction is in a block: the
// client then asks for the transaction's commit status and reports how it
// ended. Any other failing orderer is a failure.
func TestGatewaySubmitAlreadyOrderedByBFT(t *testing.T) {
	fg := &fakeGateway{result: []byte(`"ok"`),
		submitErr: bftSubmitErr(t, "failed to submit request: request already processed", "failed to submit request: request already processed")}
	g, err := Dial(serve(t, fg), Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer g.Close()
	res, err := g.Submit(context.Background(), api.RegisterBatch, "{}")
	require.NoError(t, err)
	assert.Equal(t, `"ok"`, string(res))
	require.Len(t, fg.commitTxIDs, 1)
	assert.Regexp(t, `^[0-9a-f]{64}$`, fg.commitTxIDs[0])

	fg.statuses = []peer.TxValidationCode{peer.TxValidationCode_MVCC_READ_CONFLICT}
	_, err = g.Submit(context.Background(), api.RegisterBatch, "{}")
	var ce *CommitError
	require.ErrorAs(t, err, &ce, "the commit status decides")
	assert.Equal(t, "MVCC_READ_CONFLICT", ce.Code)

	fg.commitTxIDs = nil
	fg.submitErr = bftSubmitErr(t, "failed to submit request: request already processed", "failed to submit request: request pool full")
	_, err = g.Submit(context.Background(), api.RegisterBatch, "{}")
	require.Error(t, err, "an orderer that refused for another reason is a failure")
	assert.Empty(t, fg.commitTxIDs)
	fg.submitErr = bftSubmitErr(t)
	_, err = g.Submit(context.Background(), api.RegisterBatch, "{}")
	require.Error(t, err, "a failure that names no orderer is a failure")
	assert.Empty(t, fg.commitTxIDs)
}

func TestGatewayEventsCheckpoint(t *testing.T) {
	fg := &fakeGateway{events: []*gateway.ChaincodeEventsResponse{
		{BlockNumber: 3, Events: []*peer.ChaincodeEvent{{TxId: "t1", EventName: "BatchRegistered", Payload: []byte("{}")}}},
		{BlockNumber: 4, Events: []*peer.ChaincodeEvent{{TxId: "t2", EventName: "TransferOffered"}}},
	}}
	prof := serve(t, fg)
	cp := filepath.Join(t.TempDir(), "cp.json")

	read := func(n int, start uint64) []Event {
		g, err := Dial(prof, Options{Timeout: 5 * time.Second})
		require.NoError(t, err)
		defer g.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := g.Events(ctx, cp, start)
		require.NoError(t, err)
		var got []Event
		for ev := range ch {
			require.NoError(t, ev.Done())
			got = append(got, ev)
			if len(got) == n {
				break
			}
		}
		return got
	}
	got := read(1, 2)
	require.Len(t, got, 1)
	assert.Equal(t, Event{Block: 3, TxID: "t1", Name: "BatchRegistered", Payload: []byte("{}")}, Event{Block: got[0].Block, TxID: got[0].TxID, Name: got[0].Name, Payload: got[0].Payload})
	// A restart with the same checkpoint asks to resume after t1 in block 3.
	read(1, NextBlock)
	require.Len(t, fg.eventsReqs, 2)
	assert.Equal(t, uint64(2), fg.eventsReqs[0].GetStartPosition().GetSpecified().GetNumber())
	assert.Equal(t, uint64(3), fg.eventsReqs[1].GetStartPosition().GetSpecified().GetNumber())
	assert.Equal(t, "t1", fg.eventsReqs[1].GetAfterTransactionId())
}

func TestGatewayUnreachable(t *testing.T) {
	lis := testport.Listen(t)
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	root, _ := pemPair(t, "peer0.test.local")
	g, err := Dial(profileFor(t, t.TempDir(), addr, root), Options{Timeout: 2 * time.Second})
	require.NoError(t, err, "the connection is lazy")
	defer g.Close()
	_, err = g.Evaluate(context.Background(), api.ReadBatch, "X")
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "peer "+addr+" unreachable: connection refused", err.Error())
}

func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	root, _ := pemPair(t, "x")
	p := profileFor(t, dir, "127.0.0.1:1", root)
	require.NoError(t, os.WriteFile(p.TLSRootCert, []byte("junk"), 0o600))
	_, err := Dial(p, Options{})
	assert.ErrorContains(t, err, "no PEM certificate in it")

	p = profileFor(t, t.TempDir(), "127.0.0.1:1", root)
	require.NoError(t, os.WriteFile(p.Key, []byte("junk"), 0o600))
	_, err = Dial(p, Options{})
	assert.ErrorContains(t, err, "profile test: private key")
}

// The channel's blocks and configuration come from the gateway peer's
// system chaincodes, for the profile's channel.
func TestGatewayReadsBlocksAndConfigFromTheSystemChaincodes(t *testing.T) {
	blk := func(n uint64) []byte { return mustMarshal(&common.Block{Header: &common.BlockHeader{Number: n}}) }
	cfg := mustMarshal(&common.Config{Sequence: 4})
	fg := &fakeGateway{answers: map[string][]byte{
		"qscc GetChainInfo":       mustMarshal(&common.BlockchainInfo{Height: 8}),
		"qscc GetBlockByNumber":   blk(7),
		"qscc GetBlockByTxID":     blk(3),
		"cscc GetChannelConfig":   cfg,
		"mtrace " + api.ReadBatch: []byte(`{"id":"PET-1"}`),
	}}
	g, err := Dial(serve(t, fg), Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer g.Close()
	ctx := context.Background()

	h, err := g.Height(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(8), h)
	raw, err := g.BlockByTxID(ctx, "tx-3")
	require.NoError(t, err)
	assert.Equal(t, blk(3), raw)
	raw, err = g.ChannelConfig(ctx)
	require.NoError(t, err)
	assert.Equal(t, cfg, raw)
	raw, err = g.Block(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, blk(7), raw, "whatever the peer answers")
	_, err = g.Block(ctx, NewestBlock)
	require.NoError(t, err)
	assert.Equal(t, "mtrace", g.Chaincode())
	assert.Equal(t, []string{
		"qscc GetChainInfo circular",
		"qscc GetBlockByTxID circular tx-3",
		"cscc GetChannelConfig circular",
		"qscc GetBlockByNumber circular 5",
		"qscc GetChainInfo circular",
		"qscc GetBlockByNumber circular 7", // the newest: height - 1
	}, fg.evaluated)

	fg.answers["qscc GetChainInfo"] = mustMarshal(&common.BlockchainInfo{})
	_, err = g.Block(ctx, NewestBlock)
	assert.EqualError(t, err, "the channel has no blocks")
	fg.answers["qscc GetChainInfo"] = []byte("not chain info")
	_, err = g.Block(ctx, NewestBlock)
	assert.ErrorContains(t, err, "decode chain info")
	_, err = g.Height(ctx)
	assert.Error(t, err)
	delete(fg.answers, "qscc GetChainInfo")
	_, err = g.Block(ctx, NewestBlock)
	assert.ErrorContains(t, err, "no answer for qscc GetChainInfo")
	err = g.Replay(ctx, 0, func(Event) error { return nil })
	assert.ErrorContains(t, err, "no answer for qscc GetChainInfo", "Replay needs the height first")
}

// Connect gives the plain gateway client, closed by the function it
// returns, with no mtrace behaviour on top.
func TestConnect(t *testing.T) {
	fg := &fakeGateway{answers: map[string][]byte{"mtrace " + api.ReadBatch: []byte(`{"id":"PET-1"}`)}}
	p := serve(t, fg)
	gw, closeFn, err := Connect(p, 0)
	require.NoError(t, err)
	res, err := gw.GetNetwork(p.Channel).GetContract(p.Chaincode).Evaluate(api.ReadBatch, client.WithArguments("PET-1"))
	require.NoError(t, err)
	assert.Equal(t, `{"id":"PET-1"}`, string(res))
	assert.Equal(t, []string{"mtrace " + api.ReadBatch + " PET-1"}, fg.evaluated)
	require.NoError(t, closeFn())

	require.NoError(t, os.WriteFile(p.TLSRootCert, []byte("junk"), 0o600))
	_, _, err = Connect(p, time.Second)
	assert.ErrorContains(t, err, "no PEM certificate in it")
}
