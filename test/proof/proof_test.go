//go:build e2e

// Package proof tests proofs on the live network: a product's provenance
// is verified online (every block checked back to the pinned genesis,
// records and validity confirmed by peers of two organisations), its proof
// is exported and verified offline (no network, no config), tampered
// copies are refused by name, and after a quarantine the proof is still
// authentic but proves that provenance no longer holds. In proxy_test.go
// a peer whose answers are altered in transit (a proxy holding the peer's
// own TLS key: an altered block, forged validity flags, records replayed
// from before a quarantine) makes `mtrace verify` fail by name.
package proof

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

var env *testnet.Env

var run = fmt.Sprintf("p%d", time.Now().Unix()%1_000_000)

func id(name string) string { return run + "-" + name }

func TestMain(m *testing.M) {
	var err error
	env, err = testnet.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "proof:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// genesis is the hash the profiles pin.
func genesis(t *testing.T) string {
	raw, err := os.ReadFile(env.Config)
	require.NoError(t, err)
	var cfg struct {
		Profiles map[string]struct {
			Genesis string `yaml:"genesis"`
		} `yaml:"profiles"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	g := cfg.Profiles["maker"].Genesis
	require.Len(t, g, 64, "network.sh writes the genesis hash into every profile")
	return g
}

// offline runs `mtrace args...` with no config and no network variable.
func offline(t *testing.T, args ...string) testnet.Result {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.Bin, "mtrace"), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := testnet.Result{Args: args, Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

// product makes a short provenance: two collections handed to the
// recycler, shredded into flakes, extruded into a spool for the maker,
// who prints a vase. tag keeps each test's batches apart.
func product(t *testing.T, tag string) (vase, collection string) {
	k, u := id(tag+"-KDK"), id(tag+"-USK")
	flakes, spool, vase := id(tag+"-FLK"), id(tag+"-FIL"), id(tag+"-VASE")
	env.MustRun(t, "municipality", "batch", "register", k, "--material", "PET", "--mass", "1250kg", "--location", "Kadıköy", "--collected-at", "2026-11-20T09:30:00+03:00", "--waste-code", "15 01 02")
	env.MustRun(t, "municipality", "batch", "register", u, "--material", "PET", "--mass", "980kg", "--location", "Üsküdar", "--collected-at", "2026-11-20T10:15:00+03:00", "--waste-code", "15 01 02")
	for _, b := range []string{k, u} {
		env.MustRun(t, "municipality", "batch", "transfer", b, "--to", "RecyclerMSP")
		env.MustRun(t, "recycler", "batch", "accept", b)
	}
	env.MustRun(t, "recycler", "batch", "process", "--step", "shredding", "--in", k+":1250kg", "--in", u+":980kg", "--out", flakes+":PET:flakes:2200kg")
	env.MustRun(t, "recycler", "batch", "process", "--step", "extrusion", "--in", flakes+":1.1kg", "--out", spool+":PET:filament:1kg")
	env.MustRun(t, "recycler", "batch", "transfer", spool, "--to", "MakerMSP")
	env.MustRun(t, "maker", "batch", "accept", spool)
	env.MustRun(t, "maker", "batch", "process", "--step", "printing", "--in", spool+":350g", "--out", vase+":PET:product:310g")
	return vase, u
}

type proofFile struct {
	Format    string            `json:"format"`
	Channel   string            `json:"channel"`
	Chaincode string            `json:"chaincode"`
	Batch     string            `json:"batch"`
	Head      uint64            `json:"head"`
	Configs   [][]byte          `json:"configs"`
	Blocks    [][]byte          `json:"blocks"`
	State     []json.RawMessage `json:"state"`
	Validity  []json.RawMessage `json:"validity"`
	Created   map[string]string `json:"created,omitempty"`
}

func readProof(t *testing.T, path string) *proofFile {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var p proofFile
	require.NoError(t, json.Unmarshal(raw, &p))
	return &p
}

func writeProof(t *testing.T, p *proofFile) string {
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tampered.proof")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

func TestProofOfAProduct(t *testing.T) {
	g := genesis(t)
	vase, usk := product(t, "export")

	// Online: the verdict holds, and so do the checks that trust no
	// single peer.
	r := env.MustRun(t, "maker", "verify", vase)
	for _, check := range []string{"genesis", "config-chain", "block-hash", "data-hash", "orderer-signature", "transactions", "validity", "state", "signatures"} {
		assert.Regexp(t, `(?m)^ok +`+check+` `, r.Stdout, "online check %s", check)
	}

	// Export, then verify with no network and no config at all.
	dir := t.TempDir()
	holds := filepath.Join(dir, "vase.proof")
	env.MustRun(t, "maker", "proof", "export", vase, "--file", holds)
	fi, err := os.Stat(holds)
	require.NoError(t, err)
	t.Logf("proof of %s: %d bytes", vase, fi.Size())
	assert.Less(t, fi.Size(), int64(2<<20), "a product's proof stays under 2 MB")
	o := offline(t, "proof", "verify", holds, "--genesis", g)
	require.Equal(t, 0, o.Code, "%s", o)
	assert.Contains(t, o.Stdout, "AUTHENTIC")
	assert.Regexp(t, `Provenance of `+vase+` holds as of block \d+ \(height \d+\), 20`, o.Stdout)

	// Without the genesis hash nothing is trusted.
	o = offline(t, "proof", "verify", holds)
	assert.Equal(t, 3, o.Code, "%s", o)
	assert.Contains(t, o.Stdout, "FAIL  genesis")

	// Tampered copies: not authentic, with the check that caught them.
	tamper := map[string]struct {
		change func(*proofFile)
		check  string
	}{
		"flipped byte in a block": {func(p *proofFile) {
			var b common.Block
			require.NoError(t, proto.Unmarshal(p.Blocks[0], &b))
			d := b.Data.Data[0]
			d[len(d)/2] ^= 0x20
			raw, err := proto.Marshal(&b)
			require.NoError(t, err)
			p.Blocks[0] = raw
		}, "data-hash"},
		"dropped block":         {func(p *proofFile) { p.Blocks = p.Blocks[1:] }, "transactions"},
		"dropped config block":  {func(p *proofFile) { p.Configs = p.Configs[:len(p.Configs)-1] }, "config-chain"},
		"removed attestation":   {func(p *proofFile) { p.Validity = p.Validity[1:] }, "validity"},
		"removed records' word": {func(p *proofFile) { p.State = p.State[:1] }, "state"},
	}
	for name, c := range tamper {
		t.Run(name, func(t *testing.T) {
			p := readProof(t, holds)
			c.change(p)
			o := offline(t, "proof", "verify", writeProof(t, p), "--genesis", g)
			assert.Equal(t, 3, o.Code, "%s", o)
			assert.Contains(t, o.Stdout, "NOT AUTHENTIC")
			assert.Regexp(t, `(?m)^FAIL +`+c.check+` `, o.Stdout)
		})
	}

	// The auditor quarantines a collection: a new proof is authentic and
	// proves that the provenance no longer holds; the old one still holds
	// as of its own, earlier, height.
	env.MustRun(t, "auditor", "batch", "quarantine", usk, "--reason", "contamination")
	fails := filepath.Join(dir, "vase-quarantined.proof")
	env.MustRun(t, "maker", "proof", "export", vase, "--file", fails)
	o = offline(t, "proof", "verify", fails, "--genesis", g)
	require.Equal(t, 1, o.Code, "%s", o)
	assert.Contains(t, o.Stdout, "AUTHENTIC")
	assert.Regexp(t, `(?m)^FAIL +not-quarantined .*`+usk, o.Stdout)
	assert.Equal(t, 0, offline(t, "proof", "verify", holds, "--genesis", g).Code)

	// A peer that hid the quarantine: the records it signed before,
	// beside the other organisation's current ones.
	p := readProof(t, fails)
	old := readProof(t, holds)
	p.State[1] = old.State[1]
	o = offline(t, "proof", "verify", writeProof(t, p), "--genesis", g)
	assert.Equal(t, 3, o.Code, "%s", o)
	assert.Regexp(t, `(?m)^FAIL +state .*different records`, o.Stdout)
}
