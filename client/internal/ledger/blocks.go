package ledger

import (
	"context"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// Height is the channel's block height on the gateway peer: the number of
// the next block to be committed.
func (g *Gateway) Height(ctx context.Context) (uint64, error) {
	h, err := g.height(ctx)
	return h, g.mapError(err)
}

// Blocks streams the channel's full blocks, each with the validation code
// of every transaction in its metadata, from the block after the
// checkpoint's (or from block start when the checkpoint holds no block
// yet), until ctx is cancelled or the peer drops the stream. The caller
// keeps the checkpoint; it is read once, when the stream starts.
func (g *Gateway) Blocks(ctx context.Context, cp client.Checkpoint, start uint64) (<-chan *common.Block, error) {
	blocks, err := g.network.BlockEvents(ctx, client.WithStartBlock(start), client.WithCheckpoint(cp))
	if err != nil {
		return nil, g.mapError(err)
	}
	return blocks, nil
}
