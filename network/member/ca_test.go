package member

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/network/pki"
)

// The test binary doubles as a fake CA server: started with
// MEMBER_FAKE_CA set (as bin/fabric-ca-server, a link to it), it records
// its PID and arguments in MEMBER_FAKE_ARGS and, as fabric-ca-server does
// when it starts, writes its TLS certificate (MEMBER_FAKE_TLSROOT) and
// listens (MEMBER_FAKE_LISTEN); mode "exit" fails at once, "silent"
// never listens.
func init() {
	if mode := os.Getenv("MEMBER_FAKE_CA"); mode != "" {
		os.Exit(fakeCA(mode))
	}
}

func fakeCA(mode string) int {
	rec := append([]string{strconv.Itoa(os.Getpid())}, os.Args[1:]...)
	if err := writeFile(os.Getenv("MEMBER_FAKE_ARGS"), []byte(strings.Join(rec, "\n")), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "fake CA: cannot start")
		return 3
	case "silent":
		time.Sleep(time.Hour)
		return 0
	}
	if err := os.WriteFile(os.Getenv("MEMBER_FAKE_TLSROOT"), []byte("fake TLS root\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l, err := net.Listen("tcp", os.Getenv("MEMBER_FAKE_LISTEN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		_ = c.Close()
	}
}

// caHome is an initialised organisation's folder on 127.0.0.1 whose CA
// port is free, and a bin/fabric-ca-server that is the fake CA in mode;
// args is where the fake records its PID and arguments.
func caHome(t *testing.T, mode string) (h *Home, bin, args string) {
	t.Helper()
	dir := t.TempDir()
	h, err := Init(dir, Settings{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: "Kaunas", Host: "127.0.0.1",
		Ports: Ports{CA: freePort(t)}})
	require.NoError(t, err)
	bin = filepath.Join(dir, "bin", "fabric-ca-server")
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	exe, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.Symlink(exe, bin))
	args = filepath.Join(t.TempDir(), "args")
	t.Setenv("MEMBER_FAKE_CA", mode)
	t.Setenv("MEMBER_FAKE_LISTEN", local(h.Ports.CA))
	t.Setenv("MEMBER_FAKE_TLSROOT", pki.TLSRoot(dir, h.CA()))
	t.Setenv("MEMBER_FAKE_ARGS", args)
	return h, bin, args
}

// fakeRun is the PID and arguments the fake recorded.
func fakeRun(t *testing.T, file string) (pidRecord, []string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	f := strings.Split(string(raw), "\n")
	pid, err := strconv.Atoi(f[0])
	require.NoError(t, err)
	return pidRecord{pid: pid}, f[1:]
}

// once makes a stop function safe to call again (StartCA's waits for the
// process it ended, which a second call would wait for forever).
func once(stop func() error) func() error {
	var o sync.Once
	var err error
	return func() error { o.Do(func() { err = stop() }); return err }
}

// StartCA starts the CA server on the organisation's server folder,
// records its PID, returns once it listens, and its stop ends that
// process and removes the PID file.
func TestStartCAWaitsUntilItListensAndStopEndsIt(t *testing.T) {
	h, bin, args := caHome(t, "up")
	dir := pki.ServerDir(h.Dir, h.CA())
	stop, err := h.StartCA(context.Background(), bin)
	require.NoError(t, err)
	stop = once(stop)
	t.Cleanup(func() { _ = stop() })

	r, argv := fakeRun(t, args)
	assert.Equal(t, []string{"start", "-H", dir}, argv)
	raw, err := os.ReadFile(filepath.Join(dir, "server.pid"))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(r.pid)+"\n", string(raw), "the PID file names the server")
	c, err := net.DialTimeout("tcp", local(h.Ports.CA), time.Second)
	require.NoError(t, err, "it listens")
	require.NoError(t, c.Close())
	assert.True(t, procEnv(r.pid, "MEMBER_FAKE_CA=up"), "the PID is the server's")

	require.NoError(t, stop())
	assert.True(t, ends(r), "stop ends the server")
	assert.NoFileExists(t, filepath.Join(dir, "server.pid"))
}

func TestStartCAFailures(t *testing.T) {
	t.Run("the server stops at once", func(t *testing.T) {
		h, bin, _ := caHome(t, "exit")
		dir := pki.ServerDir(h.Dir, h.CA())
		_, err := h.StartCA(context.Background(), bin)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the CA server stopped at once (exit status 3); see "+filepath.Join(dir, "server.log"))
		log, err := os.ReadFile(filepath.Join(dir, "server.log"))
		require.NoError(t, err)
		assert.Contains(t, string(log), "fake CA: cannot start", "its output is in server.log")
		assert.NoFileExists(t, filepath.Join(dir, "server.pid"))
	})
	t.Run("cancelled before it listens", func(t *testing.T) {
		h, bin, args := caHome(t, "silent")
		dir := pki.ServerDir(h.Dir, h.CA())
		// Cancelled once the server runs (it has recorded its PID).
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for !exists(args) && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
		_, err := h.StartCA(ctx, bin)
		assert.ErrorIs(t, err, context.Canceled)
		r, _ := fakeRun(t, args)
		assert.True(t, ends(r), "the server that did not come up is stopped")
		assert.NoFileExists(t, filepath.Join(dir, "server.pid"))
	})
	t.Run("no binary", func(t *testing.T) {
		h, _, _ := caHome(t, "up")
		missing := filepath.Join(t.TempDir(), "fabric-ca-server")
		_, err := h.StartCA(context.Background(), missing)
		assert.ErrorContains(t, err, "start "+missing)
	})
	t.Run("a folder not initialised", func(t *testing.T) {
		h, bin, _ := caHome(t, "up")
		require.NoError(t, os.RemoveAll(pki.ServerDir(h.Dir, h.CA())))
		_, err := h.StartCA(context.Background(), bin)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}
