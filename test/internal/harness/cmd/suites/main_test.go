package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mtrace/mtrace/test/internal/harness"
)

func TestPlan(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, []string{"plan"}, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(harness.Suites) {
		t.Fatalf("%d lines for %d suites:\n%s", len(lines), len(harness.Suites), out.String())
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		s := harness.Suites[i]
		if len(f) != 6 || f[0] != s.Name || f[2] != s.Target() || f[3] != s.Limit().String() {
			t.Errorf("line %d %q for suite %+v", i, l, s)
		}
	}
	if !strings.HasPrefix(lines[0], "e2e\tgo\t./test/e2e/...\t30m0s\tshared\t") {
		t.Errorf("first line %q", lines[0])
	}
	own := 0
	for i, s := range harness.Suites {
		if s.Own {
			own++
			if f := strings.Split(lines[i], "\t"); f[4] != "own" {
				t.Errorf("suite %s brings its own network, planned %q", s.Name, f[4])
			}
		}
	}
	if own == 0 {
		t.Error("no suite brings its own network (the consortium suite does)")
	}
}

func TestBeginAndUsage(t *testing.T) {
	home := t.TempDir()
	if err := run(nil, []string{"begin", "trust"}, home); err != nil {
		t.Fatal(err)
	}
	err := run(nil, []string{"begin", "demo"}, home)
	if err == nil || !strings.Contains(err.Error(), "suite demo cannot run") {
		t.Fatalf("demo after trust: %v", err)
	}
	for _, args := range [][]string{nil, {"begin"}, {"plan", "x"}, {"run"}} {
		if err := run(nil, args, home); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := run(nil, []string{"begin", "nosuch"}, home); err == nil || !strings.Contains(err.Error(), "not declared") {
		t.Errorf("an undeclared suite: %v", err)
	}
	if err := run(nil, []string{"begin", "demo"}, ""); err == nil || !strings.Contains(err.Error(), "MTRACE_HOME") {
		t.Errorf("no home: %v", err)
	}
}
