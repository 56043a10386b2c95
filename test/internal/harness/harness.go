package harness

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// DefaultBasePort is the test network's first port when
// MTRACE_TEST_BASE_PORT is unset, as in scripts/test.sh.
const DefaultBasePort = "28000"

// Main is a suite's TestMain: it runs the declared suite name against a
// live network, with *env set to it, and exits with the tests' status.
//
// Under scripts/test.sh (MTRACE_HOME and MTRACE_CONFIG set) it uses the
// network the script brought up. Run alone (`go test -tags e2e
// ./test/trust/...`) it builds the binaries, brings a test network up in
// .mtrace-test on MTRACE_TEST_BASE_PORT (default 28000), a fresh one when
// the suite is Fresh or the network carries a mark the suite avoids, and
// stops it by PID at the end, keeping its ledgers.
func Main(m *testing.M, name string, env **testnet.Env) {
	os.Exit(run(m, name, env, os.Stderr, func(s Suite) (func(), error) { return bringUp(s, os.Stderr, command) }))
}

// run is Main without the exit: up brings a network up for a suite run
// alone and returns the function that stops it; messages go to log.
func run(m interface{ Run() int }, name string, env **testnet.Env, log io.Writer, up func(Suite) (func(), error)) int {
	s, ok := Lookup(name)
	if !ok {
		fmt.Fprintf(log, "harness: suite %q is not declared in test/internal/harness/suites.go\n", name)
		return 2
	}
	if s.Own {
		// The suite brings its own network; it has no use for the shared
		// one's environment.
		if env != nil {
			fmt.Fprintf(log, "harness: suite %s brings its own network: call harness.Main(m, %q, nil)\n", name, name)
			return 2
		}
		return m.Run()
	}
	if env == nil {
		fmt.Fprintf(log, "harness: suite %s runs on the shared network: pass harness.Main the suite's *testnet.Env\n", name)
		return 2
	}
	var stop func()
	if os.Getenv("MTRACE_HOME") == "" && os.Getenv("MTRACE_CONFIG") == "" {
		var err error
		if stop, err = up(s); err != nil {
			fmt.Fprintf(log, "harness: %s: %v\n", name, err)
			return 2
		}
	}
	code := func() int {
		e, err := testnet.Load()
		if err != nil {
			fmt.Fprintf(log, "harness: %s: %v\n", name, err)
			return 2
		}
		if err := Begin(e.Home, s); err != nil {
			fmt.Fprintf(log, "harness: %v\n", err)
			return 2
		}
		*env = e
		return m.Run()
	}()
	if stop != nil {
		stop()
	}
	return code
}

// command runs a program in dir, its output on stderr.
func command(dir string, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// bringUp starts the test network for a suite run alone and returns the
// function that stops it; runIn runs each program (make, network.sh) in
// the repository's root, and messages go to log.
func bringUp(s Suite, log io.Writer, runIn func(dir string, args ...string) error) (func(), error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(root, ".mtrace-test")
	port := os.Getenv("MTRACE_TEST_BASE_PORT")
	if port == "" {
		port = DefaultBasePort
	}
	for k, v := range map[string]string{
		"MTRACE_HOME": home, "MTRACE_BASE_PORT": port,
		"MTRACE_CONFIG": filepath.Join(home, "config.yaml"), "MTRACE_BIN": filepath.Join(root, "bin"),
	} {
		os.Setenv(k, v)
	}
	fresh, err := freshFor(home, s, log)
	if err != nil {
		return nil, err
	}
	sh := func(args ...string) error { return runIn(root, args...) }
	if err := sh("make", "--no-print-directory", "build"); err != nil {
		return nil, fmt.Errorf("make build: %w", err)
	}
	if fresh {
		if err := sh("scripts/network.sh", "down", "--purge"); err != nil {
			return nil, fmt.Errorf("network.sh down --purge: %w", err)
		}
	}
	fmt.Fprintf(log, "harness: test network in %s (ports from %s) for suite %s\n", home, port, s.Name)
	if err := sh("scripts/network.sh", "up"); err != nil {
		return nil, fmt.Errorf("network.sh up: %w", err)
	}
	return func() {
		if err := sh("scripts/network.sh", "down"); err != nil {
			fmt.Fprintf(log, "harness: network.sh down: %v\n", err)
		}
	}, nil
}

// freshFor says whether suite s, run alone, needs a fresh network rather
// than the one in home: it asks for one, or that network carries a mark
// s avoids (said on log).
func freshFor(home string, s Suite, log io.Writer) (bool, error) {
	fresh := s.Fresh
	left, err := ReadMarks(home)
	if err != nil {
		return false, err
	}
	for _, m := range s.Avoids {
		if by, ok := left[m]; ok {
			fmt.Fprintf(log, "harness: suite %s left a %s on %s, which %s avoids: a fresh network\n", by, m, home, s.Name)
			fresh = true
		}
	}
	return fresh, nil
}

// Root is the repository: the nearest folder above the working directory
// that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}
