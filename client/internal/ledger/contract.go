package ledger

import "github.com/hyperledger/fabric-gateway/pkg/client"

// Contract returns the gateway's contract, for callers that drive the
// endorse, submit and commit-status steps themselves and time each one,
// as `mtrace bench` does.
func (g *Gateway) Contract() *client.Contract { return g.contract }
