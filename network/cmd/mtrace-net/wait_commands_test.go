package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

// opsServer serves /healthz and /metrics (body) on a loopback port and
// returns the port.
func opsServer(t *testing.T, body string) int {
	srv := testport.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/metrics":
			_, _ = w.Write([]byte(body))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	p, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return p
}

// baseFor is the base port at which node's operations port is port.
func baseFor(t *testing.T, e *env, node string, port int) int {
	top, err := e.topology()
	require.NoError(t, err)
	off, ok := opsPorts(top, 0)[node]
	require.True(t, ok, node)
	return port - off
}

func TestWaitHealthyCommand(t *testing.T) {
	e := network(t)
	port := opsServer(t, "")
	e.base = baseFor(t, e, "ca-maker", port)
	require.NoError(t, os.MkdirAll(filepath.Join(e.home, "pids"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e.home, "pids", "ca-maker.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	_, err := run(t, e, "wait", "healthy", "ca-maker", "--timeout", "2s")
	require.NoError(t, err)

	_, err = run(t, e, "wait", "healthy", "ca-nobody")
	assert.EqualError(t, err, "unknown node ca-nobody")
	_, err = run(t, e, "wait", "healthy")
	assert.Error(t, err, "at least one node")
}

func TestWaitLeaderAndGossip(t *testing.T) {
	e := network(t)
	// orderer1 reports itself leader of circular (and not of another channel).
	port := opsServer(t, "consensus_etcdraft_is_leader{channel=\"other\"} 0\nconsensus_etcdraft_is_leader{channel=\"circular\"} 1\n"+
		"gossip_membership_total_peers_known{channel=\"circular\"} 3\n")
	e.base = baseFor(t, e, "orderer1", port)
	_, err := run(t, e, "wait", "leader", "--timeout", "2s")
	require.NoError(t, err)

	// The peers' operations ports answer nothing here: gossip has not settled.
	require.NoError(t, os.MkdirAll(filepath.Join(e.home, "logs"), 0o755))
	_, err = run(t, e, "wait", "gossip", "--timeout", "300ms")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the peers did not all see each other through gossip within 300ms (still short: ")
	assert.True(t, strings.HasSuffix(err.Error(), "(still short: municipality, recycler, maker, auditor)"), err.Error())

	// With no leader anywhere, leader fails and shows the orderers' logs.
	e2 := network(t)
	e2.base = baseFor(t, e2, "orderer1", opsServer(t, "consensus_etcdraft_is_leader{channel=\"circular\"} 0\n"))
	require.NoError(t, os.MkdirAll(filepath.Join(e2.home, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e2.home, "logs", "orderer1.log"), []byte("raft: no quorum\n"), 0o644))
	out, err := run(t, e2, "wait", "leader", "--timeout", "300ms")
	assert.EqualError(t, err, "no Raft leader for channel circular within 300ms")
	assert.Contains(t, out, "raft: no quorum")
}
