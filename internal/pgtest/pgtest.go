// Package pgtest starts a real PostgreSQL server for a test and stops it
// when the test ends: initdb into a temporary directory, then postgres
// listening on 127.0.0.1 and a Unix socket in that directory, stopped by
// its recorded PID.
//
// PostgreSQL refuses to run as root. Run as root (as CI does), the
// server runs as the user nobody, which owns the temporary directory; run
// as anyone else, it runs as that user. The binaries are Debian's
// (package postgresql, installed by scripts/deps.sh), under
// /usr/lib/postgresql/<version>/bin, or in $MTRACE_PG_BIN.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	// The driver the readiness check connects with.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultPort is where the server listens unless $MTRACE_TEST_PG_PORT
// says otherwise.
const DefaultPort = 18200

// Server is a running PostgreSQL server.
type Server struct {
	Port int
	// PID is the postgres process's.
	PID int
	dir string
}

// Port is $MTRACE_TEST_PG_PORT, or DefaultPort.
func Port() (int, error) {
	v := os.Getenv("MTRACE_TEST_PG_PORT")
	if v == "" {
		return DefaultPort, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p >= 32768 {
		return 0, fmt.Errorf("MTRACE_TEST_PG_PORT=%q: want a port below 32768", v)
	}
	return p, nil
}

// BinDir finds the PostgreSQL server binaries.
func BinDir() (string, error) {
	if d := os.Getenv("MTRACE_PG_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", fmt.Errorf("no PostgreSQL server: install the Debian package postgresql (scripts/deps.sh does), or set MTRACE_PG_BIN")
	}
	// The newest version: sort by the version number in the path.
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) < pgVersion(found[j]) })
	return filepath.Dir(found[len(found)-1]), nil
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start initialises and starts a server for the test; it is stopped, and
// its files removed, when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	port, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mtrace-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred, err := runAs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "mtrace", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Fatalf("port %d already has a listener: set MTRACE_TEST_PG_PORT to a free port below 32768", port)
	}
	srv := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-p", strconv.Itoa(port), "-h", "127.0.0.1",
		"-F", "-c", "max_connections=20")
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	srv.Dir = dir
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	s := &Server{Port: port, PID: srv.Process.Pid, dir: dir}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { s.stop(t, srv, exited) })
	if err := s.ready(exited, data); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("postgres on 127.0.0.1:%d: %v\n%s", port, err, log)
	}
	return s
}

// runAs makes dir the server's and returns the credential to run it
// with: nobody's for root, nil (the caller's) otherwise.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("postgres cannot run as root, and there is no user nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// ready waits until the server accepts connections.
func (s *Server) ready(exited <-chan error, data string) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var dir string
		err = db.QueryRowContext(ctx, "SELECT current_setting('data_directory')").Scan(&dir)
		cancel()
		if err == nil {
			// A server that answers from another data directory is not
			// the one this test started (it lost the race for the port).
			if dir != data {
				return fmt.Errorf("the server on port %d serves %s, not this test's %s", s.Port, dir, data)
			}
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("the server exited: %v (is port %d taken? set MTRACE_TEST_PG_PORT)", werr, s.Port)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 60 s: %w", err)
		}
	}
}

// stop asks the server for a fast shutdown by its PID, and kills it if it
// has not stopped in 30 s.
func (s *Server) stop(t testing.TB, srv *exec.Cmd, exited <-chan error) {
	if err := syscall.Kill(s.PID, syscall.SIGINT); err != nil {
		t.Logf("stop postgres %d: %v", s.PID, err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Errorf("postgres %d did not stop in 30 s: killing it", s.PID)
		_ = srv.Process.Kill()
		<-exited
	}
}

// URL is the address of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://mtrace@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// CreateDB creates database name and returns its URL.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + quoteIdent(name)); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return s.URL(name)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
