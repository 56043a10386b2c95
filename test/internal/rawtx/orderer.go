package rawtx

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	ab "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Orderer is a connection to one orderer's client endpoint.
type Orderer struct {
	conn   *grpc.ClientConn
	client ab.AtomicBroadcastClient
	// certHash is the SHA-256 of the client's TLS certificate, if it
	// presents one: an orderer that requires client certificates serves
	// Deliver only to a request whose channel header names it (Fabric's
	// TLS binding).
	certHash []byte
}

// TLS is what a client needs to reach a node: the node's TLS root, the
// name in its certificate, and optionally the client's own TLS
// certificate and key (a member's, from its organisation's TLS CA), which
// an orderer that requires client certificates asks for.
type TLS struct {
	Root, ServerName      string
	ClientCert, ClientKey string
}

// Dial connects to the orderer at addr (127.0.0.1:port).
func Dial(addr string, t TLS) (*Orderer, error) {
	rootPEM, err := os.ReadFile(t.Root)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(rootPEM) {
		return nil, fmt.Errorf("%s holds no certificate", t.Root)
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	var certHash []byte
	if t.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("client TLS certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
		h := sha256.Sum256(pair.Certificate[0])
		certHash = h[:]
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		return nil, fmt.Errorf("connect to orderer %s: %w", addr, err)
	}
	return &Orderer{conn: conn, client: ab.NewAtomicBroadcastClient(conn), certHash: certHash}, nil
}

// Close closes the connection.
func (o *Orderer) Close() error { return o.conn.Close() }

// Broadcast sends every envelope on one Broadcast stream, back to back,
// before it reads any answer, so that they reach the orderer (and its
// block cutter) together and in this order. It returns the orderer's
// answer to each, in order.
func (o *Orderer) Broadcast(ctx context.Context, envs ...*cb.Envelope) ([]*ab.BroadcastResponse, error) {
	stream, err := o.client.Broadcast(ctx)
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	for i, e := range envs {
		if err := stream.Send(e); err != nil {
			return nil, fmt.Errorf("broadcast envelope %d: %w", i, err)
		}
	}
	out := make([]*ab.BroadcastResponse, 0, len(envs))
	for range envs {
		r, err := stream.Recv()
		if err != nil {
			return out, fmt.Errorf("broadcast answer %d: %w", len(out), err)
		}
		out = append(out, r)
	}
	_ = stream.CloseSend()
	return out, nil
}

// Blocks reads blocks of channel from number from onwards, as s, and
// hands each to each until it returns false or ctx ends.
func (o *Orderer) Blocks(ctx context.Context, s *Signer, channel string, from uint64, each func(*cb.Block) bool) error {
	seek, err := proto.Marshal(&ab.SeekInfo{
		Start:    &ab.SeekPosition{Type: &ab.SeekPosition_Specified{Specified: &ab.SeekSpecified{Number: from}}},
		Stop:     &ab.SeekPosition{Type: &ab.SeekPosition_Specified{Specified: &ab.SeekSpecified{Number: math.MaxUint64}}},
		Behavior: ab.SeekInfo_BLOCK_UNTIL_READY,
	})
	if err != nil {
		return err
	}
	env, err := s.signed(cb.HeaderType_DELIVER_SEEK_INFO, channel, seek, o.certHash)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := o.client.Deliver(ctx)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if err := stream.Send(env); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
		switch r := resp.Type.(type) {
		case *ab.DeliverResponse_Block:
			if !each(r.Block) {
				return nil
			}
		case *ab.DeliverResponse_Status:
			return fmt.Errorf("deliver: the orderer answered %s", r.Status)
		default:
			return errors.New("deliver: an answer of unknown type")
		}
	}
}

// signed is a signed envelope of any header type for the channel, bound
// to the TLS client certificate whose hash is certHash, if any.
func (s *Signer) signed(typ cb.HeaderType, channel string, data, certHash []byte) (*cb.Envelope, error) {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	chdr, err := proto.Marshal(&cb.ChannelHeader{Type: int32(typ), ChannelId: channel, Timestamp: timestamppb.Now(), TlsCertHash: certHash})
	if err != nil {
		return nil, err
	}
	shdr, err := proto.Marshal(&cb.SignatureHeader{Creator: s.Creator(), Nonce: nonce})
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&cb.Payload{Header: &cb.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: data})
	if err != nil {
		return nil, err
	}
	return s.Envelope(payload)
}
