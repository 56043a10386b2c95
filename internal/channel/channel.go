// Package channel changes the configuration of a running mtrace channel
// (its member organisations, an organisation's revocation list): it
// reads the current configuration from an orderer, edits it with
// github.com/hyperledger/fabric-config, collects the config signatures of
// the admins who consent, and submits the update to the orderer, which
// checks it against the channel's policies (adding or removing a member
// organisation is a change to the Application group, whose mod policy is
// MAJORITY Admins; an organisation's MSP is its own admins') and either
// orders it or refuses it whole. mtrace-net and the CLI's identity
// commands both use it.
//
// Signatures are gathered here from admin identities whose keys this
// machine holds, as on the local test network. In a consortium each admin
// would sign the marshalled update on their own machine; Sign and Submit
// are separate so that the signatures could travel between them.
package channel

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mtrace/mtrace/internal/configblock"
)

// Orderer is a connection to one orderer's client endpoint (Broadcast and
// Deliver), on behalf of one signing identity.
type Orderer struct {
	conn    *grpc.ClientConn
	client  ab.AtomicBroadcastClient
	channel string
	id      *configtx.SigningIdentity
	// certHash is the SHA-256 of the TLS client certificate: an orderer
	// that requires client certificates serves a Deliver request only if
	// its channel header names the certificate of the connection.
	certHash []byte
	// addr is the orderer's address and cert the TLS client certificate,
	// with which Submit reaches the channel's other orderers.
	addr string
	cert tls.Certificate
}

// Dial connects to the orderer at addr over TLS, trusting the root
// certificate in tlsCA, expecting serverName in its certificate and
// presenting cert, a TLS client certificate from a member organisation's
// TLS CA: the orderers refuse clients without one.
func Dial(addr, tlsCA, serverName string, cert tls.Certificate, channel string, id *configtx.SigningIdentity) (*Orderer, error) {
	pem, err := os.ReadFile(tlsCA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", tlsCA)
	}
	creds := credentials.NewTLS(&tls.Config{
		RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12,
		// Always present cert, even if the orderer names other CAs: it
		// is the orderer's to refuse.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("connect to orderer %s: %w", addr, err)
	}
	o := &Orderer{conn: conn, client: ab.NewAtomicBroadcastClient(conn), channel: channel, id: id, addr: addr, cert: cert}
	if len(cert.Certificate) > 0 {
		h := sha256.Sum256(cert.Certificate[0])
		o.certHash = h[:]
	}
	return o, nil
}

// Close closes the connection.
func (o *Orderer) Close() error { return o.conn.Close() }

// Config is the channel's current configuration and the number of the
// block that holds it.
type Config struct {
	*cb.Config
	Block uint64
}

// Config reads the channel's current configuration: the newest block
// names the last config block, which holds it.
func (o *Orderer) Config(ctx context.Context) (*Config, error) {
	b, err := o.ConfigBlock(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := configblock.Config(b)
	if err != nil {
		return nil, fmt.Errorf("config block %d: %w", b.GetHeader().GetNumber(), err)
	}
	return &Config{Config: cfg, Block: b.GetHeader().GetNumber()}, nil
}

// ConfigBlock reads the config block in force: the one the newest block
// names.
func (o *Orderer) ConfigBlock(ctx context.Context) (*cb.Block, error) {
	newest, err := o.block(ctx, &ab.SeekPosition{Type: &ab.SeekPosition_Newest{Newest: &ab.SeekNewest{}}})
	if err != nil {
		return nil, err
	}
	n, err := configblock.LastConfig(newest)
	if err != nil {
		return nil, err
	}
	if n == newest.GetHeader().GetNumber() {
		return newest, nil
	}
	at := &ab.SeekPosition{Type: &ab.SeekPosition_Specified{Specified: &ab.SeekSpecified{Number: n}}}
	return o.block(ctx, at)
}

// block fetches one block through Deliver.
func (o *Orderer) block(ctx context.Context, at *ab.SeekPosition) (*cb.Block, error) {
	seek, err := proto.Marshal(&ab.SeekInfo{Start: at, Stop: at, Behavior: ab.SeekInfo_BLOCK_UNTIL_READY})
	if err != nil {
		return nil, err
	}
	env, err := o.envelope(cb.HeaderType_DELIVER_SEEK_INFO, seek)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := o.client.Deliver(ctx)
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	if err := stream.Send(env); err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("deliver: %w", err)
		}
		switch r := resp.Type.(type) {
		case *ab.DeliverResponse_Block:
			return r.Block, nil
		case *ab.DeliverResponse_Status:
			return nil, fmt.Errorf("deliver: the orderer answered %s", r.Status)
		}
	}
}

// envelope wraps data in a signed envelope for the channel.
func (o *Orderer) envelope(typ cb.HeaderType, data []byte) (*cb.Envelope, error) {
	hdr := &cb.ChannelHeader{Type: int32(typ), ChannelId: o.channel, Timestamp: timestamppb.Now()}
	if typ == cb.HeaderType_DELIVER_SEEK_INFO {
		hdr.TlsCertHash = o.certHash
	}
	ch, err := proto.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&cb.Payload{Header: &cb.Header{ChannelHeader: ch}, Data: data})
	if err != nil {
		return nil, err
	}
	env := &cb.Envelope{Payload: payload}
	if err := o.id.SignEnvelope(env); err != nil {
		return nil, err
	}
	return env, nil
}

// RefusedError is an orderer's refusal of a transaction, with its reason.
type RefusedError struct {
	Status cb.Status
	Info   string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the orderer refused the update (%s): %s", e.Status, e.Info)
}

// Submit sends a signed config update envelope to the orderer. The
// orderer validates a config update when it receives it, so a missing
// signature comes back here as a *RefusedError and nothing is ordered.
//
// On a BFT channel it also sends the envelope to every other orderer the
// channel's configuration names, as the peers' gateways do with
// transactions: a SmartBFT follower that accepted a request but cannot
// take part in consensus (Fabric v3.1.1's SmartBFT can leave one so after
// a sync) would otherwise hold it forever. The first orderer's answer is
// the one returned; the others are asked on a best-effort basis.
func (o *Orderer) Submit(ctx context.Context, env *cb.Envelope) error {
	var others []endpoint
	if cfg, err := o.Config(ctx); err == nil {
		others = slices.DeleteFunc(ordererEndpoints(cfg.Config), func(e endpoint) bool { return e.addr == o.addr })
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.submitOthers(ctx, others, env)
	}()
	err := broadcast(ctx, o.client, env)
	<-done
	return err
}

// endpoint is one orderer the channel names, with its organisation's TLS
// root certificates.
type endpoint struct {
	addr  string
	roots *x509.CertPool
}

// ordererEndpoints lists the orderers of a BFT channel's configuration
// (each orderer organisation's Endpoints with the TLS roots of its MSP),
// or nothing when the channel has no SmartBFT consenters.
func ordererEndpoints(cfg *cb.Config) []endpoint {
	if _, err := Consenters(cfg); err != nil {
		return nil
	}
	og, _ := ordererGroup(cfg)
	var eps []endpoint
	for _, name := range slices.Sorted(maps.Keys(og.Groups)) {
		g := og.Groups[name]
		var addrs cb.OrdererAddresses
		var mc mb.MSPConfig
		var fc mb.FabricMSPConfig
		if g.Values["Endpoints"] == nil || g.Values["MSP"] == nil ||
			proto.Unmarshal(g.Values["Endpoints"].Value, &addrs) != nil ||
			proto.Unmarshal(g.Values["MSP"].Value, &mc) != nil || proto.Unmarshal(mc.Config, &fc) != nil {
			continue
		}
		roots := x509.NewCertPool()
		for _, c := range slices.Concat(fc.TlsRootCerts, fc.TlsIntermediateCerts) {
			roots.AppendCertsFromPEM(c)
		}
		for _, a := range addrs.Addresses {
			eps = append(eps, endpoint{addr: a, roots: roots})
		}
	}
	return eps
}

// submitOthers sends env to each endpoint side by side, presenting the
// same TLS client certificate, and waits for their answers (at most 10 s).
func (o *Orderer) submitOthers(ctx context.Context, eps []endpoint, env *cb.Envelope) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host, _, err := net.SplitHostPort(e.addr)
			if err != nil {
				return
			}
			cert := o.cert
			creds := credentials.NewTLS(&tls.Config{RootCAs: e.roots, ServerName: host, MinVersion: tls.VersionTLS12,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }})
			conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(creds))
			if err != nil {
				return
			}
			defer conn.Close()
			_ = broadcast(ctx, ab.NewAtomicBroadcastClient(conn), env)
		}()
	}
	wg.Wait()
}

// broadcast sends env on a Broadcast stream of c and returns the answer
// as an error unless it is SUCCESS.
func broadcast(ctx context.Context, c ab.AtomicBroadcastClient, env *cb.Envelope) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.Broadcast(ctx)
	if err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	if err := stream.Send(env); err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	_ = stream.CloseSend()
	if resp.Status != cb.Status_SUCCESS {
		return &RefusedError{Status: resp.Status, Info: resp.Info}
	}
	return nil
}

// Update is one proposed configuration change: the marshalled
// ConfigUpdate and the signatures gathered for it so far.
type Update struct {
	Marshaled  []byte
	Signatures []*cb.ConfigSignature
}

// Compute runs edit on a copy of cfg and returns the update from cfg to
// the result.
func Compute(cfg *cb.Config, channel string, edit func(*configtx.ConfigTx) error) (*Update, error) {
	c := configtx.New(cfg)
	if err := edit(&c); err != nil {
		return nil, err
	}
	raw, err := c.ComputeMarshaledUpdate(channel)
	if err != nil {
		return nil, fmt.Errorf("compute the update: %w", err)
	}
	return &Update{Marshaled: raw}, nil
}

// Sign adds the config signature of id.
func (u *Update) Sign(id *configtx.SigningIdentity) error {
	s, err := id.CreateConfigSignature(u.Marshaled)
	if err != nil {
		return fmt.Errorf("signature of %s: %w", id.MSPID, err)
	}
	u.Signatures = append(u.Signatures, s)
	return nil
}

// Envelope is the update with its signatures, as submitter sends it.
func (u *Update) Envelope(submitter *configtx.SigningIdentity) (*cb.Envelope, error) {
	env, err := configtx.NewEnvelope(u.Marshaled, u.Signatures...)
	if err != nil {
		return nil, err
	}
	if err := submitter.SignEnvelope(env); err != nil {
		return nil, err
	}
	return env, nil
}

// Members lists the channel's application organisations (their MSP IDs).
func Members(cfg *cb.Config) ([]string, error) {
	c := configtx.New(cfg)
	app, err := c.Application().Configuration()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(app.Organizations))
	for _, o := range app.Organizations {
		ids = append(ids, o.MSP.Name)
	}
	return ids, nil
}

// IsMember reports whether mspID is one of the channel's application
// organisations.
func IsMember(cfg *cb.Config, mspID string) bool {
	c := configtx.New(cfg)
	return c.Application().Organization(mspID) != nil
}

// Majority is how many of n organisations' admins a MAJORITY policy needs.
func Majority(n int) int { return n/2 + 1 }
