package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

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
	// commitOf is the commit of a transaction by its ID, to read its
	// status when the submit failed only because orderers had already
	// ordered it (ledger.AlreadyOrdered).
	commitOf func(txID string) (*client.Commit, error)
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
	if err != nil && ledger.AlreadyOrdered(err) && g.commitOf != nil {
		// Under BFT, orderers that got the transaction after the others
		// had ordered it answer "request already processed", which the
		// gateway counts as a failed submit; the commit status tells.
		commit, err = g.commitOf(id)
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

// Block reads the block that holds committed transaction id from the
// peer's ledger (qscc GetBlockByTxID): its size, its transactions and the
// orderers' signatures in its SIGNATURES metadata.
func (g *gatewayClient) Block(ctx context.Context, id string) (Block, error) {
	raw, err := g.qscc.EvaluateWithContext(ctx, "GetBlockByTxID", client.WithArguments(g.channel, id))
	if err != nil {
		return Block{}, fmt.Errorf("read the block of transaction %s: %s", id, describe(err))
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return Block{}, fmt.Errorf("decode the block of transaction %s: %w", id, err)
	}
	out := Block{Number: b.GetHeader().GetNumber(), Bytes: len(raw), Txs: len(b.GetData().GetData())}
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_SIGNATURES) {
		sig := md[common.BlockMetadataIndex_SIGNATURES]
		out.SigBytes = len(sig)
		var m common.Metadata
		if err := proto.Unmarshal(sig, &m); err != nil {
			return Block{}, fmt.Errorf("decode the signatures of block %d: %w", out.Number, err)
		}
		out.Sigs = len(m.GetSignatures())
	}
	return out, nil
}

// describe puts the gateway's error, whose details hold each peer's
// message (and so the chaincode's own error), on one line.
func describe(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
