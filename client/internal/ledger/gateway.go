package ledger

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/config"
)

// Gateway is a Ledger over one peer's Fabric Gateway service.
type Gateway struct {
	conn     *grpc.ClientConn
	gw       *client.Gateway
	network  *client.Network
	contract *client.Contract
	profile  config.Profile
	opts     Options
	// checkpointers are closed by Close, after the last event is handled.
	checkpointers []*client.FileCheckpointer
	sync          *syncer
}

var _ Ledger = (*Gateway)(nil)

// maxAnswer is the largest answer the client accepts from its peer.
const maxAnswer = 100 << 20

// Dial connects to the peer named by the profile, as the profile's
// identity. The gRPC connection is made lazily: an unreachable peer is
// reported by the first call.
func Dial(p *config.Profile, o Options) (*Gateway, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	conn, gw, err := connect(p, o.Timeout)
	if err != nil {
		return nil, err
	}
	network := gw.GetNetwork(p.Channel)
	g := &Gateway{
		conn:     conn,
		gw:       gw,
		network:  network,
		contract: network.GetContract(p.Chaincode),
		profile:  *p,
		opts:     o,
	}
	if o.SyncFile != "" {
		g.sync = &syncer{path: o.SyncFile, key: p.Source + "#" + p.Channel, endpoint: p.Endpoint, height: g.height}
		if fi, err := os.Stat(p.Source); err == nil {
			g.sync.since = fi.ModTime()
		}
	}
	return g, nil
}

// Connect opens a Fabric Gateway connection to the profile's peer as the
// profile's identity, each call bounded by timeout (30 s when 0), and
// returns it with the function that closes it. It is Dial without
// mtrace's behaviour on top (retries, error mapping, the sync mark): for
// programs that drive the gateway's steps themselves, such as
// mtrace-bench, which times endorsement, ordering and commit apart.
func Connect(p *config.Profile, timeout time.Duration) (*client.Gateway, func() error, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	conn, gw, err := connect(p, timeout)
	if err != nil {
		return nil, nil, err
	}
	return gw, func() error { gw.Close(); return conn.Close() }, nil
}

func connect(p *config.Profile, timeout time.Duration) (*grpc.ClientConn, *client.Gateway, error) {
	pool := x509.NewCertPool()
	root, err := os.ReadFile(p.TLSRootCert)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: TLS root certificate: %w", p.Name, err)
	}
	if !pool.AppendCertsFromPEM(root) {
		return nil, nil, fmt.Errorf("profile %s: TLS root certificate %s: no PEM certificate in it", p.Name, p.TLSRootCert)
	}
	id, sign, err := loadIdentity(p)
	if err != nil {
		return nil, nil, err
	}
	creds := credentials.NewClientTLSFromCert(pool, p.ServerName)
	// Answers such as the evidence of a large ancestry exceed gRPC's
	// default 4 MiB; the peer sends up to 100 MiB.
	conn, err := grpc.NewClient("passthrough:///"+p.Endpoint, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAnswer)))
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: endpoint %s: %w", p.Name, p.Endpoint, err)
	}
	gw, err := client.Connect(id,
		client.WithSign(sign),
		client.WithHash(hash.SHA256),
		client.WithClientConnection(conn),
		client.WithEvaluateTimeout(timeout),
		client.WithEndorseTimeout(timeout),
		client.WithSubmitTimeout(timeout),
		client.WithCommitStatusTimeout(timeout),
	)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return conn, gw, nil
}

// height is the channel's block height on the gateway peer, from the query
// system chaincode.
func (g *Gateway) height(ctx context.Context) (uint64, error) {
	raw, err := g.network.GetContract(QSCC).EvaluateWithContext(ctx, GetChainInfo, client.WithArguments(g.profile.Channel))
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, err
	}
	return info.GetHeight(), nil
}

func loadIdentity(p *config.Profile) (*identity.X509Identity, identity.Sign, error) {
	certPEM, err := os.ReadFile(p.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: certificate: %w", p.Name, err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: certificate %s: %w", p.Name, p.Cert, err)
	}
	id, err := identity.NewX509Identity(p.MSPID, cert)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	keyPEM, err := os.ReadFile(p.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: private key: %w", p.Name, err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: private key %s: %w", p.Name, p.Key, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: private key %s: %w", p.Name, p.Key, err)
	}
	return id, sign, nil
}

// Submit endorses fn(args...), sends it for ordering and waits for its
// commit, retrying read conflicts, and refusals by other organisations'
// peers only, as Options.Retries allows.
func (g *Gateway) Submit(ctx context.Context, fn string, args ...string) ([]byte, error) {
	g.sync.wait(ctx)
	return retry(ctx, g.opts.Retries, g.opts.Backoff, retryableFor(g.profile.MSPID), func() ([]byte, error) {
		return g.submitOnce(ctx, fn, args)
	})
}

func (g *Gateway) submitOnce(ctx context.Context, fn string, args []string) ([]byte, error) {
	prop, err := g.contract.NewProposal(fn, client.WithArguments(args...))
	if err != nil {
		return nil, g.mapError(err)
	}
	tx, err := prop.EndorseWithContext(ctx)
	if err != nil {
		return nil, g.mapError(err)
	}
	commit, err := tx.SubmitWithContext(ctx)
	if err != nil {
		if !AlreadyOrdered(err) {
			return nil, g.mapError(err)
		}
		// Under BFT the gateway sends the transaction to every orderer
		// and wants a quorum of them to take it; an orderer that got it
		// only after the others had ordered it answers "request already
		// processed", and Fabric v3.1.1's gateway counts that as a
		// failure. The transaction is ordered all the same: its commit
		// status says how it ended.
		if commit, err = CommitOf(g.gw, &g.profile, tx.TransactionID()); err != nil {
			return nil, err
		}
	}
	st, err := commit.StatusWithContext(ctx)
	if err != nil {
		return nil, g.mapError(err)
	}
	if !st.Successful {
		return nil, &CommitError{TxID: st.TransactionID, Code: st.Code.String()}
	}
	g.sync.committed(st.BlockNumber)
	return tx.Result(), nil
}

// processed is what a SmartBFT orderer answers for a request it has
// already ordered.
const processed = "request already processed"

// AlreadyOrdered reports whether a submit failed only because orderers
// answered that they had already ordered the transaction: every orderer
// the gateway names as failing says so. Under BFT the gateway sends a
// transaction to every orderer and wants a quorum of them to take it; an
// orderer that got it only after the others had ordered it answers
// "request already processed", and Fabric v3.1.1's gateway counts that as
// a failure, though the transaction is ordered: CommitOf gives its status.
// Raft orderers never answer so.
func AlreadyOrdered(err error) bool {
	var se *client.SubmitError
	if !errors.As(err, &se) {
		return false
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable {
		return false
	}
	n := 0
	for _, d := range st.Details() {
		ed, ok := d.(*gateway.ErrorDetail)
		if !ok || !strings.Contains(ed.GetMessage(), processed) {
			return false
		}
		n++
	}
	return n > 0
}

// CommitOf is the commit of the transaction txID on the profile's channel,
// to ask the gateway peer gw, connected as the profile, for its status.
func CommitOf(gw *client.Gateway, p *config.Profile, txID string) (*client.Commit, error) {
	id, _, err := loadIdentity(p)
	if err != nil {
		return nil, err
	}
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: id.MspID(), IdBytes: id.Credentials()})
	if err != nil {
		return nil, err
	}
	req, err := proto.Marshal(&gateway.CommitStatusRequest{ChannelId: p.Channel, TransactionId: txID, Identity: creator})
	if err != nil {
		return nil, err
	}
	raw, err := proto.Marshal(&gateway.SignedCommitStatusRequest{Request: req})
	if err != nil {
		return nil, err
	}
	return gw.NewCommit(raw)
}

// Evaluate runs a query on the gateway peer.
func (g *Gateway) Evaluate(ctx context.Context, fn string, args ...string) ([]byte, error) {
	g.sync.wait(ctx)
	res, err := g.contract.EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	return res, g.mapError(err)
}

// BlockByTxID reads the block holding a transaction from the gateway peer.
func (g *Gateway) BlockByTxID(ctx context.Context, txID string) ([]byte, error) {
	raw, err := g.network.GetContract(QSCC).EvaluateWithContext(ctx, GetBlockByTxID, client.WithArguments(g.profile.Channel, txID))
	return raw, g.mapError(err)
}

// ChannelConfig reads the channel's configuration from the gateway peer.
func (g *Gateway) ChannelConfig(ctx context.Context) ([]byte, error) {
	raw, err := g.network.GetContract(CSCC).EvaluateWithContext(ctx, GetChannelConfig, client.WithArguments(g.profile.Channel))
	return raw, g.mapError(err)
}

// Block reads one block, or the newest, from the gateway peer.
func (g *Gateway) Block(ctx context.Context, number uint64) ([]byte, error) {
	qscc := g.network.GetContract(QSCC)
	if number == NewestBlock {
		raw, err := qscc.EvaluateWithContext(ctx, GetChainInfo, client.WithArguments(g.profile.Channel))
		if err != nil {
			return nil, g.mapError(err)
		}
		var info common.BlockchainInfo
		if err := proto.Unmarshal(raw, &info); err != nil {
			return nil, fmt.Errorf("decode chain info: %w", err)
		}
		if info.GetHeight() == 0 {
			return nil, errors.New("the channel has no blocks")
		}
		number = info.GetHeight() - 1
	}
	raw, err := qscc.EvaluateWithContext(ctx, GetBlockByNumber, client.WithArguments(g.profile.Channel, strconv.FormatUint(number, 10)))
	return raw, g.mapError(err)
}

// Chaincode is the profile's chaincode name.
func (g *Gateway) Chaincode() string { return g.profile.Chaincode }

// Events streams the chaincode's events. The stream ends when ctx is
// cancelled or the peer drops it.
func (g *Gateway) Events(ctx context.Context, checkpoint string, startBlock uint64) (<-chan Event, error) {
	var opts []client.ChaincodeEventsOption
	if startBlock != NextBlock {
		opts = append(opts, client.WithStartBlock(startBlock))
	}
	var cp *client.FileCheckpointer
	if checkpoint != "" {
		var err error
		if cp, err = client.NewFileCheckpointer(checkpoint); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", checkpoint, err)
		}
		// A saved position wins over startBlock; an empty one is ignored.
		opts = append(opts, client.WithCheckpoint(cp))
		g.checkpointers = append(g.checkpointers, cp)
	}
	in, err := g.network.ChaincodeEvents(ctx, g.profile.Chaincode, opts...)
	if err != nil {
		return nil, g.mapError(err)
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		for ev := range in {
			e := Event{Block: ev.BlockNumber, TxID: ev.TransactionID, Name: ev.EventName, Payload: ev.Payload}
			if cp != nil {
				e.Checkpoint = func() error { return cp.CheckpointChaincodeEvent(ev) }
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Close releases the gateway and its connection.
func (g *Gateway) Close() error {
	// Best effort: a mark that cannot be saved only costs a later wait.
	_ = g.sync.save()
	for _, cp := range g.checkpointers {
		cp.Close()
	}
	g.gw.Close()
	return g.conn.Close()
}

func (g *Gateway) mapError(err error) error {
	return mapError(err, g.profile.Endpoint, g.opts.Debug)
}
