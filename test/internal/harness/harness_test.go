package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// suiteRun stands for a suite's tests: it records that they ran and
// exits with code.
type suiteRun struct {
	code int
	ran  bool
}

func (m *suiteRun) Run() int { m.ran = true; return m.code }

// networkEnv sets the environment scripts/test.sh gives a suite, with a
// config file of no profiles, and returns its home.
func networkEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, []byte("profiles: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MTRACE_HOME", home)
	t.Setenv("MTRACE_CONFIG", cfg)
	t.Setenv("MTRACE_BIN", filepath.Join(home, "bin"))
	return home
}

// noUp fails the test if run brings a network up.
func noUp(t *testing.T) func(Suite) (func(), error) {
	return func(s Suite) (func(), error) {
		t.Errorf("suite %s: a network was brought up", s.Name)
		return nil, errors.New("no network in this test")
	}
}

func TestRunOnTheScriptsNetwork(t *testing.T) {
	home := networkEnv(t)
	m := &suiteRun{code: 3}
	var env *testnet.Env
	var log strings.Builder
	if got := run(m, "trust", &env, &log, noUp(t)); got != 3 {
		t.Fatalf("exit %d, want the tests' 3 (%s)", got, log.String())
	}
	if !m.ran || env == nil || env.Home != home {
		t.Fatalf("ran %v, env %+v", m.ran, env)
	}
	marks, err := ReadMarks(home)
	if err != nil || marks[Forged] != "trust" {
		t.Fatalf("the suite's mark is not recorded: %v, %v", marks, err)
	}
	if log.Len() != 0 {
		t.Errorf("said %q", log.String())
	}
}

func TestRunRefuses(t *testing.T) {
	t.Run("an undeclared suite", func(t *testing.T) {
		networkEnv(t)
		m := &suiteRun{}
		var env *testnet.Env
		var log strings.Builder
		if got := run(m, "nope", &env, &log, noUp(t)); got != 2 || m.ran {
			t.Fatalf("exit %d, ran %v", got, m.ran)
		}
		if !strings.Contains(log.String(), `suite "nope" is not declared`) {
			t.Errorf("said %q", log.String())
		}
	})
	t.Run("a network with a mark the suite avoids", func(t *testing.T) {
		home := networkEnv(t)
		if err := os.WriteFile(filepath.Join(home, marksFile), []byte("forged-record trust\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m := &suiteRun{}
		var env *testnet.Env
		var log strings.Builder
		if got := run(m, "faults", &env, &log, noUp(t)); got != 2 || m.ran || env != nil {
			t.Fatalf("exit %d, ran %v, env %v", got, m.ran, env)
		}
		if !strings.Contains(log.String(), "suite faults cannot run on the network in "+home+": suite trust left a forged-record on it") {
			t.Errorf("said %q", log.String())
		}
	})
	t.Run("an environment without the binaries", func(t *testing.T) {
		networkEnv(t)
		t.Setenv("MTRACE_BIN", "")
		m := &suiteRun{}
		var env *testnet.Env
		var log strings.Builder
		if got := run(m, "e2e", &env, &log, noUp(t)); got != 2 || m.ran {
			t.Fatalf("exit %d, ran %v", got, m.ran)
		}
		if !strings.Contains(log.String(), "harness: e2e: MTRACE_CONFIG, MTRACE_HOME and MTRACE_BIN must be set") {
			t.Errorf("said %q", log.String())
		}
	})
}

// A suite that brings its own network runs without the shared one's
// environment, and brings nothing up.
func TestRunASuiteWithItsOwnNetwork(t *testing.T) {
	t.Setenv("MTRACE_HOME", "")
	t.Setenv("MTRACE_CONFIG", "")
	m := &suiteRun{code: 4}
	var log strings.Builder
	if got := run(m, "consortium", nil, &log, noUp(t)); got != 4 || !m.ran {
		t.Fatalf("exit %d, ran %v (%s)", got, m.ran, log.String())
	}

	var env *testnet.Env
	m = &suiteRun{}
	log.Reset()
	if got := run(m, "consortium", &env, &log, noUp(t)); got != 2 || m.ran {
		t.Fatalf("with an env: exit %d, ran %v", got, m.ran)
	}
	if !strings.Contains(log.String(), `suite consortium brings its own network: call harness.Main(m, "consortium", nil)`) {
		t.Errorf("said %q", log.String())
	}

	networkEnv(t)
	m = &suiteRun{}
	log.Reset()
	if got := run(m, "trust", nil, &log, noUp(t)); got != 2 || m.ran {
		t.Fatalf("a shared-network suite without an env: exit %d, ran %v", got, m.ran)
	}
	if !strings.Contains(log.String(), "suite trust runs on the shared network") {
		t.Errorf("said %q", log.String())
	}
}

func TestRunAloneBringsANetworkUpAndDown(t *testing.T) {
	t.Setenv("MTRACE_HOME", "")
	t.Setenv("MTRACE_CONFIG", "")
	t.Setenv("MTRACE_BIN", "")
	var order []string
	m := &suiteRun{code: 1}
	var env *testnet.Env
	var log strings.Builder
	up := func(s Suite) (func(), error) {
		order = append(order, "up "+s.Name)
		networkEnv(t) // what bringUp sets
		return func() { order = append(order, "down") }, nil
	}
	got := run(runOrder{m, &order}, "proof", &env, &log, up)
	if got != 1 {
		t.Fatalf("exit %d, want the tests' 1 (%s)", got, log.String())
	}
	if strings.Join(order, ", ") != "up proof, tests, down" {
		t.Fatalf("order: %v", order)
	}

	// A network that does not come up: no tests, nothing to stop.
	order = nil
	t.Setenv("MTRACE_HOME", "")
	t.Setenv("MTRACE_CONFIG", "")
	m = &suiteRun{}
	log.Reset()
	got = run(m, "proof", &env, &log, func(Suite) (func(), error) { return nil, errors.New("network.sh up: exit status 1") })
	if got != 2 || m.ran {
		t.Fatalf("exit %d, ran %v", got, m.ran)
	}
	if !strings.Contains(log.String(), "harness: proof: network.sh up: exit status 1") {
		t.Errorf("said %q", log.String())
	}
}

// runOrder records when the tests run.
type runOrder struct {
	m     *suiteRun
	order *[]string
}

func (r runOrder) Run() int { *r.order = append(*r.order, "tests"); return r.m.Run() }

// commands records the programs bringUp runs, and fails the one named.
type commands struct {
	ran  []string
	fail string
}

func (c *commands) run(dir string, args ...string) error {
	c.ran = append(c.ran, strings.Join(args, " "))
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return errors.New("not run in the repository's root")
	}
	if c.fail != "" && strings.Join(args, " ") == c.fail {
		return errors.New("exit status 2")
	}
	return nil
}

func TestBringUp(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"MTRACE_HOME", "MTRACE_BASE_PORT", "MTRACE_CONFIG", "MTRACE_BIN", "MTRACE_TEST_BASE_PORT"} {
		t.Setenv(k, "")
	}
	// Suites that avoid nothing: the marks of the network in the
	// repository's .mtrace-test, if any, do not matter.
	for _, c := range []struct {
		suite Suite
		port  string
		fail  string
		want  []string
		err   string
	}{
		{Suite{Name: "shared"}, "", "", []string{"make --no-print-directory build", "scripts/network.sh up", "scripts/network.sh down"}, ""},
		{Suite{Name: "fresh", Fresh: true}, "29000", "", []string{"make --no-print-directory build", "scripts/network.sh down --purge", "scripts/network.sh up", "scripts/network.sh down"}, ""},
		{Suite{Name: "unbuilt"}, "", "make --no-print-directory build", []string{"make --no-print-directory build"}, "make build: exit status 2"},
		{Suite{Name: "unpurged", Fresh: true}, "", "scripts/network.sh down --purge", []string{"make --no-print-directory build", "scripts/network.sh down --purge"}, "network.sh down --purge: exit status 2"},
		{Suite{Name: "down", Fresh: true}, "", "scripts/network.sh up", []string{"make --no-print-directory build", "scripts/network.sh down --purge", "scripts/network.sh up"}, "network.sh up: exit status 2"},
	} {
		t.Run(c.suite.Name, func(t *testing.T) {
			t.Setenv("MTRACE_TEST_BASE_PORT", c.port)
			cmds := &commands{fail: c.fail}
			var log strings.Builder
			stop, err := bringUp(c.suite, &log, cmds.run)
			if c.err != "" {
				if err == nil || err.Error() != c.err || stop != nil {
					t.Fatalf("got %v, want %q", err, c.err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				stop()
			}
			if strings.Join(cmds.ran, "; ") != strings.Join(c.want, "; ") {
				t.Errorf("ran %q, want %q", cmds.ran, c.want)
			}
			home := filepath.Join(root, ".mtrace-test")
			port := c.port
			if port == "" {
				port = DefaultBasePort
			}
			for k, v := range map[string]string{"MTRACE_HOME": home, "MTRACE_BASE_PORT": port,
				"MTRACE_CONFIG": filepath.Join(home, "config.yaml"), "MTRACE_BIN": filepath.Join(root, "bin")} {
				if got := os.Getenv(k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestFreshFor(t *testing.T) {
	home := t.TempDir()
	var log strings.Builder
	for _, s := range []Suite{{Name: "faults", Avoids: Audits}, {Name: "addorg"}} {
		if fresh, err := freshFor(home, s, &log); err != nil || fresh {
			t.Errorf("%s on a new network: fresh %v, %v", s.Name, fresh, err)
		}
	}
	if fresh, err := freshFor(home, Suite{Name: "x", Fresh: true}, &log); err != nil || !fresh {
		t.Errorf("a Fresh suite: fresh %v, %v", fresh, err)
	}
	if log.Len() != 0 {
		t.Errorf("said %q", log.String())
	}
	if err := os.WriteFile(filepath.Join(home, marksFile), []byte("forged-record trust\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fresh, err := freshFor(home, Suite{Name: "faults", Avoids: Audits}, &log); err != nil || !fresh {
		t.Errorf("an auditor after a forger: fresh %v, %v", fresh, err)
	}
	if want := "harness: suite trust left a forged-record on " + home + ", which faults avoids: a fresh network\n"; log.String() != want {
		t.Errorf("said %q, want %q", log.String(), want)
	}
	if fresh, err := freshFor(home, Suite{Name: "identity", Avoids: Founders}, &log); err != nil || fresh {
		t.Errorf("a suite that tolerates forgery: fresh %v, %v", fresh, err)
	}
	if err := os.WriteFile(filepath.Join(home, marksFile), []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := freshFor(home, Suite{Name: "faults", Avoids: Audits}, &log); err == nil {
		t.Error("a malformed marks file is accepted")
	}
}

func TestSuiteTargetAndLimit(t *testing.T) {
	s := Suite{Name: "trust"}
	if s.Target() != "./test/trust/..." || s.Limit() != DefaultTimeout {
		t.Errorf("go suite: %s, %s", s.Target(), s.Limit())
	}
	s = Suite{Name: "demo", Script: "scripts/demo.sh", Timeout: 5 * time.Minute}
	if s.Target() != "scripts/demo.sh" || s.Limit() != 5*time.Minute {
		t.Errorf("script suite: %s, %s", s.Target(), s.Limit())
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("an undeclared suite is found")
	}
	if s, ok := Lookup("demo"); !ok || s.Target() != "./test/demo/..." {
		t.Errorf("demo: %+v, %v", s, ok)
	}
}
