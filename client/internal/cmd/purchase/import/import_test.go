package importcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/csvimport"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdImport(e.F, nil) }

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var csvBody = `id,material,mass,supplier,supplier_id,origin_class,site,received_at,ticket,ticket_sha256
BUY-1,PET,2t,"Akdeniz Ambalaj, Gebze",TR-1,pre-consumer,8690000000029,2026-11-19T14:00:00+03:00,WB-1,` + sha + `
BUY-2,PET,1t,Kocaeli Toplama,,post-consumer,,2026-11-19T15:00:00+03:00,WB-2,` + sha + `
BUY-3,PET,1t,Kocaeli Toplama,,virgin,,2026-11-19T15:00:00+03:00,WB-3,` + sha + `
BUY-4,PET,1t,Kocaeli Toplama,,post-consumer,,2026-11-19T15:00:00+03:00,WB-4,` + sha + `
`

func csvFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "purchases.csv")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestImport(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.On(api.RegisterPurchase, func(args []string) ([]byte, error) {
		var req model.PurchaseRequest
		if err := json.Unmarshal([]byte(args[0]), &req); err != nil {
			return nil, err
		}
		switch req.ID {
		case "BUY-2":
			return nil, ledgertest.Rejection(fmt.Sprintf("batch %q already exists", req.ID))
		case "BUY-4":
			return nil, ledgertest.Rejection("role collector may not register bought-in batches (recycler only)")
		}
		return nil, nil
	})
	err := e.Run(newCmd(e), "import", csvFile(t, csvBody), "-o", "json")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	var res csvimport.Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &res))
	assert.Equal(t, csvimport.Result{Registered: 1, Skipped: 1, Failed: 2, SkippedIDs: []string{"BUY-2"}, Failures: []csvimport.Failure{
		{Line: 4, ID: "BUY-3", Error: `originClass: must be one of post-consumer, pre-consumer, got "virgin"`},
		{Line: 5, ID: "BUY-4", Error: "rejected by chaincode: role collector may not register bought-in batches (recycler only)"},
	}}, res)
	calls := e.Fake.CallsTo(api.RegisterPurchase)
	require.Len(t, calls, 3, "the malformed row is not submitted")
	var first model.PurchaseRequest
	for _, c := range calls {
		var r model.PurchaseRequest
		require.NoError(t, json.Unmarshal([]byte(c.Args[0]), &r))
		if r.ID == "BUY-1" {
			first = r
		}
	}
	assert.Equal(t, model.PurchaseRequest{ID: "BUY-1", Material: model.PET, Mass: 2_000_000, Supplier: "Akdeniz Ambalaj, Gebze", SupplierID: "TR-1",
		OriginClass: model.PreConsumer, Site: "8690000000029", ReceivedAt: "2026-11-19T14:00:00+03:00", Ticket: "WB-1", TicketSHA256: sha}, first)

	e = cmdtest.New(t)
	e.Fake.On(api.RegisterPurchase, ledgertest.Nothing)
	body := strings.Join(strings.Split(csvBody, "\n")[:3], "\n") + "\n"
	require.NoError(t, e.Run(newCmd(e), "import", csvFile(t, body)))
	assert.Equal(t, "registered 2, skipped 0, failed 0\n", e.Out.String())
}

func TestReadRows(t *testing.T) {
	_, err := ReadRows(strings.NewReader("id,material,mass\nA,PET,1kg\n"), cmdtest.Now)
	assert.ErrorContains(t, err, `header: missing column "supplier"`)
	rows, err := ReadRows(strings.NewReader(strings.Join(Columns, ",")+"\n"+
		"A,PET,1,S,pre-consumer,2026-11-19T14:00:00Z,T,"+sha+"\n"+
		"B,PET\n"+
		"C,WOOD,1kg,S,pre-consumer,2026-11-19T14:00:00Z,T,"+sha+"\n"+
		"D,PET,1kg,S,pre-consumer,2026-11-19T14:00:00Z,T,abc\n"), cmdtest.Now)
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.ErrorContains(t, rows[0].Err, "mass: malformed mass")
	assert.EqualError(t, rows[1].Err, "has 2 fields, the header has 8")
	assert.ErrorContains(t, rows[2].Err, "material: must be one of")
	assert.ErrorContains(t, rows[3].Err, "ticketSha256: must be exactly 64")
}

func TestImportErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "import", "/nonexistent.csv"), "no such file or directory")
	assert.ErrorContains(t, e.Run(newCmd(e), "import", csvFile(t, "")), "empty file")
	assert.ErrorContains(t, e.Run(newCmd(e), "import", csvFile(t, csvBody), "--concurrency", "0"), "--concurrency: must be from 1 to 256")
	assert.ErrorContains(t, e.Run(newCmd(e), "import", csvFile(t, csvBody), "-p", "ghost"), `profile "ghost" not found`)
	assert.Empty(t, e.Fake.Calls())
}
