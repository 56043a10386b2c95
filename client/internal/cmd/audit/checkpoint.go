package audit

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/fabtx"
)

// CheckpointVersion is the format of the checkpoint file.
const CheckpointVersion = 1

// Checkpoint is what a clean audit carries over to the next `audit
// --since`: the ledger height it covered, the hash of its last block (so
// that a rewritten chain is noticed), and the ledger-wide totals and
// organisation balances, the only figures of the audit that are sums over
// every batch. Its size depends on the number of organisations, never on
// the number of batches.
type Checkpoint struct {
	Version   int    `json:"version"`
	Channel   string `json:"channel,omitempty"`
	Chaincode string `json:"chaincode"`
	// Height is the number of blocks the audit covered: blocks 0 to
	// Height-1.
	Height uint64 `json:"height"`
	// BlockHash is the hex SHA-256 header hash of block Height-1.
	BlockHash string `json:"blockHash"`
	Totals    Totals `json:"totals"`
}

// Totals are the sums of a clean audit.
type Totals struct {
	Batches     int                `json:"batches"`
	Registered  model.Grams        `json:"registered"`
	Virgin      model.Grams        `json:"virgin"`
	Remaining   model.Grams        `json:"remaining"`
	TransitLoss model.Grams        `json:"transitLoss"`
	ProcessLoss model.Grams        `json:"processLoss"`
	Orgs        []model.OrgBalance `json:"orgs"`
}

func totalsOf(r *model.AuditReport) Totals {
	return Totals{Batches: r.Batches, Registered: r.Registered, Virgin: r.Virgin, Remaining: r.Remaining,
		TransitLoss: r.TransitLoss, ProcessLoss: r.ProcessLoss, Orgs: append([]model.OrgBalance(nil), r.Orgs...)}
}

// LoadCheckpoint reads a checkpoint file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if cp.Version != CheckpointVersion {
		return nil, fmt.Errorf("checkpoint %s: format %d, want %d", path, cp.Version, CheckpointVersion)
	}
	if cp.Height == 0 || cp.BlockHash == "" {
		return nil, fmt.Errorf("checkpoint %s: no block height or hash", path)
	}
	return &cp, nil
}

// Save writes the checkpoint atomically: to a temporary file, then renamed.
func (cp *Checkpoint) Save(path string) error {
	raw, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-checkpoint-*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// headerHash is Fabric's block header hash: SHA-256 of the DER encoding
// of (number, previous hash, data hash), the value the next block names
// as its previous hash.
func headerHash(h *common.BlockHeader) []byte {
	der, _ := asn1.Marshal(struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}{new(big.Int).SetUint64(h.GetNumber()), h.GetPreviousHash(), h.GetDataHash()}) // cannot fail: fixed types
	sum := sha256.Sum256(der)
	return sum[:]
}

// decodeBlock decodes a block as qscc returns it.
func decodeBlock(raw []byte, num uint64) (*common.Block, error) {
	blk := &common.Block{}
	if err := fabtx.Unmarshal(raw, blk, fmt.Sprintf("block %d", num)); err != nil {
		return nil, err
	}
	if blk.GetHeader() == nil {
		return nil, fmt.Errorf("block %d has no header", num)
	}
	if got := blk.GetHeader().GetNumber(); got != num {
		return nil, fmt.Errorf("asked for block %d, got block %d", num, got)
	}
	return blk, nil
}

// ErrRewritten reports that the chain no longer holds the block the
// checkpoint recorded.
var ErrRewritten = errors.New("the chain was rewritten since the checkpoint")

func hashHex(b []byte) string { return hex.EncodeToString(b) }
