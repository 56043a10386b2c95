package harness

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDeclaredOrderKeepsEveryNeed(t *testing.T) {
	if err := Check(Suites); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusesABadOrder(t *testing.T) {
	forger := Suite{Name: "trust", About: "x", Leaves: []Mark{Forged}, Avoids: Founders}
	auditor := Suite{Name: "faults", About: "x", Avoids: Audits}
	grower := Suite{Name: "addorg", About: "x", Leaves: []Mark{Grown}}
	for _, c := range []struct {
		name   string
		suites []Suite
		want   string // "" for no error
	}{
		{"audit before forgery", []Suite{auditor, forger}, ""},
		{"audit after forgery", []Suite{forger, auditor}, "suite faults runs after trust, which leaves forged-record"},
		{"founders after growth", []Suite{grower, forger}, "suite trust runs after addorg, which leaves grown-consortium"},
		{"fresh between", []Suite{forger, {Name: "liveness", About: "x", Fresh: true}, auditor}, ""},
		{"fresh itself", []Suite{forger, {Name: "faults", About: "x", Fresh: true, Avoids: Audits}}, ""},
		{"a suite before the fresh one still counts", []Suite{forger, {Name: "x", About: "x"}, auditor}, "suite faults runs after trust"},
		{"twice", []Suite{auditor, auditor}, "suite faults: declared twice"},
		{"unknown mark", []Suite{{Name: "a", About: "x", Leaves: []Mark{"mud"}}}, `unknown mark "mud"`},
		{"no name", []Suite{{About: "x"}}, "must be a folder name"},
		{"no about", []Suite{{Name: "a"}}, "About is empty"},
		{"its own network between", []Suite{forger, {Name: "consortium", About: "x", Own: true}, auditor}, "suite faults runs after trust"},
		{"its own network after a forgery", []Suite{forger, {Name: "consortium", About: "x", Own: true}}, ""},
		{"its own network with marks", []Suite{{Name: "consortium", About: "x", Own: true, Avoids: Audits}}, "suite consortium brings its own network: Fresh, Leaves and Avoids concern the shared one"},
		{"its own network, fresh", []Suite{{Name: "consortium", About: "x", Own: true, Fresh: true}}, "brings its own network"},
		{"its own network as a script", []Suite{{Name: "c", About: "x", Own: true, Script: "x.sh"}}, "a script suite cannot bring its own network"},
	} {
		err := Check(c.suites)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestEverySuiteDeclared: every folder under test/ that holds end-to-end
// tests (build tag e2e) is a declared suite whose TestMain is
// harness.Main with its own name, and every declared suite exists.
func TestEverySuiteDeclared(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(filepath.Join(root, "test"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "internal" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, "test", d.Name(), "*_test.go"))
		e2e, main := false, false
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src := string(raw)
			e2e = e2e || strings.HasPrefix(src, "//go:build e2e")
			main = main || strings.Contains(src, `harness.Main(m, "`+d.Name()+`", `)
		}
		if !e2e {
			continue
		}
		found = append(found, d.Name())
		s, ok := Lookup(d.Name())
		switch {
		case !ok:
			t.Errorf("test/%s holds end-to-end tests but is not declared in Suites (suites.go)", d.Name())
		case s.Script != "":
			t.Errorf("test/%s holds end-to-end tests but its suite is declared as a script", d.Name())
		case !main:
			t.Errorf(`test/%s: no TestMain calls harness.Main(m, %q, &env)`, d.Name(), d.Name())
		}
	}
	for _, s := range Suites {
		if s.Script != "" {
			if fi, err := os.Stat(filepath.Join(root, s.Script)); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("suite %s: script %s is not an executable file (%v)", s.Name, s.Script, err)
			}
			continue
		}
		if !slices.Contains(found, s.Name) {
			t.Errorf("suite %s is declared but test/%s holds no end-to-end tests", s.Name, s.Name)
		}
	}
}

func TestBegin(t *testing.T) {
	home := t.TempDir()
	forger := Suite{Name: "trust", Leaves: []Mark{Forged}}
	auditor := Suite{Name: "faults", Avoids: Audits}
	if err := Begin(home, auditor); err != nil {
		t.Fatalf("a new network: %v", err)
	}
	if err := Begin(home, forger); err != nil {
		t.Fatal(err)
	}
	if err := Begin(home, forger); err != nil {
		t.Fatalf("a forger after a forger: %v", err)
	}
	err := Begin(home, auditor)
	if err == nil || !strings.Contains(err.Error(), "suite trust left a forged-record on it, which faults avoids") {
		t.Fatalf("an auditor after a forger: %v", err)
	}
	m, err := ReadMarks(home)
	if err != nil || len(m) != 1 || m[Forged] != "trust" {
		t.Fatalf("marks %v, %v", m, err)
	}
	if err := os.WriteFile(filepath.Join(home, marksFile), []byte("mud trust\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMarks(home); err == nil || !strings.Contains(err.Error(), "malformed line") {
		t.Fatalf("a malformed marks file: %v", err)
	}
}
