// Package proofnet gathers a proof (package proof) from the network: the
// blocks from the caller's own peer, and signed answers (the records, and
// each transaction's validity) from peers of the caller's organisation and
// of another, each asked directly through its Endorser service.
package proofnet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// maxAnswer is the largest answer accepted from a peer.
const maxAnswer = 100 << 20

// Signer is the caller's identity: the serialized identity proposals
// carry as creator, and its signing function (over a SHA-256 digest).
type Signer struct {
	Creator []byte
	Sign    identity.Sign
}

// NewSigner loads the identity of a profile.
func NewSigner(p *config.Profile) (*Signer, error) {
	certPEM, err := os.ReadFile(p.Cert)
	if err != nil {
		return nil, fmt.Errorf("profile %s: certificate: %w", p.Name, err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("profile %s: certificate %s: %w", p.Name, p.Cert, err)
	}
	keyPEM, err := os.ReadFile(p.Key)
	if err != nil {
		return nil, fmt.Errorf("profile %s: private key: %w", p.Name, err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("profile %s: private key %s: %w", p.Name, p.Key, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	pemCert, err := identity.CertificateToPEM(cert)
	if err != nil {
		return nil, err
	}
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: p.MSPID, IdBytes: pemCert})
	if err != nil {
		return nil, err
	}
	return &Signer{Creator: creator, Sign: sign}, nil
}

// Endorser is one peer's Endorser service, asked as the signer.
type Endorser struct {
	MSP      string
	Endpoint string
	conn     *grpc.ClientConn
	client   peer.EndorserClient
}

// DialEndorser connects (lazily) to the peer of a profile.
func DialEndorser(p *config.Profile) (*Endorser, error) {
	root, err := os.ReadFile(p.TLSRootCert)
	if err != nil {
		return nil, fmt.Errorf("profile %s: TLS root certificate: %w", p.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(root) {
		return nil, fmt.Errorf("profile %s: TLS root certificate %s: no PEM certificate in it", p.Name, p.TLSRootCert)
	}
	conn, err := grpc.NewClient("passthrough:///"+p.Endpoint,
		grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, p.ServerName)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAnswer)))
	if err != nil {
		return nil, fmt.Errorf("profile %s: endpoint %s: %w", p.Name, p.Endpoint, err)
	}
	return &Endorser{MSP: p.MSPID, Endpoint: p.Endpoint, conn: conn, client: peer.NewEndorserClient(conn)}, nil
}

// Close closes the connection.
func (e *Endorser) Close() error { return e.conn.Close() }

// Ask sends chaincode fn(args...) on channel as a proposal signed by s
// and returns the peer's signed answer.
func (e *Endorser) Ask(ctx context.Context, s *Signer, channel, chaincode string, args ...string) (*proof.Answer, error) {
	sp, prop, err := proposal(s, channel, chaincode, args)
	if err != nil {
		return nil, err
	}
	resp, err := e.client.ProcessProposal(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("peer of %s at %s: %w", e.MSP, e.Endpoint, err)
	}
	if st := resp.GetResponse().GetStatus(); st != 200 {
		return nil, fmt.Errorf("peer of %s at %s: %s %v: status %d: %s", e.MSP, e.Endpoint, chaincode, args, st, resp.GetResponse().GetMessage())
	}
	if resp.GetEndorsement() == nil {
		return nil, fmt.Errorf("peer of %s at %s did not sign its answer", e.MSP, e.Endpoint)
	}
	return &proof.Answer{Proposal: prop, Payload: resp.GetPayload(),
		Endorser: resp.GetEndorsement().GetEndorser(), Signature: resp.GetEndorsement().GetSignature()}, nil
}

// proposal builds and signs a chaincode proposal.
func proposal(s *Signer, channel, chaincode string, args []string) (*peer.SignedProposal, []byte, error) {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(append(append([]byte{}, nonce...), s.Creator...))
	ext, err := proto.Marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: chaincode}})
	if err != nil {
		return nil, nil, err
	}
	ch, err := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: channel,
		TxId: hex.EncodeToString(sum[:]), Timestamp: timestamppb.New(time.Now()), Extension: ext})
	if err != nil {
		return nil, nil, err
	}
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: s.Creator, Nonce: nonce})
	if err != nil {
		return nil, nil, err
	}
	hdr, err := proto.Marshal(&common.Header{ChannelHeader: ch, SignatureHeader: sh})
	if err != nil {
		return nil, nil, err
	}
	input := &peer.ChaincodeInput{}
	for _, a := range args {
		input.Args = append(input.Args, []byte(a))
	}
	cis, err := proto.Marshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
		Type: peer.ChaincodeSpec_GOLANG, ChaincodeId: &peer.ChaincodeID{Name: chaincode}, Input: input}})
	if err != nil {
		return nil, nil, err
	}
	payload, err := proto.Marshal(&peer.ChaincodeProposalPayload{Input: cis})
	if err != nil {
		return nil, nil, err
	}
	prop, err := proto.Marshal(&peer.Proposal{Header: hdr, Payload: payload})
	if err != nil {
		return nil, nil, err
	}
	d := sha256.Sum256(prop)
	sig, err := s.Sign(d[:])
	if err != nil {
		return nil, nil, fmt.Errorf("sign proposal: %w", err)
	}
	return &peer.SignedProposal{ProposalBytes: prop, Signature: sig}, prop, nil
}

// errNoOther is returned when the config file names no peer of another
// organisation.
var errNoOther = errors.New("the config file has no profile of another organisation's peer to confirm the answers")
