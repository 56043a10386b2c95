// Package signatures holds the claims of mtrace records against the signed
// transactions that wrote them, as the channel's blocks hold them.
//
// The client reads the blocks holding the transactions from its own peer
// (qscc GetBlockByTxID, one block for all the transactions it holds) and
// checks each transaction itself against the channel's MSP
// configuration (cscc GetChannelConfig): the creator's signature on the
// envelope, every endorser's signature on the proposal response, and that
// each certificate chains to the root certificates of the organisation it
// claims. The peer's validation code must be VALID. What the transaction
// wrote to the chaincode's batch, process record and take keys is kept for
// the claims' content checks (model.VerifyClaims).
package signatures

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/internal/configblock"
)

// Workers is how many blocks or records are read from the peer at once,
// unless a Verifier says otherwise.
const Workers = 16

// Verifier checks transactions against the channel's MSPs.
type Verifier struct {
	l         ledger.Ledger
	namespace string
	orgs      map[string]*org // by MSP ID
	// Workers is how many blocks are read at once (Workers by default).
	Workers int

	mu      sync.Mutex
	checked map[string]*checkedID      // serialized identity -> outcome of its chain check
	found   map[string]*model.SignedTx // transactions read so far, by id
	blocks  map[uint64]bool            // blocks read so far

	// Organisations that have left the channel keep their past records
	// verifiable: their MSPs come from the channel's earlier config
	// blocks, read once, and only when a transaction names an MSP the
	// current configuration lacks.
	formerOnce sync.Once
	former     map[string]*org
	formerErr  error
}

// checkedID is the outcome of one identity's certificate checks. A chain
// is checked once per identity and transaction time's validity window.
type checkedID struct {
	id   *identity
	err  error
	peer bool // carries the peer OU (or the MSP has no node OUs)
}

// org is one application organisation's MSP as the channel defines it.
type org struct {
	roots, intermediates *x509.CertPool
	nodeOUs              bool
}

// New reads the channel configuration through l.
func New(ctx context.Context, l ledger.Ledger) (*Verifier, error) {
	raw, err := l.ChannelConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("read channel configuration: %w", err)
	}
	orgs, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	return &Verifier{l: l, namespace: l.Chaincode(), orgs: orgs, Workers: Workers,
		checked: map[string]*checkedID{}, found: map[string]*model.SignedTx{}, blocks: map[uint64]bool{}}, nil
}

func parseConfig(raw []byte) (map[string]*org, error) {
	var cfg common.Config
	if err := proto.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("decode channel configuration: %w", err)
	}
	return configOrgs(&cfg)
}

// formerMembers reads the MSPs of the organisations that the channel's
// earlier configurations held and its current one does not. It walks the
// config blocks from the newest back to the genesis block: the block
// before each config block names the config block before it. A
// transaction whose signer's organisation has left is still judged
// against that organisation's own roots; that it was a member when the
// transaction was committed is what the peer's VALID code says, since the
// peers validate every transaction against the configuration of its time.
func (v *Verifier) formerMembers(ctx context.Context) (map[string]*org, error) {
	v.formerOnce.Do(func() {
		v.former, v.formerErr = v.readFormer(ctx)
	})
	return v.former, v.formerErr
}

func (v *Verifier) readFormer(ctx context.Context) (map[string]*org, error) {
	block := func(n uint64) (*common.Block, error) {
		raw, err := v.l.Block(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("read block: %w", err)
		}
		var b common.Block
		if err := proto.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("decode block: %w", err)
		}
		return &b, nil
	}
	newest, err := block(ledger.NewestBlock)
	if err != nil {
		return nil, err
	}
	n, err := configblock.LastConfig(newest)
	if err != nil {
		return nil, err
	}
	former := map[string]*org{}
	for {
		b, err := block(n)
		if err != nil {
			return nil, err
		}
		cfg, err := configblock.Config(b)
		if err != nil {
			return nil, err
		}
		orgs, err := configOrgs(cfg)
		if err != nil {
			return nil, fmt.Errorf("config block %d: %w", n, err)
		}
		for id, o := range orgs {
			// The newest definition of a former member is the one it
			// left with.
			if v.orgs[id] == nil && former[id] == nil {
				former[id] = o
			}
		}
		if n == 0 {
			return former, nil
		}
		prev, err := block(n - 1)
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
}

// configOrgs reads the application organisations' MSPs from a
// configuration.
func configOrgs(cfg *common.Config) (map[string]*org, error) {
	app := cfg.GetChannelGroup().GetGroups()["Application"]
	if app == nil {
		return nil, errors.New("channel configuration has no Application group")
	}
	orgs := map[string]*org{}
	for name, g := range app.GetGroups() {
		v := g.GetValues()["MSP"]
		if v == nil {
			continue
		}
		var mc msp.MSPConfig
		var fc msp.FabricMSPConfig
		if err := proto.Unmarshal(v.GetValue(), &mc); err != nil {
			return nil, fmt.Errorf("decode MSP of %s: %w", name, err)
		}
		if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil {
			return nil, fmt.Errorf("decode MSP of %s: %w", name, err)
		}
		o := &org{roots: x509.NewCertPool(), intermediates: x509.NewCertPool(), nodeOUs: fc.GetFabricNodeOus().GetEnable()}
		for _, c := range fc.GetRootCerts() {
			o.roots.AppendCertsFromPEM(c)
		}
		for _, c := range fc.GetIntermediateCerts() {
			o.intermediates.AppendCertsFromPEM(c)
		}
		orgs[fc.GetName()] = o
	}
	return orgs, nil
}

// Transactions reads and checks every transaction of ids, Workers blocks
// at a time: the block of each transaction not yet seen, and with it every
// wanted transaction it holds. A transaction the peer does not have is
// left out of the result.
func (v *Verifier) Transactions(ctx context.Context, ids []string) (map[string]*model.SignedTx, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	_, err := each(v.Workers, ids, func(id string) (*struct{}, error) {
		// A transaction seen only as a duplicate copy in another block
		// still has its own block read: that is where its original is.
		v.mu.Lock()
		tx, seen := v.found[id]
		v.mu.Unlock()
		if seen && (tx == nil || tx.Code != duplicate) {
			return nil, nil
		}
		return nil, v.block(ctx, id, want)
	})
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]*model.SignedTx, len(want))
	for id := range want {
		if tx := v.found[id]; tx != nil {
			out[id] = tx
		}
	}
	return out, err
}

// Records reads the process records of txs (GetProcess), Workers at a time.
func Records(ctx context.Context, l ledger.Ledger, txs []string) ([]model.Process, error) {
	got, err := each(Workers, txs, func(tx string) (*model.Process, error) {
		p, err := api.New(l).GetProcess(ctx, tx)
		if err != nil {
			return nil, fmt.Errorf("process record %s: %w", tx, err)
		}
		return &p, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]model.Process, 0, len(got))
	for _, p := range got {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b model.Process) int { return strings.Compare(a.Tx, b.Tx) })
	return out, nil
}

// each runs get for every distinct non-empty key, workers at a time, in
// key order, and returns the non-nil results by key, or the first error.
func each[T any](workers int, keys []string, get func(string) (*T, error)) (map[string]*T, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make(map[string]*T, len(keys))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(max(workers, 1), max(len(keys), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				v, err := get(k)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
				case v != nil:
					out[k] = v
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		if k != "" {
			work <- k
		}
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

// block reads the block holding transaction id and checks every wanted
// transaction in it. A transaction the peer does not have is recorded as
// nil.
func (v *Verifier) block(ctx context.Context, id string, want map[string]bool) error {
	raw, err := v.l.BlockByTxID(ctx, id)
	if err != nil {
		if strings.Contains(err.Error(), "no such transaction ID") || strings.Contains(err.Error(), "not found") {
			v.mu.Lock()
			v.found[id] = nil
			v.mu.Unlock()
			return nil
		}
		return fmt.Errorf("read the block of transaction %s: %w", id, err)
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("decode the block of transaction %s: %w", id, err)
	}
	num := b.GetHeader().GetNumber()
	v.mu.Lock()
	seen := v.blocks[num]
	v.blocks[num] = true
	v.mu.Unlock()
	if seen {
		return nil // another worker has read it
	}
	var codes []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		codes = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, envRaw := range b.GetData().GetData() {
		var env common.Envelope
		if err := proto.Unmarshal(envRaw, &env); err != nil {
			return fmt.Errorf("decode transaction %d of block %d: %w", i, num, err)
		}
		code := peer.TxValidationCode_NOT_VALIDATED
		if i < len(codes) {
			code = peer.TxValidationCode(codes[i])
		}
		tx, err := v.decode(ctx, &env, code, want)
		if err != nil {
			return fmt.Errorf("block %d: %w", num, err)
		}
		if tx != nil {
			v.keep(tx)
		}
	}
	return nil
}

// duplicate is the validation code of a copy of a transaction already
// on the channel.
var duplicate = peer.TxValidationCode_DUPLICATE_TXID.String()

// keep records a transaction read from a block. A transaction ID can
// appear more than once on the channel: anyone may send a committed
// envelope to the orderers again, and the peers mark the copy
// DUPLICATE_TXID. The valid transaction with that ID is the one that
// counts, so a copy that is not valid never replaces one that is,
// whichever the block lists first.
func (v *Verifier) keep(tx *model.SignedTx) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev := v.found[tx.ID]; prev != nil && prev.Valid && !tx.Valid {
		return
	}
	v.found[tx.ID] = tx
}

// decode checks one transaction envelope with its validation code
// (proof.DecodeTx, against the channel's MSPs as the peer's cscc serves
// them); with want set, a transaction not in it is skipped (nil, nil).
func (v *Verifier) decode(ctx context.Context, env *common.Envelope, code peer.TxValidationCode, want map[string]bool) (*model.SignedTx, error) {
	identify := func(raw []byte, at time.Time) (*proof.Signer, error) {
		id, err := v.identity(ctx, raw, at, false)
		if id == nil {
			return nil, err
		}
		_, notPeer := v.identity(ctx, raw, at, true)
		return &proof.Signer{MSP: id.msp, Cert: id.cert, Peer: err == nil && notPeer == nil}, err
	}
	var wanted func(string) bool
	if want != nil {
		wanted = func(id string) bool { return want[id] }
	}
	return proof.DecodeTx(env, code == peer.TxValidationCode_VALID, code.String(), v.namespace, identify, wanted)
}

type identity struct {
	msp  string
	cert *x509.Certificate
}

// identity decodes a serialized identity and checks that its certificate
// chains to the roots of the MSP it names, as of the transaction's time;
// a peer must carry the peer OU when the MSP uses node OUs. Each distinct
// identity is checked once.
func (v *Verifier) identity(ctx context.Context, raw []byte, at time.Time, mustBePeer bool) (*identity, error) {
	v.mu.Lock()
	c, ok := v.checked[string(raw)]
	v.mu.Unlock()
	if !ok {
		c = v.check(ctx, raw, at)
		v.mu.Lock()
		v.checked[string(raw)] = c
		v.mu.Unlock()
	}
	if c.err != nil {
		return c.id, c.err
	}
	// A chain checked at one time holds at another inside the
	// certificate's validity; outside it, check again.
	if cert := c.id.cert; at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
		if c = v.check(ctx, raw, at); c.err != nil {
			return c.id, c.err
		}
	}
	if mustBePeer && !c.peer {
		return c.id, fmt.Errorf("%s (%s) is not a peer", c.id.cert.Subject.CommonName, c.id.msp)
	}
	return c.id, nil
}

// check decodes a serialized identity and checks its certificate chain at
// time at.
func (v *Verifier) check(ctx context.Context, raw []byte, at time.Time) *checkedID {
	var sid msp.SerializedIdentity
	if err := proto.Unmarshal(raw, &sid); err != nil {
		return &checkedID{err: fmt.Errorf("decode identity: %w", err)}
	}
	blk, _ := pem.Decode(sid.GetIdBytes())
	if blk == nil {
		return &checkedID{err: fmt.Errorf("identity of %s holds no PEM certificate", sid.GetMspid())}
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return &checkedID{err: fmt.Errorf("certificate of %s: %w", sid.GetMspid(), err)}
	}
	id := &identity{msp: sid.GetMspid(), cert: cert}
	o := v.orgs[sid.GetMspid()]
	if o == nil {
		former, err := v.formerMembers(ctx)
		if err != nil {
			return &checkedID{id: id, err: fmt.Errorf("%s (%s) is not an organisation of the channel, and its past configurations cannot be read: %v", cert.Subject.CommonName, sid.GetMspid(), err)}
		}
		if o = former[sid.GetMspid()]; o == nil {
			return &checkedID{id: id, err: fmt.Errorf("%s (%s) is not an organisation of the channel, nor was it ever", cert.Subject.CommonName, sid.GetMspid())}
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: o.roots, Intermediates: o.intermediates, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return &checkedID{id: id, err: fmt.Errorf("%s does not chain to %s's root certificates: %v", cert.Subject.CommonName, sid.GetMspid(), err)}
	}
	return &checkedID{id: id, peer: !o.nodeOUs || slices.Contains(cert.Subject.OrganizationalUnit, "peer")}
}

// Check runs the signatures check on the evidence of a provenance: it
// finds each claim's transaction (a batch written before createdTx existed
// names its creation in its first history entry), reads and verifies them,
// and holds the claims against them.
func Check(ctx context.Context, l ledger.Ledger, ev *model.Evidence) (model.Check, error) {
	v, err := New(ctx, l)
	if err != nil {
		return model.Check{}, err
	}
	created := map[string]string{}
	for _, b := range ev.Batches {
		if b.CreatedTx != "" || b.Origin.Collection == nil {
			continue
		}
		hs, err := api.New(l).GetHistory(ctx, b.ID)
		if err != nil {
			return model.Check{}, fmt.Errorf("history of %q: %w", b.ID, err)
		}
		if len(hs) > 0 {
			created[b.ID] = hs[0].TxID
		}
	}
	claims := ev.Claims(created)
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.Tx
	}
	txs, err := v.Transactions(ctx, ids)
	if err != nil {
		return model.Check{}, err
	}
	return model.VerifyClaims(claims, txs), nil
}
