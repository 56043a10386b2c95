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
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdImport(e.F, nil) }

const csvBody = `id,material,mass,location,collected_at,waste_code
PET-1,PET,1250kg,"Kadıköy, Istanbul",2026-11-20T09:30:00+03:00,15 01 02
PET-2,pet,800 kg,Üsküdar,2026-11-20T10:00:00+03:00,15 01 02
PET-3,PET,12.5,Beşiktaş,2026-11-20T10:00:00+03:00,15 01 02
PET-4,PET,1t,Şişli,2026-11-20T10:00:00+03:00,15 01 02
PET-5,PET,1t,Şişli,2026-11-20T10:00:00+03:00,15 01 02
PET-6,PET,1t,Şişli,2026-11-20T10:00:00+03:00,15 01 02
PET-7,PET,1t,Şişli,2026-11-20T10:00:00+03:00,15 01 02
`

func csvFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "batches.csv")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// script answers: PET-2 already on the ledger, PET-5 registered by someone
// else meanwhile (both refused as existing), PET-6 refused by the chaincode,
// PET-7 lost a conflict.
func script(f *ledgertest.Fake) {
	f.On(api.RegisterBatch, func(args []string) ([]byte, error) {
		var req model.RegisterRequest
		if err := json.Unmarshal([]byte(args[0]), &req); err != nil {
			return nil, err
		}
		switch req.ID {
		case "PET-2", "PET-5":
			return nil, ledgertest.Rejection(fmt.Sprintf("batch %q already exists", req.ID))
		case "PET-6":
			return nil, ledgertest.Rejection("role recycler may not register batches (collector only)")
		case "PET-7":
			return nil, ledgertest.MVCC()
		}
		return json.Marshal(cmdtest.Collected(req.ID, req.Mass))
	})
}

func TestImport(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			e := cmdtest.New(t)
			script(e.Fake)
			err := e.Run(newCmd(e), "import", csvFile(t, csvBody), "--concurrency", "3", "-o", format)
			require.ErrorIs(t, err, cmdutil.ErrSilent, "failed rows make the exit status 1")
			assert.Empty(t, e.Fake.CallsTo(api.BatchExists), "no separate existence check: the chaincode refuses existing ids")
			assert.Len(t, e.Fake.CallsTo(api.RegisterBatch), 6, "every well-formed row is submitted once; PET-3 is malformed")
			cmdtest.Golden(t, "import_"+format, e.Out.String())
			if format == "table" {
				assert.Equal(t, `line 4 (PET-3): mass: malformed mass: "12.5" has no unit; write it like 1250kg, 1.25t or 900g
line 7 (PET-6): rejected by chaincode: role recycler may not register batches (collector only)
line 8 (PET-7): transaction tx-conflict failed validation: MVCC_READ_CONFLICT
`, e.Err.String(), "no progress bar when stderr is not a terminal")
			}
		})
	}
}

func TestImportAllGoodWithProgress(t *testing.T) {
	e := cmdtest.New(t)
	e.IO.SetTerminal(false, true)
	script(e.Fake)
	body := strings.Join(strings.Split(csvBody, "\n")[:3], "\n") + "\n"
	require.NoError(t, e.Run(newCmd(e), "import", csvFile(t, body)))
	assert.Equal(t, "registered 1, skipped 1, failed 0\n", e.Out.String())
	assert.Contains(t, e.Err.String(), "\r[###############...............] 1/2")
	assert.Contains(t, e.Err.String(), "\r[##############################] 2/2\n")
}

func TestReadRows(t *testing.T) {
	_, err := ReadRows(strings.NewReader("id,material,mass\nA,PET,1kg\n"), cmdtest.Now)
	assert.EqualError(t, err, `header: missing column "location" (want id,material,mass,location,collected_at,waste_code)`)
	_, err = ReadRows(strings.NewReader(""), cmdtest.Now)
	assert.ErrorContains(t, err, "empty file")
	_, err = ReadRows(strings.NewReader(strings.Join(Columns, ",")+"\n"), cmdtest.Now)
	assert.ErrorContains(t, err, "no rows after the header")

	rows, err := ReadRows(strings.NewReader("\ufeffwaste_code,ID,mass,material,location,collected_at\n"+
		"15 01 02,A,2kg,hdpe,X,2026-11-20T09:30:00Z\n"+
		"15 01 02,B,2kg\n"+
		"15 01 02,C,2kg,HDPE,X,2099-01-01T00:00:00Z\n"), cmdtest.Now)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.NoError(t, rows[0].Err)
	assert.Equal(t, model.RegisterRequest{ID: "A", Material: model.HDPE, WasteCode: "15 01 02", Mass: 2000, Location: "X", CollectedAt: "2026-11-20T09:30:00Z"}, rows[0].Req)
	assert.Equal(t, 3, rows[1].Line)
	assert.EqualError(t, rows[1].Err, "has 3 fields, the header has 6")
	assert.ErrorContains(t, rows[2].Err, "collectedAt: must not be after")
}

func TestReadRowsOptionalColumns(t *testing.T) {
	rows, err := ReadRows(strings.NewReader("id,material,mass,location,collected_at,waste_code,origin_class,site\n"+
		"A,PET,2kg,X,2026-11-20T09:30:00Z,15 01 02,Pre-Consumer,8690000000012\n"+
		"B,PET,2kg,X,2026-11-20T09:30:00Z,15 01 02,,\n"+
		"C,PET,2kg,X,2026-11-20T09:30:00Z,15 01 02,industrial,\n"+
		"D,PET,2kg,X,2026-11-20T09:30:00Z,15 01 02,,8690000000013\n"), cmdtest.Now)
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.NoError(t, rows[0].Err)
	assert.Equal(t, model.PreConsumer, rows[0].Req.OriginClass)
	assert.Equal(t, "8690000000012", rows[0].Req.Site)
	require.NoError(t, rows[1].Err)
	assert.Equal(t, model.PostConsumer, rows[1].Req.Class())
	assert.ErrorContains(t, rows[2].Err, "originClass: must be one of")
	assert.ErrorContains(t, rows[3].Err, "site: GLN 8690000000013 has check digit 3")
}

func TestImportErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "import", "/nonexistent.csv"), "open /nonexistent.csv: no such file or directory")
	assert.ErrorContains(t, e.Run(newCmd(e), "import", csvFile(t, csvBody), "-p", "ghost"), `profile "ghost" not found`)
	assert.ErrorContains(t, e.Run(newCmd(e), "import", csvFile(t, csvBody), "--concurrency", "0"), "--concurrency: must be from 1 to 256")
	assert.Empty(t, e.Fake.Calls())
}
