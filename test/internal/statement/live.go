package statement

import (
	"context"
	"fmt"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// Live is the Ledger of a running network, read through one gateway
// connection: the chaincode's queries, and the peer's blocks (qscc).
type Live struct {
	cc      *api.Client
	qscc    *client.Contract
	channel string
	blocks  map[string]Pos // every transaction of the blocks read so far
}

// Dial connects to the network as profile. Close the connection with
// the returned function.
func Dial(env *testnet.Env, profile string) (*Live, func(), error) {
	gw, done, err := env.Gateway(profile)
	if err != nil {
		return nil, nil, err
	}
	p := env.Profiles[profile]
	n := gw.GetNetwork(p.Channel)
	return &Live{cc: api.New(invoker{n.GetContract(p.Chaincode)}), qscc: n.GetContract("qscc"), channel: p.Channel,
		blocks: map[string]Pos{}}, done, nil
}

// invoker evaluates the chaincode's queries through the gateway; the
// rebuild never writes.
type invoker struct{ c *client.Contract }

func (i invoker) Evaluate(ctx context.Context, fn string, args ...string) ([]byte, error) {
	out, err := i.c.EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	if err != nil {
		return nil, fmt.Errorf("%s: %s", fn, testnet.Message(err))
	}
	return out, nil
}

func (i invoker) Submit(context.Context, string, ...string) ([]byte, error) {
	return nil, fmt.Errorf("the chain's rebuild only reads")
}

// Batches lists every batch, a page of the most the chaincode gives at a
// time.
func (l *Live) Batches(ctx context.Context) ([]string, error) {
	var ids []string
	q := model.ListQuery{Limit: model.MaxListLimit}
	for {
		page, err := l.cc.ListBatches(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Batches {
			ids = append(ids, b.ID)
		}
		if page.Bookmark == "" {
			return ids, nil
		}
		q.Bookmark = page.Bookmark
	}
}

// History returns the versions of batch id.
func (l *Live) History(ctx context.Context, id string) ([]model.HistoryEntry, error) {
	return l.cc.GetHistory(ctx, id)
}

// Process returns the record of process transaction tx.
func (l *Live) Process(ctx context.Context, tx string) (model.Process, error) {
	return l.cc.GetProcess(ctx, tx)
}

// Position reads the block that holds tx from the peer and finds tx in
// it, which must be valid.
func (l *Live) Position(ctx context.Context, tx string) (Pos, error) {
	if p, ok := l.blocks[tx]; ok {
		return p, nil
	}
	raw, err := l.qscc.EvaluateWithContext(ctx, "GetBlockByTxID", client.WithArguments(l.channel, tx))
	if err != nil {
		return Pos{}, fmt.Errorf("qscc GetBlockByTxID: %s", testnet.Message(err))
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return Pos{}, fmt.Errorf("block of %s: %w", tx, err)
	}
	n := int64(b.GetHeader().GetNumber())
	var flags []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		flags = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, data := range b.GetData().GetData() {
		ch, err := channelHeader(data)
		if err != nil {
			return Pos{}, fmt.Errorf("block %d, transaction %d: %w", n, i, err)
		}
		if i >= len(flags) || peer.TxValidationCode(flags[i]) != peer.TxValidationCode_VALID {
			if ch.GetTxId() == tx {
				return Pos{}, fmt.Errorf("block %d holds it as invalid", n)
			}
			continue
		}
		l.blocks[ch.GetTxId()] = Pos{Block: n, Index: int64(i), At: ch.GetTimestamp().AsTime()}
	}
	p, ok := l.blocks[tx]
	if !ok {
		return Pos{}, fmt.Errorf("block %d, which qscc names, does not hold it", n)
	}
	return p, nil
}

// Height is the channel's height on the profile's peer.
func (l *Live) Height(ctx context.Context) (int64, error) {
	raw, err := l.qscc.EvaluateWithContext(ctx, "GetChainInfo", client.WithArguments(l.channel))
	if err != nil {
		return 0, fmt.Errorf("qscc GetChainInfo: %s", testnet.Message(err))
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, err
	}
	return int64(info.GetHeight()), nil
}

func channelHeader(env []byte) (*common.ChannelHeader, error) {
	var e common.Envelope
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	var p common.Payload
	if err := proto.Unmarshal(e.GetPayload(), &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	return &ch, nil
}
