// Package proof checks the provenance of an mtrace batch from a proof: a
// self-contained file of raw Fabric blocks and peers' signed answers that
// anyone can check offline, trusting nothing but the hash of the
// channel's genesis block.
//
// A proof is authentic when every block in it is the channel's (its
// header hash, its data hash, the orderers' signatures under the
// configuration in force at that block, and that configuration's own
// chain of config blocks back to the pinned genesis block), when every
// transaction the records name is in those blocks and peers of at least
// two organisations sign that it is valid, and when peers of at least two
// organisations sign the same records at the proof's height. The verdict
// it proves is then model.Verify over those records plus the signatures
// check (model.VerifyClaims) over those transactions: the verdict that
// `mtrace verify` gives at that height.
//
// The package has no file, network or operating system dependency, so
// that it compiles to WebAssembly; the commands do the reading.
// docs/reference/proof-format.md describes the format, and
// docs/explanation/proof.md what a proof guarantees.
package proof

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// Format names the container format and its version.
const Format = "mtrace-proof/1"

// Proof is the container: a JSON document whose byte fields are base64.
type Proof struct {
	Format    string `json:"format"`
	Channel   string `json:"channel"`
	Chaincode string `json:"chaincode"`
	// Batch is the batch whose provenance the proof speaks for.
	Batch string `json:"batch"`
	// Head is the number of the newest block when the proof was made:
	// the height it speaks for is Head+1. It is one of Blocks.
	Head uint64 `json:"head"`
	// Configs are the channel's config blocks, raw (encoded
	// common.Block), from the genesis block on, every one up to the
	// config in force at Head.
	Configs [][]byte `json:"configs"`
	// Blocks are the raw blocks that hold the transactions the records
	// name, and the head block, in ascending order. In a proof file
	// (Strip) every block keeps only the metadata the orderers signed.
	Blocks [][]byte `json:"blocks"`
	// State are the peers' signed answers to the chaincode's Evidence
	// query for Batch, one per organisation, at least two.
	State []Answer `json:"state"`
	// Validity are the peers' signed answers to qscc GetTransactionByID,
	// at least two organisations' for every transaction the records name.
	Validity []Answer `json:"validity"`
	// Created names the creating transaction of batches whose record
	// predates the createdTx field (from their history); the signatures
	// check holds each against what it wrote.
	Created map[string]string `json:"created,omitempty"`
}

// Answer is one peer's signed answer to a proposal: the proposal (an
// encoded peer.Proposal), the response payload it signed (an encoded
// peer.ProposalResponsePayload, which holds the proposal's hash and the
// answer) and its endorsement (the peer's serialized identity and its
// signature over payload || endorser).
type Answer struct {
	Proposal  []byte `json:"proposal"`
	Payload   []byte `json:"payload"`
	Endorser  []byte `json:"endorser"`
	Signature []byte `json:"signature"`
	// Envelope, on a validity answer, names the block transaction that
	// Payload leaves out (Compact); it goes back in before the signature
	// is checked.
	Envelope *TxRef `json:"envelope,omitempty"`
}

// Decode parses a proof file.
func Decode(raw []byte) (*Proof, error) {
	var p Proof
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode proof: %w", err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("decode proof: format %q, want %q", p.Format, Format)
	}
	return &p, nil
}

// Encode writes a proof file.
func (p *Proof) Encode() ([]byte, error) {
	p.Format = Format
	return json.Marshal(p)
}

// Names of the authenticity checks.
const (
	CheckFormat    = "format"            // the file decodes as a proof of this version
	CheckGenesis   = "genesis"           // the first config block is the pinned genesis block
	CheckConfig    = "config-chain"      // every config block follows the one before it and the orderers of that one signed it
	CheckBlockHash = "block-hash"        // every header decodes; consecutive blocks chain by hash; no block twice
	CheckDataHash  = "data-hash"         // every block's data hashes to its header's data hash
	CheckOrderer   = "orderer-signature" // every block is signed by the orderers of the configuration in force
	CheckTxs       = "transactions"      // every transaction the records name is in a block of the proof
	CheckValidity  = "validity"          // peers of two organisations sign each transaction valid
	CheckState     = "state"             // peers of two organisations sign the same records at the proof's height
)

// Strip removes from every block the metadata that no one signed (the
// peer's validity flags, its commit hash, the deprecated last-config and
// orderer entries), so that every byte of the proof is covered by a hash
// or a signature. Validity comes from the peers' signed answers instead.
func (p *Proof) Strip() error { return p.strip(false) }

// StripKeepFlags strips as Strip does but keeps the peer's validity flags,
// which the checks then hold against the peers' signed answers: a peer
// that serves a forged flag fails the validity check by name.
func (p *Proof) StripKeepFlags() error { return p.strip(true) }

func (p *Proof) strip(keepFlags bool) error {
	for _, list := range [][][]byte{p.Configs, p.Blocks} {
		for i, raw := range list {
			var b common.Block
			if err := proto.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("decode block: %w", err)
			}
			md := b.GetMetadata().GetMetadata()
			for j := range md {
				if j != int(common.BlockMetadataIndex_SIGNATURES) && (!keepFlags || j != int(common.BlockMetadataIndex_TRANSACTIONS_FILTER)) {
					md[j] = nil
				}
			}
			out, err := proto.MarshalOptions{Deterministic: true}.Marshal(&b)
			if err != nil {
				return err
			}
			list[i] = out
		}
	}
	return nil
}
