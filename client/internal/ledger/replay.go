package ledger

import (
	"context"
	"fmt"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/mtrace/mtrace/client/internal/fabtx"
)

// Replay calls fn with every chaincode event of the chaincode's valid
// transactions, in block order, from block start up to the channel's
// height when the call began, then returns. It reads whole blocks, so it
// knows where the ledger ends even when the last blocks hold no event of
// the chaincode (Events would wait for the next one).
func (g *Gateway) Replay(ctx context.Context, start uint64, fn func(Event) error) error {
	h, err := g.height(ctx)
	if err != nil {
		return g.mapError(err)
	}
	if start >= h {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := g.network.BlockEvents(ctx, client.WithStartBlock(start))
	if err != nil {
		return g.mapError(err)
	}
	next := start
	for blk := range blocks {
		num := blk.GetHeader().GetNumber()
		evs, err := blockEvents(blk, g.profile.Chaincode)
		if err != nil {
			return fmt.Errorf("block %d: %w", num, err)
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		next = num + 1
		if next >= h {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("block stream ended at block %d, before the height %d", next, h)
}

// blockEvents lists the chaincode events of a block's valid endorser
// transactions.
func blockEvents(blk *common.Block, chaincode string) ([]Event, error) {
	flags := blk.GetMetadata().GetMetadata()
	var valid []byte
	if int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) < len(flags) {
		valid = flags[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	var out []Event
	for i, raw := range blk.GetData().GetData() {
		if i >= len(valid) || peer.TxValidationCode(valid[i]) != peer.TxValidationCode_VALID {
			continue
		}
		tx, err := fabtx.Decode(raw)
		if err != nil {
			return nil, err
		}
		for _, cca := range tx.Actions {
			ev := &peer.ChaincodeEvent{}
			if err := fabtx.Unmarshal(cca.GetEvents(), ev, "chaincode event"); err != nil {
				return nil, err
			}
			if ev.GetChaincodeId() == chaincode && ev.GetEventName() != "" {
				out = append(out, Event{Block: blk.GetHeader().GetNumber(), TxID: tx.Header.GetTxId(), Name: ev.GetEventName(), Payload: ev.GetPayload()})
			}
		}
	}
	return out, nil
}
