// Package netns gives tests a lab of separate hosts on one machine: each
// host is a Linux network namespace with its own address, its own home
// folder and its own processes, and the hosts meet on a bridge that lives
// in a namespace of its own, the lab's "switch". The end-to-end test of a
// consortium runs each member as one such host (issue 19).
//
// A lab is made by the test and removed by it: New creates the switch,
// AddHost a host (a namespace, a veth pair from the host's eth0 to a port
// of the bridge, an address of Subnet, a home folder), and the cleanup New
// registers stops every process the lab started (by its recorded PID),
// deletes every namespace (which takes the veths and the bridge with it)
// and removes the lab's folder. Nothing is created in the root namespace:
// the veth pairs are made inside the switch namespace and one end is moved
// straight into the host's, so the machine's own interfaces, addresses and
// routes are never touched, and there is no link, route or forwarding from
// the lab to the outside; a host reaches only the other hosts of its lab.
//
// A test that dies before its cleanup runs (a crash, a timeout, a kill)
// leaves its namespaces and processes behind. Every lab writes a record
// under StateDir naming its owner (PID and start time) before it creates
// anything, and its namespaces carry the prefix "mtrlab-" and the lab's
// random id. New first reclaims the leftovers of every lab whose owner is no
// longer alive: it kills the processes recorded in the dead lab's pid files
// (checking each one's start time, so a reused PID is left alone) and any
// process still inside one of its namespaces, then deletes the namespaces
// and the folder. Labs of other live test processes are left alone. SIGINT
// and SIGTERM also tear the live labs down before the test binary dies.
//
// Processes run in a host through `ip netns exec`, which enters the
// namespace and execs the program without forking, so the PID Start
// records is the program's own. The test's own code can act as a host too:
// Host.Do runs a function on an OS thread switched into the host's
// namespace, and Host.DialContext and Host.Listen open sockets there, so an
// in-process gRPC client (fabric-gateway) can connect as that host.
//
// Files move between hosts only through a Mailbox, a folder the test names;
// the hosts' homes are separate folders. Processes run as root and could
// read any folder, so this is a convention the test checks, not a wall.
//
// The lab needs root (it creates network namespaces) and the ip command
// (iproute2). Its tests fail, rather than skip, when either is missing.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Subnet is the IPv4 network of every lab's bridge; host n (from 1) gets
// 10.219.19.(n+1). The addresses exist only inside the lab's namespaces,
// so two labs running at once, each on its own bridge, do not meet, and the
// machine's own networks are not affected even if one used the same range.
// 10.219.19.0/24 is a private range chosen to be unlikely on a machine.
const Subnet = "10.219.19.0/24"

const (
	subnetBase = "10.219.19."
	prefixLen  = 24
	maxHosts   = 253
)

// Prefix starts the name of every namespace a lab creates; it is followed
// by the lab's id (8 hex digits), a dash and the host name (or "switch").
const Prefix = "mtrlab-"

// StateDir holds one record per live lab, naming its owner process and
// folder, so that the next New can reclaim what a crashed run left.
const StateDir = "/run/mtrace-netns"

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/run/netns"

// stopGrace is how long Stop waits after SIGTERM before SIGKILL (a
// variable so that tests can shorten it).
var stopGrace = 10 * time.Second

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// A Lab is a set of hosts on one bridge, created and removed by one test.
type Lab struct {
	t      testing.TB
	id     string
	name   string
	dir    string // the lab's folder: hosts/<name>/{home,pids,logs,tmp}, mail/<box>
	record string // the lab's record under StateDir
	sw     string // the switch namespace, which holds the bridge

	mu      sync.Mutex
	hosts   []*Host
	boxes   map[string]*Mailbox
	removed bool
}

// record is what a lab writes under StateDir.
type record struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner int    `json:"owner"` // PID of the test process
	Start uint64 `json:"start"` // its start time, in clock ticks after boot
	Dir   string `json:"dir"`
}

// New creates a lab: it reclaims what crashed earlier runs left, then
// creates the switch namespace with its bridge. The lab is removed when the
// test ends, whether it passed, failed or panicked. New fails the test,
// with a message saying why, if it is not run as root or ip is missing.
func New(t testing.TB, name string) *Lab {
	t.Helper()
	if err := precheck(); err != nil {
		t.Fatal(err)
	}
	if !nameRE.MatchString(name) {
		t.Fatalf("netns: lab name %q: use 1 to 31 lower-case letters, digits and dashes, starting with a letter", name)
	}
	if err := Sweep(); err != nil {
		t.Fatalf("netns: reclaiming leftovers of earlier runs: %v", err)
	}
	l, err := create(t, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l.logTails()
		}
		if err := l.remove(); err != nil {
			t.Errorf("netns: removing lab %s: %v", l.id, err)
		}
	})
	return l
}

func precheck() error {
	if os.Geteuid() != 0 {
		return errors.New("netns: the test lab creates network namespaces and needs root; run go test as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netns: the test lab needs the ip command (iproute2): %w", err)
	}
	return nil
}

func create(t testing.TB, name string) (*Lab, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("netns: lab id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	dir, err := os.MkdirTemp("", "mtrace-lab-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("netns: lab folder: %w", err)
	}
	l := &Lab{
		t:      t,
		id:     id,
		name:   name,
		dir:    dir,
		record: filepath.Join(StateDir, id+".json"),
		sw:     Prefix + id + "-switch",
		boxes:  map[string]*Mailbox{},
	}
	start, err := startTime(os.Getpid())
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	rec, _ := json.Marshal(record{ID: id, Name: name, Owner: os.Getpid(), Start: start, Dir: dir})
	// The record comes first: a namespace of this lab never exists without
	// one naming a live owner, so a concurrent Sweep leaves it alone.
	if err := os.MkdirAll(StateDir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("netns: %w", err)
	}
	if err := writeAtomic(l.record, rec, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("netns: lab record: %w", err)
	}
	track(l)
	err = ip("netns", "add", l.sw)
	if err == nil {
		err = noIPv6(l.sw)
	}
	if err == nil {
		err = ip("-n", l.sw, "link", "add", "br0", "type", "bridge")
	}
	if err == nil {
		err = ip("-n", l.sw, "link", "set", "br0", "up")
	}
	if err != nil {
		return nil, errors.Join(err, l.remove())
	}
	return l, nil
}

// ID is the lab's random id, part of every namespace name it creates.
func (l *Lab) ID() string { return l.id }

// Dir is the lab's folder, holding the hosts' folders and the mailboxes.
func (l *Lab) Dir() string { return l.dir }

// Switch is the name of the namespace that holds the bridge.
func (l *Lab) Switch() string { return l.sw }

// Namespaces lists the names of the lab's namespaces, the switch first.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := []string{l.sw}
	for _, h := range l.hosts {
		names = append(names, h.ns)
	}
	return names
}

// Hosts returns the lab's hosts in the order they were added.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.hosts)
}

// Host returns the lab's host called name, nil if there is none.
func (l *Lab) Host(name string) *Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// remove stops the lab's processes, deletes its namespaces, its folder and
// its record. It can run more than once (cleanup, a signal); the first run
// does the work.
func (l *Lab) remove() error {
	l.mu.Lock()
	if l.removed {
		l.mu.Unlock()
		return nil
	}
	l.removed = true
	hosts := slices.Clone(l.hosts)
	l.mu.Unlock()
	defer untrack(l)

	var errs []error
	var procs []*Proc
	for _, h := range hosts {
		procs = append(procs, h.Procs()...)
	}
	errs = append(errs, stopAll(procs))
	for _, h := range hosts {
		errs = append(errs, deleteNamespace(h.ns))
	}
	errs = append(errs, deleteNamespace(l.sw))
	if os.Getenv("MTRACE_LAB_KEEP") == "" {
		errs = append(errs, os.RemoveAll(l.dir))
	} else if l.t != nil {
		l.t.Logf("netns: MTRACE_LAB_KEEP is set: lab folder kept at %s", l.dir)
	}
	if err := os.Remove(l.record); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// logTails puts the end of each process's log in the test's output.
func (l *Lab) logTails() {
	for _, h := range l.Hosts() {
		for _, p := range h.Procs() {
			b, err := os.ReadFile(p.log)
			if err != nil {
				continue
			}
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if len(lines) > 20 {
				lines = lines[len(lines)-20:]
			}
			l.t.Logf("netns: %s/%s (pid %d), end of %s:\n%s", h.name, p.name, p.pid, p.log, strings.Join(lines, "\n"))
		}
	}
}

// deleteNamespace kills whatever still runs inside a namespace (processes
// identified by the namespace itself, so nothing outside the lab) and
// deletes it; its interfaces go with it. A namespace already gone is fine.
func deleteNamespace(ns string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var errs []error
	if err := killInside(ns); err != nil {
		errs = append(errs, err)
	}
	if err := ip("netns", "delete", ns); err != nil {
		if _, serr := os.Stat(filepath.Join(netnsDir, ns)); !errors.Is(serr, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killInside kills every process whose network namespace is ns and waits
// until they are gone.
func killInside(ns string) error {
	pids, err := pidsInside(ns)
	if err != nil || len(pids) == 0 {
		return err
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(stopGrace)
	for time.Now().Before(deadline) {
		if pids, err = pidsInside(ns); err != nil || len(pids) == 0 {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("netns: processes %v still run in namespace %s", pids, ns)
}

func pidsInside(ns string) ([]int, error) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil, fmt.Errorf("netns: ip netns pids %s: %w", ns, err)
	}
	var pids []int
	for f := range strings.FieldsSeq(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("netns: ip netns pids %s: %q is not a PID", ns, f)
		}
		// A zombie waiting for its parent to reap it no longer runs. The
		// test process itself is listed if its main thread was parked in
		// the namespace (see Host.Do); it must not kill itself.
		if state(pid) != 'Z' && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Sweep reclaims the leftovers of every lab whose owner process is no
// longer alive: the processes recorded in its pid files, anything else
// inside its namespaces, the namespaces, its folder and its record. A
// namespace with the lab prefix whose lab has no record is a leftover too
// (a lab writes its record before it creates a namespace). New calls Sweep.
func Sweep() error {
	live := map[string]bool{}
	var errs []error
	entries, err := os.ReadDir(StateDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netns: %w", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		path := filepath.Join(StateDir, e.Name())
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // its lab just ended
		}
		var rec record
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("netns: lab record %s: %w", path, err))
			continue
		}
		if alive(rec.Owner, rec.Start) {
			live[id] = true
			continue
		}
		errs = append(errs, reclaim(rec, path))
	}
	names, err := os.ReadDir(netnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return errors.Join(append(errs, fmt.Errorf("netns: %w", err))...)
	}
	for _, n := range names {
		rest, ok := strings.CutPrefix(n.Name(), Prefix)
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, "-")
		if live[id] {
			continue
		}
		// Recheck: a lab started after the records were read has a record
		// by now if this namespace is one of its own.
		if rec, err := readRecord(filepath.Join(StateDir, id+".json")); err == nil && alive(rec.Owner, rec.Start) {
			continue
		}
		errs = append(errs, deleteNamespace(n.Name()))
	}
	return errors.Join(errs...)
}

func readRecord(path string) (record, error) {
	var rec record
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(b, &rec)
}

// reclaim removes what the dead lab rec left.
func reclaim(rec record, path string) error {
	var errs []error
	if rec.Dir != "" {
		files, _ := filepath.Glob(filepath.Join(rec.Dir, "hosts", "*", "pids", "*.pid"))
		for _, f := range files {
			errs = append(errs, killRecorded(f))
		}
	}
	names, _ := filepath.Glob(filepath.Join(netnsDir, Prefix+rec.ID+"-*"))
	for _, n := range names {
		errs = append(errs, deleteNamespace(filepath.Base(n)))
	}
	// Only a folder the lab made (its name says so) is removed.
	if rec.Dir != "" && strings.HasPrefix(filepath.Base(rec.Dir), "mtrace-lab-") {
		errs = append(errs, os.RemoveAll(rec.Dir))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// killRecorded kills the process a pid file names if it is still the same
// process (same start time), and waits for it to go.
func killRecorded(file string) error {
	pid, start, err := readPidFile(file)
	if err != nil {
		return err
	}
	if !alive(pid, start) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(stopGrace)
	for alive(pid, start) && state(pid) != 'Z' {
		if time.Now().After(deadline) {
			return fmt.Errorf("netns: process %d (%s) did not die", pid, file)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// labs are the live labs of this process, torn down on SIGINT or SIGTERM.
var labs struct {
	sync.Mutex
	set    map[*Lab]bool
	signal chan os.Signal
}

func track(l *Lab) {
	labs.Lock()
	defer labs.Unlock()
	if labs.set == nil {
		labs.set = map[*Lab]bool{}
		labs.signal = make(chan os.Signal, 1)
		signal.Notify(labs.signal, syscall.SIGINT, syscall.SIGTERM)
		go onSignal()
	}
	labs.set[l] = true
}

func untrack(l *Lab) {
	labs.Lock()
	defer labs.Unlock()
	delete(labs.set, l)
}

// onSignal removes every live lab, then lets the signal do what it would
// have done without the handler.
func onSignal() {
	sig := <-labs.signal
	labs.Lock()
	live := make([]*Lab, 0, len(labs.set))
	for l := range labs.set {
		live = append(live, l)
	}
	labs.Unlock()
	for _, l := range live {
		if err := l.remove(); err != nil {
			fmt.Fprintf(os.Stderr, "netns: removing lab %s on %v: %v\n", l.id, sig, err)
		}
	}
	signal.Reset(sig)
	_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
}

// ip runs the ip command.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netns: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeAtomic writes a file through a temporary file and a rename, so a
// reader sees the whole file or none.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Chmod(mode), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
