package contract

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// ListBatches returns one page of batches matching every given filter,
// in index key order. It walks the owner-and-status index when both an
// owner and a status are given, else the index of the first filter
// given, in the order owner, status, material, form (or the batches
// themselves when no filter is given), reads the batches it names in
// chunks with one GetMultipleStates call per chunk, and applies every
// filter to the batches themselves, so a stale index entry can never
// produce a wrong answer.
//
// The owner-and-status index came with contract 0.7.0 (stored format 3):
// a batch last written by an earlier contract has no entry in it until
// MigrateBatches (`mtrace migrate`) or any other write brings it to the
// current format, so until the migration has run a list by owner and
// status leaves such batches out. Every other list, and every other
// transaction, sees them. Pages are exactly q.Limit long (default 50, at most 1000) except
// the last; Bookmark is the last index key read, base64url-encoded, and
// empty when the index is exhausted.
//
// The index is read with paginated range queries, whose bookmark is the
// start key: Fabric's non-paginated iterators cannot start inside a range
// of composite keys. Paginated queries run only in evaluated (read-only)
// transactions, which is how ListBatches is meant to be called.
func (c *Contract) ListBatches(ctx contractapi.TransactionContextInterface, q model.ListQuery) (*model.BatchPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	q = normalise(q)
	limit := q.Limit
	if limit == 0 {
		limit = model.DefaultListLim
	}
	obj, attrs := pickIndex(q)
	stub := ctx.GetStub()
	prefix, err := shim.CreateCompositeKey(obj, attrs)
	if err != nil {
		return nil, &model.RuleError{Field: "query", Rule: err.Error()}
	}
	after := ""
	if q.Bookmark != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Bookmark)
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			return nil, &model.RuleError{Field: "bookmark", Rule: "is not a bookmark returned by this query"}
		}
		after = string(raw)
	}

	page := &model.BatchPage{Batches: []model.Batch{}}
	start, last := after, after
	for {
		need := limit - len(page.Batches)
		keys, values, next, err := readIndexPage(stub, obj, attrs, int32(need), start, after)
		if err != nil {
			return nil, err
		}
		batches, err := resolve(stub, obj, keys, values)
		if err != nil {
			return nil, err
		}
		for i, b := range batches {
			last = keys[i]
			if b != nil && matches(b, q) {
				if err := oversee(stub, b); err != nil {
					return nil, err
				}
				page.Batches = append(page.Batches, *b)
			}
		}
		if next == "" {
			return page, nil // the index is exhausted
		}
		if len(page.Batches) == limit {
			page.Bookmark = base64.RawURLEncoding.EncodeToString([]byte(last))
			return page, nil
		}
		start, after = next, last
	}
}

// readIndexPage reads up to n keys of the range from start, skipping keys
// at or before after. next is where the following page starts, "" at the
// end of the range.
func readIndexPage(stub shim.ChaincodeStubInterface, obj string, attrs []string, n int32, start, after string) (keys []string, values [][]byte, next string, err error) {
	// Ask for one more key when start is the previous page's last key,
	// which is skipped.
	size := n
	if start != "" && start == after {
		size++
	}
	it, meta, err := stub.GetStateByPartialCompositeKeyWithPagination(obj, attrs, size, start)
	if err != nil {
		return nil, nil, "", fmt.Errorf("range %s: %w", obj, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, nil, "", fmt.Errorf("range %s: %w", obj, err)
		}
		if after != "" && kv.Key <= after {
			continue
		}
		keys = append(keys, kv.Key)
		values = append(values, kv.Value)
	}
	if meta != nil {
		next = meta.Bookmark
	}
	return keys, values, next, nil
}

// resolve turns index entries into batches: for the batch range the
// values are the batches; for an index, the batch ids are the last key
// attribute and the batches are read with one GetMultipleStates call.
// An index entry whose batch is missing gives nil.
func resolve(stub shim.ChaincodeStubInterface, obj string, keys []string, values [][]byte) ([]*model.Batch, error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		_, attrs, err := stub.SplitCompositeKey(k)
		if err != nil || len(attrs) == 0 {
			return nil, fmt.Errorf("list batches: malformed key %q", k)
		}
		ids[i] = attrs[len(attrs)-1]
	}
	// A batch in an older stored format is listed as it is (Audit reports
	// it), so that one such batch cannot stop every listing.
	if obj != objBatch {
		return getMany[model.Batch](stub, "batch", batchKey, ids)
	}
	out := make([]*model.Batch, len(keys))
	for i, raw := range values {
		b, err := decodeBatch(ids[i], raw)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// normalise writes the filters in their stored spelling; Validate has
// accepted them in any case.
func normalise(q model.ListQuery) model.ListQuery {
	if s, err := model.ParseStatus(string(q.Status)); err == nil {
		q.Status = s
	}
	if m, err := model.ParseMaterial(string(q.Material)); err == nil {
		q.Material = m
	}
	if f, err := model.ParseForm(string(q.Form)); err == nil {
		q.Form = f
	}
	return q
}

// pickIndex chooses the index to walk: the owner-and-status index when
// both are given, whose cost does not grow with the owner's batches of
// other statuses; else the index of the first filter given.
func pickIndex(q model.ListQuery) (string, []string) {
	switch {
	case q.Owner != "" && q.Status != "":
		return idxOwnerStatus, []string{q.Owner, string(q.Status)}
	case q.Owner != "":
		return idxOwner, []string{q.Owner}
	case q.Status != "":
		return idxStatus, []string{string(q.Status)}
	case q.Material != "":
		return idxMaterial, []string{string(q.Material)}
	case q.Form != "":
		return idxForm, []string{string(q.Form)}
	}
	return objBatch, nil
}

func matches(b *model.Batch, q model.ListQuery) bool {
	return (q.Owner == "" || b.Owner == q.Owner) &&
		(q.Status == "" || b.Status == q.Status) &&
		(q.Material == "" || b.Material == q.Material) &&
		(q.Form == "" || b.Form == q.Form)
}

// GetHistory returns every committed version of a batch, oldest first.
// Fabric's history iterator yields the newest first.
func (c *Contract) GetHistory(ctx contractapi.TransactionContextInterface, id string) ([]model.HistoryEntry, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	key, err := batchKey(id)
	if err != nil {
		return nil, err
	}
	it, err := ctx.GetStub().GetHistoryForKey(key)
	if err != nil {
		return nil, fmt.Errorf("history of batch %q: %w", id, err)
	}
	defer it.Close()
	out := []model.HistoryEntry{}
	for it.HasNext() {
		m, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of batch %q: %w", id, err)
		}
		e := model.HistoryEntry{TxID: m.TxId, IsDelete: m.IsDelete}
		if m.Timestamp != nil {
			e.Timestamp = model.FormatTime(m.Timestamp.AsTime())
		}
		if !m.IsDelete && m.Value != nil {
			if e.Batch, err = decodeBatch(id, m.Value); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("batch %q not found", id)
	}
	slices.Reverse(out)
	acts, err := oversightHistory(ctx.GetStub(), id)
	if err != nil {
		return nil, err
	}
	return mergeHistory(out, acts), nil
}

// mergeHistory places the auditors' acts among a batch's versions by
// time: each after the last version no later than it, and never before
// the first version (which created the batch), ties in key order.
func mergeHistory(versions, acts []model.HistoryEntry) []model.HistoryEntry {
	if len(acts) == 0 {
		return versions
	}
	slices.SortStableFunc(acts, func(a, b model.HistoryEntry) int { return strings.Compare(a.Timestamp, b.Timestamp) })
	out := make([]model.HistoryEntry, 0, len(versions)+len(acts))
	j := 0
	for i, v := range versions {
		if i > 0 {
			for j < len(acts) && acts[j].Timestamp < v.Timestamp {
				out = append(out, acts[j])
				j++
			}
		}
		out = append(out, v)
	}
	return append(out, acts[j:]...)
}
