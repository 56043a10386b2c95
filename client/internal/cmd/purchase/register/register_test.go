package register

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdRegister(e.F, nil) }

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var args = []string{"register", "BUY-1", "--material", "pet", "--mass", "2t", "--supplier", "Akdeniz Ambalaj",
	"--origin-class", "pre-consumer", "--received-at", "2026-11-19T14:00:00+03:00", "--ticket", "WB-42", "--ticket-sha256", sha}

func bought() model.Batch {
	b := cmdtest.Collected("BUY-1", 2_000_000)
	b.Origin = model.Origin{Purchase: &model.Purchase{Supplier: "Akdeniz Ambalaj", OriginClass: model.PreConsumer, Site: "8690000000029",
		Purchaser: "RecyclerMSP", Ticket: "WB-42", TicketSHA256: sha, ReceivedAt: "2026-11-19T11:00:00Z"}}
	b.Owner, b.Submitter.MSP = "RecyclerMSP", "RecyclerMSP"
	return b
}

func TestRegister(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.RegisterPurchase, ledgertest.Nothing).OnJSON(api.ReadBatch, bought())
	require.NoError(t, e.Run(newCmd(e), append(args, "--supplier-id", "TR-1", "--site", "8690000000029", "--waste-code", "07 02 13")...))
	calls := e.Fake.CallsTo(api.RegisterPurchase)
	require.Len(t, calls, 1)
	assert.True(t, calls[0].Submit)
	var req model.PurchaseRequest
	require.NoError(t, json.Unmarshal([]byte(calls[0].Args[0]), &req))
	assert.Equal(t, model.PurchaseRequest{ID: "BUY-1", Material: model.PET, WasteCode: "07 02 13", Mass: 2_000_000, Supplier: "Akdeniz Ambalaj",
		SupplierID: "TR-1", OriginClass: model.PreConsumer, Site: "8690000000029", ReceivedAt: "2026-11-19T14:00:00+03:00",
		Ticket: "WB-42", TicketSHA256: sha}, req)
	assert.Equal(t, "Registered BUY-1: 2000 kg pre-consumer PET bought in from Akdeniz Ambalaj, site 8690000000029, owner RecyclerMSP (tx tx-BUY-1)\n", e.Out.String())
}

func TestRegisterHashesTheTicket(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wb-42.pdf")
	require.NoError(t, os.WriteFile(file, []byte("weighbridge ticket 42: 2000 kg"), 0o600))
	sum := sha256.Sum256([]byte("weighbridge ticket 42: 2000 kg"))
	e := cmdtest.New(t)
	var got *Options
	withFile := append(append([]string(nil), args[:len(args)-2]...), "--ticket-file", file)
	require.NoError(t, e.Run(NewCmdRegister(e.F, func(o *Options) error { got = o; return nil }), withFile...))
	assert.Equal(t, hex.EncodeToString(sum[:]), got.Request.TicketSHA256)
	assert.Empty(t, e.Fake.Calls())
}

func TestRegisterErrors(t *testing.T) {
	noTicket := args[:len(args)-2]
	for _, c := range []struct {
		args []string
		want string
	}{
		{noTicket, "the weighbridge ticket: give --ticket-file or --ticket-sha256"},
		{append(append([]string(nil), args...), "--ticket-file", "x"), "give --ticket-file or --ticket-sha256, not both"},
		{append(append([]string(nil), noTicket...), "--ticket-file", "/nonexistent"), "--ticket-file: "},
		{append(append([]string(nil), args...), "--site", "123"), "--site: must be a GLN"},
		{append(append([]string(nil), args...), "--origin-class", "virgin"), "--origin-class: originClass: must be one of"},
		{append(append([]string(nil), args...), "--material", "glass"), "--material: "},
		{append(append([]string(nil), args...), "--mass", "2"), "--mass: "},
		{args[:2], `required flag(s)`},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), c.args...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.want)
		assert.Empty(t, e.Fake.Calls())
	}
	cmdtest.SubmitErrors(t, newCmd, api.RegisterPurchase, args...)
}
