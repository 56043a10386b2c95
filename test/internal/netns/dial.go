package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has entered the host's network
// namespace, and returns its error. A socket belongs to the namespace of
// the thread that created it, for its whole life, so a connection or
// listener fn opens stays the host's wherever it is used afterwards.
//
// Only the calling thread is switched: fn must create its sockets itself,
// not in goroutines it starts (those run on other threads, in the test's
// namespace). net.Dial to an IP address and net.Listen on one create the
// socket on the calling goroutine; a host name may be resolved in other
// goroutines, so use addresses. Do runs fn on a goroutine of its own,
// locked to its thread while the thread is in the host's namespace; it
// then switches the thread back and unlocks it. Should switching back
// fail, the goroutine returns still locked, and Go ends the thread (or,
// were it the process's main thread, parks it for good), so no other
// goroutine ever runs in a host's namespace by accident.
func (h *Host) Do(fn func() error) error { return inside(h.ns, fn) }

// inside runs fn on a thread in the namespace ns (see Host.Do).
func inside(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: the thread's own namespace: %w", err)
			return
		}
		defer unix.Close(home)
		if err := enter(ns); err != nil {
			// setns changes nothing when it fails.
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: entering %s: %w", ns, err)
			return
		}
		err = fn()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// noIPv6 turns IPv6 off in the namespace ns, for the interfaces it has
// and those it will get, so that hosts stay quiet on the bridge (no
// router solicitations, no duplicate address detection) and have IPv4
// addresses only. /proc/sys/net shows the namespace of the thread that
// opens it.
func noIPv6(ns string) error {
	return inside(ns, func() error {
		for _, f := range []string{"all", "default"} {
			path := "/proc/sys/net/ipv6/conf/" + f + "/disable_ipv6"
			if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
				return fmt.Errorf("netns: turning IPv6 off in %s: %w", ns, err)
			}
		}
		return nil
	})
}

// enter switches the calling thread into the named namespace.
func enter(ns string) error {
	fd, err := unix.Open(filepath.Join(netnsDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Setns(fd, unix.CLONE_NEWNET)
}

// DialContext connects from inside the host, as net.Dialer.DialContext
// does; address must hold an IP address, not a host name. With
// grpc.WithContextDialer it makes an in-process gRPC client (a
// fabric-gateway connection) dial as the host.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Listen listens inside the host, as net.Listen does; address must hold
// an IP address (the host's, or 127.0.0.1 for the host's own loopback)
// and a port below 32768.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := h.Do(func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// WaitTCP dials address from inside the host until a TCP connection is
// made, and fails if none is made within timeout. A connection only proves
// the kernel accepted it: a frozen process's listener still completes the
// handshake.
func (h *Host) WaitTCP(address string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		try, stop := context.WithTimeout(ctx, 500*time.Millisecond)
		c, err := h.DialContext(try, "tcp", address)
		stop()
		if err == nil {
			return c.Close()
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("netns: %s: no TCP connection to %s within %v: %w", h.name, address, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
