package testnet

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// ClientTLS is the TLS client certificate and key that the organisation's
// TLS CA issued to the profile's user: the orderer section's when it names
// them, else <user>/tls/client.crt and client.key beside the user's
// <user>/msp folder.
func (p Profile) ClientTLS() (cert, key string) {
	if p.Orderer.TLSCert != "" {
		return p.Orderer.TLSCert, p.Orderer.TLSKey
	}
	user := filepath.Dir(filepath.Dir(filepath.Dir(p.Cert))) // <user>/msp/signcerts/x.pem
	return filepath.Join(user, "tls", "client.crt"), filepath.Join(user, "tls", "client.key")
}

// Block returns block n as the profile's peer has it (with the peer's
// own metadata: validation codes, commit hash), through qscc.
func (e *Env) Block(profile string, n uint64) (*common.Block, error) {
	return e.qsccBlock(profile, "GetBlockByNumber", strconv.FormatUint(n, 10))
}

// BlockByTxID returns the block holding transaction txID as the
// profile's peer has it, through qscc.
func (e *Env) BlockByTxID(profile, txID string) (*common.Block, error) {
	return e.qsccBlock(profile, "GetBlockByTxID", txID)
}

func (e *Env) qsccBlock(profile, fn, arg string) (*common.Block, error) {
	gw, done, err := e.Gateway(profile)
	if err != nil {
		return nil, err
	}
	defer done()
	p := e.Profiles[profile]
	raw, err := gw.GetNetwork(p.Channel).GetContract("qscc").EvaluateTransaction(fn, p.Channel, arg)
	if err != nil {
		return nil, fmt.Errorf("qscc %s %s on %s's peer: %s", fn, arg, profile, Message(err))
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("qscc %s %s: %w", fn, arg, err)
	}
	return &b, nil
}
