package register

import (
	"encoding/json"
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

var args = []string{"register", "PET-1", "--material", "pet", "--mass", "1250kg",
	"--location", "Kadıköy, Istanbul", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02"}

func TestRegister(t *testing.T) {
	got := cmdtest.BatchFormats(t, "register", func(e *cmdtest.Env) *cobra.Command { return NewCmdRegister(e.F, nil) },
		api.RegisterBatch, cmdtest.Collected("PET-1", 1_250_000), args...)
	var req model.RegisterRequest
	require.NoError(t, json.Unmarshal([]byte(got[0]), &req))
	assert.Equal(t, model.RegisterRequest{ID: "PET-1", Material: model.PET, WasteCode: "15 01 02",
		Mass: 1_250_000, Location: "Kadıköy, Istanbul", CollectedAt: "2026-11-20T09:30:00+03:00"}, req)
}

func TestRegisterAtSite(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.RegisterBatch, ledgertest.Nothing).OnJSON(api.ReadBatch, cmdtest.Collected("PET-1", 1_250_000))
	require.NoError(t, e.Run(NewCmdRegister(e.F, nil), append(args, "--origin-class", "Pre-Consumer", "--site", "8690000000012")...))
	calls := e.Fake.CallsTo(api.RegisterBatch)
	require.Len(t, calls, 1)
	var req model.RegisterRequest
	require.NoError(t, json.Unmarshal([]byte(calls[0].Args[0]), &req))
	assert.Equal(t, model.PreConsumer, req.OriginClass)
	assert.Equal(t, "8690000000012", req.Site)
}

func TestRegisterOptions(t *testing.T) {
	e := cmdtest.New(t)
	var got *Options
	err := e.Run(NewCmdRegister(e.F, func(o *Options) error { got = o; return nil }), args...)
	require.NoError(t, err)
	assert.Equal(t, model.Grams(1_250_000), got.Request.Mass)
	assert.Equal(t, model.PET, got.Request.Material)
	assert.Empty(t, e.Fake.Calls())
}

func TestRegisterLedgerOptions(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.RegisterBatch, ledgertest.Nothing).OnJSON(api.ReadBatch, cmdtest.Collected("PET-1", 1_250_000))
	require.NoError(t, e.Run(NewCmdRegister(e.F, nil), append(args, "--timeout", "7s")...))
	assert.Equal(t, 7*time.Second, e.Options.Timeout)
	assert.Equal(t, ledger.DefaultRetries, e.Options.Retries)
}

func TestRegisterErrors(t *testing.T) {
	bad := func(flag, value string) []string {
		out := append([]string(nil), args...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
			}
		}
		return out
	}
	tests := []struct {
		name string
		args []string
		fake func(*ledgertest.Fake)
		want string
	}{
		{"bad mass", bad("--mass", "12.5"), nil, `--mass: malformed mass: "12.5" has no unit`},
		{"fractional gram", bad("--mass", "0.0005kg"), nil, "not a whole number of grams"},
		{"bad material", bad("--material", "glass"), nil, `--material: material: must be one of`},
		{"bad origin class", append(args, "--origin-class", "industrial"), nil, `--origin-class: originClass: must be one of post-consumer, pre-consumer`},
		{"bad site", append(args, "--site", "8690000000013"), nil, `--site: GLN 8690000000013 has check digit 3, want 2`},
		{"unknown profile", append(args, "-p", "nobody"), nil, `profile "nobody" not found in`},
		{"rejected", args, func(f *ledgertest.Fake) {
			f.OnError(api.RegisterBatch, ledgertest.Rejection(`batch "PET-1" already exists`))
		},
			`rejected by chaincode: batch "PET-1" already exists`},
		{"mvcc", args, func(f *ledgertest.Fake) { f.OnError(api.RegisterBatch, ledgertest.MVCC()) },
			"transaction tx-conflict failed validation: MVCC_READ_CONFLICT"},
		{"missing id", append([]string{"register"}, args[2:]...), nil, "expected one batch ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cmdtest.New(t)
			if tt.fake != nil {
				tt.fake(e.Fake)
			}
			err := e.Run(NewCmdRegister(e.F, nil), tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, e.Out.String())
		})
	}
}
