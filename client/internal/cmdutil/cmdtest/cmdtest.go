// Package cmdtest runs commands in tests: a Factory around buffers, a
// fake ledger and a real config file in a temporary folder, plus golden
// file comparison.
package cmdtest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// Env is one command invocation's world.
type Env struct {
	F      *cmdutil.Factory
	IO     *iostreams.IOStreams
	In     *bytes.Buffer
	Out    *bytes.Buffer
	Err    *bytes.Buffer
	Fake   *ledgertest.Fake
	Config string
	// Options records what the connector was given.
	Options ledger.Options
}

// New builds an Env whose config file has the profiles "municipality"
// (default) and "recycler", with real (empty) certificate files.
func New(t *testing.T) *Env {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"tls.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	body := "defaultProfile: municipality\nprofiles:\n"
	for _, p := range []string{"municipality", "recycler"} {
		body += "  " + p + ":\n    endpoint: 127.0.0.1:27100\n    tlsRootCert: tls.pem\n    mspId: X\n    cert: cert.pem\n    key: key.pem\n"
	}
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	io, in, out, errOut := iostreams.Test()
	e := &Env{IO: io, In: in, Out: out, Err: errOut, Fake: ledgertest.New(), Config: cfg}
	e.F = &cmdutil.Factory{
		IOStreams: io,
		Globals:   &cmdutil.Globals{Output: cmdutil.FormatTable, Timeout: 30 * time.Second},
		Getenv: func(k string) string {
			if k == config.EnvConfig {
				return cfg
			}
			return ""
		},
		Connect: func(_ *config.Profile, o ledger.Options) (ledger.Ledger, error) {
			e.Options = o
			return e.Fake, nil
		},
		Version: "test",
	}
	return e
}

// Run executes cmd under a root that has the global flags, with args
// (which start with cmd's own name).
func (e *Env) Run(cmd *cobra.Command, args ...string) error {
	root := &cobra.Command{Use: "mtrace", SilenceErrors: true, SilenceUsage: true}
	cmdutil.AddGlobalFlags(root, e.F.Globals)
	root.AddCommand(cmd)
	root.SetArgs(args)
	root.SetIn(e.In)
	root.SetOut(e.Out)
	root.SetErr(e.Err)
	return root.ExecuteContext(context.Background())
}

// Golden compares got with testdata/<name>.golden, or rewrites the file
// when the test runs with -update.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
