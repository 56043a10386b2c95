package get

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func TestGet(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			e := cmdtest.New(t)
			b := cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 10_000)
			e.Fake.OnJSON(api.ReadBatch, b)
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
				e.Fake.OnError(api.ReadBatch, tt.err)
			}
			err := e.Run(NewCmdGet(e.F, nil), tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGetUnreadableAnswer(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.ReadBatch, func([]string) ([]byte, error) { return []byte("not json"), nil })
	err := e.Run(NewCmdGet(e.F, nil), "get", "X")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode answer of "+api.ReadBatch)
}

// A batch with many takes shows the first ones, read page by page, and
// says how many it left out; --children 0 follows every page.
func TestGetChildrenPaged(t *testing.T) {
	b := cmdtest.Received(cmdtest.Collected("SILO-1", 1_250_000), 0)
	b.Takes, b.TakenMass, b.RemainingMass = 3, 3000, 1_247_000
	takes := []model.Take{
		{ID: "F1", Mass: 1000, Tx: "t1", Handovers: 1, At: "2026-11-22T09:00:00Z"},
		{ID: "F2", Mass: 1000, Tx: "t2", Handovers: 1, At: "2026-11-22T09:01:00Z"},
		{ID: "F3", Mass: 1000, Tx: "t3", Handovers: 1, At: "2026-11-22T09:02:00Z"},
	}
	pages := func(e *cmdtest.Env) {
		e.Fake.OnJSON(api.ReadBatch, b)
		e.Fake.On(api.ListTakes, func(a []string) ([]byte, error) {
			n, err := strconv.Atoi(a[2])
			require.NoError(t, err)
			from := 0
			if a[1] != "" {
				from, err = strconv.Atoi(a[1])
				require.NoError(t, err)
			}
			to := min(from+n, len(takes))
			p := model.TakePage{Takes: takes[from:to]}
			if to < len(takes) {
				p.Bookmark = strconv.Itoa(to)
			}
			return json.Marshal(p)
		})
	}

	e := cmdtest.New(t)
	pages(e)
	require.NoError(t, e.Run(NewCmdGet(e.F, nil), "get", "SILO-1", "--children", "2"))
	assert.Equal(t, []string{"evaluate ReadBatch(SILO-1)", "evaluate ListTakes(SILO-1, , 2)"}, calls(e))
	assert.Contains(t, e.Out.String(), "Children          F1 1 kg, tx t1, 2026-11-22T09:00:00Z\n                  F2 1 kg, tx t2, 2026-11-22T09:01:00Z\n                  and 1 more (of 3)\n")

	e = cmdtest.New(t)
	pages(e)
	require.NoError(t, e.Run(NewCmdGet(e.F, nil), "get", "SILO-1", "--children", "0", "-o", "json"))
	assert.Equal(t, []string{"evaluate ReadBatch(SILO-1)", "evaluate ListTakes(SILO-1, , 1000)"}, calls(e))
	var got struct {
		Takes    int          `json:"takes"`
		Children []model.Take `json:"children"`
	}
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	assert.Equal(t, takes, got.Children)
	assert.Equal(t, 3, got.Takes)

	e = cmdtest.New(t)
	pages(e)
	takesPerPage := 1
	e.Fake.On(api.ListTakes, func(a []string) ([]byte, error) {
		from := 0
		if a[1] != "" {
			from, _ = strconv.Atoi(a[1])
		}
		p := model.TakePage{Takes: takes[from : from+takesPerPage]}
		if from+takesPerPage < len(takes) {
			p.Bookmark = strconv.Itoa(from + takesPerPage)
		}
		return json.Marshal(p)
	})
	require.NoError(t, e.Run(NewCmdGet(e.F, nil), "get", "SILO-1", "--children", "0"))
	assert.Equal(t, []string{"evaluate ReadBatch(SILO-1)", "evaluate ListTakes(SILO-1, , 1000)", "evaluate ListTakes(SILO-1, 1, 1000)", "evaluate ListTakes(SILO-1, 2, 1000)"}, calls(e))
	assert.NotContains(t, e.Out.String(), "more")

	e = cmdtest.New(t)
	err := e.Run(NewCmdGet(e.F, nil), "get", "SILO-1", "--children", "-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--children: must be 0 (all) or more, got -1")
}

func calls(e *cmdtest.Env) []string {
	var out []string
	for _, c := range e.Fake.Calls() {
		out = append(out, c.String())
	}
	return out
}
