package migrate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdMigrate(e.F, nil) }

// oldLedger fakes a ledger holding n batches in the old format: the
// chaincode's PendingMigration pages (at most limit ids of at most scan
// batches read) and MigrateBatches, which migrates what is still old and
// refuses after failAfter transactions when failAfter > 0.
type oldLedger struct {
	old       map[string]bool
	ids       []string
	scan      int
	failAfter int
	submitted int
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
		if o.failAfter > 0 && o.submitted == o.failAfter {
			return nil, ledgertest.Rejection("endorsement failed")
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
	err := e.Run(newCmd(e), "migrate", "--batch", "3")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migrated 6 of the 7 old batches found so far, then: rejected by chaincode: endorsement failed")
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
}
