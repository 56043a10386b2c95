//go:build e2e

package member

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/testport"
)

// fabricBin is the repository's bin/ with the Fabric binaries (make fabric).
func fabricBin(t *testing.T) string {
	dir, err := filepath.Abs("../../bin")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "orderer"), "the Fabric binaries (make fabric)")
	return dir
}

// sampleConfig is Fabric's sample configuration folder, from the module
// network/tools pins.
func sampleConfig(t *testing.T) string {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hyperledger/fabric")
	cmd.Dir = "../tools"
	out, err := cmd.Output()
	require.NoError(t, err)
	return filepath.Join(strings.TrimSpace(string(out)), "sampleconfig")
}

func freePorts(t *testing.T) Ports {
	p := func() int {
		l := testport.Listen(t)
		port := l.Addr().(interface{ String() string }).String()
		require.NoError(t, l.Close())
		var n int
		_, err := fmt.Sscanf(port[strings.LastIndex(port, ":")+1:], "%d", &n)
		require.NoError(t, err)
		return n
	}
	return Ports{Peer: p(), Orderer: p(), OrdererAdmin: p(), PeerOps: p(), OrdererOps: p(), CAOps: p()}
}

// startOrderer runs the organisation's orderer from its own folder, as
// the organisation would on its host; it is stopped by its PID when the
// test ends.
func startOrderer(t *testing.T, bin, sample string, o *testOrg) {
	d := o.OrdererDir()
	data := filepath.Join(o.Dir, "data", "orderer")
	require.NoError(t, os.MkdirAll(data, 0o755))
	logf, err := os.Create(filepath.Join(o.Dir, "orderer.log"))
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(bin, "orderer"))
	cmd.Env = append(os.Environ(),
		"FABRIC_CFG_PATH="+sample,
		"FABRIC_LOGGING_SPEC=info",
		"ORDERER_GENERAL_LISTENADDRESS=127.0.0.1",
		fmt.Sprintf("ORDERER_GENERAL_LISTENPORT=%d", o.Ports.Orderer),
		"ORDERER_GENERAL_LOCALMSPID="+o.MSPID,
		"ORDERER_GENERAL_LOCALMSPDIR="+filepath.Join(d, "msp"),
		"ORDERER_GENERAL_BOOTSTRAPMETHOD=none",
		"ORDERER_GENERAL_TLS_ENABLED=true",
		"ORDERER_GENERAL_TLS_CERTIFICATE="+filepath.Join(d, "tls", "server.crt"),
		"ORDERER_GENERAL_TLS_PRIVATEKEY="+filepath.Join(d, "tls", "server.key"),
		"ORDERER_GENERAL_TLS_ROOTCAS=["+filepath.Join(d, "tls", "ca.crt")+"]",
		"ORDERER_CHANNELPARTICIPATION_ENABLED=true",
		"ORDERER_FILELEDGER_LOCATION="+filepath.Join(data, "ledger"),
		"ORDERER_CONSENSUS_WALDIR="+filepath.Join(data, "wal"),
		"ORDERER_CONSENSUS_SNAPDIR="+filepath.Join(data, "snap"),
		fmt.Sprintf("ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:%d", o.Ports.OrdererOps),
		fmt.Sprintf("ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:%d", o.Ports.OrdererAdmin),
		"ORDERER_ADMIN_TLS_ENABLED=true",
		"ORDERER_ADMIN_TLS_CERTIFICATE="+filepath.Join(d, "tls", "server.crt"),
		"ORDERER_ADMIN_TLS_PRIVATEKEY="+filepath.Join(d, "tls", "server.key"),
		"ORDERER_ADMIN_TLS_ROOTCAS=["+filepath.Join(d, "tls", "ca.crt")+"]",
		"ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true",
		"ORDERER_ADMIN_TLS_CLIENTROOTCAS=["+filepath.Join(d, "tls", "ca.crt")+"]",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		_ = logf.Close()
		if t.Failed() {
			raw, _ := os.ReadFile(logf.Name())
			t.Logf("%s orderer log (tail):\n%s", o.MSPID, tail(string(raw), 3000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Four members' real orderers join the genesis block Genesis built from
// their cards and become BFT consenters of a channel that makes blocks.
func TestRealOrderersJoinTheGenesisBlock(t *testing.T) {
	bin, sample := fabricBin(t), sampleConfig(t)
	orgs, mail := consortiumAt(t, func(int) (string, Ports) { return "127.0.0.1", freePorts(t) },
		"istanbul", "recycler", "maker", "certifier")
	var cards []*Card
	for _, o := range orgs {
		cards = append(cards, o.Card)
		startOrderer(t, bin, sample, o)
	}
	b, err := Genesis("circular", cards)
	require.NoError(t, err)
	f := filepath.Join(mail, "genesis.block")
	require.NoError(t, WriteBlock(f, b))
	raw, err := os.ReadFile(f)
	require.NoError(t, err)
	ctx := context.Background()
	for _, o := range orgs {
		var err error
		for range 50 { // the admin endpoint comes up with the orderer
			if _, _, err = o.JoinOrderer(ctx, b, raw); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.NoError(t, err, o.MSPID)
		_, joined, err := o.JoinOrderer(ctx, b, raw)
		require.NoError(t, err)
		require.False(t, joined, "a second join leaves the orderer as it is")
	}
	for _, o := range orgs {
		require.Eventually(t, func() bool {
			info, ok, err := o.OrdererChannel(ctx, "circular")
			return err == nil && ok && info.ConsensusRelation == "consenter" && info.Status == "active"
		}, 30*time.Second, 200*time.Millisecond, "%s's orderer is an active consenter", o.MSPID)
	}
}
