package member

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With Via set, the organisation's transactions go to that orderer,
// trusted by its organisation's TLS root, still with the organisation's
// own admin's TLS client certificate.
func TestApproveGoesToViaFirst(t *testing.T) {
	h := testHome(t)
	h.Via = &Via{Addr: "127.0.0.1:24003", ServerName: "orderer0.auditor.mtrace.local", CAFile: "/net/tlsca.auditor-cert.pem"}
	p := newFakePeer(t)
	d := definition()
	p.answer(t, "querycommitted", "", "Error: query failed with status: 404 - namespace mtrace is not defined\n", 1)
	p.answer(t, "checkcommitreadiness", `{"approvals":{"KaunasMSP":false}}`, "", 0)
	_, err := h.Approve(context.Background(), p.bin, d)
	require.NoError(t, err)
	runs := p.runs(t)
	require.Len(t, runs, 3)
	tls := filepath.Join(h.AdminDir(), "tls")
	assert.Equal(t, []string{"-o", "127.0.0.1:24003", "--ordererTLSHostnameOverride", "orderer0.auditor.mtrace.local",
		"--tls", "--cafile", "/net/tlsca.auditor-cert.pem", "--clientauth",
		"--certfile", filepath.Join(tls, "client.crt"), "--keyfile", filepath.Join(tls, "client.key")}, runs[2].args[3:15])
	assert.True(t, slices.Contains(runs[2].args, "approveformyorg"))
	assert.Equal(t, wantEnv(h), runs[2].env, "as the organisation's admin, against its own peer")
}
