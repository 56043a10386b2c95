package cmdtest

import (
	"errors"
	"regexp"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// Group checks a command group (mtrace batch, registry, ...) as a user
// meets it: its help lists every one of subs and reads nothing from the
// ledger; an unknown subcommand is a usage error naming the group; its
// subcommands are exactly subs, each with a one-line description, an
// example and a run function.
func Group(t *testing.T, name string, build func(*cmdutil.Factory) *cobra.Command, subs ...string) {
	t.Helper()
	t.Run("help lists its commands", func(t *testing.T) {
		e := New(t)
		if err := e.Run(build(e.F), name); err != nil {
			t.Fatalf("mtrace %s: %v", name, err)
		}
		for _, sub := range subs {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(sub) + `\s+\S`).MatchString(e.Out.String()) {
				t.Errorf("help of mtrace %s does not list %s:\n%s", name, sub, e.Out)
			}
		}
		if calls := e.Fake.Calls(); len(calls) > 0 {
			t.Errorf("help read the ledger: %v", calls)
		}
	})
	t.Run("unknown command refused", func(t *testing.T) {
		e := New(t)
		err := e.Run(build(e.F), name, "frobnicate")
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) {
			t.Fatalf("want a usage error, got %v", err)
		}
		if want := `unknown command "frobnicate" for "mtrace ` + name + `"`; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if calls := e.Fake.Calls(); len(calls) > 0 {
			t.Errorf("a refused command read the ledger: %v", calls)
		}
	})
	t.Run("commands documented", func(t *testing.T) {
		e := New(t)
		var names []string
		for _, c := range build(e.F).Commands() {
			names = append(names, c.Name())
			if c.Short == "" || c.Example == "" || c.RunE == nil {
				t.Errorf("%s %s needs a one-line description, an example and a run function", name, c.Name())
			}
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(subs))
		if !slices.Equal(names, want) {
			t.Errorf("mtrace %s has commands %v, want %v", name, names, want)
		}
	})
}
