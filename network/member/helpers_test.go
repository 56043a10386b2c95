package member

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
	"github.com/mtrace/mtrace/network/pki"
)

// testOrg is one organisation's folder, enrolled from a fake CA, and its card.
type testOrg struct {
	*Home
	Card     *Card
	CardFile string
}

// consortium makes one folder per named organisation (node names), each
// enrolled at its own CAs of one in-process Fabric CA server, as init
// does with the organisation's own fabric-ca-server, and exports each
// card into a shared folder, as the members would mail them.
func consortium(t *testing.T, nodes ...string) (map[string]*testOrg, string) {
	t.Helper()
	return consortiumAt(t, nil, nodes...)
}

// consortiumAt is consortium with each organisation's host and ports
// from at (nil: 10.77.0.<i+1> and the default ports).
func consortiumAt(t *testing.T, at func(i int) (string, Ports), nodes ...string) (map[string]*testOrg, string) {
	t.Helper()
	var names []string
	for _, n := range nodes {
		names = append(names, "ca-"+n, "tlsca-"+n)
	}
	srv := fabcatest.New(t, names...)
	mail := t.TempDir()
	orgs := map[string]*testOrg{}
	for i, n := range nodes {
		dir := t.TempDir()
		host, ports := "10.77.0."+string(rune('1'+i)), DefaultPorts
		if at != nil {
			host, ports = at(i)
		}
		ports.CA = srv.Port()
		s := Settings{MSPID: strings.ToUpper(n[:1]) + n[1:] + "MSP", Node: n, Role: "recycler", Name: n + " recyclers",
			Host: host, Ports: ports}
		h, err := Init(dir, s)
		require.NoError(t, err)
		secret, err := os.ReadFile(filepath.Join(pki.ServerDir(dir, h.CA()), "registrar.secret"))
		require.NoError(t, err)
		srv.AddUser("ca-"+n, pki.Registrar, strings.TrimSpace(string(secret)), "client")
		srv.AddUser("tlsca-"+n, pki.Registrar, strings.TrimSpace(string(secret)), "client")
		require.NoError(t, os.WriteFile(pki.TLSRoot(dir, h.CA()), srv.TLSRootPEM, 0o644))
		_, err = h.Enrol(context.Background())
		require.NoError(t, err)
		c, err := h.Export()
		require.NoError(t, err)
		f := filepath.Join(mail, n+".member.json")
		require.NoError(t, WriteCard(f, c))
		orgs[n] = &testOrg{Home: h, Card: c, CardFile: f}
	}
	return orgs, mail
}
