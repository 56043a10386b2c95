package process

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func record() model.Process {
	return model.Process{
		Derivation: model.Derivation{Step: model.StepExtrusion, Tx: "tx-extrude",
			By: model.Actor{MSP: "RecyclerMSP", Identity: "User1@recycler.mtrace.local"}, At: "2026-11-22T10:00:00Z",
			Location: "Gebze", Inputs: []model.Take{{ID: "FLK-1", Mass: 1_000_000}, {ID: "lot:7", Mass: 500_000}},
			VirginMass: 20_000, Loss: 100_000},
		Outputs:         []model.Take{{ID: "FIL-1", Mass: 700_000}, {ID: "FIL-2", Mass: 720_000}},
		RecycledContent: 9868}
}

func TestProcess(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			e := cmdtest.New(t)
			e.Fake.OnJSON(api.GetProcess, record())
			require.NoError(t, e.Run(NewCmdProcess(e.F, nil), "process", "tx-extrude", "-o", format))
			require.Len(t, e.Fake.Calls(), 1)
			assert.Equal(t, "evaluate GetProcess(tx-extrude)", e.Fake.Calls()[0].String())
			assert.True(t, e.Fake.Closed)
			cmdtest.Golden(t, "process_"+format, e.Out.String())
		})
	}
}

func TestProcessErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  error
		want string
	}{
		{"not found", []string{"process", "tx-9"}, ledgertest.Rejection(`process record "tx-9" not found`), `rejected by chaincode: process record "tx-9" not found`},
		{"unreachable", []string{"process", "tx-9"}, &ledger.UnavailableError{Endpoint: "127.0.0.1:27100", Cause: "connection refused"}, "peer 127.0.0.1:27100 unreachable: connection refused"},
		{"unknown profile", []string{"process", "tx-9", "-p", "ghost"}, nil, `profile "ghost" not found in`},
		{"no argument", []string{"process"}, nil, "one transaction ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cmdtest.New(t)
			if tt.err != nil {
				e.Fake.OnError(api.GetProcess, tt.err)
			}
			err := e.Run(NewCmdProcess(e.F, nil), tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, e.Out.String())
		})
	}
}
