package member

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mtrace/mtrace/network/pki"
)

// The organisation's nodes, in the order they start.
const (
	NodeCA      = "ca"
	NodeOrderer = "orderer"
	NodePeer    = "peer"
)

// Nodes are the organisation's nodes in start order.
var Nodes = []string{NodeCA, NodeOrderer, NodePeer}

// chaincodeNode is the PID file name network/builder's run script gives
// the chaincode process the peer starts (cc-$MTRACE_PEER).
const chaincodeNode = "cc-" + NodePeer

// PIDFile and LogFile are a node's files in the home: pids/<node>.pid and
// logs/<node>.log.
func (h *Home) PIDFile(node string) string { return filepath.Join(h.Dir, "pids", node+".pid") }
func (h *Home) LogFile(node string) string { return filepath.Join(h.Dir, "logs", node+".log") }

// program is how a node is started: its binary, arguments, environment,
// and the address that answers once it is up.
type program struct {
	bin    string
	args   []string
	env    []string
	listen string // host:port it listens on once started
	health string // its operations /healthz URL, if any
	// tls, when set, is how a client completes a TLS handshake with the
	// node's listener: an orderer syncs with the others before it serves
	// (its socket accepts connections, and its /healthz answers, before
	// that), so only a handshake says it serves.
	tls *tls.Config
}

// logSpec is the nodes' log level unless FABRIC_LOGGING_SPEC says
// otherwise: gRPC's connection chatter at info drowns what matters.
const logSpec = "info:grpc=warning"

func (h *Home) program(node, bin string) (program, error) {
	base := []string{"MTRACE_ORG_HOME=" + h.Dir}
	if os.Getenv("FABRIC_LOGGING_SPEC") == "" {
		base = append(base, "FABRIC_LOGGING_SPEC="+logSpec)
	}
	switch node {
	case NodeCA:
		return program{bin: filepath.Join(bin, "fabric-ca-server"),
			args:   []string{"start", "-H", pki.ServerDir(h.Dir, h.CA())},
			env:    base,
			listen: local(h.Ports.CA)}, nil
	case NodeOrderer:
		return program{bin: filepath.Join(bin, "orderer"),
			env:    append(base, "FABRIC_CFG_PATH="+h.ConfigDir(NodeOrderer)),
			listen: h.OrdererAddress(), health: "http://" + local(h.Ports.OrdererOps) + "/healthz",
			tls: h.clientTLS(h.OrdererHost(), filepath.Join(h.OrdererDir(), "tls", "ca.crt"))}, nil
	case NodePeer:
		return program{bin: filepath.Join(bin, "peer"), args: []string{"node", "start"},
			// network/builder's run script keeps the chaincode's PID and
			// log beside the nodes' (pids/cc-peer.pid, logs/cc-peer.log).
			env:    append(base, "FABRIC_CFG_PATH="+h.ConfigDir(NodePeer), "MTRACE_HOME="+h.Dir, "MTRACE_PEER="+NodePeer),
			listen: h.PeerAddress(), health: "http://" + local(h.Ports.PeerOps) + "/healthz",
			tls: h.clientTLS(h.PeerHost(), filepath.Join(h.PeerDir(), "tls", "ca.crt"))}, nil
	}
	return program{}, fmt.Errorf("no node %q: the nodes are %s", node, strings.Join(Nodes, ", "))
}

// NodeState is what Status reports of one node.
type NodeState struct {
	Node    string
	PID     int    // 0 when not running
	Stale   bool   // a PID file named a process that is gone or another program
	Healthy bool   // it answers (its /healthz, or its port for the CA)
	Detail  string // why not healthy
}

func (s NodeState) String() string {
	switch {
	case s.PID == 0 && s.Stale:
		return s.Node + ": stopped (stale PID file removed)"
	case s.PID == 0:
		return s.Node + ": stopped"
	case s.Healthy:
		return fmt.Sprintf("%s: running (PID %d), healthy", s.Node, s.PID)
	}
	return fmt.Sprintf("%s: running (PID %d), not healthy: %s", s.Node, s.PID, s.Detail)
}

// pidRecord is a PID file's content: the PID and the process's start time
// (field 22 of /proc/PID/stat, in clock ticks since boot), so that a PID
// the system has given to another process since is never taken for ours.
type pidRecord struct {
	pid   int
	start uint64
}

func readPID(path string) (pidRecord, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, err
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 || len(f) > 2 {
		return pidRecord{}, fmt.Errorf("%s: not a PID file", path)
	}
	var r pidRecord
	if r.pid, err = strconv.Atoi(f[0]); err != nil || r.pid <= 1 {
		return pidRecord{}, fmt.Errorf("%s: not a PID file", path)
	}
	if len(f) == 2 {
		if r.start, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return pidRecord{}, fmt.Errorf("%s: not a PID file", path)
		}
	}
	return r, nil
}

func writePID(path string, r pidRecord) error {
	return writeFile(path, []byte(fmt.Sprintf("%d %d\n", r.pid, r.start)), 0o644)
}

// procStat is a process's state letter and start time, from /proc.
func procStat(pid int) (state byte, start uint64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 20 {
		return 0, 0, errors.New("malformed stat")
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err
}

// procEnv reports whether the process's environment holds the entry kv.
func procEnv(pid int, kv string) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(raw, []byte{0}) {
		if string(e) == kv {
			return true
		}
	}
	return false
}

func procArgv0(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	a, _, _ := bytes.Cut(raw, []byte{0})
	return string(a)
}

// ours reports whether the recorded process is still the node of this
// home: alive (not a zombie), started when recorded, running the node's
// binary with this home in its environment.
func (h *Home) ours(node string, r pidRecord, bin string) bool {
	state, start, err := procStat(r.pid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	if r.start != 0 && start != r.start {
		return false
	}
	if node == chaincodeNode {
		// Written by the builder's run script, which execs the
		// chaincode: a binary run with -peer-config by our peer.
		return procEnv(r.pid, "MTRACE_HOME="+h.Dir) && procEnv(r.pid, "MTRACE_PEER="+NodePeer)
	}
	// The program's name, not its path: a stop run with another --bin
	// still knows its nodes.
	if bin != "" && filepath.Base(procArgv0(r.pid)) != filepath.Base(bin) {
		return false
	}
	return procEnv(r.pid, "MTRACE_ORG_HOME="+h.Dir)
}

// running is the node's process when its PID file names one of ours; a
// PID file that names anything else is removed (stale is then true).
func (h *Home) running(node, bin string) (r pidRecord, ok, stale bool) {
	f := h.PIDFile(node)
	r, err := readPID(f)
	if errors.Is(err, os.ErrNotExist) {
		return pidRecord{}, false, false
	}
	if err == nil && h.ours(node, r, bin) {
		return r, true, false
	}
	_ = os.Remove(f)
	return pidRecord{}, false, true
}

func (h *Home) binOf(node, bin string) string {
	if node == chaincodeNode {
		return ""
	}
	p, err := h.program(node, bin)
	if err != nil {
		return ""
	}
	return p.bin
}

// Start starts the named nodes (Nodes when none) that are not running,
// detached from the caller (their own session, stdin from /dev/null,
// output to logs/<node>.log), records each one's PID in pids/<node>.pid,
// and waits until each listens and, for the orderer and the peer, answers
// its /healthz. The orderer and the peer need WriteNodeConfig first. A
// node that is running already is left alone; started names those
// started.
func (h *Home) Start(ctx context.Context, bin string, nodes ...string) (started []string, err error) {
	if len(nodes) == 0 {
		nodes = Nodes
	}
	for _, n := range nodes {
		p, err := h.program(n, bin)
		if err != nil {
			return started, err
		}
		if _, ok, _ := h.running(n, p.bin); ok {
			continue
		}
		if err := h.check(n, p); err != nil {
			return started, err
		}
		r, err := h.spawn(n, p)
		if err != nil {
			return started, err
		}
		started = append(started, n)
		if err := h.waitUp(ctx, n, p, r); err != nil {
			return started, err
		}
	}
	return started, nil
}

// check refuses to start a node whose files are missing or whose port
// is taken.
func (h *Home) check(node string, p program) error {
	if _, err := os.Stat(p.bin); err != nil {
		return fmt.Errorf("%s: %w (the Fabric binaries: --bin)", node, err)
	}
	switch node {
	case NodeOrderer, NodePeer:
		file := map[string]string{NodeOrderer: "orderer.yaml", NodePeer: "core.yaml"}[node]
		if _, err := os.Stat(filepath.Join(h.ConfigDir(node), file)); err != nil {
			return fmt.Errorf("%s: no configuration (write it with node config): %w", node, err)
		}
		if !h.Enrolled() {
			return fmt.Errorf("%s: the organisation's identities are not enrolled (run init)", node)
		}
	}
	if c, err := net.DialTimeout("tcp", p.listen, 300*time.Millisecond); err == nil {
		_ = c.Close()
		return fmt.Errorf("cannot start %s: %s is already in use by another process", node, p.listen)
	}
	return nil
}

func (h *Home) spawn(node string, p program) (pidRecord, error) {
	for _, d := range []string{filepath.Dir(h.PIDFile(node)), filepath.Dir(h.LogFile(node)), h.DataDir(node)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return pidRecord{}, err
		}
	}
	log, err := os.OpenFile(h.LogFile(node), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return pidRecord{}, err
	}
	defer log.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return pidRecord{}, err
	}
	defer null.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return pidRecord{}, fmt.Errorf("start %s: %w", node, err)
	}
	r := pidRecord{pid: cmd.Process.Pid}
	if _, start, err := procStat(r.pid); err == nil {
		r.start = start
	}
	// Reap it if it ends while this program still runs; after that it is
	// the system's.
	go func() { _ = cmd.Wait() }()
	if err := writePID(h.PIDFile(node), r); err != nil {
		_ = cmd.Process.Kill()
		return pidRecord{}, err
	}
	return r, nil
}

// waitUp waits until the node listens and is healthy, and fails with the
// log's tail if it exits first or takes over 60 s.
func (h *Home) waitUp(ctx context.Context, node string, p program, r pidRecord) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for {
		// Just started: alive with the start time recorded is enough
		// (its environment may not be readable yet under load).
		if !alive(r) {
			_ = os.Remove(h.PIDFile(node))
			return fmt.Errorf("%s stopped at once; %s ends:\n%s", node, h.LogFile(node), logTail(h.LogFile(node), 1500))
		}
		if last = probe(client, p); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not up after 60 s (%v); see %s", node, last, h.LogFile(node))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clientTLS is the admin's TLS client configuration for one of the
// organisation's nodes (server name and TLS root); nil when the files are
// not there (a node that cannot be probed by TLS is probed without).
func (h *Home) clientTLS(server, rootFile string) *tls.Config {
	root, err := os.ReadFile(rootFile)
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(root) {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(h.AdminDir(), "tls", "client.crt"), filepath.Join(h.AdminDir(), "tls", "client.key"))
	if err != nil {
		return nil
	}
	return &tls.Config{ServerName: server, RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"}}
}

func probe(client *http.Client, p program) error {
	if p.tls != nil {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: p.tls}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := d.DialContext(ctx, "tcp", p.listen)
		cancel()
		if err != nil {
			return fmt.Errorf("no TLS handshake on %s: %w", p.listen, err)
		}
		_ = c.Close()
	}
	c, err := net.DialTimeout("tcp", p.listen, time.Second)
	if err != nil {
		return err
	}
	_ = c.Close()
	if p.health == "" {
		return nil
	}
	res, err := client.Get(p.health)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", p.health, res.Status)
	}
	return nil
}

// alive reports whether the recorded process still runs (not a zombie)
// with the start time recorded.
func alive(r pidRecord) bool {
	state, start, err := procStat(r.pid)
	if err != nil || r.start != 0 && start != r.start {
		return false
	}
	if state == 'Z' || state == 'X' {
		// The leader of an exiting Go process (or any threaded one) can be
		// a zombie while its other threads are still being torn down; they
		// share its files, so its ports stay taken until the last is gone.
		return threadsLeft(r.pid)
	}
	return true
}

// threadsLeft reports whether a process whose leader has exited still
// has other threads.
func threadsLeft(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, t := range tasks {
		if t.Name() != strconv.Itoa(pid) {
			return true
		}
	}
	return false
}

func logTail(path string, n int) string {
	raw, _ := os.ReadFile(path)
	if len(raw) > n {
		raw = raw[len(raw)-n:]
	}
	return string(raw)
}

// Stop stops the named nodes (every node, and the peer's chaincode, when
// none), the reverse of start order: by the PID recorded, only while that
// PID is still the node's process, with SIGTERM, then SIGKILL after
// grace. A node that is not running is skipped; stopped names those
// stopped.
func (h *Home) Stop(bin string, grace time.Duration, nodes ...string) (stopped []string, err error) {
	if len(nodes) == 0 {
		nodes = Nodes
	}
	var order []string
	for i := len(Nodes) - 1; i >= 0; i-- {
		for _, n := range nodes {
			if n == Nodes[i] {
				if n == NodePeer {
					order = append(order, NodePeer, chaincodeNode)
				} else {
					order = append(order, n)
				}
			}
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no node %q: the nodes are %s", strings.Join(nodes, " "), strings.Join(Nodes, ", "))
	}
	for _, n := range order {
		b := h.binOf(n, bin)
		r, ok, _ := h.running(n, b)
		if !ok {
			continue
		}
		if err := h.stopOne(n, b, r, grace); err != nil {
			return stopped, err
		}
		if n != chaincodeNode {
			stopped = append(stopped, n)
		}
	}
	return stopped, nil
}

func (h *Home) stopOne(node, bin string, r pidRecord, grace time.Duration) error {
	if err := syscall.Kill(r.pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (PID %d): %w", node, r.pid, err)
	}
	// A stopped (SIGSTOP) process does not act on TERM until continued.
	_ = syscall.Kill(r.pid, syscall.SIGCONT)
	// From here the process is known to be the node's: wait until it has
	// exited, not only until it stops looking like the node (an exiting
	// process loses its command line and environment before it closes its
	// files, so its ports are still taken for a moment then).
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !alive(r) {
			return os.Remove(h.PIDFile(node))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if alive(r) {
		if err := syscall.Kill(r.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill %s (PID %d): %w", node, r.pid, err)
		}
		for i := 0; i < 250 && alive(r); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(r) {
			return fmt.Errorf("stop %s (PID %d): still running 5 s after SIGKILL", node, r.pid)
		}
	}
	return os.Remove(h.PIDFile(node))
}

// Status reports each node: running (by its PID file, checked to be
// still ours), and healthy. Stale PID files are removed.
func (h *Home) Status(bin string) []NodeState {
	client := &http.Client{Timeout: 2 * time.Second}
	var out []NodeState
	for _, n := range Nodes {
		p, _ := h.program(n, bin)
		r, ok, stale := h.running(n, p.bin)
		s := NodeState{Node: n, Stale: stale}
		if ok {
			s.PID = r.pid
			if err := probe(client, p); err != nil {
				s.Detail = err.Error()
			} else {
				s.Healthy = true
			}
		}
		out = append(out, s)
	}
	return out
}
