package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// gatewayClient times transactions through the Fabric Gateway step by
// step: endorse, submit to ordering, then wait for the commit status.
// Unlike the CLI's ledger.Submit it never retries, so that every conflict
// is counted.
type gatewayClient struct {
	contract *client.Contract
	qscc     *client.Contract // the peer's ledger queries, for TxBytes
	channel  string
	orgs     []string
	// gw and profile rebuild the commit of a transaction the orderers
	// had ordered already (ledger.CommitOf).
	gw      *client.Gateway
	profile *config.Profile
}

func (g *gatewayClient) Submit(ctx context.Context, fn string, args ...string) Sample {
	start := time.Now()
	opts := []client.ProposalOption{client.WithArguments(args...)}
	if len(g.orgs) > 0 {
		opts = append(opts, client.WithEndorsingOrganizations(g.orgs...))
	}
	prop, err := g.contract.NewProposal(fn, opts...)
	if err != nil {
		return Sample{Code: "PROPOSAL_ERROR", Err: err.Error()}
	}
	tx, err := prop.EndorseWithContext(ctx)
	endorse := time.Since(start)
	if err != nil {
		return Sample{Code: "ENDORSE_ERROR", Err: describe(err), Endorse: endorse}
	}
	id := tx.TransactionID()
	commit, err := tx.SubmitWithContext(ctx)
	if err != nil && ledger.AlreadyOrdered(err) && g.gw != nil {
		// SmartBFT orderers that ordered the request already answer
		// "request already processed", which the gateway counts as a
		// failure; the transaction's commit status says how it ended.
		commit, err = ledger.CommitOf(g.gw, g.profile, id)
	}
	if err != nil {
		return Sample{Code: "SUBMIT_ERROR", Err: describe(err), Endorse: endorse, TxID: id}
	}
	st, err := commit.StatusWithContext(ctx)
	total := time.Since(start)
	if err != nil {
		return Sample{Code: "STATUS_ERROR", Err: describe(err), Endorse: endorse, Total: total, TxID: id}
	}
	s := Sample{Total: total, Endorse: endorse, TxID: id}
	if !st.Successful {
		s.Code = st.Code.String()
		s.Err = "transaction " + st.TransactionID + " failed validation: " + s.Code
	}
	return s
}

func (g *gatewayClient) Evaluate(ctx context.Context, fn string, args ...string) ([]byte, Sample) {
	start := time.Now()
	res, err := g.contract.EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	s := Sample{Total: time.Since(start)}
	if err != nil {
		s.Code, s.Err = "EVALUATE_ERROR", describe(err)
	}
	return res, s
}

// TxBytes reads committed transaction id from the peer's ledger (qscc
// GetTransactionByID) and returns the size of its envelope: what the
// transaction added to every block store.
func (g *gatewayClient) TxBytes(ctx context.Context, id string) (int, error) {
	raw, err := g.qscc.EvaluateWithContext(ctx, "GetTransactionByID", client.WithArguments(g.channel, id))
	if err != nil {
		return 0, fmt.Errorf("read transaction %s: %s", id, describe(err))
	}
	var pt peer.ProcessedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		return 0, fmt.Errorf("decode transaction %s: %w", id, err)
	}
	return proto.Size(pt.GetTransactionEnvelope()), nil
}

// describe puts the gateway's error, whose details hold each peer's
// message (and so the chaincode's own error), on one line.
func describe(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
