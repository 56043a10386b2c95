package ledger

import "github.com/hyperledger/fabric-gateway/pkg/client"

// Contract returns the gateway's contract, for callers that drive the
// endorse, submit and commit-status steps themselves and time each one,
// as `mtrace bench` does.
func (g *Gateway) Contract() *client.Contract { return g.contract }

// Network returns the gateway's channel, for callers that read the
// ledger's system chaincodes (qscc), as `mtrace bench` does for the size
// of committed transactions.
func (g *Gateway) Network() *client.Network { return g.network }
