// Package statement rebuilds mtrace's period statements from the chain
// itself, for the end-to-end tests that check what `mtrace report`
// prints: a site's mass balance over a period and a plant's PPWR line.
//
// Read takes every batch the chaincode lists, each batch's versions as
// the peers' history serves them and the records of the processes that
// made them; Balance and PPWR turn them into the statement as of a
// height, placing each transaction by the block that holds it. Nothing
// here reads the SQL projection or shares code with it or with the
// report, so a figure the projection invented, dropped or misplaced
// shows as a difference.
package statement

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Ledger is what the rebuild reads from the chain.
type Ledger interface {
	// Batches returns the ID of every batch on the ledger.
	Batches(ctx context.Context) ([]string, error)
	// History returns a batch's versions, oldest first.
	History(ctx context.Context, id string) ([]model.HistoryEntry, error)
	// Process returns the record of the process transaction tx.
	Process(ctx context.Context, tx string) (model.Process, error)
	// Position returns where transaction tx is on the chain.
	Position(ctx context.Context, tx string) (Pos, error)
}

// Pos is where a transaction is on the chain: its block, its index in
// the block, and its time (the channel header's).
type Pos struct {
	Block, Index int64
	At           time.Time
}

// Line kinds, as the statements name them.
const (
	collection  = "collection"
	purchase    = "purchase"
	receipt     = "receipt"
	placed      = "placed"
	virgin      = "virgin"
	processOut  = "process_out"
	dispatch    = "dispatch"
	movedOut    = "moved_out"
	processIn   = "process_in"
	processLoss = "process_loss"
)

// move is one change of a site's stock of a material by one transaction.
type move struct {
	tx       string
	site     string
	material string
	batch    string
	kind     string
	delta    int64
	class    string
	shares   model.Shares
}

// Chain is what the ledger holds that moves stock: every batch version's
// movements and every process record.
type Chain struct {
	l         Ledger
	moves     []move
	processes map[string]model.Process
	pos       map[string]Pos
	latest    map[string]*model.Batch
}

// Batches is how many batches the chain was read from.
func (c *Chain) Batches() int { return len(c.latest) }

// Holdings is what the batches at site hold now, per material: the sum
// of their remaining masses, as their latest versions say. It is the
// site's stock seen without any movement, so a balance whose period runs
// to now, stated at the chain's height, must close with it.
func (c *Chain) Holdings(site string) map[string]int64 {
	out := map[string]int64{}
	for _, b := range c.latest {
		if b.Site == site && b.RemainingMass > 0 {
			out[string(b.Material)] += int64(b.RemainingMass)
		}
	}
	return out
}

// Read reads every batch on the ledger (ids, or every batch the
// chaincode lists when ids is nil), its history and the records of the
// processes that made or took from them.
func Read(ctx context.Context, l Ledger, ids []string) (*Chain, error) {
	if ids == nil {
		var err error
		if ids, err = l.Batches(ctx); err != nil {
			return nil, fmt.Errorf("list the batches: %w", err)
		}
	}
	c := &Chain{l: l, processes: map[string]model.Process{}, pos: map[string]Pos{}, latest: map[string]*model.Batch{}}
	// written[tx][id] is the version of batch id that transaction tx
	// wrote.
	written := map[string]map[string]*model.Batch{}
	var procs []string // the process transactions, each once
	seen := map[string]bool{}
	for _, id := range ids {
		hist, err := l.History(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		var prev *model.Batch
		for _, h := range hist {
			b := h.Batch
			if b == nil {
				// An auditor's act kept under keys of its own: it
				// moves nothing.
				continue
			}
			if written[h.TxID] == nil {
				written[h.TxID] = map[string]*model.Batch{}
			}
			written[h.TxID][id] = b
			c.versionMoves(h.TxID, id, prev, b)
			if prev == nil && b.Origin.Process != nil && !seen[b.Origin.Process.Tx] {
				seen[b.Origin.Process.Tx] = true
				procs = append(procs, b.Origin.Process.Tx)
			}
			prev = b
		}
		if prev == nil {
			return nil, fmt.Errorf("history of %s: no version", id)
		}
		c.latest[id] = prev
	}
	for _, tx := range procs {
		p, err := l.Process(ctx, tx)
		if err != nil {
			return nil, fmt.Errorf("process %s: %w", tx, err)
		}
		c.processes[tx] = p
		for _, in := range p.Inputs {
			b := written[tx][in.ID]
			if b == nil {
				return nil, fmt.Errorf("process %s took from %s but wrote no version of it", tx, in.ID)
			}
			c.moves = append(c.moves, move{tx: tx, site: b.Site, material: string(b.Material), batch: in.ID,
				kind: processIn, delta: -int64(in.Mass), shares: model.SharesOf(b)})
		}
		for _, o := range p.Outputs {
			b := written[tx][o.ID]
			if b == nil {
				return nil, fmt.Errorf("process %s made %s but wrote no version of it", tx, o.ID)
			}
			c.moves = append(c.moves, move{tx: tx, site: p.Site, material: string(b.Material), batch: o.ID,
				kind: processOut, delta: int64(o.Mass), shares: model.SharesOf(b)})
		}
	}
	return c, nil
}

// versionMoves adds what version b of batch id, written by tx over prev
// (nil when tx created it), did to the stock of its sites: a collection
// or a purchase registered, a handover accepted, a change of site
// without a handover. A process's outputs and inputs move stock through
// its record.
func (c *Chain) versionMoves(tx, id string, prev, b *model.Batch) {
	add := func(site, kind string, delta int64, class model.OriginClass) {
		c.moves = append(c.moves, move{tx: tx, site: site, material: string(b.Material), batch: id,
			kind: kind, delta: delta, class: string(class), shares: model.SharesOf(b)})
	}
	switch {
	case prev == nil && b.Origin.Purchase != nil:
		add(b.Site, purchase, int64(b.InitialMass), b.Origin.Purchase.OriginClass)
	case prev == nil && b.Origin.Collection != nil:
		class, _ := b.Origin.RegisteredClass()
		add(b.Site, collection, int64(b.InitialMass), class)
	case prev == nil:
		// Made by a process.
	case len(b.Handovers) > len(prev.Handovers):
		h := b.Handovers[len(b.Handovers)-1]
		add(prev.Site, dispatch, -int64(h.Offered), "")
		add(h.Site, receipt, int64(h.Received), "")
	case b.Site != prev.Site:
		add(prev.Site, movedOut, -int64(prev.RemainingMass), "")
		add(b.Site, placed, int64(prev.RemainingMass), "")
	}
}

// position returns where tx is, asking the ledger once per transaction.
func (c *Chain) position(ctx context.Context, tx string) (Pos, error) {
	if p, ok := c.pos[tx]; ok {
		return p, nil
	}
	p, err := c.l.Position(ctx, tx)
	if err != nil {
		return Pos{}, fmt.Errorf("transaction %s: %w", tx, err)
	}
	c.pos[tx] = p
	return p, nil
}

// placedMove is a move with its place on the chain.
type placedMove struct {
	move
	Pos
}

// at returns the moves of site (every move when site is ""), filtered
// by keep, in chain order, that are in blocks below height.
func (c *Chain) at(ctx context.Context, site string, height int64, keep func(move) bool) ([]placedMove, error) {
	var out []placedMove
	for _, m := range c.moves {
		if m.site != site || !keep(m) {
			continue
		}
		p, err := c.position(ctx, m.tx)
		if err != nil {
			return nil, err
		}
		if p.Block < height {
			out = append(out, placedMove{m, p})
		}
	}
	slices.SortStableFunc(out, func(a, b placedMove) int {
		return cmp.Or(cmp.Compare(a.Block, b.Block), cmp.Compare(a.Index, b.Index))
	})
	return out, nil
}

// share is the grams of a class share of ppm in mass, rounded down.
func share(mass, ppm int64) int64 { return mass * ppm / model.WholePPM }

// Time writes t as the statements' comparisons read it: UTC, RFC 3339
// with nanoseconds.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// normalTime rewrites a statement's time s as Time does.
func normalTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return Time(t)
}

func ref(m placedMove, mass int64) Ref {
	return Ref{Block: m.Block, TxIndex: m.Index, Tx: m.tx, At: Time(m.At), Batch: m.batch, Mass: mass}
}

// sortRefs orders refs by their place on the chain, then batch and mass:
// the statements list them in chain order, and the order of one
// transaction's movements is not a figure.
func sortRefs(refs []Ref) {
	slices.SortFunc(refs, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Block, b.Block), cmp.Compare(a.TxIndex, b.TxIndex),
			strings.Compare(a.Batch, b.Batch), cmp.Compare(a.Mass, b.Mass))
	})
}
