package contract

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Key layout. Every key is a composite key, so that simple keys (the
// baseline's) never collide with it.
//
//	batch       ("batch", id)              the batch as JSON
//	process     ("process", tx)            a process record as JSON, once per Process transaction
//	take        ("take", parent, at, tx)   a model.Take as JSON: what process tx took from parent
//	registry    ("registry")               the participant registry as JSON
//	idx~owner   ("idx~owner", msp, id)     0x00, one per batch
//	idx~status  ("idx~status", status, id) 0x00, one per batch
//	idx~material ("idx~material", m, id)   0x00, one per batch
//	idx~form    ("idx~form", form, id)     0x00, one per batch
//	idx~owner-status ("idx~owner-status", msp, status, id) 0x00, one per
//	            batch of stored format 3 (contract 0.7.0) or later
//	hold, held, doc                        an auditor's holds and documents (oversight.go)
//	capture     ("capture", msp, eventID)  a captured EPCIS event (capture.go)
//
// There are no counters or other keys that every transaction writes, so
// concurrent transactions on different batches never conflict.
const (
	objBatch    = "batch"
	objProcess  = "process"
	objTake     = "take"
	objRegistry = "registry"
	idxOwner    = "idx~owner"
	idxStatus   = "idx~status"
	idxMaterial = "idx~material"
	idxForm     = "idx~form"
	// idxOwnerStatus lists an owner's batches of one status, so that a
	// list filtered by both reads only the batches it answers, however
	// many others the owner holds (contract 0.7.0, stored format 3).
	idxOwnerStatus = "idx~owner-status"
)

// indexValue is stored under every index key; the key itself is the data.
var indexValue = []byte{0}

func batchKey(id string) (string, error) {
	k, err := shim.CreateCompositeKey(objBatch, []string{id})
	if err != nil {
		return "", fmt.Errorf("batch key %q: %w", id, err)
	}
	return k, nil
}

func processKey(tx string) (string, error) {
	k, err := shim.CreateCompositeKey(objProcess, []string{tx})
	if err != nil {
		return "", fmt.Errorf("process key %q: %w", tx, err)
	}
	return k, nil
}

// takeKey is the key of what process tx, run at at (the transaction time
// as the ledger stores it, RFC 3339), took from batch parent. The time is
// written with fixed width, so that a range read of one parent's takes
// returns them in the order they were made (ties by transaction id).
func takeKey(parent, at, tx string) (string, error) {
	when, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return "", fmt.Errorf("take key of batch %q, process %s: time %q: %w", parent, tx, at, err)
	}
	k, err := shim.CreateCompositeKey(objTake, []string{parent, when.UTC().Format(takeTime), tx})
	if err != nil {
		return "", fmt.Errorf("take key of batch %q, process %s: %w", parent, tx, err)
	}
	return k, nil
}

// takeTime is the fixed-width time of a take key.
const takeTime = "20060102T150405.000000000Z"

func registryKey() string {
	k, _ := shim.CreateCompositeKey(objRegistry, nil) // cannot fail: fixed, valid object type
	return k
}

// indexKeys lists the index entries a stored batch has; nil for no
// batch. Every batch has the same indexes in the same order, so two
// versions compare entry by entry; an entry the batch's stored format
// predates is "" (a batch older than model.OwnerStatusFormat has no
// owner-and-status entry).
func indexKeys(b *model.Batch) ([]string, error) {
	if b == nil {
		return nil, nil
	}
	entries := []struct {
		index string
		attrs []string
	}{
		{idxOwner, []string{b.Owner, b.ID}},
		{idxStatus, []string{string(b.Status), b.ID}},
		{idxMaterial, []string{string(b.Material), b.ID}},
		{idxForm, []string{string(b.Form), b.ID}},
		{idxOwnerStatus, []string{b.Owner, string(b.Status), b.ID}},
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		if e.index == idxOwnerStatus && b.Format < model.OwnerStatusFormat {
			continue
		}
		k, err := shim.CreateCompositeKey(e.index, e.attrs)
		if err != nil {
			return nil, fmt.Errorf("index key %s for batch %q: %w", e.index, b.ID, err)
		}
		keys[i] = k
	}
	return keys, nil
}

// getBatch reads one batch; a missing batch is an error naming it.
func getBatch(stub shim.ChaincodeStubInterface, id string) (*model.Batch, error) {
	key, err := batchKey(id)
	if err != nil {
		return nil, err
	}
	raw, err := stub.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read batch %q: %w", id, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("batch %q not found", id)
	}
	b, err := decodeBatch(id, raw)
	if err != nil {
		return nil, err
	}
	return b, requireCurrent(b)
}

// getBatches reads many batches with one GetMultipleStates call. Missing
// batches are nil in the result, in the order of ids.
func getBatches(stub shim.ChaincodeStubInterface, ids []string) ([]*model.Batch, error) {
	bs, err := getMany[model.Batch](stub, "batch", batchKey, ids)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if err := requireCurrent(b); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// requireCurrent refuses a batch stored by an older contract: its takes
// are still in a list on the batch, where this contract does not look.
// A nil batch passes.
func requireCurrent(b *model.Batch) error {
	switch {
	case b == nil:
	case b.Format < model.TakesFormat:
		return fmt.Errorf("batch %q is stored in the format of contract 0.2.0: an admin must migrate the ledger first (MigrateBatches, `mtrace migrate`)", b.ID)
	case b.Format > model.CurrentFormat:
		return fmt.Errorf("batch %q has stored format %d, which this contract does not know", b.ID, b.Format)
	}
	return nil
}

// getTakes reads what the given processes took from the given parents,
// with one GetMultipleStates call. Missing takes are absent from the map.
func getTakes(stub shim.ChaincodeStubInterface, refs []takeRef) (map[model.TakeRef]model.Take, error) {
	keys := make([]string, len(refs))
	for i, r := range refs {
		k, err := takeKey(r.Parent, r.at, r.Tx)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	takes, err := getMany[model.Take](stub, "take", func(k string) (string, error) { return k, nil }, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[model.TakeRef]model.Take, len(refs))
	for i, t := range takes {
		if t != nil {
			out[refs[i].TakeRef] = *t
		}
	}
	return out, nil
}

// takeRef is a take to read: its parent and process, and the process's
// time, which is part of the key.
type takeRef struct {
	model.TakeRef
	at string
}

// getProcesses reads the records of many processes, by transaction id,
// with one GetMultipleStates call. Missing records are nil in the result.
func getProcesses(stub shim.ChaincodeStubInterface, txs []string) ([]*model.Process, error) {
	return getMany[model.Process](stub, "process record", processKey, txs)
}

// getMany reads the JSON values of many ids with one GetMultipleStates
// call; key makes each id's key, and what names the kind of value in
// errors. Missing values are nil in the result, in the order of ids.
func getMany[T any](stub shim.ChaincodeStubInterface, what string, key func(string) (string, error), ids []string) ([]*T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		k, err := key(id)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	raws, err := stub.GetMultipleStates(keys...)
	if err != nil {
		return nil, fmt.Errorf("read %d %ss: %w", len(ids), what, err)
	}
	if len(raws) != len(ids) {
		return nil, fmt.Errorf("read %d %ss: ledger returned %d values", len(ids), what, len(raws))
	}
	out := make([]*T, len(ids))
	for i, raw := range raws {
		if raw == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode %s %q: %w", what, ids[i], err)
		}
		out[i] = &v
	}
	return out, nil
}

func decodeBatch(id string, raw []byte) (*model.Batch, error) {
	var b model.Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decode batch %q: %w", id, err)
	}
	return &b, nil
}

// putBatch writes a batch and brings its index entries in line with it:
// entries of old that the new version no longer has are deleted, new ones
// are written. old is nil for a new batch. This is the one place that
// writes index entries, so every transaction that creates a batch or
// changes its owner or status moves them, and a batch of an older stored
// format gets the entries its format lacked when it is written again.
func putBatch(stub shim.ChaincodeStubInterface, old, b *model.Batch) error {
	key, err := batchKey(b.ID)
	if err != nil {
		return err
	}
	// Holds and auditor documents live under keys of their own.
	raw, err := json.Marshal(b.Stored())
	if err != nil {
		return fmt.Errorf("encode batch %q: %w", b.ID, err)
	}
	if err := stub.PutState(key, raw); err != nil {
		return fmt.Errorf("write batch %q: %w", b.ID, err)
	}
	before, err := indexKeys(old)
	if err != nil {
		return err
	}
	after, err := indexKeys(b)
	if err != nil {
		return err
	}
	// indexKeys lists the same indexes in the same order for every batch,
	// so the versions compare entry by entry.
	for i, k := range after {
		var was string
		if before != nil {
			was = before[i]
		}
		if was == k {
			continue
		}
		if was != "" {
			if err := stub.DelState(was); err != nil {
				return fmt.Errorf("delete index of batch %q: %w", b.ID, err)
			}
		}
		if k == "" {
			continue // an entry the new version's format does not have
		}
		if err := stub.PutState(k, indexValue); err != nil {
			return fmt.Errorf("write index of batch %q: %w", b.ID, err)
		}
	}
	return nil
}
