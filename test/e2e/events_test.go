//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// streamedEvent is one JSON line of `mtrace events -o json`.
type streamedEvent struct {
	Block uint64 `json:"blockNumber"`
	TxID  string `json:"txId"`
	Name  string `json:"name"`
}

// eventStream is a running `mtrace events` process.
type eventStream struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	seen []streamedEvent
	done chan struct{}
}

func startEvents(t *testing.T, args ...string) *eventStream {
	t.Helper()
	full := append([]string{"-p", "auditor", "events", "-o", "json"}, args...)
	cmd := exec.Command(filepath.Join(env.Bin, "mtrace"), full...)
	cmd.Env = append(os.Environ(), "MTRACE_CONFIG="+env.Config)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &eventStream{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e streamedEvent
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("events printed a line that is not JSON: %q", sc.Text())
				continue
			}
			s.mu.Lock()
			s.seen = append(s.seen, e)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *eventStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// stop interrupts the process the way a user's Ctrl-C or a service
// manager would, and waits for it and its output to end.
func (s *eventStream) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	_ = s.cmd.Wait()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := testnet.Eventually(60*time.Second, 100*time.Millisecond, func() error {
		if !cond() {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEventsResumeFromCheckpoint stops `mtrace events --checkpoint` in the
// middle of a stream and starts it again: across both runs it must print
// exactly the events that were committed, with no gap and no duplicate.
func TestEventsResumeFromCheckpoint(t *testing.T) {
	checkpoint := filepath.Join(t.TempDir(), "events.checkpoint")
	start := height(t) // the next block to be cut

	var committed []string
	commit := func(n int, tag string) {
		for i := 0; i < n; i++ {
			b := id(fmt.Sprintf("ev-%s-%d", tag, i))
			register(t, b, "100kg")
			committed = append(committed, b)
		}
	}

	first := startEvents(t, "--checkpoint", checkpoint, "--start-block", strconv.FormatUint(start, 10))
	commit(4, "a")
	waitFor(t, "the first 4 events", func() bool { return first.count() >= 4 })
	first.stop()

	commit(5, "b") // committed while nobody listens
	second := startEvents(t, "--checkpoint", checkpoint, "--start-block", strconv.FormatUint(start, 10))
	commit(3, "c")
	waitFor(t, "the remaining events", func() bool { return first.count()+second.count() >= len(committed) })
	time.Sleep(2 * time.Second) // a duplicate would arrive now
	second.stop()

	all := append(append([]streamedEvent{}, first.seen...), second.seen...)
	txs := map[string]int{}
	for _, e := range all {
		if e.Name != "BatchRegistered" {
			t.Errorf("unexpected event %+v: only this test writes during it", e)
		}
		txs[e.TxID]++
	}
	for tx, n := range txs {
		if n > 1 {
			t.Errorf("transaction %s printed %d times", tx, n)
		}
	}
	if len(txs) != len(committed) {
		t.Errorf("printed %d distinct events for %d committed transactions (first run %d, second %d)",
			len(txs), len(committed), len(first.seen), len(second.seen))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Block < all[i-1].Block {
			t.Errorf("events out of block order: %d after %d", all[i].Block, all[i-1].Block)
		}
	}
}
