package migrate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdMigrate(e.F, nil) }

// oldLedger fakes a ledger holding n batches in the old format: the
// chaincode's PendingMigration pages (at most limit ids of at most scan
// batches read) and MigrateBatches, which migrates what is still old and
// refuses after failAfter transactions when failAfter > 0.
type oldLedger struct {
	mu        sync.Mutex // MigrateBatches may be called concurrently
	inFlight  int
	maxFlight int
	hold      time.Duration // how long each MigrateBatches takes
	old       map[string]bool
	ids       []string
	scan      int
	failAfter int
	submitted int
	race      string // MigrateBatches naming this batch loses a race (raceErr)
	raceErr   error  // how it loses: a payload mismatch unless set
	raceTimes int    // how many times it loses: once unless set
}

func newOld(n, current int) *oldLedger {
	l := &oldLedger{old: map[string]bool{}, scan: 7}
	for i := range n + current {
		id := fmt.Sprintf("B-%03d", i)
		l.ids = append(l.ids, id)
		l.old[id] = i < n
	}
	return l
}

func (o *oldLedger) serve(t *testing.T, f *ledgertest.Fake) {
	f.On(api.PendingMigration, func(a []string) ([]byte, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		limit, err := strconv.Atoi(a[1])
		require.NoError(t, err)
		from := 0
		if a[0] != "" {
			from, err = strconv.Atoi(a[0])
			require.NoError(t, err)
		}
		p := model.IDPage{IDs: []string{}}
		i := from
		for ; i < len(o.ids) && i-from < o.scan && len(p.IDs) < limit; i++ {
			if o.old[o.ids[i]] {
				p.IDs = append(p.IDs, o.ids[i])
			}
		}
		if i < len(o.ids) {
			p.Bookmark = strconv.Itoa(i)
		}
		return json.Marshal(p)
	})
	f.On(api.MigrateBatches, func(a []string) ([]byte, error) {
		o.mu.Lock()
		o.inFlight++
		o.maxFlight = max(o.maxFlight, o.inFlight)
		o.mu.Unlock()
		time.Sleep(o.hold)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.inFlight--
		if o.failAfter > 0 && o.submitted == o.failAfter {
			return nil, ledgertest.Rejection("endorsement failed")
		}
		if o.race != "" && strings.Contains(a[0], `"`+o.race+`"`) {
			if o.raceTimes--; o.raceTimes <= 0 {
				o.race = ""
			}
			if o.raceErr != nil {
				return nil, o.raceErr
			}
			return nil, &ledger.EndorseError{Message: "ProposalResponsePayloads do not match", Mismatch: true}
		}
		o.submitted++
		var ids []string
		require.NoError(t, json.Unmarshal([]byte(a[0]), &ids))
		done := []string{}
		for _, id := range ids {
			if o.old[id] {
				o.old[id] = false
				done = append(done, id)
			}
		}
		return json.Marshal(done)
	})
}

func (o *oldLedger) left() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, v := range o.old {
		if v {
			n++
		}
	}
	return n
}

func TestMigrate(t *testing.T) {
	e := cmdtest.New(t)
	o := newOld(23, 9)
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate", "--batch", "4", "-o", "json"))
	var r Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	assert.Equal(t, 23, r.Pending)
	assert.Len(t, r.Migrated, 23)
	assert.True(t, slices.IsSorted(r.Migrated))
	assert.Zero(t, o.left())
	for _, c := range e.Fake.CallsTo(api.MigrateBatches) {
		var ids []string
		require.NoError(t, json.Unmarshal([]byte(c.Args[0]), &ids))
		assert.LessOrEqual(t, len(ids), 4)
	}
	assert.Equal(t, len(e.Fake.CallsTo(api.MigrateBatches)), r.Transactions)

	// A second run finds nothing and submits nothing.
	e = cmdtest.New(t)
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate"))
	assert.Equal(t, "Every batch is in the current stored format; nothing to migrate.\n", e.Out.String())
	assert.Empty(t, e.Fake.CallsTo(api.MigrateBatches))
}

// An interrupted migration says how far it got; running it again
// finishes it.
func TestMigrateInterruptedThenRerun(t *testing.T) {
	e := cmdtest.New(t)
	o := newOld(20, 0)
	o.failAfter = 2
	o.serve(t, e.Fake)
	err := e.Run(newCmd(e), "migrate", "--batch", "3", "--parallel", "1")
	require.Error(t, err)
	assert.Regexp(t, `^migrated 6 of the (7|14) old batches found so far, then: rejected by chaincode: endorsement failed$`, err.Error())
	assert.Equal(t, 14, o.left())

	e = cmdtest.New(t)
	o.failAfter = 0
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate", "--batch", "3"))
	assert.Equal(t, "Migrated 14 of 14 batches in 6 transactions.\n", e.Out.String())
	assert.Zero(t, o.left())
}

func TestMigrateDryRunAndFlags(t *testing.T) {
	e := cmdtest.New(t)
	o := newOld(5, 5)
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate", "--dry-run"))
	assert.Equal(t, "5 batches are in the old stored format; nothing written (dry run)\n", e.Out.String())
	assert.Empty(t, e.Fake.CallsTo(api.MigrateBatches))
	assert.Equal(t, 5, o.left())
	assert.ErrorContains(t, e.Run(newCmd(e), "migrate", "--batch", "0"), "--batch: must be from 1 to 100, got 0")
	assert.ErrorContains(t, e.Run(newCmd(e), "migrate", "x"), "no arguments")
	assert.ErrorContains(t, e.Run(newCmd(e), "migrate", "--parallel", "0"), "--parallel: must be from 1 to 32, got 0")
	assert.ErrorContains(t, e.Run(newCmd(e), "migrate", "--parallel", "33"), "--parallel: must be from 1 to 32, got 33")
}

// Several transactions are in flight at once, across pages of the scan;
// every old batch is migrated exactly once and listed in id order.
func TestMigrateInParallel(t *testing.T) {
	e := cmdtest.New(t)
	o := newOld(240, 60)
	o.scan = 8 // pages of 8 old batches, so every transaction names 2
	o.hold = 5 * time.Millisecond
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate", "--batch", "2", "--parallel", "6", "-o", "json"))
	var r Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	assert.Equal(t, 240, r.Pending)
	assert.Len(t, r.Migrated, 240)
	assert.True(t, slices.IsSorted(r.Migrated))
	assert.Len(t, slices.Compact(slices.Clone(r.Migrated)), 240, "no batch listed twice")
	assert.Zero(t, o.left())
	assert.Equal(t, 120, r.Transactions)
	assert.Greater(t, o.maxFlight, 1, "transactions were in flight together")
	assert.LessOrEqual(t, o.maxFlight, 6)

	// A failure stops the hand-out; the error says how far it got, and a
	// rerun finishes.
	e = cmdtest.New(t)
	o = newOld(240, 0)
	o.scan = 8 // pages of 8 old batches, so every transaction names 2
	o.failAfter = 10
	o.serve(t, e.Fake)
	err := e.Run(newCmd(e), "migrate", "--batch", "2", "--parallel", "4")
	require.Error(t, err)
	assert.Regexp(t, `^migrated 20 of the \d+ old batches found so far, then: rejected by chaincode: endorsement failed$`, err.Error())
	assert.Equal(t, 220, o.left())
	e = cmdtest.New(t)
	o.failAfter = 0
	o.serve(t, e.Fake)
	require.NoError(t, e.Run(newCmd(e), "migrate", "--batch", "2", "--parallel", "4"))
	assert.Regexp(t, `^Migrated 220 of 220 batches in \d+ transactions.\n$`, e.Out.String())
	assert.Zero(t, o.left())
}

// Two transactions in flight may write the record of a process that made
// batches of both; the one that loses the race, even after the ledger's
// retries, runs again alone at the end, and the migration completes.
func TestMigrateRedoesAChunkThatLostARace(t *testing.T) {
	for _, lost := range []error{
		nil, // endorsers that read different versions
		&ledger.CommitError{TxID: "t", Code: "MVCC_READ_CONFLICT"},
		// a peer's answer to a write of a key whose policy an earlier
		// transaction of the block changed
		&ledger.CommitError{TxID: "t", Code: "ENDORSEMENT_POLICY_FAILURE"},
	} {
		e := cmdtest.New(t)
		o := newOld(40, 0)
		o.scan = 8
		o.race, o.raceErr = "B-013", lost
		o.serve(t, e.Fake)
		require.NoError(t, e.Run(newCmd(e), "migrate", "--batch", "4", "--parallel", "4", "-o", "json"), "%v", lost)
		var r Result
		require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
		assert.Len(t, r.Migrated, 40)
		assert.True(t, slices.IsSorted(r.Migrated))
		assert.Zero(t, o.left())
		assert.Equal(t, 10, r.Transactions)
		assert.Len(t, e.Fake.CallsTo(api.MigrateBatches), 11, "one chunk twice")
	}
}

// A chunk that fails again when it runs alone did not lose a race: its
// error is reported with how far the migration got.
func TestMigrateReportsAChunkThatFailsAlone(t *testing.T) {
	e := cmdtest.New(t)
	o := newOld(40, 0)
	o.scan = 8
	o.race, o.raceTimes = "B-013", 2
	o.raceErr = &ledger.CommitError{TxID: "t1", Code: "ENDORSEMENT_POLICY_FAILURE"}
	o.serve(t, e.Fake)
	err := e.Run(newCmd(e), "migrate", "--batch", "4", "--parallel", "4")
	require.EqualError(t, err, "migrated 36 of the 40 old batches found so far, then: transaction t1 failed validation: ENDORSEMENT_POLICY_FAILURE")
	assert.Equal(t, 4, o.left())
	assert.Len(t, e.Fake.CallsTo(api.MigrateBatches), 11)
}
