package cmdtest

import (
	"errors"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

// SubmitErrors checks the error paths every submitting command shares: a
// chaincode rejection, a commit that failed validation with an MVCC
// conflict, and an unknown profile. Each must fail with its one-line
// cause and print nothing on standard output.
func SubmitErrors(t *testing.T, newCmd func(*Env) *cobra.Command, fn string, args ...string) {
	t.Helper()
	tests := []struct {
		name  string
		err   error
		extra []string
		want  string
	}{
		{"rejected", ledgertest.Rejection(`caller RecyclerMSP is not the owner of batch "X" (owner MunicipalityMSP)`), nil,
			`rejected by chaincode: caller RecyclerMSP is not the owner of batch "X" (owner MunicipalityMSP)`},
		{"mvcc", ledgertest.MVCC(), nil, "transaction tx-conflict failed validation: MVCC_READ_CONFLICT"},
		{"unknown profile", nil, []string{"-p", "ghost"}, `profile "ghost" not found in`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(t)
			if tt.err != nil {
				e.Fake.OnError(fn, tt.err)
			}
			err := e.Run(newCmd(e), append(append([]string(nil), args...), tt.extra...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, e.Out.String())
			if tt.err != nil {
				require.Len(t, e.Fake.Calls(), 1)
				assert.True(t, e.Fake.Calls()[0].Submit, "%s must be submitted, not evaluated", fn)
			}
		})
	}
}

// Formats runs the command once per output format with fn answering v,
// and compares each output with testdata/<name>_<format>.golden. It
// returns the recorded arguments of the call to fn.
func Formats(t *testing.T, name string, newCmd func(*Env) *cobra.Command, fn string, v any, args ...string) []string {
	t.Helper()
	var got []string
	for _, format := range []string{"table", "json"} {
		e := New(t)
		e.Fake.OnJSON(fn, v)
		require.NoError(t, e.Run(newCmd(e), append(append([]string(nil), args...), "-o", format)...))
		calls := e.Fake.CallsTo(fn)
		require.Len(t, calls, 1)
		got = calls[0].Args
		assert.True(t, e.Fake.Closed, "the ledger is closed")
		Golden(t, name+"_"+format, e.Out.String())
	}
	return got
}

// BatchFormats is Formats for a command that changes batch b: fn answers
// nothing, as batch transactions do, and the command must read b back
// with ReadBatch after the submit. It returns the arguments of fn.
func BatchFormats(t *testing.T, name string, newCmd func(*Env) *cobra.Command, fn string, b model.Batch, args ...string) []string {
	t.Helper()
	var got []string
	for _, format := range []string{"table", "json"} {
		e := New(t)
		e.Fake.On(fn, ledgertest.Nothing)
		e.Fake.OnJSON(api.ReadBatch, b)
		require.NoError(t, e.Run(newCmd(e), append(append([]string(nil), args...), "-o", format)...))
		calls := e.Fake.Calls()
		require.Len(t, calls, 2, "%v", calls)
		assert.Equal(t, ledgertest.Call{Submit: true, Fn: fn, Args: calls[0].Args}, calls[0])
		assert.Equal(t, ledgertest.Call{Fn: api.ReadBatch, Args: []string{b.ID}}, calls[1], "the batch is read back after the commit")
		got = calls[0].Args
		assert.True(t, e.Fake.Closed, "the ledger is closed")
		Golden(t, name+"_"+format, e.Out.String())
	}

	// A read-back failure says that the transaction did commit.
	e := New(t)
	e.Fake.On(fn, ledgertest.Nothing)
	e.Fake.OnError(api.ReadBatch, errors.New("peer unavailable"))
	err := e.Run(newCmd(e), args...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fn+` committed, but reading batch "`+b.ID+`" back failed: peer unavailable`)
	assert.Empty(t, e.Out.String())
	return got
}
