package attach

import (
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

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdAttach(e.F, nil) }

// sha256 of "abc", a published test vector.
const abcSum = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func doc(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "report.pdf")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o600))
	return p
}

func TestAttach(t *testing.T) {
	b := cmdtest.Collected("PET-1", 1_250_000)
	b.Documents = []model.Document{{Name: "report.pdf", SHA256: abcSum, AnchoredBy: b.Submitter, AnchoredAt: b.UpdatedAt, Tx: "tx-doc"}}
	b.LastTx = "tx-doc"
	args := cmdtest.BatchFormats(t, "attach", newCmd, api.AttachDocument, b, "attach", "PET-1", doc(t))
	assert.Equal(t, []string{"PET-1", "report.pdf", abcSum, ""}, args)

	e := cmdtest.New(t)
	e.Fake.On(api.AttachDocument, ledgertest.Nothing).OnJSON(api.ReadBatch, b)
	require.NoError(t, e.Run(newCmd(e), "attach", "PET-1", doc(t), "--name", "Lab report", "--uri", "https://x.example/r.pdf"))
	assert.Equal(t, []string{"PET-1", "Lab report", abcSum, "https://x.example/r.pdf"}, e.Fake.Calls()[0].Args)
}

func TestAttachErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.AttachDocument, "attach", "PET-1", doc(t))
	e := cmdtest.New(t)
	err := e.Run(newCmd(e), "attach", "PET-1", "/nonexistent/file.pdf")
	assert.ErrorContains(t, err, "open /nonexistent/file.pdf: no such file or directory")
	assert.Empty(t, e.Fake.Calls())
	assert.ErrorContains(t, e.Run(newCmd(e), "attach", "PET-1"), "expected a batch ID and a file")
}
