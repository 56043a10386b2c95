package netns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A Host is one machine of the lab: a network namespace whose eth0 is
// plugged into the lab's bridge, with one address of Subnet, a home folder
// and the processes it runs.
type Host struct {
	lab  *Lab
	name string
	ns   string     // namespace name
	port string     // the veth end on the bridge, in the switch namespace
	addr netip.Addr // eth0's address
	dir  string     // the host's folder: home, pids, logs, tmp

	mu    sync.Mutex
	procs []*Proc
	names map[string]bool
}

// AddHost creates a host: its namespace (with loopback up and IPv6 off),
// a veth pair from its eth0 to a new port of the bridge, its address, and
// its folders. It fails the test on error.
func (l *Lab) AddHost(name string) *Host {
	l.t.Helper()
	h, err := l.addHost(name)
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

func (l *Lab) addHost(name string) (*Host, error) {
	if !nameRE.MatchString(name) || name == "switch" {
		return nil, fmt.Errorf("netns: host name %q: use 1 to 31 lower-case letters, digits and dashes, starting with a letter (not \"switch\")", name)
	}
	l.mu.Lock()
	if l.removed {
		l.mu.Unlock()
		return nil, errors.New("netns: the lab has been removed")
	}
	for _, h := range l.hosts {
		if h.name == name {
			l.mu.Unlock()
			return nil, fmt.Errorf("netns: lab %s already has a host %q", l.name, name)
		}
	}
	n := len(l.hosts) + 1
	if n > maxHosts {
		l.mu.Unlock()
		return nil, fmt.Errorf("netns: a lab holds at most %d hosts", maxHosts)
	}
	h := &Host{
		lab:   l,
		name:  name,
		ns:    Prefix + l.id + "-" + name,
		port:  "h" + strconv.Itoa(n),
		addr:  netip.MustParseAddr(subnetBase + strconv.Itoa(n+1)),
		dir:   filepath.Join(l.dir, "hosts", name),
		names: map[string]bool{},
	}
	// Listed before its namespace exists, so the lab's removal deletes it
	// even if a step below fails.
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()

	for _, d := range []string{h.Home(), h.pidsDir(), h.logsDir(), h.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("netns: host %s: %w", name, err)
		}
	}
	cidr := h.addr.String() + "/" + strconv.Itoa(prefixLen)
	if err := ip("netns", "add", h.ns); err != nil {
		return nil, fmt.Errorf("netns: host %s: %w", name, err)
	}
	if err := noIPv6(h.ns); err != nil {
		return nil, fmt.Errorf("netns: host %s: %w", name, err)
	}
	steps := [][]string{
		{"-n", l.sw, "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.ns},
		{"-n", l.sw, "link", "set", h.port, "master", "br0", "up"},
		{"-n", h.ns, "link", "set", "lo", "up"},
		{"-n", h.ns, "addr", "add", cidr, "dev", "eth0"},
		{"-n", h.ns, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return nil, fmt.Errorf("netns: host %s: %w", name, err)
		}
	}
	return h, nil
}

// Name is the host's name in the lab.
func (h *Host) Name() string { return h.name }

// Addr is the host's address on the bridge.
func (h *Host) Addr() netip.Addr { return h.addr }

// AddrPort is the host's address with a port, as "10.219.19.2:7050".
func (h *Host) AddrPort(port uint16) string {
	return netip.AddrPortFrom(h.addr, port).String()
}

// Namespace is the name of the host's network namespace (ip netns).
func (h *Host) Namespace() string { return h.ns }

// Home is the host's home folder: the member's own files, and nothing of
// another host's but what it took from a mailbox.
func (h *Host) Home() string { return filepath.Join(h.dir, "home") }

// LogDir is the folder that holds the logs of the host's processes.
func (h *Host) LogDir() string { return h.logsDir() }

func (h *Host) pidsDir() string { return filepath.Join(h.dir, "pids") }
func (h *Host) logsDir() string { return filepath.Join(h.dir, "logs") }
func (h *Host) tmpDir() string  { return filepath.Join(h.dir, "tmp") }

// Env is the environment a host's commands get: PATH from the test, HOME
// the host's home and TMPDIR a folder of the host's own; nothing else of
// the test's environment (MTRACE_HOME of a local network, say) leaks in.
func (h *Host) Env() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.Home(), "TMPDIR=" + h.tmpDir()}
}

// Command returns a command that runs name with args inside the host's
// namespace (through `ip netns exec`), in the host's home and with Env;
// the caller may change its environment, input and output before running
// it.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
	cmd.Dir = h.Home()
	cmd.Env = h.Env()
	return cmd
}

// Run runs a one-shot command inside the host (see Command) with extra
// environment variables env ("KEY=value"), and returns its combined
// output. The error names the command and holds its output.
func (h *Host) Run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := h.Command(ctx, name, args...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("netns: %s: %s %s: %w: %s", h.name, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Start starts a long-running process inside the host: name is how the
// lab calls it (its pid file is <host>/pids/<name>.pid), cmd and args the
// program, env extra environment variables ("KEY=value") on top of Env,
// logfile where its output goes (relative to LogDir; "" for <name>.log).
// The process runs in the host's home. It is stopped by its recorded PID
// when the lab is removed, and killed by the kernel if the test process
// dies first. Start fails the test on error; call it from the test's
// goroutine.
func (h *Host) Start(name, cmd string, args, env []string, logfile string) *Proc {
	h.lab.t.Helper()
	p, err := h.start(name, cmd, args, env, logfile)
	if err != nil {
		h.lab.t.Fatal(err)
	}
	return p
}

func (h *Host) start(name, program string, args, env []string, logfile string) (*Proc, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("netns: process name %q: use 1 to 31 lower-case letters, digits and dashes, starting with a letter", name)
	}
	h.mu.Lock()
	if h.names[name] {
		h.mu.Unlock()
		return nil, fmt.Errorf("netns: host %s already started a process %q", h.name, name)
	}
	h.names[name] = true
	h.mu.Unlock()

	if logfile == "" {
		logfile = name + ".log"
	}
	if !filepath.IsAbs(logfile) {
		logfile = filepath.Join(h.logsDir(), logfile)
	}
	out, err := os.OpenFile(logfile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("netns: %s/%s: %w", h.name, name, err)
	}
	defer out.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns, program}, args...)...)
	cmd.Dir = h.Home()
	cmd.Env = append(h.Env(), env...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := startCmd(cmd); err != nil {
		return nil, fmt.Errorf("netns: %s/%s: starting %s: %w", h.name, name, program, err)
	}
	p := &Proc{
		name:    name,
		host:    h,
		cmd:     cmd,
		pid:     cmd.Process.Pid,
		pidfile: pidFileName(h.pidsDir(), name),
		log:     logfile,
		done:    make(chan struct{}),
	}
	// Until Wait reaps it, the PID stays the child's, so its start time
	// can be read now.
	start, err := startTime(p.pid)
	if err == nil {
		p.start = start
		err = writePidFile(p.pidfile, p.pid, start)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("netns: %s/%s: recording pid %d: %w", h.name, name, p.pid, err), p.Stop())
	}
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	return p, nil
}

// Procs returns the processes the host started, in order.
func (h *Host) Procs() []*Proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.procs)
}

// Cut takes the host off the bridge: its port on the bridge goes down, so
// nothing reaches the host and the host reaches nothing. Its processes run
// on, and its open connections stall until Reconnect.
func (h *Host) Cut() error {
	return ip("-n", h.lab.sw, "link", "set", h.port, "down")
}

// Reconnect puts a cut host back on the bridge.
func (h *Host) Reconnect() error {
	return ip("-n", h.lab.sw, "link", "set", h.port, "up")
}
