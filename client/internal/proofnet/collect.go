package proofnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/internal/configblock"
)

// Workers is how many blocks or answers are asked for at once.
const Workers = 16

// Retries is how many times a peer is asked again when it lags the other
// (its records differ, or it does not know a transaction yet), Wait apart.
const (
	Retries = 5
	Wait    = 400 * time.Millisecond
)

func pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(Wait):
		return nil
	}
}

// samePayloads says whether the answers answer alike.
func samePayloads(as []proof.Answer) bool {
	var first []byte
	for i := range as {
		raw, err := as[i].ResponsePayload()
		if err != nil {
			return false
		}
		if i == 0 {
			first = raw
		} else if !bytes.Equal(first, raw) {
			return false
		}
	}
	return true
}

// Collector gathers a proof: blocks through the caller's ledger
// connection, signed answers from Endorsers (the caller's own
// organisation's peer first, then other organisations' peers, asked in
// that order until proof.MinOrgs organisations have answered).
type Collector struct {
	Ledger    ledger.Ledger
	Signer    *Signer
	Channel   string
	Endorsers []*Endorser
}

// NewCollector connects to the profile's own peer and, from the other
// profiles of its config file, to one peer of every other organisation.
func NewCollector(l ledger.Ledger, own *config.Profile) (*Collector, error) {
	s, err := NewSigner(own)
	if err != nil {
		return nil, err
	}
	f, err := config.Load(own.Source)
	if err != nil {
		return nil, err
	}
	c := &Collector{Ledger: l, Signer: s, Channel: own.Channel}
	e, err := DialEndorser(own)
	if err != nil {
		return nil, err
	}
	c.Endorsers = append(c.Endorsers, e)
	seen := map[string]bool{own.MSPID: true}
	for _, name := range f.Names() {
		p, err := f.Profile(name)
		if err != nil || seen[p.MSPID] || p.Channel != own.Channel {
			continue
		}
		e, err := DialEndorser(p)
		if err != nil {
			continue // an unusable profile: another organisation may answer
		}
		seen[p.MSPID] = true
		c.Endorsers = append(c.Endorsers, e)
	}
	if len(c.Endorsers) < proof.MinOrgs {
		c.Close()
		return nil, errNoOther
	}
	return c, nil
}

// Close closes the connections to the endorsers.
func (c *Collector) Close() {
	for _, e := range c.Endorsers {
		e.Close()
	}
}

// Collect gathers the proof of batch's provenance.
func (c *Collector) Collect(ctx context.Context, batch string) (*proof.Proof, error) {
	cc := c.Ledger.Chaincode()
	p := &proof.Proof{Format: proof.Format, Channel: c.Channel, Chaincode: cc, Batch: batch}

	// The records, from the own organisation's peer and the first other
	// that answers.
	var attesters []*Endorser
	var firstErr error
	for i, e := range c.Endorsers {
		a, err := e.Ask(ctx, c.Signer, c.Channel, cc, "Evidence", batch)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("evidence of %q: %w", batch, err)
			}
			firstErr = err
			continue
		}
		p.State = append(p.State, *a)
		attesters = append(attesters, e)
		if len(attesters) == proof.MinOrgs {
			break
		}
	}
	if len(attesters) < proof.MinOrgs {
		return nil, fmt.Errorf("no peer of another organisation confirms the records: %w", firstErr)
	}
	// A peer a block behind answers the records as they were: ask again
	// while they differ, a few times, before the proof says so.
	for try := 0; try < Retries && !samePayloads(p.State); try++ {
		if err := pause(ctx); err != nil {
			return nil, err
		}
		for i, e := range attesters {
			a, err := e.Ask(ctx, c.Signer, c.Channel, cc, "Evidence", batch)
			if err != nil {
				return nil, fmt.Errorf("evidence of %q: %w", batch, err)
			}
			p.State[i] = *a
		}
	}
	raw, err := p.State[0].ResponsePayload()
	if err != nil {
		return nil, err
	}
	var ev model.Evidence
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode evidence of %q: %w", batch, err)
	}

	// Batches whose record predates createdTx name their creation in
	// their first history entry.
	for _, b := range ev.Batches {
		if b.CreatedTx != "" || b.Origin.Collection == nil {
			continue
		}
		raw, err := c.Ledger.Evaluate(ctx, "GetHistory", b.ID)
		if err != nil {
			return nil, fmt.Errorf("history of %q: %w", b.ID, err)
		}
		var hs []model.HistoryEntry
		if err := json.Unmarshal(raw, &hs); err != nil {
			return nil, fmt.Errorf("decode history of %q: %w", b.ID, err)
		}
		if len(hs) > 0 {
			if p.Created == nil {
				p.Created = map[string]string{}
			}
			p.Created[b.ID] = hs[0].TxID
		}
	}
	var ids []string
	for _, cl := range ev.Claims(p.Created) {
		if cl.Tx != "" {
			ids = append(ids, cl.Tx)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	// Each transaction's block, and its validity from each attester.
	var mu sync.Mutex
	blocks := map[uint64][]byte{}
	covered := map[string]bool{} // transactions of the blocks read so far
	// Each transaction's block, read once.
	err = each(ctx, len(ids), func(i int) error {
		mu.Lock()
		done := covered[ids[i]]
		mu.Unlock()
		if done {
			return nil
		}
		raw, err := c.Ledger.BlockByTxID(ctx, ids[i])
		if err != nil {
			return fmt.Errorf("the block of tx %s: %w", ids[i], err)
		}
		var b common.Block
		if err := proto.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("decode the block of tx %s: %w", ids[i], err)
		}
		mu.Lock()
		blocks[b.GetHeader().GetNumber()] = raw
		for _, id := range txIDs(&b) {
			covered[id] = true
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	nums := make([]uint64, 0, len(blocks))
	for n := range blocks {
		nums = append(nums, n)
	}
	slices.Sort(nums)

	// Each block's validity flags, as each attester signs them (qscc
	// GetBlockByNumber): one answer per block and organisation, both
	// organisations' peers at once.
	validity := make([][]proof.Answer, len(nums))
	for i := range validity {
		validity[i] = make([]proof.Answer, len(attesters))
	}
	err = each(ctx, len(nums)*len(attesters), func(task int) error {
		i, j := task/len(attesters), task%len(attesters)
		// A peer that has not yet committed the block does not have it:
		// ask again a few times.
		var a *proof.Answer
		var err error
		for try := 0; ; try++ {
			if a, err = attesters[j].Ask(ctx, c.Signer, c.Channel, "qscc", "GetBlockByNumber", c.Channel, strconv.FormatUint(nums[i], 10)); err == nil || try == Retries {
				break
			}
			if perr := pause(ctx); perr != nil {
				return perr
			}
		}
		if err != nil {
			return fmt.Errorf("validity of block %d: %w", nums[i], err)
		}
		validity[i][j] = *a
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, as := range validity {
		p.Validity = append(p.Validity, as...)
	}

	// The head, read after the records, and the config blocks back from
	// the one in force at the head to the genesis block.
	rawHead, err := c.Ledger.Block(ctx, ledger.NewestBlock)
	if err != nil {
		return nil, fmt.Errorf("newest block: %w", err)
	}
	head, err := decode(rawHead)
	if err != nil {
		return nil, err
	}
	p.Head = head.GetHeader().GetNumber()
	blocks[p.Head] = rawHead
	if p.Configs, err = c.configs(ctx, head); err != nil {
		return nil, err
	}
	nums = nums[:0]
	for n := range blocks {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		p.Blocks = append(p.Blocks, blocks[n])
	}
	return p, nil
}

// configs reads the config blocks from the one in force at head back to
// the genesis block: the block before each config block names the config
// block before it. Oldest first.
func (c *Collector) configs(ctx context.Context, head *common.Block) ([][]byte, error) {
	n, err := configblock.LastConfig(head)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		raw, err := c.Ledger.Block(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("config block %d: %w", n, err)
		}
		out = append(out, raw)
		if n == 0 {
			break
		}
		prevRaw, err := c.Ledger.Block(ctx, n-1)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n-1, err)
		}
		prev, err := decode(prevRaw)
		if err != nil {
			return nil, err
		}
		last, err := configblock.LastConfig(prev)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n-1, err)
		}
		if last >= n {
			return nil, fmt.Errorf("block %d names config block %d, not an earlier one", n-1, last)
		}
		n = last
	}
	slices.Reverse(out)
	return out, nil
}

func decode(raw []byte) (*common.Block, error) {
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	return &b, nil
}

// each runs fn(0..n-1), Workers at a time, and returns the first error.
func each(ctx context.Context, n int, fn func(int) error) error {
	work := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range min(Workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// txIDs lists the transaction ids of a block.
func txIDs(b *common.Block) []string {
	var out []string
	for _, d := range b.GetData().GetData() {
		var env common.Envelope
		var pay common.Payload
		var ch common.ChannelHeader
		if proto.Unmarshal(d, &env) != nil || proto.Unmarshal(env.GetPayload(), &pay) != nil ||
			proto.Unmarshal(pay.GetHeader().GetChannelHeader(), &ch) != nil {
			continue
		}
		out = append(out, ch.GetTxId())
	}
	return out
}
