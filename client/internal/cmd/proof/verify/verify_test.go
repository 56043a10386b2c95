package verify

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/proof"
)

// The proofs come from client/internal/proof/testdata, exported from a
// live network.
const data = "../../../proof/testdata/"

func genesis(t *testing.T) string {
	raw, err := os.ReadFile(data + "genesis.txt")
	require.NoError(t, err)
	return strings.TrimSpace(string(raw))
}

// file writes a testdata proof as export writes it (stripped), after
// change, and returns its path.
func file(t *testing.T, name string, change func(*proof.Proof)) string {
	raw, err := os.ReadFile(data + name)
	require.NoError(t, err)
	p, err := proof.Decode(raw)
	require.NoError(t, err)
	require.NoError(t, p.Strip())
	if change != nil {
		change(p)
	}
	raw, err = p.Encode()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "x.proof")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

func exit(err error) int {
	if err == nil {
		return 0
	}
	var e *cmdutil.ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

func TestExitStatuses(t *testing.T) {
	g := genesis(t)
	cases := []struct {
		name, file string
		change     func(*proof.Proof)
		code       int
		says       []string
	}{
		{"authentic and holds", "holds.proof", nil, 0, []string{"AUTHENTIC", "holds as of block 26 (height 27)"}},
		{"authentic, does not hold", "quarantined.proof", nil, 1, []string{"AUTHENTIC", "DOES NOT HOLD as of block 27", "FAIL  not-quarantined"}},
		{"dropped block", "holds.proof", func(p *proof.Proof) { p.Blocks = p.Blocks[1:] }, 3, []string{"NOT AUTHENTIC", "FAIL  transactions", "not established"}},
		{"removed attestation", "holds.proof", func(p *proof.Proof) { p.Validity = p.Validity[1:] }, 3, []string{"FAIL  validity"}},
		{"flipped byte", "holds.proof", func(p *proof.Proof) { p.Blocks[0][len(p.Blocks[0])/2] ^= 1 }, 3, []string{"NOT AUTHENTIC"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := cmdtest.New(t)
			err := e.Run(NewCmdVerify(e.F, nil), "verify", file(t, c.file, c.change), "--genesis", g)
			assert.Equal(t, c.code, exit(err), "%v", err)
			for _, s := range c.says {
				assert.Contains(t, e.Out.String(), s)
			}
			assert.Empty(t, e.Fake.Calls(), "no network")
		})
	}
}

func TestGenesisFromFlagOrProfile(t *testing.T) {
	path := file(t, "holds.proof", nil)
	e := cmdtest.New(t)
	err := e.Run(NewCmdVerify(e.F, nil), "verify", path)
	assert.Equal(t, 3, exit(err), "no genesis pinned: not authentic")
	assert.Contains(t, e.Out.String(), "FAIL  genesis")

	e = cmdtest.New(t)
	cfg, err := os.ReadFile(e.Config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(e.Config, []byte(strings.ReplaceAll(string(cfg), "    key: key.pem\n", "    key: key.pem\n    genesis: "+genesis(t)+"\n")), 0o600))
	require.NoError(t, e.Run(NewCmdVerify(e.F, nil), "verify", path), "the profile's genesis")

	e = cmdtest.New(t)
	err = e.Run(NewCmdVerify(e.F, nil), "verify", path, "--genesis", strings.Repeat("ab", 32))
	assert.Equal(t, 3, exit(err))
}

func TestJSON(t *testing.T) {
	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdVerify(e.F, nil), "verify", file(t, "holds.proof", nil), "--genesis", genesis(t), "-o", "json"))
	var r struct {
		Authentic bool
		Head      uint64
		Verdict   struct{ OK bool }
	}
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	assert.True(t, r.Authentic)
	assert.True(t, r.Verdict.OK)
	assert.Equal(t, uint64(26), r.Head)
}

func TestErrors(t *testing.T) {
	e := cmdtest.New(t)
	err := e.Run(NewCmdVerify(e.F, nil), "verify", "/nonexistent.proof")
	assert.ErrorContains(t, err, "no such file")
	assert.Equal(t, -1, exit(err), "a missing file is an ordinary error (exit 1)")
	bad := filepath.Join(t.TempDir(), "bad.proof")
	require.NoError(t, os.WriteFile(bad, []byte(`{"format":"other/9"}`), 0o600))
	assert.Equal(t, 3, exit(e.Run(NewCmdVerify(e.F, nil), "verify", bad)))
	assert.Contains(t, e.Out.String(), "FAIL  format")
}
