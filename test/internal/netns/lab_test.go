package netns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtrace/mtrace/internal/testport"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Two hosts talk over the bridge: a program run by Run (the CLI path) and
// the test's own dialer switched into a host both reach a server another
// host runs, and the server sees each of them at its own address.
func TestTwoHostsTalk(t *testing.T) {
	l := New(t, "talk")
	a, b := l.AddHost("a"), l.AddHost("b")
	if a.Addr() == b.Addr() || !netip.MustParsePrefix(Subnet).Contains(a.Addr()) || !netip.MustParsePrefix(Subnet).Contains(b.Addr()) {
		t.Fatalf("addresses %v and %v: want two of %s", a.Addr(), b.Addr(), Subnet)
	}
	if l.Host("a") != a || l.Host("b") != b || l.Host("c") != nil {
		t.Fatal("Lab.Host does not find the hosts by name")
	}
	p := startEcho(t, a, b, 7000)

	// The PID recorded is the program's own, inside a's namespace.
	if got, err := procNetNS(p.PID()); err != nil || got != nsInode(t, a.Namespace()) {
		t.Fatalf("process %d is in namespace %d (%v), want a's %d", p.PID(), got, err, nsInode(t, a.Namespace()))
	}
	self, _ := os.Executable()
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID())); err != nil || exe != self {
		t.Fatalf("process %d runs %q (%v), want the echo program %q", p.PID(), exe, err, self)
	}
	if pid, _, err := readPidFile(filepath.Join(a.pidsDir(), "echo.pid")); err != nil || pid != p.PID() {
		t.Fatalf("pid file holds %d (%v), want %d", pid, err, p.PID())
	}

	// The CLI path: a program run inside b.
	out, err := b.Run(context.Background(), []string{"NETNS_HELPER=ask", "NETNS_ADDR=" + a.AddrPort(7000)}, os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "pong " + b.Addr().String() + ":"; !strings.HasPrefix(string(out), want) {
		t.Fatalf("b's program got %q, want an answer starting %q", out, want)
	}

	// The in-process path: the test dials as b.
	c, err := b.DialContext(context.Background(), "tcp", a.AddrPort(7000))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := ask(c, bufio.NewReader(c), 5*time.Second)
	if want := "pong " + c.LocalAddr().String() + " ping\n"; err != nil || got != want {
		t.Fatalf("b's dial got %q (%v), want %q", got, err, want)
	}
	if ap := netip.MustParseAddrPort(c.LocalAddr().String()); ap.Addr() != b.Addr() {
		t.Fatalf("b's connection comes from %v, want %v", ap, b.Addr())
	}

	// The test listens as b; a program in a connects.
	lis, err := b.Listen("tcp", b.AddrPort(7001))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			peer <- err.Error()
			return
		}
		defer c.Close()
		peer <- c.RemoteAddr().String()
		echo(c)
	}()
	out, err = a.Run(context.Background(), []string{"NETNS_HELPER=ask", "NETNS_ADDR=" + b.AddrPort(7001)}, os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	from := <-peer
	if ap, err := netip.ParseAddrPort(from); err != nil || ap.Addr() != a.Addr() || string(out) != "pong "+from+" ping\n" {
		t.Fatalf("b's listener saw %q and a's program got %q; want a's address %v", from, out, a.Addr())
	}
}

// Host.Do switches only its own thread: code in it is in the host's
// namespace, the caller's thread stays where it was, and the lab touches
// nothing of the root namespace's addresses, links or routes.
func TestIsolation(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	root, err := threadNetNS()
	if err != nil {
		t.Fatal(err)
	}
	addrs, links, routes := rootState(t)
	v6, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/disable_ipv6")
	if err != nil {
		t.Fatal(err)
	}
	lis := testport.Listen(t) // on 127.0.0.1 of the root namespace

	t.Run("lab", func(t *testing.T) {
		l := New(t, "isolation")
		a, b := l.AddHost("a"), l.AddHost("b")

		var inside uint64
		if err := a.Do(func() (err error) { inside, err = threadNetNS(); return err }); err != nil {
			t.Fatal(err)
		}
		if want := nsInode(t, a.Namespace()); inside != want || inside == root {
			t.Fatalf("Do ran in namespace %d, want a's %d (root is %d)", inside, want, root)
		}
		if now, err := threadNetNS(); err != nil || now != root {
			t.Fatalf("after Do the caller's thread is in namespace %d (%v), want the root's %d", now, err, root)
		}

		// Many calls at once, as gRPC's reconnects would make them: when
		// they are over, every thread of the test process, the main
		// thread included, is back in the root namespace.
		errs := make(chan error, 100)
		for i := range 100 {
			h := []*Host{a, b}[i%2]
			go func() { errs <- h.Do(func() error { time.Sleep(time.Millisecond); return nil }) }()
		}
		for range 100 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		// The thread Do used lives on, back in the root namespace: were it
		// left to end instead, and were it the main thread, Go would park
		// it in the host's namespace for good.
		var tid int
		if err := a.Do(func() error { tid = unix.Gettid(); return nil }); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(fmt.Sprintf("/proc/self/task/%d/ns/net", tid))
		if err != nil || fi.Sys().(*syscall.Stat_t).Ino != root {
			t.Fatalf("Do's thread %d after Do: %v, want it alive in the root namespace %d", tid, err, root)
		}
		tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
		if err != nil || len(tasks) == 0 {
			t.Fatalf("threads: %v %v", tasks, err)
		}
		for _, task := range append(tasks, "/proc/self/ns/net") {
			fi, err := os.Stat(task)
			if err != nil {
				continue // a thread that ended meanwhile
			}
			if ino := fi.Sys().(*syscall.Stat_t).Ino; ino != root {
				t.Fatalf("%s is in namespace %d after Do, want the root's %d", task, ino, root)
			}
		}

		// Nothing of the lab shows in the root namespace.
		gotAddrs, gotLinks, gotRoutes := rootState(t)
		if gotAddrs != addrs || gotLinks != links || gotRoutes != routes {
			t.Fatalf("the root namespace changed while the lab is up:\naddresses %q\nwas %q\nlinks %q\nwas %q\nroutes %q\nwas %q", gotAddrs, addrs, gotLinks, links, gotRoutes, routes)
		}
		// A host has only its loopback and its eth0 on the bridge, and one
		// route: to the lab's subnet.
		out, err := exec.Command("ip", "-n", a.Namespace(), "-4", "-o", "addr").Output()
		if err != nil {
			t.Fatal(err)
		}
		if s := string(out); strings.Count(s, "inet ") != 2 || !strings.Contains(s, "lo    inet 127.0.0.1/8") || !strings.Contains(s, "eth0    inet "+a.Addr().String()+"/24") {
			t.Fatalf("a's addresses: %s", s)
		}
		for _, ns := range []string{a.Namespace(), l.Switch()} {
			out, err := exec.Command("ip", "-n", ns, "-6", "-o", "addr").Output()
			if err != nil || len(out) != 0 {
				t.Fatalf("namespace %s has IPv6 addresses (%v): %s", ns, err, out)
			}
		}
		out, err = exec.Command("ip", "-n", a.Namespace(), "route", "show", "table", "all").Output()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(out)) {
			if !strings.Contains(line, "table local") && !strings.HasPrefix(line, "10.219.19.0/24 dev eth0 ") {
				t.Fatalf("a has a route out of the lab: %q in\n%s", line, out)
			}
		}

		// The machine's addresses are out of reach: its loopback listener
		// and every address of the root namespace.
		if c, err := a.DialContext(ctx(t, time.Second), "tcp", lis.Addr().String()); err == nil {
			c.Close()
			t.Fatalf("a reached the root namespace's listener %v", lis.Addr())
		}
		ifaddrs, err := net.InterfaceAddrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, ia := range ifaddrs {
			pfx, err := netip.ParsePrefix(ia.String())
			if err != nil || !pfx.Addr().Is4() || pfx.Addr().IsLoopback() {
				continue
			}
			_, err = a.DialContext(ctx(t, time.Second), "tcp", netip.AddrPortFrom(pfx.Addr(), 22).String())
			if !errors.Is(err, syscall.ENETUNREACH) {
				t.Fatalf("a dialing the machine's %v: %v, want network unreachable", pfx.Addr(), err)
			}
		}
		// b is in reach, for contrast.
		lb, err := b.Listen("tcp", b.AddrPort(7002))
		if err != nil {
			t.Fatal(err)
		}
		defer lb.Close()
		if err := a.WaitTCP(lb.Addr().String(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	})

	if now, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/disable_ipv6"); err != nil || string(now) != string(v6) {
		t.Fatalf("the root namespace's disable_ipv6 is %q (%v), was %q", now, err, v6)
	}
	gotAddrs, gotLinks, gotRoutes := rootState(t)
	if gotAddrs != addrs || gotLinks != links || gotRoutes != routes {
		t.Fatalf("the root namespace changed after the lab:\naddresses %q\nwas %q\nlinks %q\nwas %q\nroutes %q\nwas %q", gotAddrs, addrs, gotLinks, links, gotRoutes, routes)
	}
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// A cut host neither reaches nor is reached, and its open connection
// stalls; after Reconnect both work again and the stalled exchange
// completes.
func TestCutAndReconnect(t *testing.T) {
	l := New(t, "cut")
	a, b := l.AddHost("a"), l.AddHost("b")
	startEcho(t, a, b, 7000)
	lb, err := b.Listen("tcp", b.AddrPort(7001))
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	go func() {
		for {
			c, err := lb.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	if err := a.WaitTCP(b.AddrPort(7001), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	open, err := b.DialContext(context.Background(), "tcp", a.AddrPort(7000))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	r := bufio.NewReader(open)
	if _, err := ask(open, r, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	if err := a.Cut(); err != nil {
		t.Fatal(err)
	}
	if c, err := b.DialContext(ctx(t, 2*time.Second), "tcp", a.AddrPort(7000)); err == nil {
		c.Close()
		t.Fatal("b reached the cut host a")
	}
	if c, err := a.DialContext(ctx(t, 2*time.Second), "tcp", b.AddrPort(7001)); err == nil {
		c.Close()
		t.Fatal("the cut host a reached b")
	}
	if got, err := ask(open, r, time.Second); !isTimeout(err) {
		t.Fatalf("b's open connection to the cut host answered %q (%v), want a timeout", got, err)
	}

	if err := a.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitTCP(a.AddrPort(7000), 10*time.Second); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
	if err := a.WaitTCP(b.AddrPort(7001), 10*time.Second); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
	// The ping sent during the cut is retransmitted; its answer comes.
	_ = open.SetReadDeadline(time.Now().Add(30 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || !strings.HasSuffix(got, " ping\n") {
		t.Fatalf("b's open connection after reconnect: %q (%v)", got, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A process frozen with SIGSTOP stops answering (though the kernel still
// accepts connections for it) and answers what it missed after SIGCONT.
func TestFreeze(t *testing.T) {
	l := New(t, "freeze")
	a, b := l.AddHost("a"), l.AddHost("b")
	p := startEcho(t, a, b, 7000)
	c, err := b.DialContext(context.Background(), "tcp", a.AddrPort(7000))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := ask(c, r, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the echo process to stop", p.Stopped)
	if got, err := ask(c, r, time.Second); !isTimeout(err) {
		t.Fatalf("the frozen process answered %q (%v), want a timeout", got, err)
	}
	if err := b.WaitTCP(a.AddrPort(7000), 2*time.Second); err != nil {
		t.Fatalf("the kernel should still accept connections for the frozen process: %v", err)
	}

	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || !strings.HasSuffix(got, " ping\n") {
		t.Fatalf("after SIGCONT: %q (%v)", got, err)
	}
	if p.Stopped() {
		t.Fatal("the process is still stopped after SIGCONT")
	}
	if _, err := ask(c, r, 5*time.Second); err != nil {
		t.Fatalf("after SIGCONT: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends a process by its PID, a frozen one too, and SIGKILLs one that
// ignores SIGTERM; the lab's cleanup stops every process and removes every
// namespace (with the veths and the bridge in them), the lab's folder and
// its record.
func TestStopAndCleanup(t *testing.T) {
	grace := stopGrace
	stopGrace = 2 * time.Second
	defer func() { stopGrace = grace }()
	_, links, _ := rootState(t)

	var (
		id, dir, rec string
		names        []string
		procs        []*Proc
	)
	t.Run("lab", func(t *testing.T) {
		l := New(t, "cleanup")
		a, b := l.AddHost("a"), l.AddHost("b")
		id, dir, rec, names = l.ID(), l.Dir(), l.record, l.Namespaces()
		for _, n := range names {
			if !slices.Contains(namespaces(t), n) {
				t.Fatalf("namespace %s missing from ip netns list", n)
			}
		}
		out, err := exec.Command("ip", "-n", l.Switch(), "-o", "link").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"br0:", "h1@", "h2@", "master br0"} {
			if !strings.Contains(string(out), want) {
				t.Fatalf("the switch has no %q:\n%s", want, out)
			}
		}

		// Stop by hand: a plain process, then a frozen one.
		s := a.Start("sleep", "sleep", []string{"600"}, nil, "")
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := s.Err(); err == nil || !strings.Contains(err.Error(), "terminated") {
			t.Fatalf("stopped process exited with %v, want terminated by SIGTERM", err)
		}
		if _, err := os.Stat(filepath.Join(a.pidsDir(), "sleep.pid")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("pid file after Stop: %v", err)
		}
		f := a.Start("frozen", "sleep", []string{"600"}, nil, "")
		if err := f.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the process to stop", f.Stopped)
		if err := f.Stop(); err != nil || !strings.Contains(f.Err().Error(), "terminated") {
			t.Fatalf("stopping a frozen process: %v, exit %v", err, f.Err())
		}
		if err := f.Signal(syscall.SIGCONT); err == nil {
			t.Fatal("Signal to an exited process did not fail")
		}

		// Left for the cleanup: one that ignores SIGTERM, and more.
		procs = append(procs,
			a.Start("stubborn", os.Args[0], nil, []string{"NETNS_HELPER=stubborn"}, ""),
			b.Start("sleep", "sleep", []string{"600"}, nil, ""),
		)
		g := b.Start("frozen", "sleep", []string{"600"}, nil, "")
		if err := g.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, g)
		time.Sleep(200 * time.Millisecond) // the stubborn helper installs its handler
	})

	for _, p := range procs {
		select {
		case <-p.Done():
		default:
			t.Errorf("%s/%s (pid %d) runs after the cleanup", p.host.name, p.name, p.pid)
		}
		if alive(p.pid, p.start) {
			t.Errorf("pid %d is alive after the cleanup", p.pid)
		}
	}
	if !strings.Contains(procs[0].Err().Error(), "killed") {
		t.Errorf("the process that ignores SIGTERM exited with %v, want killed", procs[0].Err())
	}
	for _, n := range namespaces(t) {
		if strings.Contains(n, id) {
			t.Errorf("namespace %s is left after the cleanup", n)
		}
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(netnsDir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("namespace %s: %v", n, err)
		}
	}
	if _, now, _ := rootState(t); now != links {
		t.Errorf("the root namespace's links changed: %s, was %s", now, links)
	}
	for _, p := range []string{dir, rec} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left after the cleanup: %v", p, err)
		}
	}
}

// The next New reclaims what a crashed run left: a test process killed
// with SIGKILL leaves its namespaces, its folder, its record and (with the
// parent-death signal off) a running process; a namespace with the lab
// prefix and no record at all goes too.
func TestSweepReclaimsCrashedRun(t *testing.T) {
	left, cmd := runLabHelper(t, "crash")
	_ = cmd.Wait()
	orphan := Prefix + "0rphan00-x"
	if err := ip("netns", "add", orphan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteNamespace(orphan) })

	if len(left.Namespaces) != 3 {
		t.Fatalf("the crashed run reported namespaces %v, want the switch and two hosts", left.Namespaces)
	}
	have := namespaces(t)
	for _, n := range append(left.Namespaces, orphan) {
		if !slices.Contains(have, n) {
			t.Fatalf("namespace %s missing before the sweep: %v", n, have)
		}
	}
	if !alive(left.PID, left.Start) || state(left.PID) == 'Z' {
		t.Fatalf("the crashed run's process %d is not running", left.PID)
	}
	for _, p := range []string{left.Dir, left.Record} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("before the sweep: %v", err)
		}
	}

	New(t, "after")

	have = namespaces(t)
	for _, n := range append(left.Namespaces, orphan) {
		if slices.Contains(have, n) {
			t.Errorf("namespace %s survived the sweep", n)
		}
	}
	if alive(left.PID, left.Start) && state(left.PID) != 'Z' {
		t.Errorf("the crashed run's process %d survived the sweep", left.PID)
	}
	for _, p := range []string{left.Dir, left.Record} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the sweep: %v", p, err)
		}
	}
}

// The labs of another live test process are not leftovers: a sweep leaves
// them alone. SIGTERM to that process removes its lab before it dies.
func TestSweepSparesLiveLabAndSignalRemovesIt(t *testing.T) {
	left, cmd := runLabHelper(t, "hold")
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})

	if err := Sweep(); err != nil {
		t.Fatal(err)
	}
	have := namespaces(t)
	for _, n := range left.Namespaces {
		if !slices.Contains(have, n) {
			t.Fatalf("the sweep removed namespace %s of a live lab", n)
		}
	}
	if !alive(left.PID, left.Start) {
		t.Fatalf("the sweep killed process %d of a live lab", left.PID)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("the helper exited with %v, want killed by SIGTERM", waitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the helper did not exit on SIGTERM")
	}
	have = namespaces(t)
	for _, n := range left.Namespaces {
		if slices.Contains(have, n) {
			t.Errorf("namespace %s survived SIGTERM to its lab's process", n)
		}
	}
	if alive(left.PID, left.Start) && state(left.PID) != 'Z' {
		t.Errorf("process %d survived SIGTERM to its lab's process", left.PID)
	}
	for _, p := range []string{left.Dir, left.Record} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived SIGTERM to its lab's process: %v", p, err)
		}
	}
}

// A mailbox carries a file from one host's home to another's, and refuses
// paths out of a home, links and folders.
func TestMailbox(t *testing.T) {
	l := New(t, "mail")
	a, b := l.AddHost("a"), l.AddHost("b")
	box := l.Mailbox("founding")
	if box != l.Mailbox("founding") {
		t.Fatal("the same name gave two mailboxes")
	}
	if strings.HasPrefix(box.Dir(), a.Home()) || strings.HasPrefix(box.Dir(), b.Home()) || strings.HasPrefix(b.Home(), a.Home()) {
		t.Fatalf("mailbox %s and homes %s, %s overlap", box.Dir(), a.Home(), b.Home())
	}
	if err := os.MkdirAll(filepath.Join(a.Home(), "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.Home(), "export", "a.json"), []byte(`{"msp":"a"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := box.Put(a, "export/a.json", "a.json"); err != nil {
		t.Fatal(err)
	}
	if err := box.Take(b, "a.json", "members/a.json"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(b.Home(), "members", "a.json"))
	if err != nil || string(got) != `{"msp":"a"}` {
		t.Fatalf("b took %q (%v)", got, err)
	}
	if fi, err := os.Stat(filepath.Join(b.Home(), "members", "a.json")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("taken file: %v %v, want mode 0640", fi, err)
	}
	if list, err := box.List(); err != nil || !slices.Equal(list, []string{"a.json"}) {
		t.Fatalf("mailbox holds %v (%v)", list, err)
	}

	if err := os.Symlink(filepath.Join(b.Home(), "members", "a.json"), filepath.Join(a.Home(), "link")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ src, letter string }{
		{"../b/home/members/a.json", "x"}, // out of a's home
		{filepath.Join(a.Home(), "export", "a.json"), "x"},
		{"link", "x"},   // a link could point anywhere
		{"export", "x"}, // a folder
		{"export/a.json", "../x"},
		{"export/nothing", "x"},
	} {
		if err := box.Put(a, bad.src, bad.letter); err == nil {
			t.Errorf("Put(%q, %q) did not fail", bad.src, bad.letter)
		}
	}
	if err := box.Take(b, "a.json", "../a/home/stolen"); err == nil {
		t.Error("Take to a path out of b's home did not fail")
	}
	if err := box.Take(b, "missing.json", "x"); err == nil {
		t.Error("Take of a missing letter did not fail")
	}
	if list, _ := box.List(); !slices.Equal(list, []string{"a.json"}) {
		t.Fatalf("after the refused puts the mailbox holds %v", list)
	}
}

// A gRPC client in the test process connects as one host to a gRPC server
// the test runs as another: grpc.WithContextDialer with Host.DialContext,
// the way a fabric-gateway client of one member will reach its peer. gRPC
// calls the dialer from goroutines of its own; Do's thread handles that.
func TestGRPCBetweenHosts(t *testing.T) {
	l := New(t, "grpc")
	a, b := l.AddHost("a"), l.AddHost("b")
	lis, err := a.Listen("tcp", a.AddrPort(7051))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	peer := make(chan string, 4)
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := b.DialContext(ctx, "tcp", addr)
		if err == nil {
			peer <- c.LocalAddr().String()
		}
		return c, err
	}
	conn, err := grpc.NewClient("passthrough:///"+a.AddrPort(7051),
		grpc.WithContextDialer(dial), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := healthpb.NewHealthClient(conn).Check(ctx(t, 10*time.Second), &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check from b to a: %v (%v)", res, err)
	}
	if from := netip.MustParseAddrPort(<-peer); from.Addr() != b.Addr() {
		t.Fatalf("gRPC connection from %v, want b's %v", from, b.Addr())
	}

	// Cut b off: calls fail; back on: they work again over a new or the
	// same connection.
	if err := b.Cut(); err != nil {
		t.Fatal(err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx(t, 2*time.Second), &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("a health check from the cut host b succeeded")
	}
	if err := b.Reconnect(); err != nil {
		t.Fatal(err)
	}
	res, err = healthpb.NewHealthClient(conn).Check(ctx(t, 30*time.Second), &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check after reconnect: %v (%v)", res, err)
	}
}

// Without root, New fails the test and says why; it does not skip.
func TestNeedsRoot(t *testing.T) {
	// A copy of the test binary that an unprivileged user can run.
	dir, err := os.MkdirTemp("", "netns-noroot-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netns.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestMailbox$", "-test.count", "1")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("TestMailbox as an unprivileged user: %v, want it to fail\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestMailbox") || !strings.Contains(string(out), "needs root; run go test as root") || strings.Contains(string(out), "SKIP") {
		t.Fatalf("TestMailbox as an unprivileged user said:\n%s", out)
	}
}

// A test process killed outright (SIGKILL, so no cleanup and no handler
// runs) takes the processes its lab started along, by their parent-death
// signal; the next New removes the rest.
func TestKilledTestTakesItsProcesses(t *testing.T) {
	left, cmd := runLabHelper(t, "hold")
	if !alive(left.PID, left.Start) {
		t.Fatalf("the helper's process %d is not running", left.PID)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, "the helper's process to die", func() bool { return !alive(left.PID, left.Start) || state(left.PID) == 'Z' })
	have := namespaces(t)
	for _, n := range left.Namespaces {
		if !slices.Contains(have, n) {
			t.Fatalf("namespace %s is gone before any sweep; the test proves nothing", n)
		}
	}
	New(t, "after-kill")
	have = namespaces(t)
	for _, n := range left.Namespaces {
		if slices.Contains(have, n) {
			t.Errorf("namespace %s survived the sweep", n)
		}
	}
	for _, p := range []string{left.Dir, left.Record} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the sweep: %v", p, err)
		}
	}
}
