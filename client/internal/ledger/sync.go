package ledger

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// A commit status comes from the client's own peer. Another organisation's
// peer may still be a block behind for a moment, and a command run as that
// organisation straight after would endorse against the older state: the
// recycler accepting a batch that the municipality offered a second ago
// would be told that it is not in transit. People at a terminal never meet
// this, but scripts and the demo do.
//
// So each Gateway records the highest block it saw a transaction of its own
// commit in, per network, in a small state file, and before its first call
// waits briefly until its own peer has caught up with the block another
// peer last reported. The wait is bounded and best effort: when it runs out,
// the call goes ahead exactly as it would have without it.
//
// A mark older than the config file is ignored: scripts/network.sh writes
// the file each time it brings a network up, and a network recreated from
// nothing starts again at block 0, so a mark left by its predecessor would
// only make every command wait for a block that is not coming.

// Mark is the last commit a client saw on one network.
type Mark struct {
	Block    uint64    `json:"block"`
	Endpoint string    `json:"endpoint"` // the peer that reported it
	At       time.Time `json:"at"`
}

// Marks are kept in one JSON file, keyed by config file and channel.
type marks map[string]Mark

const (
	// markFreshness bounds how old a mark may be and still be waited for:
	// the race it guards against lasts milliseconds, and a stale mark may
	// belong to a network that has since been recreated.
	markFreshness = 2 * time.Minute
	// maxSyncWait bounds the wait before the first call.
	maxSyncWait = 5 * time.Second
	syncPoll    = 25 * time.Millisecond
)

// DefaultSyncFile is where marks live: $XDG_STATE_HOME/mtrace/commits.json,
// or ~/.local/state/mtrace/commits.json; "" when neither can be found.
func DefaultSyncFile(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "mtrace", "commits.json")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "mtrace", "commits.json")
	}
	return ""
}

func readMarks(path string) marks {
	m := marks{}
	if raw, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(raw, &m) // a damaged file only costs the wait
	}
	return m
}

// LoadMark returns the mark for key, if there is a fresh one saved after
// since.
func LoadMark(path, key string, now, since time.Time) (Mark, bool) {
	if path == "" {
		return Mark{}, false
	}
	m, ok := readMarks(path)[key]
	if !ok || now.Sub(m.At) > markFreshness || m.At.After(now.Add(time.Minute)) || m.At.Before(since) {
		return Mark{}, false
	}
	return m, true
}

// SaveMark records m for key, unless the file already holds a later block
// from a fresh mark saved after since, and drops stale marks of any key. The file is replaced atomically but
// not locked: two clients saving at the same moment may lose one mark,
// which only means the next command does not wait, exactly as it would
// without marks.
func SaveMark(path, key string, m Mark, since time.Time) error {
	if path == "" {
		return nil
	}
	all := readMarks(path)
	if old, ok := all[key]; ok && old.Block > m.Block && m.At.Sub(old.At) < markFreshness && !old.At.Before(since) {
		return nil
	}
	for k, old := range all {
		if m.At.Sub(old.At) > markFreshness {
			delete(all, k) // stale marks are never waited for again
		}
	}
	all[key] = m
	raw, err := json.Marshal(all)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".commits-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WaitForBlock polls height until it passes block (a chain of height h
// holds blocks 0 to h-1), for at most max. It reports whether the peer
// caught up; errors from height count as not yet.
func WaitForBlock(ctx context.Context, block uint64, max time.Duration, height func(context.Context) (uint64, error)) bool {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	for {
		if h, err := height(ctx); err == nil && h > block {
			return true
		}
		t := time.NewTimer(syncPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// syncer is a Gateway's part in this: it waits once, before the first call,
// for the mark in the file, and remembers the highest block its own
// commits landed in. Within one process (a command that acts as several
// organisations, such as epcis capture), gateways also share their
// commits in memory: before every call, a gateway waits until its own peer
// has the last block another gateway of the process committed in.
type syncer struct {
	path, key, endpoint string
	since               time.Time // marks saved before this are ignored
	height              func(context.Context) (uint64, error)

	once    sync.Once
	mu      sync.Mutex
	highest uint64
	seen    bool
	reached uint64 // our peer's height is known to be at least this
}

// inProcess holds the last commit of this process's gateways, by network.
var inProcess = struct {
	sync.Mutex
	marks marks
}{marks: marks{}}

func (s *syncer) wait(ctx context.Context) {
	if s == nil || s.path == "" {
		return
	}
	s.once.Do(func() {
		m, ok := LoadMark(s.path, s.key, time.Now(), s.since)
		if !ok || m.Endpoint == s.endpoint {
			return // nothing recent, or our own peer reported it
		}
		WaitForBlock(ctx, m.Block, maxSyncWait, s.height)
	})
	inProcess.Lock()
	m, ok := inProcess.marks[s.key]
	inProcess.Unlock()
	if !ok || m.Endpoint == s.endpoint {
		return
	}
	s.mu.Lock()
	reached := s.reached
	s.mu.Unlock()
	if reached > m.Block {
		return
	}
	if WaitForBlock(ctx, m.Block, maxSyncWait, s.height) {
		s.mu.Lock()
		s.reached = max(s.reached, m.Block+1)
		s.mu.Unlock()
	}
}

func (s *syncer) committed(block uint64) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if !s.seen || block > s.highest {
		s.highest, s.seen = block, true
	}
	s.reached = max(s.reached, block+1)
	s.mu.Unlock()
	inProcess.Lock()
	if m, ok := inProcess.marks[s.key]; !ok || block >= m.Block {
		inProcess.marks[s.key] = Mark{Block: block, Endpoint: s.endpoint, At: time.Now()}
	}
	inProcess.Unlock()
}

// save writes the mark when this client committed anything.
func (s *syncer) save() error {
	if s == nil || s.path == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen {
		return nil
	}
	return SaveMark(s.path, s.key, Mark{Block: s.highest, Endpoint: s.endpoint, At: time.Now()}, s.since)
}
