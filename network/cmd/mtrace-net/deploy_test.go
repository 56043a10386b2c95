package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/network/member"
)

func TestVersionNamesThePackageAndThePolicy(t *testing.T) {
	id := "mtrace:" + strings.Repeat("ab", 32)
	sum := sha256.Sum256([]byte(id + " OutOf(2, 'A.peer', 'B.peer')"))
	assert.Equal(t, hex.EncodeToString(sum[:])[:12], ccVersion(id, "OutOf(2, 'A.peer', 'B.peer')"),
		"the version network.sh gave a definition, so that a running network is up to date after the change")
	assert.NotEqual(t, ccVersion(id, "OutOf(2, 'A.peer', 'B.peer')"), ccVersion(id, "OutOf(2, 'A.peer', 'C.peer')"))
	assert.NotEqual(t, ccVersion(id, "p"), ccVersion("mtrace:"+strings.Repeat("cd", 32), "p"))
}

// deployNet is an enrolled network with a fake peer CLI, a chaincode
// package in HOME/cc and a deployer for it.
func deployNet(t *testing.T) (*env, *deployer, string, func() []string, *bytes.Buffer) {
	e := enrolled(t)
	runs := withFakePeer(t, e)
	bin := filepath.Join(t.TempDir(), "mtrace-cc")
	require.NoError(t, os.WriteFile(bin, []byte("a chaincode binary"), 0o755))
	pkg := filepath.Join(e.home, "cc", "mtrace.tar.gz")
	require.NoError(t, member.Package(bin, "mtrace", pkg))
	top, err := e.topology()
	require.NoError(t, err)
	hs, err := homes(top, e.base, e.home, nil)
	require.NoError(t, err)
	var out bytes.Buffer
	return e, &deployer{hs: hs, peer: e.peer, out: &out}, pkg, runs, &out
}

func answer(t *testing.T, e *env, sub, out string, rc int) {
	dir := filepath.Dir(e.peer)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer."+sub+".out"), []byte(out), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer."+sub+".rc"), []byte{byte('0' + rc)}, 0o644))
}

func TestDeployLeavesAnUpToDateDefinition(t *testing.T) {
	e, d, pkg, runs, out := deployNet(t)
	id, err := member.PackageID(pkg)
	require.NoError(t, err)
	answer(t, e, "querycommitted", `{"version":"`+ccVersion(id, "P")+`","sequence":3}`, 0)
	require.NoError(t, d.deploy(context.Background(), "circular", "mtrace", pkg, "P"))
	assert.Equal(t, "chaincode mtrace up to date (version "+ccVersion(id, "P")+", sequence 3)\n", out.String())
	assert.Equal(t, []string{"MunicipalityMSP 127.0.0.1:27100 lifecycle chaincode querycommitted -C circular -n mtrace -O json"}, runs(),
		"one question to the first organisation's peer, nothing else")
}

// A changed package or policy is the next sequence: every organisation
// installs it on its own peer and approves it as its own admin, each
// through its own orderer (no leader here), then the first commits.
func TestDeployInstallsAndApprovesForEveryOrganisation(t *testing.T) {
	e, d, pkg, runs, out := deployNet(t)
	id, err := member.PackageID(pkg)
	require.NoError(t, err)
	answer(t, e, "querycommitted", `{"version":"0123456789ab","sequence":3}`, 0)
	answer(t, e, "queryinstalled", `{"installed_chaincodes":[]}`, 0)
	answer(t, e, "checkcommitreadiness", `{"approvals":{}}`, 0)
	levelled := false
	d.level = func(context.Context) error { levelled = true; return nil }
	err = d.deploy(context.Background(), "circular", "mtrace", pkg, "P")
	// The commit reads the channel's configuration from the first
	// organisation's orderer, which does not run here.
	require.Error(t, err)
	assert.Contains(t, err.Error(), "commit: ")
	assert.True(t, levelled, "the peers were levelled before the commit")
	v := ccVersion(id, "P")
	assert.Equal(t, "deploying chaincode mtrace version "+v+" as sequence 4 (was 0123456789ab)\ninstalled on 4 peers\napproved by 4 organisations\n", out.String())
	got := strings.Join(runs(), "\n")
	for _, o := range []struct{ msp, peer, orderer, domain string }{
		{"MunicipalityMSP", "27100", "27000", "municipality"}, {"RecyclerMSP", "27101", "27001", "recycler"},
		{"MakerMSP", "27102", "27002", "maker"}, {"AuditorMSP", "27103", "27003", "auditor"},
	} {
		assert.Contains(t, got, o.msp+" 127.0.0.1:"+o.peer+" lifecycle chaincode install "+pkg)
		admin := filepath.Join(e.home, "crypto", "peerOrganizations", o.domain+".mtrace.local", "users", "Admin@"+o.domain+".mtrace.local", "tls")
		assert.Contains(t, got, o.msp+" 127.0.0.1:"+o.peer+" lifecycle chaincode approveformyorg -o 127.0.0.1:"+o.orderer+
			" --ordererTLSHostnameOverride orderer0."+o.domain+".mtrace.local --tls --cafile "+filepath.Join(admin, "ca.crt")+
			" --clientauth --certfile "+filepath.Join(admin, "client.crt")+" --keyfile "+filepath.Join(admin, "client.key")+
			" -C circular -n mtrace --version "+v+" --sequence 4 --signature-policy P --package-id "+id)
	}
}

func TestDeployStopsAtTheFirstFailedStep(t *testing.T) {
	e, d, pkg, runs, out := deployNet(t)
	answer(t, e, "querycommitted", "Error: namespace mtrace is not defined", 1)
	answer(t, e, "queryinstalled", `{"installed_chaincodes":[]}`, 0)
	answer(t, e, "install", "Error: chaincode install failed", 1)
	err := d.deploy(context.Background(), "circular", "mtrace", pkg, "P")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "install: ")
	assert.Contains(t, err.Error(), "recycler: peer [lifecycle chaincode install")
	assert.Contains(t, out.String(), "as sequence 1 (was -)")
	assert.NotContains(t, strings.Join(runs(), "\n"), "approveformyorg", "nothing approved after a failed install")

	answer(t, e, "querycommitted", "Error: cannot connect", 1)
	err = d.deploy(context.Background(), "circular", "mtrace", pkg, "P")
	assert.ErrorContains(t, err, "the committed definition: ")
	err = d.deploy(context.Background(), "circular", "mtrace", filepath.Join(t.TempDir(), "none.tar.gz"), "P")
	assert.ErrorContains(t, err, "no such file")
}

func TestLevelPeersWaitsForEveryPeersHeight(t *testing.T) {
	_, d, _, _, _ := deployNet(t)
	// Every peer's metrics say 7 blocks; the auditor's, a while, 5.
	var asked atomic.Int32
	auditor := atomic.Int32{}
	auditor.Store(7)
	for _, h := range d.hs {
		h.Ports.PeerOps = opsServerFunc(t, func() string {
			asked.Add(1)
			n := int32(7)
			if h.Node == "auditor" {
				n = auditor.Load()
			}
			return fmt.Sprintf("ledger_blockchain_height{channel=\"circular\"} %d\n", n)
		})
	}
	require.NoError(t, levelPeers(d.hs, "circular", time.Second)(context.Background()))
	assert.GreaterOrEqual(t, asked.Load(), int32(2*len(d.hs)), "every peer is asked, at the start and once more")
	// A peer behind the others' height is waited for, and named.
	auditor.Store(5)
	err := levelPeers(d.hs, "circular", 300*time.Millisecond)(context.Background())
	assert.EqualError(t, err, "peers auditor did not reach height 7 within 300ms")
	// A peer that does not answer is behind too, however high the others.
	d.hs[1].Ports.PeerOps = freePort(t)
	err = levelPeers(d.hs, "circular", 300*time.Millisecond)(context.Background())
	assert.EqualError(t, err, "peers recycler, auditor did not reach height 7 within 300ms")
}
