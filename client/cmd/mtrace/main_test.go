package main

import (
	"context"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func TestExitCodesAndOneLineErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		fake    func(*ledgertest.Fake)
		code    int
		stderr  string
		stdout  string
		noInOut bool
	}{
		{"ok", []string{"batch", "get", "PET-1", "-o", "json"}, func(f *ledgertest.Fake) {
			f.OnJSON(api.ReadBatch, cmdtest.Collected("PET-1", 1000))
		}, 0, "", `"id": "PET-1"`, false},
		{"rejected", []string{"batch", "get", "PET-1"}, func(f *ledgertest.Fake) {
			f.OnError(api.ReadBatch, ledgertest.Rejection(`batch "PET-1" not found`))
		}, 1, "mtrace: rejected by chaincode: batch \"PET-1\" not found\n", "", true},
		{"multi-line cause is joined", []string{"batch", "get", "PET-1"}, func(f *ledgertest.Fake) {
			f.OnError(api.ReadBatch, &ledger.GatewayError{Op: "evaluate", Message: "a\n  b"})
		}, 1, "mtrace: evaluate failed: a b\n", "", true},
		{"bad mass", []string{"batch", "accept", "PET-1", "--received-mass", "12"}, nil, 1,
			"mtrace: --received-mass: malformed mass: \"12\" has no unit; write it like 1250kg, 1.25t or 900g\n", "", true},
		{"unknown profile", []string{"-p", "ghost", "batch", "get", "X"}, nil, 1, "mtrace: profile \"ghost\" not found in", "", true},
		{"unknown command", []string{"batch", "melt"}, nil, 1, "mtrace: unknown command \"melt\" for \"mtrace batch\"", "", false},
		// The benchmark is a program of its own (mtrace-bench), with no
		// flag hidden in the product's.
		{"no bench in the product", []string{"bench", "register"}, nil, 1, "mtrace: unknown command \"bench\" for \"mtrace\"", "", false},
		{"no endorsing-orgs flag", []string{"batch", "get", "PET-1", "--endorsing-orgs", "RecyclerMSP"}, nil, 1, "mtrace: unknown flag: --endorsing-orgs", "", false},
		{"verify fails silently with 1", []string{"verify", "CUP-1", "--no-signatures"}, func(f *ledgertest.Fake) {
			f.OnJSON(api.VerifyProvenance, model.Verdict{BatchID: "CUP-1", Checks: []model.Check{{Name: model.CheckCustody, Detail: "bad"}}})
		}, 1, "", "FAIL  custody", false},
		{"interrupted", []string{"batch", "get", "X"}, func(f *ledgertest.Fake) { f.OnError(api.ReadBatch, context.Canceled) }, 1, "mtrace: interrupted\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cmdtest.New(t)
			if tt.fake != nil {
				tt.fake(e.Fake)
			}
			code := run(context.Background(), e.F, tt.args)
			assert.Equal(t, tt.code, code)
			if tt.stderr == "" {
				assert.Empty(t, e.Err.String())
			} else {
				assert.Contains(t, e.Err.String(), tt.stderr)
				assert.Equal(t, 1, countLines(e.Err.String()), "one line on stderr")
			}
			if tt.noInOut {
				assert.Empty(t, e.Out.String())
			}
			assert.Contains(t, e.Out.String(), tt.stdout)
		})
	}
}

func countLines(s string) int {
	n := 0
	for _, c := range s {
		if c == '\n' {
			n++
		}
	}
	return n
}

func TestEveryCommandHasAnExample(t *testing.T) {
	for _, c := range allCommands(rootFor(cmdtest.New(t))) {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		assert.NotEmpty(t, c.Example, "%s has no example", c.CommandPath())
		assert.NotEmpty(t, c.Short, "%s has no summary", c.CommandPath())
	}
}

// TestNoHiddenFlagsOrCommands: everything mtrace accepts is in its help.
func TestNoHiddenFlagsOrCommands(t *testing.T) {
	for _, c := range allCommands(rootFor(cmdtest.New(t))) {
		assert.False(t, c.Hidden, "%s is hidden", c.CommandPath())
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				assert.False(t, f.Hidden, "%s --%s is hidden", c.CommandPath(), f.Name)
			})
		}
	}
}
