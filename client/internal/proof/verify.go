package proof

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/configblock"
)

// MinOrgs is how many organisations' peers must sign the same answer.
const MinOrgs = 2

// Report is the outcome of checking a proof: whether it is authentic
// (every check of Checks holds), and the provenance verdict it proves,
// as of block Head, cut at Time.
type Report struct {
	Batch     string         `json:"batch"`
	Authentic bool           `json:"authentic"`
	Checks    []model.Check  `json:"checks"`
	Verdict   *model.Verdict `json:"verdict,omitempty"`
	// Head is the newest block the proof speaks for (height Head+1), and
	// Time the newest transaction time in it.
	Head uint64    `json:"head"`
	Time time.Time `json:"time"`
	// Genesis is the hex hash of the proof's genesis block.
	Genesis string `json:"genesis,omitempty"`
}

// Holds says whether the proof is authentic and its provenance holds.
func (r *Report) Holds() bool { return r.Authentic && r.Verdict != nil && r.Verdict.OK }

// Verify decodes and checks a proof file against the pinned genesis hash
// (hex).
func Verify(raw []byte, genesis string) *Report {
	p, err := Decode(raw)
	if err != nil {
		return &Report{Checks: []model.Check{{Name: CheckFormat, Detail: err.Error()}}}
	}
	return p.Verify(genesis)
}

// checker gathers each named check's problems in a fixed order.
type checker struct {
	order    []string
	problems map[string][]string
	ok       map[string]string
}

func newChecker(names ...string) *checker {
	return &checker{order: names, problems: map[string][]string{}, ok: map[string]string{}}
}

func (c *checker) fail(name, format string, a ...any) {
	c.problems[name] = append(c.problems[name], fmt.Sprintf(format, a...))
}

func (c *checker) failed(name string) bool { return len(c.problems[name]) > 0 }

func (c *checker) checks() []model.Check {
	var out []model.Check
	for _, n := range c.order {
		ps := c.problems[n]
		switch {
		case len(ps) > 0:
			shown := ps
			if len(shown) > 5 {
				shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(ps)-5))
			}
			out = append(out, model.Check{Name: n, Detail: strings.Join(shown, "; ")})
		case c.ok[n] != "":
			out = append(out, model.Check{Name: n, OK: true, Detail: c.ok[n]})
		default:
			out = append(out, model.Check{Name: n, Detail: "not checked: an earlier check failed"})
		}
	}
	return out
}

// Verify checks the proof against the pinned genesis hash (hex).
func (p *Proof) Verify(genesis string) *Report { return p.verify(genesis, true) }

// Authenticity runs Verify's checks of authenticity only, and leaves the
// verdict out (and with it the decoding and signature checks of each
// transaction, which a caller that runs the signatures check itself on
// the same blocks need not repeat).
func (p *Proof) Authenticity(genesis string) *Report { return p.verify(genesis, false) }

func (p *Proof) verify(genesis string, verdict bool) *Report {
	r := &Report{Batch: p.Batch, Head: p.Head}
	c := newChecker(CheckFormat, CheckGenesis, CheckConfig, CheckBlockHash, CheckDataHash, CheckOrderer, CheckTxs, CheckValidity, CheckState)
	defer func() {
		r.Checks = c.checks()
		r.Authentic = true
		for _, ch := range r.Checks {
			r.Authentic = r.Authentic && ch.OK
		}
	}()
	if p.Format != Format {
		c.fail(CheckFormat, "format %q, want %q", p.Format, Format)
		return r
	}
	if p.Batch == "" || p.Channel == "" || p.Chaincode == "" {
		c.fail(CheckFormat, "the proof names no batch, channel or chaincode")
		return r
	}
	c.ok[CheckFormat] = fmt.Sprintf("%s: batch %q on channel %s, chaincode %s", Format, p.Batch, p.Channel, p.Chaincode)

	// The config chain, from the pinned genesis block.
	var configs []*config
	byNum := map[uint64]*block{} // every block of the proof
	if len(p.Configs) == 0 {
		c.fail(CheckConfig, "the proof holds no config blocks")
		return r
	}
	for i, raw := range p.Configs {
		k, err := decodeBlock(raw)
		if err != nil {
			c.fail(CheckConfig, "config block %d: %v", i, err)
			return r
		}
		if err := k.dataHash(); err != nil {
			c.fail(CheckDataHash, "%v", err)
		}
		if err := k.unsignedMetadata(); err != nil {
			c.fail(CheckBlockHash, "%v", err)
		}
		cfg, err := configblock.Config(k.b)
		if err != nil {
			c.fail(CheckConfig, "%v", err)
			return r
		}
		pc, err := parseConfig(cfg, k.num)
		if err != nil {
			c.fail(CheckConfig, "config block %d: %v", k.num, err)
			return r
		}
		if i == 0 {
			r.Genesis = hex.EncodeToString(k.hash())
			switch {
			case k.num != 0:
				c.fail(CheckGenesis, "the first config block is block %d, not the genesis block", k.num)
			case genesis == "":
				c.fail(CheckGenesis, "no genesis hash to check against (the proof's is %s)", r.Genesis)
			case !strings.EqualFold(genesis, r.Genesis):
				c.fail(CheckGenesis, "the proof's genesis block has hash %s, not the pinned %s", r.Genesis, genesis)
			default:
				c.ok[CheckGenesis] = "the proof starts at the pinned genesis block"
			}
		} else {
			prev := configs[len(configs)-1]
			if k.num <= prev.block || pc.sequence != prev.sequence+1 {
				c.fail(CheckConfig, "config block %d (sequence %d) does not follow config block %d (sequence %d)", k.num, pc.sequence, prev.block, prev.sequence)
			}
			if last, err := configblock.LastConfig(k.b); err != nil || last != k.num {
				c.fail(CheckConfig, "config block %d does not name itself as the configuration in force", k.num)
			}
			if err := prev.ordererSignatures(k); err != nil {
				c.fail(CheckOrderer, "%v", err)
			}
		}
		if byNum[k.num] != nil {
			c.fail(CheckBlockHash, "block %d appears twice", k.num)
		}
		byNum[k.num] = k
		configs = append(configs, pc)
	}
	// cfgAt is the configuration in force when block num was cut: the
	// newest config block before it (a config block is checked under the
	// configuration before it, as Fabric's block verifier does).
	cfgAt := func(num uint64) *config {
		i, _ := slices.BinarySearchFunc(configs, num, func(x *config, n uint64) int { return cmp.Compare(x.block, n) })
		if i == 0 {
			return nil
		}
		return configs[i-1]
	}

	// The transaction blocks and the head.
	var blocks []*block
	var head *block
	for i, raw := range p.Blocks {
		k, err := decodeBlock(raw)
		if err != nil {
			c.fail(CheckBlockHash, "block %d of the proof: %v", i, err)
			continue
		}
		if len(blocks) > 0 && k.num <= blocks[len(blocks)-1].num {
			c.fail(CheckBlockHash, "block %d follows block %d: blocks out of order or twice", k.num, blocks[len(blocks)-1].num)
			continue
		}
		if old := byNum[k.num]; old != nil && !bytes.Equal(old.raw, k.raw) {
			c.fail(CheckBlockHash, "block %d appears twice, different", k.num)
		}
		if err := k.dataHash(); err != nil {
			c.fail(CheckDataHash, "%v", err)
		}
		if err := k.unsignedMetadata(); err != nil {
			c.fail(CheckBlockHash, "%v", err)
		}
		last, err := configblock.LastConfig(k.b)
		cfg := cfgAt(k.num)
		if k.num == 0 {
			cfg = nil
		}
		switch {
		case err != nil:
			c.fail(CheckConfig, "block %d: %v", k.num, err)
		case cfg == nil:
			c.fail(CheckConfig, "block %d: no configuration of the proof was in force", k.num)
		case last != k.num && last != cfg.block:
			c.fail(CheckConfig, "block %d names config block %d, but the proof's configuration in force is block %d", k.num, last, cfg.block)
		default:
			if err := cfg.ordererSignatures(k); err != nil {
				c.fail(CheckOrderer, "%v", err)
			}
		}
		byNum[k.num] = k
		blocks = append(blocks, k)
		if k.num == p.Head {
			head = k
		}
	}
	if head == nil {
		c.fail(CheckBlockHash, "the head block %d is not in the proof", p.Head)
		return r
	}
	r.Time = head.at
	if last := configs[len(configs)-1]; cfgAt(head.num+1) != last {
		c.fail(CheckConfig, "the configuration in force at the head block %d is not the last of the proof's config blocks", head.num)
	} else if hl, err := configblock.LastConfig(head.b); err == nil && hl != last.block {
		c.fail(CheckConfig, "the head block %d names config block %d, but the proof's last is block %d", head.num, hl, last.block)
	}
	// Consecutive blocks chain by hash.
	nums := make([]uint64, 0, len(byNum))
	for n := range byNum {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		if next := byNum[n+1]; next != nil && !bytes.Equal(next.b.GetHeader().GetPreviousHash(), byNum[n].hash()) {
			c.fail(CheckBlockHash, "block %d does not name block %d's hash as its previous hash", n+1, n)
		}
	}
	if !c.failed(CheckBlockHash) {
		c.ok[CheckBlockHash] = "every block decodes, none is there twice, and consecutive ones chain by hash"
	}
	if !c.failed(CheckDataHash) {
		c.ok[CheckDataHash] = "every block's transactions hash to its header's data hash"
	}
	if !c.failed(CheckOrderer) {
		c.ok[CheckOrderer] = fmt.Sprintf("every block after the genesis block is signed by the orderers of the configuration in force (%s)", consensus(configs))
	}
	if !c.failed(CheckConfig) && !c.failed(CheckGenesis) {
		c.ok[CheckConfig] = "the config blocks follow each other from the genesis block to the one in force at the head block"
	}
	headCfg := cfgAt(head.num + 1)

	// The records, as peers of two organisations sign them.
	ev, ok := p.state(c, headCfg, head)
	if !ok {
		return r
	}

	// The transactions the records name, and their validity.
	claims := ev.Claims(p.Created)
	want := map[string]bool{}
	for _, cl := range claims {
		if cl.Tx != "" {
			want[cl.Tx] = true
		}
	}
	attested := p.validity(c, headCfg, head, byNum)
	txs := map[string]*model.SignedTx{}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	found := map[string]bool{}
	for _, k := range blocks {
		var codes []byte
		if md := k.b.GetMetadata().GetMetadata(); len(md) > 2 {
			codes = md[2] // TRANSACTIONS_FILTER: the peer's flags, signed by no one
		}
		for i, env := range k.envs {
			id, err := txID(env)
			if err != nil || !want[id] || found[id] {
				continue
			}
			att := attested[id]
			code, orgs := att.agreed(env)
			if len(orgs) == 0 {
				continue // not the copy the peers attest (a duplicate), or none attested
			}
			found[id] = true
			switch {
			case len(orgs) < MinOrgs:
				c.fail(CheckValidity, "tx %s: only %s signs its validity", model.ShortTx(id), strings.Join(orgs, ", "))
			case code == "":
				c.fail(CheckValidity, "tx %s: peers of %s sign different validity codes", model.ShortTx(id), strings.Join(orgs, ", "))
			case i < len(codes) && peer.TxValidationCode(codes[i]).String() != code:
				c.fail(CheckValidity, "tx %s: block %d flags it %s, but peers of %s sign %s", model.ShortTx(id), k.num, peer.TxValidationCode(codes[i]), strings.Join(orgs, ", "), code)
			}
			cfg := cfgAt(k.num)
			if cfg == nil || !verdict {
				continue
			}
			tx, err := cfg.signedTx(env, code == peer.TxValidationCode_VALID.String(), code, p.Chaincode)
			if err != nil {
				c.fail(CheckTxs, "tx %s in block %d: %v", model.ShortTx(id), k.num, err)
				continue
			}
			txs[id] = tx
		}
	}
	for _, id := range ids {
		if !found[id] {
			if len(attested[id]) == 0 {
				c.fail(CheckValidity, "tx %s: no peer's signed answer shows it", model.ShortTx(id))
			}
			c.fail(CheckTxs, "tx %s, which the records name, is in no block of the proof as the peers attest it", model.ShortTx(id))
		}
	}
	if !c.failed(CheckTxs) {
		c.ok[CheckTxs] = fmt.Sprintf("the %d transactions the records name are in the proof's blocks", len(ids))
	}
	if !c.failed(CheckValidity) {
		c.ok[CheckValidity] = fmt.Sprintf("peers of at least %d organisations sign the validation code of each of the %d transactions", MinOrgs, len(ids))
	}
	if verdict {
		v := ev.Verify(p.Batch, "")
		v.Add(model.VerifyClaims(claims, txs))
		r.Verdict = &v
	}
	return r
}

func consensus(configs []*config) string {
	if configs[len(configs)-1].bft {
		return "BFT quorum"
	}
	return "Raft"
}

// state checks the signed Evidence answers: at least MinOrgs
// organisations' peers answered the same records for the batch, none read
// a key written after the head block.
func (p *Proof) state(c *checker, cfg *config, head *block) (*model.Evidence, bool) {
	orgs := map[string]bool{}
	var payload []byte
	for i := range p.State {
		a, err := cfg.answer(&p.State[i], p.Channel, head.at)
		if err != nil {
			c.fail(CheckState, "answer %d: %v", i, err)
			continue
		}
		if a.chaincode != p.Chaincode || !slices.Equal(a.args, []string{"Evidence", p.Batch}) {
			c.fail(CheckState, "answer %d of %s answers %s %q, not the evidence of %q", i, a.org, a.chaincode, a.args, p.Batch)
			continue
		}
		if a.newest > head.num {
			c.fail(CheckState, "answer %d of %s read a key written in block %d, after the head block %d", i, a.org, a.newest, head.num)
			continue
		}
		if payload == nil {
			payload = a.payload
		} else if !bytes.Equal(payload, a.payload) {
			c.fail(CheckState, "peers of %s and %s answer different records (one may hide a later write)", strings.Join(sortedKeys(orgs), ", "), a.org)
			continue
		}
		orgs[a.org] = true
	}
	if len(orgs) < MinOrgs {
		c.fail(CheckState, "the records are signed by peers of %d organisations (%s), not %d", len(orgs), strings.Join(sortedKeys(orgs), ", "), MinOrgs)
	}
	if c.failed(CheckState) {
		return nil, false
	}
	var ev model.Evidence
	if err := json.Unmarshal(payload, &ev); err != nil {
		c.fail(CheckState, "the signed records do not decode: %v", err)
		return nil, false
	}
	c.ok[CheckState] = fmt.Sprintf("peers of %s sign the same %d batch and %d process records as of the head block", strings.Join(sortedKeys(orgs), ", "), len(ev.Batches), len(ev.Processes))
	return &ev, true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// attestation is one organisation's signed word on a transaction.
type attestation struct {
	org  string
	code string
	env  *peer.ProcessedTransaction
}

type attestations []attestation

// agreed returns the organisations whose answers hold exactly env, and
// their common validation code ("" when they differ).
func (as attestations) agreed(env interface {
	GetPayload() []byte
	GetSignature() []byte
}) (string, []string) {
	var orgs []string
	code := ""
	for _, a := range as {
		e := a.env.GetTransactionEnvelope()
		if !bytes.Equal(e.GetPayload(), env.GetPayload()) || !bytes.Equal(e.GetSignature(), env.GetSignature()) || slices.Contains(orgs, a.org) {
			continue
		}
		if len(orgs) == 0 {
			code = a.code
		} else if code != a.code {
			code = ""
		}
		orgs = append(orgs, a.org)
	}
	slices.Sort(orgs)
	return code, orgs
}

// validity checks the signed qscc GetTransactionByID answers and returns
// them by transaction id.
func (p *Proof) validity(c *checker, cfg *config, head *block, byNum map[uint64]*block) map[string]attestations {
	out := map[string]attestations{}
	txData := map[int][][]byte{} // the transactions of the blocks answers name
	for i := range p.Validity {
		whole := p.Validity[i]
		if ref := whole.Envelope; ref != nil {
			if ref.Block < 0 || ref.Block >= len(p.Blocks) {
				c.fail(CheckValidity, "answer %d names block %d of the proof, which has %d", i, ref.Block, len(p.Blocks))
				continue
			}
			data, ok := txData[ref.Block]
			if !ok {
				var b common.Block
				if err := proto.Unmarshal(p.Blocks[ref.Block], &b); err == nil {
					data = b.GetData().GetData()
				}
				txData[ref.Block] = data
			}
			var payload []byte
			var err error
			switch {
			case ref.Index == WholeBlock:
				payload, err = joinBlockData(whole.Payload, data)
			case ref.Index < 0 || ref.Index >= len(data):
				err = errors.New("it names a transaction its block does not hold")
			default:
				payload, err = joinEnvelope(whole.Payload, data[ref.Index])
			}
			if err != nil {
				c.fail(CheckValidity, "answer %d: %v", i, err)
				continue
			}
			whole.Payload, whole.Envelope = payload, nil
		}
		a, err := cfg.answer(&whole, p.Channel, head.at)
		if err != nil {
			c.fail(CheckValidity, "answer %d: %v", i, err)
			continue
		}
		if a.chaincode != "qscc" || len(a.args) != 3 || a.args[1] != p.Channel {
			c.fail(CheckValidity, "answer %d of %s answers %s %q, not a transaction's validity", i, a.org, a.chaincode, a.args)
			continue
		}
		switch a.args[0] {
		case "GetTransactionByID":
			var pt peer.ProcessedTransaction
			if err := proto.Unmarshal(a.payload, &pt); err != nil {
				c.fail(CheckValidity, "answer %d of %s: %v", i, a.org, err)
				continue
			}
			if id, err := txID(pt.GetTransactionEnvelope()); err != nil || id != a.args[2] {
				c.fail(CheckValidity, "answer %d of %s: asked for tx %s, answered another", i, a.org, model.ShortTx(a.args[2]))
				continue
			}
			code := peer.TxValidationCode(pt.GetValidationCode()).String()
			out[a.args[2]] = append(out[a.args[2]], attestation{org: a.org, code: code, env: &pt})
		case "GetBlockByNumber":
			// A block as the peer stores it, with its validity flags:
			// it must be the proof's block, and its flags are what the
			// peer signs about each of its transactions.
			var b common.Block
			if err := proto.Unmarshal(a.payload, &b); err != nil {
				c.fail(CheckValidity, "answer %d of %s: %v", i, a.org, err)
				continue
			}
			num := b.GetHeader().GetNumber()
			k := byNum[num]
			switch {
			case a.args[2] != strconv.FormatUint(num, 10):
				c.fail(CheckValidity, "answer %d of %s: asked for block %s, answered block %d", i, a.org, a.args[2], num)
				continue
			case k == nil:
				c.fail(CheckValidity, "answer %d of %s: block %d is not in the proof", i, a.org, num)
				continue
			case !bytes.Equal(configblock.HeaderHash(b.GetHeader()), k.hash()) || !slices.EqualFunc(b.GetData().GetData(), k.b.GetData().GetData(), bytes.Equal):
				c.fail(CheckValidity, "answer %d of %s: its block %d is not the proof's", i, a.org, num)
				continue
			}
			var flags []byte
			if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
				flags = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
			}
			if len(flags) != len(k.envs) {
				c.fail(CheckValidity, "answer %d of %s: block %d carries %d validity flags for %d transactions", i, a.org, num, len(flags), len(k.envs))
				continue
			}
			for j, env := range k.envs {
				id, err := txID(env)
				if err != nil {
					continue
				}
				out[id] = append(out[id], attestation{org: a.org, code: peer.TxValidationCode(flags[j]).String(),
					env: &peer.ProcessedTransaction{TransactionEnvelope: env, ValidationCode: int32(flags[j])}})
			}
		default:
			c.fail(CheckValidity, "answer %d of %s answers qscc %s, not a transaction's validity", i, a.org, a.args[0])
		}
	}
	return out
}
