// Command suites tells scripts/test.sh which end-to-end suites to run, in
// which order and how, from their one declaration (harness.Suites).
//
//	suites plan         one tab-separated line per suite, in order:
//	                    NAME KIND TARGET TIMEOUT FRESH ABOUT, where KIND is
//	                    go (TARGET the packages) or script (TARGET the program)
//	                    and FRESH is fresh, shared or own (the suite
//	                    brings its own network: run it apart); fails if the order
//	                    does not keep every suite's needs
//	suites begin NAME   before a script suite: refuse the network in
//	                    $MTRACE_HOME if it carries a mark NAME avoids, and
//	                    record the marks NAME leaves (go suites do this in
//	                    their TestMain, harness.Main)
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mtrace/mtrace/test/internal/harness"
)

func main() {
	if err := run(os.Stdout, os.Args[1:], os.Getenv("MTRACE_HOME")); err != nil {
		fmt.Fprintln(os.Stderr, "suites:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, args []string, home string) error {
	switch {
	case len(args) == 1 && args[0] == "plan":
		if err := harness.Check(harness.Suites); err != nil {
			return fmt.Errorf("test/internal/harness/suites.go: %w", err)
		}
		for _, s := range harness.Suites {
			kind, fresh := "go", "shared"
			if s.Script != "" {
				kind = "script"
			}
			if s.Fresh {
				fresh = "fresh"
			}
			if s.Own {
				fresh = "own"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, kind, s.Target(), s.Limit(), fresh, s.About)
		}
		return nil
	case len(args) == 2 && args[0] == "begin":
		s, ok := harness.Lookup(args[1])
		if !ok {
			return fmt.Errorf("suite %q is not declared in test/internal/harness/suites.go", args[1])
		}
		if home == "" {
			return fmt.Errorf("MTRACE_HOME is not set")
		}
		return harness.Begin(home, s)
	}
	return fmt.Errorf("usage: suites plan | suites begin NAME")
}
