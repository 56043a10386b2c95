package fakestub

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

const (
	compositeNS = "\x00"
	// emptyStart replaces an empty start key so that a range over simple
	// keys skips the composite keys, which all start with "\x00".
	emptyStart = "\x01"
	maxRune    = string(utf8.MaxRune)
)

// CreateCompositeKey joins objectType and attributes in Fabric's composite
// key format: "\x00" objectType "\x00" attr1 "\x00" ... .
func (s *Stub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	if err := checkAttr(objectType); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(compositeNS + objectType + compositeNS)
	for _, a := range attributes {
		if err := checkAttr(a); err != nil {
			return "", err
		}
		b.WriteString(a + compositeNS)
	}
	return b.String(), nil
}

func checkAttr(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not a valid utf8 string: [%x]", s)
	}
	for i, r := range s {
		if r == 0 || r == utf8.MaxRune {
			return fmt.Errorf("input contains unicode %#U starting at position [%d]. %#U and %#U are not allowed in the input attribute of a composite key",
				r, i, rune(0), utf8.MaxRune)
		}
	}
	return nil
}

// SplitCompositeKey splits a composite key into its object type and
// attributes. Unlike the shim, it returns an error (instead of panicking)
// for a key that is not a composite key.
func (s *Stub) SplitCompositeKey(key string) (string, []string, error) {
	if len(key) < 2 || key[0] != 0 || key[len(key)-1] != 0 {
		return "", nil, fmt.Errorf("key %q is not a composite key", key)
	}
	parts := strings.Split(key[1:len(key)-1], compositeNS)
	return parts[0], parts[1:], nil
}

func checkSimpleKeys(keys ...string) error {
	for _, k := range keys {
		if strings.HasPrefix(k, compositeNS) {
			return fmt.Errorf("first character of the key [%s] contains a null character which is not allowed", k)
		}
	}
	return nil
}

// GetStateByRange iterates over committed simple keys in [startKey,
// endKey), bytewise sorted; "" leaves a side open. Composite keys are never
// returned.
func (s *Stub) GetStateByRange(startKey, endKey string) (shim.StateQueryIteratorInterface, error) {
	if startKey == "" {
		startKey = emptyStart
	}
	if err := checkSimpleKeys(startKey, endKey); err != nil {
		return nil, err
	}
	return s.rangeQuery(startKey, endKey), nil
}

// GetStateByPartialCompositeKey iterates over the committed composite keys
// that start with objectType and attributes, bytewise sorted.
func (s *Stub) GetStateByPartialCompositeKey(objectType string, attributes []string) (shim.StateQueryIteratorInterface, error) {
	start, err := s.CreateCompositeKey(objectType, attributes)
	if err != nil {
		return nil, err
	}
	return s.rangeQuery(start, start+maxRune), nil
}

// GetStateByRangeWithPagination returns one page of GetStateByRange. A
// non-empty bookmark (from the previous page's metadata) replaces startKey.
// The returned bookmark is the first key of the next page, or "" at the end.
func (s *Stub) GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if startKey == "" {
		startKey = emptyStart
	}
	if err := checkSimpleKeys(startKey, endKey); err != nil {
		return nil, nil, err
	}
	return s.pageQuery(startKey, endKey, pageSize, bookmark)
}

// GetStateByPartialCompositeKeyWithPagination returns one page of
// GetStateByPartialCompositeKey; bookmarks work as in
// GetStateByRangeWithPagination.
func (s *Stub) GetStateByPartialCompositeKeyWithPagination(objectType string, keys []string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	start, err := s.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, nil, err
	}
	return s.pageQuery(start, start+maxRune, pageSize, bookmark)
}

// GetAllStatesCompositeKeyWithPagination returns one page of all composite keys.
func (s *Stub) GetAllStatesCompositeKeyWithPagination(pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return s.pageQuery(compositeNS, compositeNS+maxRune, pageSize, bookmark)
}

// kv is one committed key in a query result, with its version.
type kv struct {
	key     string
	value   []byte
	version uint64
}

// scan returns committed keys in [start, end) ("" end = open), sorted.
// l.mu must be held.
func (l *Ledger) scan(start, end string) []kv {
	var out []kv
	for k, e := range l.state {
		if k >= start && (end == "" || k < end) {
			out = append(out, kv{k, slices.Clone(e.value), e.version})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	return out
}

// rangeQuery runs a range query whose result is re-checked at commit.
func (s *Stub) rangeQuery(start, end string) *stateIter {
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &rangeRead{start: start, end: end}
	s.ranges = append(s.ranges, r)
	return &stateIter{items: l.scan(start, end), rr: r}
}

// pageQuery runs one page of a paginated query. Paginated queries are for
// read-only transactions, so they are not re-checked at commit.
func (s *Stub) pageQuery(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if pageSize < 0 {
		return nil, nil, fmt.Errorf("page size %d must not be negative", pageSize)
	}
	if pageSize == 0 && bookmark == "" {
		// Fabric treats this as a plain range query.
		it := s.rangeQuery(start, end)
		return it, &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(it.items))}, nil
	}
	if s.wrote {
		return nil, nil, fmt.Errorf("txid [%s]: unsuppored transaction. Paginated queries are supported only in a read-only transaction", s.txID)
	}
	s.paginated = true
	if bookmark != "" {
		start = bookmark
	}
	l := s.ledger
	l.mu.Lock()
	items := l.scan(start, end)
	l.mu.Unlock()
	next := ""
	if pageSize > 0 && len(items) > int(pageSize) {
		next = items[pageSize].key
		items = items[:pageSize]
	}
	meta := &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(items)), Bookmark: next}
	return &stateIter{items: items}, meta, nil
}

// rangeRead is what a range query returned, for phantom checks at commit.
type rangeRead struct {
	start, end string
	seen       []kv // results handed out, in order
	exhausted  bool // the iterator reported no more results
}

// check re-runs the range and compares it with what was handed out: all
// of it when the iterator was exhausted, else up to the last key seen.
// l.mu must be held.
func (r *rangeRead) check(l *Ledger) error {
	if !r.exhausted && len(r.seen) == 0 {
		return nil
	}
	now := l.scan(r.start, r.end)
	if !r.exhausted {
		last := r.seen[len(r.seen)-1].key
		i := 0
		for i < len(now) && now[i].key <= last {
			i++
		}
		now = now[:i]
	}
	if len(now) != len(r.seen) {
		return fmt.Errorf("range [%q, %q) returned %d keys, now %d", r.start, r.end, len(r.seen), len(now))
	}
	for i := range now {
		if now[i].key != r.seen[i].key || now[i].version != r.seen[i].version {
			return fmt.Errorf("range [%q, %q) changed at key %q", r.start, r.end, now[i].key)
		}
	}
	return nil
}

// stateIter iterates over a fixed query result.
type stateIter struct {
	items  []kv
	pos    int
	closed bool
	rr     *rangeRead // nil for paginated queries
}

// HasNext reports whether Next has another result.
func (it *stateIter) HasNext() bool {
	more := !it.closed && it.pos < len(it.items)
	if !more && it.rr != nil && !it.closed {
		it.rr.exhausted = true
	}
	return more
}

// Next returns the next key and value.
func (it *stateIter) Next() (*queryresult.KV, error) {
	if it.closed {
		return nil, errors.New("iterator is closed")
	}
	if it.pos >= len(it.items) {
		if it.rr != nil {
			it.rr.exhausted = true
		}
		return nil, errors.New("no more results")
	}
	r := it.items[it.pos]
	it.pos++
	if it.rr != nil {
		it.rr.seen = append(it.rr.seen, r)
		if it.pos == len(it.items) {
			it.rr.exhausted = true
		}
	}
	return &queryresult.KV{Namespace: ChaincodeName, Key: r.key, Value: slices.Clone(r.value)}, nil
}

// Close releases the iterator; further calls to Next fail.
func (it *stateIter) Close() error {
	it.closed = true
	return nil
}

// GetHistoryForKey returns the committed modifications of key, newest
// first, as Fabric v2+ does.
func (s *Stub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.history[key]
	mods := make([]*queryresult.KeyModification, len(h))
	for i, m := range h {
		mods[len(h)-1-i] = &queryresult.KeyModification{
			TxId:      m.TxId,
			Value:     slices.Clone(m.Value),
			Timestamp: m.Timestamp,
			IsDelete:  m.IsDelete,
		}
	}
	return &historyIter{mods: mods}, nil
}

// historyIter iterates over a key's history.
type historyIter struct {
	mods   []*queryresult.KeyModification
	pos    int
	closed bool
}

// HasNext reports whether Next has another modification.
func (it *historyIter) HasNext() bool { return !it.closed && it.pos < len(it.mods) }

// Next returns the next (older) modification.
func (it *historyIter) Next() (*queryresult.KeyModification, error) {
	if it.closed {
		return nil, errors.New("iterator is closed")
	}
	if it.pos >= len(it.mods) {
		return nil, errors.New("no more results")
	}
	it.pos++
	return it.mods[it.pos-1], nil
}

// Close releases the iterator.
func (it *historyIter) Close() error {
	it.closed = true
	return nil
}
