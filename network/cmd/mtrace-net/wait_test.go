package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

func TestSampleReadsOneMetric(t *testing.T) {
	body := []byte("# HELP x\nconsensus_etcdraft_is_leader{channel=\"other\"} 1\n" +
		"consensus_etcdraft_is_leader{channel=\"circular\"} 0\ngossip_membership_total_peers_known{channel=\"circular\"} 3\n")
	assert.Equal(t, 0.0, sample(body, `consensus_etcdraft_is_leader{channel="circular"}`))
	assert.Equal(t, 3.0, sample(body, `gossip_membership_total_peers_known{channel="circular"}`))
	assert.Equal(t, -1.0, sample(body, `consensus_etcdraft_is_leader{channel="none"}`))
}

func TestAlive(t *testing.T) {
	assert.True(t, alive(strconv.Itoa(os.Getpid())))
	assert.False(t, alive("0"))
	assert.False(t, alive("999999999"))
}

// healthz serves /healthz with status code, and returns its port.
func healthz(t *testing.T, code *int) int {
	srv := testport.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(*code)
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return p
}

func TestWaitHealthy(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, "pids"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(home, "logs"), 0o755))
	e := &env{home: home}
	ctx := context.Background()
	var stderr bytes.Buffer

	err := e.waitHealthy(ctx, "maker", 1, time.Second, &stderr)
	assert.ErrorContains(t, err, "maker has no PID file")

	code := http.StatusServiceUnavailable
	port := healthz(t, &code)
	require.NoError(t, os.WriteFile(filepath.Join(home, "pids", "maker.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(home, "logs", "maker.log"), []byte("line 1\nstill starting\n"), 0o644))
	err = e.waitHealthy(ctx, "maker", port, 300*time.Millisecond, &stderr)
	assert.ErrorContains(t, err, "maker did not become healthy within 300ms")
	assert.Contains(t, stderr.String(), "still starting")

	code = http.StatusOK
	require.NoError(t, e.waitHealthy(ctx, "maker", port, time.Second, &stderr))

	stderr.Reset()
	require.NoError(t, os.WriteFile(filepath.Join(home, "pids", "maker.pid"), []byte("999999999\n"), 0o644))
	err = e.waitHealthy(ctx, "maker", port, time.Second, &stderr)
	assert.ErrorContains(t, err, "maker exited while starting")
	assert.Contains(t, stderr.String(), "--- last 20 lines of")
}
