package get

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func TestGet(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			e := cmdtest.New(t)
			b := cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 10_000)
			e.Fake.OnJSON("ReadBatch", b)
			require.NoError(t, e.Run(NewCmdGet(e.F, nil), "get", "PET-1", "-o", format))
			require.Len(t, e.Fake.Calls(), 1)
			assert.Equal(t, "evaluate ReadBatch(PET-1)", e.Fake.Calls()[0].String())
			cmdtest.Golden(t, "get_"+format, e.Out.String())
		})
	}
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  error
		want string
	}{
		{"not found", []string{"get", "X"}, ledgertest.Rejection(`batch "X" not found`), `rejected by chaincode: batch "X" not found`},
		{"unreachable", []string{"get", "X"}, &ledger.UnavailableError{Endpoint: "127.0.0.1:27100", Cause: "connection refused"}, "peer 127.0.0.1:27100 unreachable: connection refused"},
		{"unknown profile", []string{"get", "X", "--profile", "ghost"}, nil, `profile "ghost" not found in`},
		{"bad output", []string{"get", "X", "-o", "yaml"}, nil, `--output: must be table or json, got "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cmdtest.New(t)
			if tt.err != nil {
				e.Fake.OnError("ReadBatch", tt.err)
			}
			err := e.Run(NewCmdGet(e.F, nil), tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGetUnreadableAnswer(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On("ReadBatch", func([]string) ([]byte, error) { return []byte("not json"), nil })
	err := e.Run(NewCmdGet(e.F, nil), "get", "X")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ReadBatch: unreadable answer")
}
