package netns

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the programs the tests run inside hosts: with
// NETNS_HELPER set, TestMain runs that helper instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("NETNS_HELPER"); mode != "" {
		os.Exit(helper(mode, os.Getenv("NETNS_ADDR")))
	}
	os.Exit(m.Run())
}

func helper(mode, addr string) int {
	switch mode {
	case "echo":
		// A server: it answers each line with "pong <peer> <line>".
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("listening on", l.Addr())
		for {
			c, err := l.Accept()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			go echo(c)
		}
	case "ask":
		// A client: it sends one line and prints the answer.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer c.Close()
		fmt.Fprintln(c, "ping")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print(line)
		return 0
	case "stubborn":
		// A process that ignores SIGTERM, for Stop's SIGKILL.
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Hour)
		return 0
	case "crash", "hold":
		return labHelper(mode)
	}
	fmt.Fprintln(os.Stderr, "unknown helper", mode)
	return 2
}

func echo(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		fmt.Fprintf(c, "pong %s %s", c.RemoteAddr(), line)
	}
}

// leftovers is what a lab helper reports of the lab it made.
type leftovers struct {
	ID         string   `json:"id"`
	Dir        string   `json:"dir"`
	Record     string   `json:"record"`
	Namespaces []string `json:"namespaces"`
	PID        int      `json:"pid"`
	Start      uint64   `json:"start"`
}

// labHelper makes a lab with two hosts and a process, reports it on
// stdout, then dies at once without cleaning up (crash: SIGKILL, with the
// process's parent-death signal off, the worst case) or waits to be
// signalled (hold).
func labHelper(mode string) int {
	if mode == "crash" {
		pdeathsig = 0
	}
	l, err := create(nil, mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	a, err := l.addHost("a")
	if err == nil {
		_, err = l.addHost("b")
	}
	var p *Proc
	if err == nil {
		p, err = a.start("sleeper", "sleep", []string{"600"}, nil, "")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = l.remove()
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(leftovers{
		ID: l.id, Dir: l.dir, Record: l.record, Namespaces: l.Namespaces(), PID: p.pid, Start: p.start,
	})
	if mode == "crash" {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	select {}
}

// runLabHelper starts the test binary as a lab helper and returns what it
// reported, and the running helper.
func runLabHelper(t *testing.T, mode string) (leftovers, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "NETNS_HELPER="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got leftovers
	if err := json.NewDecoder(out).Decode(&got); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lab helper %s reported nothing: %v", mode, err)
	}
	return got, cmd
}

// namespaces lists the named network namespaces (ip netns list).
func namespaces(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// rootState is the root namespace's addresses, link names and routes.
func rootState(t *testing.T) (addrs, links, routes string) {
	t.Helper()
	run := func(args ...string) string {
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	var names []string
	for line := range strings.Lines(run("-o", "link")) {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	slices.Sort(names)
	return run("-o", "addr"), strings.Join(names, " "), run("route", "show", "table", "all")
}

// threadNetNS is the inode of the calling thread's network namespace.
func threadNetNS() (uint64, error) {
	fi, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}

// nsInode is the inode of a named namespace.
func nsInode(t *testing.T, ns string) uint64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(netnsDir, ns))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// procNetNS is the inode of a process's network namespace.
func procNetNS(pid int) (uint64, error) {
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}

// startEcho starts the echo helper in h on port and waits until another
// host can connect to it.
func startEcho(t *testing.T, h, from *Host, port uint16) *Proc {
	t.Helper()
	addr := h.AddrPort(port)
	p := h.Start("echo", os.Args[0], nil, []string{"NETNS_HELPER=echo", "NETNS_ADDR=" + addr}, "")
	if err := from.WaitTCP(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

// ask sends "ping" over c and reads the answer within wait.
func ask(c net.Conn, r *bufio.Reader, wait time.Duration) (string, error) {
	if _, err := fmt.Fprintln(c, "ping"); err != nil {
		return "", err
	}
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}
