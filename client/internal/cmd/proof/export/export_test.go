package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/proof"
)

const data = "../../../proof/testdata/"

func TestExportWritesAStrippedProofThatVerifies(t *testing.T) {
	raw, err := os.ReadFile(data + "holds.proof")
	require.NoError(t, err)
	g, err := os.ReadFile(data + "genesis.txt")
	require.NoError(t, err)
	e := cmdtest.New(t)
	var asked string
	cmd := NewCmdExport(e.F, func(o *Options) error {
		o.Collect = func(_ context.Context, id string) (*proof.Proof, error) {
			asked = id
			return proof.Decode(raw)
		}
		return runExport(context.Background(), o)
	})
	out := filepath.Join(t.TempDir(), "p.proof")
	require.NoError(t, e.Run(cmd, "export", "IST-KDK-1206013619", "--file", out))
	assert.Equal(t, "IST-KDK-1206013619", asked)
	assert.Contains(t, e.Out.String(), "Wrote the proof of IST-KDK-1206013619 to "+out)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Less(t, len(written), len(raw), "the unsigned metadata is gone")
	r := proof.Verify(written, strings.TrimSpace(string(g)))
	assert.True(t, r.Holds(), "%+v", r.Checks)
}

func TestExportErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(NewCmdExport(e.F, nil), "export", "X"), "--file is required")
	out := filepath.Join(t.TempDir(), "p.proof")
	cmd := NewCmdExport(e.F, func(o *Options) error {
		o.Collect = func(context.Context, string) (*proof.Proof, error) {
			return nil, errors.New("no peer of another organisation confirms the records")
		}
		return runExport(context.Background(), o)
	})
	assert.ErrorContains(t, e.Run(cmd, "export", "X", "--file", out), "no peer of another organisation")
	assert.NoFileExists(t, out, "nothing is written on failure")
}
