package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

// opsServer serves /healthz and /metrics (body) on a loopback port and
// returns the port.
func opsServer(t *testing.T, body string) int {
	return opsServerFunc(t, func() string { return body })
}

// opsServerFunc is opsServer with the metrics body read at every request.
func opsServerFunc(t *testing.T, body func() string) int {
	srv := testport.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/metrics":
			_, _ = w.Write([]byte(body()))
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

// freePort is a loopback port of the test range that nothing listens on.
func freePort(t *testing.T) int {
	lis := testport.Listen(t)
	port := lis.Addr().(*net.TCPAddr).Port
	require.NoError(t, lis.Close())
	return port
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
	// A consortium of one: its orderer reports itself leader of circular
	// (and not of another channel), which is a quorum of one.
	one := filepath.Join(t.TempDir(), "one.yaml")
	raw, err := os.ReadFile(e.topoPath)
	require.NoError(t, err)
	i := strings.Index(string(raw), "  - node: recycler")
	require.Positive(t, i)
	require.NoError(t, os.WriteFile(one, raw[:i], 0o644))
	e1 := &env{home: e.home, topoPath: one}
	port := opsServer(t, "consensus_BFT_leader_id{channel=\"other\"} 2\nconsensus_BFT_is_leader{channel=\"other\"} 0\n"+
		"consensus_BFT_leader_id{channel=\"circular\"} 1\nconsensus_BFT_is_leader{channel=\"circular\"} 1\n")
	e1.base = baseFor(t, e1, "municipality-orderer", port)
	_, err = run(t, e1, "-t", one, "wait", "leader", "--timeout", "2s")
	require.NoError(t, err)
	out, err := run(t, e1, "-t", one, "leader")
	require.NoError(t, err)
	assert.Equal(t, "municipality-orderer\n", out)

	// The peers' operations ports answer nothing here: gossip has not settled.
	require.NoError(t, os.MkdirAll(filepath.Join(e.home, "logs"), 0o755))
	_, err = run(t, e, "wait", "gossip", "--timeout", "300ms")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the peers did not all see each other through gossip within 300ms (still short: ")
	assert.True(t, strings.HasSuffix(err.Error(), "(still short: municipality, recycler, maker, auditor)"), err.Error())

	// Of four orderers only one answers, and it names a leader: no quorum;
	// leader fails, says what it saw and shows the orderers' logs.
	e2 := network(t)
	e2.base = baseFor(t, e2, "municipality-orderer", opsServer(t,
		"consensus_BFT_leader_id{channel=\"circular\"} 1\nconsensus_BFT_is_leader{channel=\"circular\"} 1\n"))
	require.NoError(t, os.MkdirAll(filepath.Join(e2.home, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e2.home, "logs", "recycler-orderer.log"), []byte("smartbft: view change\n"), 0o644))
	_, err = run(t, e2, "leader")
	assert.ErrorContains(t, err, "no orderer leads channel circular with a quorum agreeing")
	out, err = run(t, e2, "wait", "leader", "--timeout", "300ms")
	assert.EqualError(t, err, "no BFT leader for channel circular within 300ms (municipality-orderer leader 1 (itself), "+
		"recycler-orderer no leader, maker-orderer no leader, auditor-orderer no leader)")
	assert.Contains(t, out, "smartbft: view change")
}

func TestLeaderAgreed(t *testing.T) {
	v := func(node string, leader float64, self bool) leaderView { return leaderView{node, leader, self} }
	cases := []struct {
		name string
		vs   []leaderView
		want bool
	}{
		{"three of four agree, the leader among them", []leaderView{v("a", 2, false), v("b", 2, true), v("c", 2, false), v("d", -1, false)}, true},
		{"all four agree", []leaderView{v("a", 1, true), v("b", 1, false), v("c", 1, false), v("d", 1, false)}, true},
		{"two of four agree", []leaderView{v("a", 2, false), v("b", 2, true), v("c", 3, false), v("d", -1, false)}, false},
		{"three agree on a leader that does not answer", []leaderView{v("a", 4, false), v("b", 4, false), v("c", 4, false), v("d", -1, false)}, false},
		{"a leader of its own only", []leaderView{v("a", 1, true), v("b", 2, false), v("c", 3, false), v("d", 4, false)}, false},
		{"nobody answers", []leaderView{v("a", -1, false), v("b", -1, false), v("c", -1, false), v("d", -1, false)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := leaderAgreed(c.vs, 3)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestOrderersCommand(t *testing.T) {
	e := network(t)
	e.base = baseFor(t, e, "recycler-orderer", opsServer(t,
		"consensus_BFT_leader_id{channel=\"circular\"} 2\nconsensus_BFT_is_leader{channel=\"circular\"} 1\n"+
			"consensus_BFT_cluster_size{channel=\"circular\"} 4\nconsensus_BFT_committed_block_number{channel=\"circular\"} 41\n"))
	out, err := run(t, e, "orderers")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.Regexp(t, `^municipality-orderer +no answer on 127\.0\.0\.1:\d+$`, lines[0])
	assert.Regexp(t, `^recycler-orderer +leader +leader 2, cluster of 4, last decided block 41$`, lines[1])
}

// raftNetwork is network(t) created with consensus raft, as
// `init --consensus raft` writes it.
func raftNetwork(t *testing.T) *env {
	e := network(t)
	_, err := run(t, e, "init", "--from", consortiumFile, "--consensus", "raft")
	require.NoError(t, err)
	return e
}

func TestInitConsensus(t *testing.T) {
	e := network(t)
	out, err := run(t, e, "consensus")
	require.NoError(t, err)
	assert.Equal(t, "bft\n", out, "a file that names none is BFT")

	e = raftNetwork(t)
	out, err = run(t, e, "consensus")
	require.NoError(t, err)
	assert.Equal(t, "raft\n", out, "recorded in the network's own copy")
	raw, err := os.ReadFile(e.topoPath)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "\nconsensus: raft\n")
	out, err = run(t, e, "validate")
	require.NoError(t, err)
	assert.Contains(t, out, "(4 Raft consenters, tolerating 1 crashed)")

	_, err = run(t, network(t), "init", "--from", consortiumFile, "--consensus", "pbft")
	assert.EqualError(t, err, `--consensus: consensus: must be bft or raft, got "pbft"`)
}

func TestRaftLeader(t *testing.T) {
	// A consortium of one under Raft: its orderer leads circular (and
	// follows in another channel), and it is a majority of one.
	e := raftNetwork(t)
	one := filepath.Join(t.TempDir(), "one.yaml")
	raw, err := os.ReadFile(e.topoPath)
	require.NoError(t, err)
	i := strings.Index(string(raw), "  - node: recycler")
	require.Positive(t, i)
	require.NoError(t, os.WriteFile(one, append(raw[:i:i], "consensus: raft\n"...), 0o644))
	e1 := &env{home: e.home, topoPath: one}
	port := opsServer(t, "consensus_etcdraft_is_leader{channel=\"other\"} 0\nconsensus_etcdraft_is_leader{channel=\"circular\"} 1\n"+
		"consensus_etcdraft_cluster_size{channel=\"circular\"} 1\nconsensus_etcdraft_committed_block_number{channel=\"circular\"} 7\n")
	e1.base = baseFor(t, e1, "municipality-orderer", port)
	_, err = run(t, e1, "-t", one, "wait", "leader", "--timeout", "2s")
	require.NoError(t, err)
	out, err := run(t, e1, "-t", one, "leader")
	require.NoError(t, err)
	assert.Equal(t, "municipality-orderer\n", out)
	out, err = run(t, e1, "-t", one, "orderers")
	require.NoError(t, err)
	assert.Regexp(t, `^municipality-orderer +leader +cluster of 1, last committed block 7\n$`, out)

	// Of four Raft orderers only the one that leads answers: not a
	// majority, so no leader; the BFT metrics do not count under Raft.
	e2 := raftNetwork(t)
	e2.base = baseFor(t, e2, "municipality-orderer", opsServer(t,
		"consensus_etcdraft_is_leader{channel=\"circular\"} 1\nconsensus_BFT_leader_id{channel=\"circular\"} 1\n"))
	_, err = run(t, e2, "leader")
	assert.EqualError(t, err, "no orderer leads channel circular's Raft with a majority answering (municipality-orderer leader, "+
		"recycler-orderer no answer, maker-orderer no answer, auditor-orderer no answer)")
	_, err = run(t, e2, "wait", "leader", "--timeout", "300ms")
	assert.ErrorContains(t, err, "no Raft leader for channel circular within 300ms")

	// A BFT network ignores Raft's metrics.
	e3 := network(t)
	e3.base = baseFor(t, e3, "municipality-orderer", opsServer(t, "consensus_etcdraft_is_leader{channel=\"circular\"} 1\n"))
	_, err = run(t, e3, "leader")
	assert.ErrorContains(t, err, "municipality-orderer no leader")
}

// opsServers serves /metrics for two nodes of e's topology on their
// operations ports, at a base port it chooses for e, each body read at
// every request.
func opsServers(t *testing.T, e *env, a, b string, bodyA, bodyB func() string) {
	top, err := e.topology()
	require.NoError(t, err)
	ops := opsPorts(top, 0)
	serve := func(lis net.Listener, body func() string) {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(body()))
		})}
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	for range 100 {
		la := testport.Listen(t)
		base := la.Addr().(*net.TCPAddr).Port - ops[a]
		pb := base + ops[b]
		if pb < testport.Low || pb > testport.High {
			continue
		}
		lb, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", pb))
		if err != nil {
			continue
		}
		e.base = base
		serve(la, bodyA)
		serve(lb, bodyB)
		return
	}
	t.Fatal("no two free ports at the topology's distance")
}

func TestWaitLevel(t *testing.T) {
	// The municipality's peer (the first member's) is at height 12; the
	// maker's has not joined the channel, then replays it.
	e := network(t)
	var asked atomic.Int32
	opsServers(t, e, "municipality", "maker",
		func() string { return "ledger_blockchain_height{channel=\"circular\"} 12\n" },
		func() string {
			switch n := asked.Add(1); {
			case n < 3:
				return "ledger_blockchain_height{channel=\"other\"} 40\n"
			case n < 6:
				return "ledger_blockchain_height{channel=\"circular\"} 7\n"
			}
			return "ledger_blockchain_height{channel=\"circular\"} 12\n"
		})
	_, err := run(t, e, "wait", "level", "nobody")
	assert.EqualError(t, err, "no peer nobody in the consortium file")
	_, err = run(t, e, "wait", "level", "maker", "--timeout", "5s")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, asked.Load(), int32(6), "it waited until the maker's peer had 12 blocks")
	_, err = run(t, e, "wait", "level", "maker", "auditor", "--timeout", "300ms")
	assert.EqualError(t, err, "peers auditor did not reach height 12 within 300ms")
}

func TestPeersCommand(t *testing.T) {
	e := enrolled(t)
	opsServers(t, e, "recycler", "auditor",
		func() string { return "ledger_blockchain_height{channel=\"circular\"} 30\n" },
		func() string { return "ledger_blockchain_height{channel=\"circular\"} 29\n" })
	runs := withFakePeer(t, e)
	answer(t, e, "querycommitted", `{"version":"v7","sequence":3}`, 0)
	out, err := run(t, e, "peers")
	require.NoError(t, err)
	assert.Regexp(t, `^municipality +height -\nrecycler +height 30\nmaker +height -\nauditor +height 29\n\nchaincode mtrace version v7 sequence 3\n$`, out)
	assert.Equal(t, []string{fmt.Sprintf("MunicipalityMSP 127.0.0.1:%d lifecycle chaincode querycommitted -C circular -n mtrace -O json", e.base+100)}, runs(),
		"the first member's admin asks its own peer")

	answer(t, e, "querycommitted", "Error: query failed: namespace mtrace is not defined", 1)
	out, err = run(t, e, "peers")
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(out, "\nchaincode mtrace: not committed\n"), out)
	answer(t, e, "querycommitted", "Error: connection refused", 1)
	out, err = run(t, e, "peers", "--chaincode", "other")
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(out, "\nchaincode other: unknown (municipality's peer does not answer)\n"), out)
}
