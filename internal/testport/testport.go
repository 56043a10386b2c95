// Package testport gives tests listeners on 127.0.0.1 at ports below the
// kernel's ephemeral range (32768 and up), as the project asks of every
// listener it starts: a listener on port 0 would get a port inside that
// range, where it can meet the kernel's own outgoing connections.
//
// Ports come from Low to High, above every base port the networks of the
// scripts use (27000 for the demo, 28000 for the tests, 30000 for the
// benchmark and 30200 for its Raft network, each with 130 ports, and
// base+200 for the projection tests' PostgreSQL), so a unit test never
// takes a port a running network needs.
package testport

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
)

// The range ports come from.
const (
	Low  = 31000
	High = 32767
)

// next spreads the packages go test runs at once over the range: each
// process starts at its own offset and walks on from there.
var next atomic.Int64

func init() { next.Store(int64(os.Getpid()*131) % (High - Low + 1)) }

// Listen returns a TCP listener on 127.0.0.1 at a free port of the range,
// closed when the test ends.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	lis, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	return lis
}

func listen() (net.Listener, error) {
	span := int64(High - Low + 1)
	for range span {
		port := Low + next.Add(1)%span
		lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return lis, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("testport: no free port on 127.0.0.1 from %d to %d", Low, High)
}

// NewServer is httptest.NewServer on a port of the range.
func NewServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	s := unstarted(t, h)
	s.Start()
	return s
}

// NewTLSServer is httptest.NewTLSServer on a port of the range.
func NewTLSServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	s := unstarted(t, h)
	s.StartTLS()
	return s
}

func unstarted(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	_ = s.Listener.Close()
	s.Listener = Listen(t)
	t.Cleanup(s.Close)
	return s
}
