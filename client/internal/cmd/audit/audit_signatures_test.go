package audit

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

// Without --no-signatures the audit reads the channel's blocks; when it
// cannot, it fails with the reason and prints no report.
func TestAuditSignaturesUnreadable(t *testing.T) {
	e := cmdtest.New(t)
	serve(e.Fake, nil)
	e.Fake.OnError("cscc.GetChannelConfig", errors.New("access denied"))
	err := e.Run(newCmd(e), "audit")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signatures check: ")
	assert.Contains(t, err.Error(), "access denied")
	assert.NotErrorIs(t, err, cmdutil.ErrSilent, "a failure to check is not a failed check")
	assert.Empty(t, e.Out.String())
}

// The process records of derived batches are read for the check; one that
// cannot be read fails the audit, naming it.
func TestAuditProcessRecordUnreadable(t *testing.T) {
	e := cmdtest.New(t)
	serve(e.Fake, func(b *model.Batch) {
		b.Origin = model.Origin{Process: &model.Derivation{Step: model.StepSorting, Tx: "tx-sort", Inputs: []model.Take{{ID: "PET-1", Mass: 100_000}}}}
	})
	e.Fake.OnError(api.GetProcess, errors.New("peer down"))
	err := e.Run(newCmd(e), "audit")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "process record tx-sort: peer down")
	assert.Empty(t, e.Out.String())
	calls := e.Fake.CallsTo(api.GetProcess)
	require.Len(t, calls, 1, "each record is read once")
	assert.Equal(t, []string{"tx-sort"}, calls[0].Args)
}

func TestAuditOptions(t *testing.T) {
	e := cmdtest.New(t)
	var got *Options
	require.NoError(t, e.Run(NewCmdAudit(e.F, func(o *Options) error { got = o; return nil }), "audit", "--no-signatures", "-o", "json"))
	require.NotNil(t, got)
	assert.True(t, got.NoSignatures)
	assert.Equal(t, cmdutil.FormatJSON, got.Format)
	assert.Empty(t, e.Fake.Calls())

	e = cmdtest.New(t)
	err := e.Run(newCmd(e), "audit", "-o", "yaml")
	var fe *cmdutil.FlagError
	require.ErrorAs(t, err, &fe)
	assert.Empty(t, e.Fake.Calls())
}
