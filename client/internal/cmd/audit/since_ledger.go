package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// ledgerSource reads the records an incremental audit asks for: current
// batches with ReadBatches, a written batch's version at the checkpoint
// from its history (the newest version written by no transaction since).
type ledgerSource struct {
	ctx     context.Context
	l       ledger.Ledger
	w       *Writes
	current map[string]*model.Batch
	read    map[string]bool
}

func newLedgerSource(ctx context.Context, l ledger.Ledger, w *Writes) *ledgerSource {
	return &ledgerSource{ctx: ctx, l: l, w: w, current: map[string]*model.Batch{}, read: map[string]bool{}}
}

// prefetch reads the current versions of ids, a page at a time.
func (s *ledgerSource) prefetch(ids []string) error {
	var want []string
	for _, id := range ids {
		if !s.read[id] {
			want = append(want, id)
		}
	}
	for len(want) > 0 {
		n := min(len(want), model.MaxListLimit)
		bs, err := api.New(s.l).ReadBatches(s.ctx, want[:n])
		if err != nil {
			return fmt.Errorf("read batches: %w", err)
		}
		for _, id := range want[:n] {
			s.read[id] = true
		}
		for _, b := range bs {
			if b != nil {
				s.current[b.ID] = b
			}
		}
		want = want[n:]
	}
	return nil
}

func (s *ledgerSource) batch(id string) (*model.Batch, *model.Batch, error) {
	if err := s.prefetch([]string{id}); err != nil {
		return nil, nil, err
	}
	cur := s.current[id]
	if !s.w.Batches[id] {
		return cur, cur, nil
	}
	hs, err := api.New(s.l).GetHistory(s.ctx, id)
	if err != nil {
		if cur == nil && rejected(err) {
			return nil, nil, nil // a take or hold of a batch that never was
		}
		return nil, nil, fmt.Errorf("history of batch %q: %w", id, err)
	}
	var before *model.Batch
	for _, h := range hs { // oldest first
		if h.Oversight != nil || s.w.Txs[h.TxID] {
			continue
		}
		before = h.Batch // nil after a deletion
	}
	return before, cur, nil
}

func (s *ledgerSource) process(tx string) (*model.Process, error) {
	p, err := api.New(s.l).GetProcess(s.ctx, tx)
	if rejected(err) {
		return nil, nil // no record: only batches written since can name it
	}
	if err != nil {
		return nil, fmt.Errorf("process record %s: %w", tx, err)
	}
	return &p, nil
}

func (s *ledgerSource) takes(id string) ([]model.Take, error) {
	var out []model.Take
	bookmark := ""
	for {
		page, err := api.New(s.l).ListTakes(s.ctx, id, bookmark, model.MaxListLimit)
		if bookmark == "" && rejected(err) {
			return nil, nil // a batch deleted with its takes
		}
		if err != nil {
			return nil, fmt.Errorf("takes of batch %q: %w", id, err)
		}
		out = append(out, page.Takes...)
		if page.Bookmark == "" || page.Bookmark == bookmark {
			return out, nil
		}
		bookmark = page.Bookmark
	}
}

// rejected reports a chaincode's refusal, such as a record not found.
func rejected(err error) bool {
	var ee *ledger.EndorseError
	return errors.As(err, &ee) && ee.Chaincode && strings.Contains(ee.Message, "not found")
}

// chainHead returns the height and the header hash of the newest block.
func chainHead(ctx context.Context, l ledger.Ledger) (uint64, []byte, error) {
	h, err := l.Height(ctx)
	if err != nil {
		return 0, nil, err
	}
	if h == 0 {
		return 0, nil, errors.New("the channel has no blocks")
	}
	hash, err := blockHash(ctx, l, h-1)
	return h, hash, err
}

func blockHash(ctx context.Context, l ledger.Ledger, num uint64) ([]byte, error) {
	raw, err := l.Block(ctx, num)
	if err != nil {
		return nil, fmt.Errorf("read block %d: %w", num, err)
	}
	blk, err := decodeBlock(raw, num)
	if err != nil {
		return nil, err
	}
	return headerHash(blk.GetHeader()), nil
}

// since runs the incremental audit from checkpoint cp. It scans the
// blocks after the checkpoint to the channel's height, reads the records
// written, and scans again if blocks were committed meanwhile, so that
// the records read are those of the blocks scanned. It returns the
// report, its scope and the new checkpoint; full is set when the registry
// changed and only a full audit can tell.
func since(ctx context.Context, l ledger.Ledger, cp *Checkpoint) (r model.AuditReport, sc Scope, next *Checkpoint, full bool, err error) {
	if l.Chaincode() != cp.Chaincode {
		return r, sc, nil, false, fmt.Errorf("the checkpoint is of chaincode %q, not %q", cp.Chaincode, l.Chaincode())
	}
	hash, err := blockHash(ctx, l, cp.Height-1)
	if err != nil {
		return r, sc, nil, false, err
	}
	if got := hashHex(hash); got != cp.BlockHash {
		return r, sc, nil, false, fmt.Errorf("block %d has hash %s, the checkpoint recorded %s: %w", cp.Height-1, got, cp.BlockHash, ErrRewritten)
	}
	w := newWrites(cp.Height)
	w.LastHash = hash
	const rounds = 5
	for i := 0; ; i++ {
		h, err := l.Height(ctx)
		if err != nil {
			return r, sc, nil, false, err
		}
		if h < cp.Height {
			return r, sc, nil, false, fmt.Errorf("the channel's height %d is below the checkpoint's %d: %w", h, cp.Height, ErrRewritten)
		}
		if h == w.To && i > 0 {
			break // nothing committed while the records were read
		}
		if i == rounds {
			return r, sc, nil, false, fmt.Errorf("the ledger kept growing while it was read (%d rounds); try again", rounds)
		}
		if err := scan(ctx, l, w, h, w.LastHash); err != nil {
			return r, sc, nil, false, err
		}
		if w.Registry {
			return r, sc, nil, true, nil
		}
		src := newLedgerSource(ctx, l, w)
		if err := src.prefetch(sortedKeys(w.Batches)); err != nil {
			return r, sc, nil, false, err
		}
		reg, err := api.New(l).GetRegistry(ctx)
		if err != nil {
			return r, sc, nil, false, err
		}
		r, sc, err = incremental(cp.Totals, reg, sortedKeys(w.Batches), sortedKeys(w.Processes), src)
		if err != nil {
			return r, sc, nil, false, err
		}
	}
	sc.FromBlock, sc.ToBlock, sc.Transactions, sc.Keys = w.From, w.To-1, w.Transactions, w.Keys
	next = &Checkpoint{Version: CheckpointVersion, Chaincode: cp.Chaincode, Channel: cp.Channel, Height: w.To, BlockHash: hashHex(w.LastHash), Totals: totalsOf(&r)}
	return r, sc, next, false, nil
}
