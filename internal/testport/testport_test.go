package testport

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func port(t *testing.T, addr net.Addr) int {
	_, p, err := net.SplitHostPort(addr.String())
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

func TestListenStaysInTheRange(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		lis := Listen(t)
		p := port(t, lis.Addr())
		assert.GreaterOrEqual(t, p, Low)
		assert.LessOrEqual(t, p, High)
		assert.Equal(t, "127.0.0.1", lis.Addr().(*net.TCPAddr).IP.String())
		assert.False(t, seen[p], "a port in use is not given twice")
		seen[p] = true
	}
}

func TestServers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, s := range []struct {
		name string
		srv  func() (string, *http.Client)
	}{
		{"plain", func() (string, *http.Client) { s := NewServer(t, h); return s.URL, s.Client() }},
		{"tls", func() (string, *http.Client) { s := NewTLSServer(t, h); return s.URL, s.Client() }},
	} {
		url, c := s.srv()
		res, err := c.Get(url)
		require.NoError(t, err, s.name)
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		assert.Equal(t, "ok", string(body), s.name)
	}
}
