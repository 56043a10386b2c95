package proofnet

import (
	"context"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// pinned is a ledger whose blocks come from a proof where it holds them,
// so that a check that reads blocks (the signatures check) reads the very
// bytes the proof's checks verified, not a second answer of the peer.
type pinned struct {
	ledger.Ledger
	byTx  map[string][]byte
	byNum map[uint64][]byte
}

// Pinned returns l with BlockByTxID and Block answered from p's blocks
// and config blocks where they hold the block asked for.
func Pinned(l ledger.Ledger, p *proof.Proof) ledger.Ledger {
	pl := &pinned{Ledger: l, byTx: map[string][]byte{}, byNum: map[uint64][]byte{}}
	for _, raw := range append(append([][]byte{}, p.Configs...), p.Blocks...) {
		var b common.Block
		if proto.Unmarshal(raw, &b) != nil {
			continue
		}
		pl.byNum[b.GetHeader().GetNumber()] = raw
		for _, id := range txIDs(&b) {
			if _, seen := pl.byTx[id]; !seen {
				pl.byTx[id] = raw
			}
		}
	}
	return pl
}

func (l *pinned) BlockByTxID(ctx context.Context, txID string) ([]byte, error) {
	if raw, ok := l.byTx[txID]; ok {
		return raw, nil
	}
	return l.Ledger.BlockByTxID(ctx, txID)
}

func (l *pinned) Block(ctx context.Context, number uint64) ([]byte, error) {
	if raw, ok := l.byNum[number]; ok && number != ledger.NewestBlock {
		return raw, nil
	}
	return l.Ledger.Block(ctx, number)
}
