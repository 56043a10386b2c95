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

func TestExportCollectsAsTheProfile(t *testing.T) {
	// The default Collect loads the profile's identity before it asks
	// any peer: the test profile's certificate is not one.
	e := cmdtest.New(t)
	out := filepath.Join(t.TempDir(), "p.proof")
	err := e.Run(NewCmdExport(e.F, nil), "export", "CUP-1", "--file", out)
	assert.ErrorContains(t, err, "profile municipality: certificate ")
	assert.Empty(t, e.Fake.Calls())
	assert.True(t, e.Fake.Closed, "the ledger connection is closed")
	assert.NoFileExists(t, out)

	e = cmdtest.New(t)
	err = e.Run(NewCmdExport(e.F, nil), "export", "CUP-1", "--file", out, "-p", "ghost")
	assert.ErrorContains(t, err, `profile "ghost" not found`)
	assert.NoFileExists(t, out)
}

func TestExportWriteErrors(t *testing.T) {
	raw, err := os.ReadFile(data + "holds.proof")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		edit func(*proof.Proof)
		file string
		want string
	}{
		{"a directory that does not exist", func(*proof.Proof) {}, "missing/p.proof", "write proof: "},
		{"a block that does not decode", func(p *proof.Proof) { p.Blocks[0] = []byte("\xff") }, "p.proof", "decode block"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := cmdtest.New(t)
			cmd := NewCmdExport(e.F, func(o *Options) error {
				o.Collect = func(context.Context, string) (*proof.Proof, error) {
					p, err := proof.Decode(raw)
					if err == nil {
						c.edit(p)
					}
					return p, err
				}
				return runExport(context.Background(), o)
			})
			out := filepath.Join(t.TempDir(), c.file)
			assert.ErrorContains(t, e.Run(cmd, "export", "X", "--file", out), c.want)
			assert.NoFileExists(t, out)
			assert.Empty(t, e.Out.String())
		})
	}
}
