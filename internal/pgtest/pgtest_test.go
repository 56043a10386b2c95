package pgtest

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testPort keeps this package's server off DefaultPort, which the tests of
// client/internal/projection use while go test runs packages in parallel.
const testPort = "18210"

func TestPort(t *testing.T) {
	t.Setenv("MTRACE_TEST_PG_PORT", "")
	if p, err := Port(); err != nil || p != DefaultPort {
		t.Fatalf("Port() with no override = %d, %v; want %d", p, err, DefaultPort)
	}
	t.Setenv("MTRACE_TEST_PG_PORT", "19999")
	if p, err := Port(); err != nil || p != 19999 {
		t.Fatalf("Port() = %d, %v; want 19999", p, err)
	}
	for _, bad := range []string{"x", "0", "-1", "32768", "65000"} {
		t.Setenv("MTRACE_TEST_PG_PORT", bad)
		if p, err := Port(); err == nil || !strings.Contains(err.Error(), "below 32768") {
			t.Errorf("Port() with %q = %d, %v; want an error", bad, p, err)
		}
	}
}

func TestBinDir(t *testing.T) {
	t.Setenv("MTRACE_PG_BIN", "/opt/pg/bin")
	if d, err := BinDir(); err != nil || d != "/opt/pg/bin" {
		t.Fatalf("BinDir() = %q, %v; want the override", d, err)
	}
	t.Setenv("MTRACE_PG_BIN", "")
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	d, err := BinDir()
	if len(found) == 0 {
		if err == nil || !strings.Contains(err.Error(), "no PostgreSQL server") {
			t.Fatalf("BinDir() with no PostgreSQL = %q, %v; want an error", d, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
		t.Fatalf("BinDir() = %q has no postgres: %v", d, err)
	}
	for _, f := range found {
		if pgVersion(f) > pgVersion(filepath.Join(d, "initdb")) {
			t.Errorf("BinDir() = %q, but %s is newer", d, f)
		}
	}
}

func TestPgVersion(t *testing.T) {
	for path, want := range map[string]int{
		"/usr/lib/postgresql/17/bin/initdb": 17,
		"/usr/lib/postgresql/9/bin/initdb":  9,
		"/usr/lib/postgresql/x/bin/initdb":  0,
	} {
		if got := pgVersion(path); got != want {
			t.Errorf("pgVersion(%q) = %d, want %d", path, got, want)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{
		"db":      `"db"`,
		`a"b`:     `"a""b"`,
		`x"; --"`: `"x""; --"""`,
	} {
		if got := quoteIdent(in); got != want {
			t.Errorf("quoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRunAs(t *testing.T) {
	dir := t.TempDir()
	cred, err := runAs(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if os.Geteuid() != 0 {
		if cred != nil {
			t.Fatalf("runAs as uid %d = %+v, want nil (the caller's)", os.Geteuid(), cred)
		}
		return
	}
	if cred == nil || cred.Uid == 0 {
		t.Fatalf("runAs as root = %+v, want nobody's credential", cred)
	}
	if st.Uid != cred.Uid || st.Gid != cred.Gid {
		t.Errorf("dir owned by %d:%d, want %d:%d", st.Uid, st.Gid, cred.Uid, cred.Gid)
	}
}

// fatalTB records the failure of a helper instead of failing the test; its
// Fatal ends the goroutine the helper runs in, as testing.T's does.
type fatalTB struct {
	testing.TB
	mu       sync.Mutex
	msg      string
	failed   bool
	cleanups []func()
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fatalTB) Fatal(args ...any) {
	f.mu.Lock()
	f.failed = true
	f.msg = fmt.Sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// run runs fn with f as its testing.TB, then f's cleanups, last first.
func (f *fatalTB) run(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestStartFailsWithoutBinaries(t *testing.T) {
	t.Setenv("MTRACE_TEST_PG_PORT", testPort)
	t.Setenv("MTRACE_PG_BIN", t.TempDir()) // empty: no initdb
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where Start makes its directory
	f := &fatalTB{TB: t}
	var got *Server
	f.run(func(tb testing.TB) { got = Start(tb) })
	if !f.failed || got != nil {
		t.Fatalf("Start with no binaries returned %+v, failed=%v", got, f.failed)
	}
	if !strings.Contains(f.msg, "initdb") {
		t.Errorf("the failure %q does not name initdb", f.msg)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("Start left %v behind in %s (%v)", left, tmp, err)
	}
}

func TestStartFailsOnABadPort(t *testing.T) {
	t.Setenv("MTRACE_TEST_PG_PORT", "70000")
	f := &fatalTB{TB: t}
	f.run(func(tb testing.TB) { Start(tb) })
	if !f.failed || !strings.Contains(f.msg, "below 32768") {
		t.Fatalf("Start with port 70000: failed=%v, %q", f.failed, f.msg)
	}
}

func TestStartServesAndStops(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MTRACE_TEST_PG_PORT", testPort)
	f := &fatalTB{TB: t}
	var srv *Server
	f.run(func(tb testing.TB) {
		srv = Start(tb)
		url := srv.CreateDB(tb, `we"ird`)
		if !strings.Contains(url, "127.0.0.1:"+testPort+"/") {
			t.Errorf("URL %s is not on 127.0.0.1:%s", url, testPort)
		}
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		var name string
		var sum int
		if err := db.QueryRow("SELECT current_database(), 40 + 2").Scan(&name, &sum); err != nil {
			t.Error(err)
			return
		}
		if name != `we"ird` || sum != 42 {
			t.Errorf("query = %q, %d; want we\"ird, 42", name, sum)
		}
		// A second database of the same name is refused.
		f2 := &fatalTB{TB: t}
		f2.run(func(tb testing.TB) { srv.CreateDB(tb, `we"ird`) })
		if !f2.failed || !strings.Contains(f2.msg, "create database") {
			t.Errorf("creating a database twice: failed=%v, %q", f2.failed, f2.msg)
		}
	})
	if f.failed || srv == nil {
		t.Fatalf("Start: %s", f.msg)
	}
	if srv.PID <= 0 {
		t.Fatalf("PID %d", srv.PID)
	}
	// The cleanups have run: the server is gone and so are its files.
	if err := syscall.Kill(srv.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres %d is still there after the test: %v", srv.PID, err)
	}
	if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
		t.Errorf("the directory %s is still there: %v", srv.dir, err)
	}
	db, err := sql.Open("pgx", srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetConnMaxLifetime(time.Second)
	if err := db.Ping(); err == nil {
		t.Error("the stopped server still answers")
	}
}

// TestStartRefusesATakenPort: with another listener on the port, Start
// fails naming the port instead of testing against a stranger's server.
func TestStartRefusesATakenPort(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+testPort)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("MTRACE_TEST_PG_PORT", testPort)
	f := &fatalTB{TB: t}
	var got *Server
	f.run(func(tb testing.TB) { got = Start(tb) })
	if !f.failed || got != nil || !strings.Contains(f.msg, "already has a listener") {
		t.Fatalf("Start on a taken port: server %+v, failed=%v, %q", got, f.failed, f.msg)
	}
}
