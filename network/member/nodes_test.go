package member

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/mtrace/mtrace/internal/configblock"
)

// The test binary doubles as a fake node: started as bin/orderer (a link
// to it) with MEMBER_FAKE_NODE set, it listens where the environment says
// and answers /healthz, as a node would, or ignores SIGTERM.
func TestMain(m *testing.M) {
	if mode := os.Getenv("MEMBER_FAKE_NODE"); mode != "" {
		os.Exit(fakeNode(mode))
	}
	os.Exit(m.Run())
}

func fakeNode(mode string) int {
	if mode == "exiting" {
		// What "lingering" became on TERM: no longer looking like the
		// node (another name, no environment) while it still holds the
		// node's port (fd 3), as a real process does between losing its
		// memory and closing its files.
		time.Sleep(time.Second)
		return 0
	}
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM) // before it answers /healthz: Start returns then
	}
	l, err := net.Listen("tcp", os.Getenv("MEMBER_FAKE_LISTEN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	if h := os.Getenv("MEMBER_FAKE_HEALTH"); h != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"OK"}`)) })
		go func() { _ = http.ListenAndServe(h, mux) }()
	}
	if mode == "lingering" {
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			f, err := l.(*net.TCPListener).File()
			if err == nil {
				err = syscall.Dup2(int(f.Fd()), 3)
			}
			if err == nil {
				var exe string
				if exe, err = os.Executable(); err == nil {
					err = syscall.Exec(exe, []string{"exiting"}, []string{"MEMBER_FAKE_NODE=exiting"})
				}
			}
			fmt.Fprintln(os.Stderr, "lingering:", err)
			os.Exit(1)
		}()
	}
	fmt.Println("fake node up")
	time.Sleep(time.Hour)
	return 0
}

// fakePorts is where the fake nodes listen: a range of their own, below
// testport's. A fake node binds its port after freePort has let it go, and
// the test binaries of other packages, run at the same time by go test,
// take ports from testport's range: one of them could take it in between.
const fakePortLow, fakePortHigh = 30600, 30999

var fakePortNext = fakePortLow + os.Getpid()%(fakePortHigh-fakePortLow+1)

// freePort is a port of fakePorts that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	for range fakePortHigh - fakePortLow + 1 {
		p := fakePortNext
		fakePortNext++
		if fakePortNext > fakePortHigh {
			fakePortNext = fakePortLow
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		require.NoError(t, l.Close())
		return p
	}
	t.Fatalf("no free port from %d to %d", fakePortLow, fakePortHigh)
	return 0
}

// fakeHome is an organisation's folder with its settings on 127.0.0.1
// and free ports, and a bin/ whose orderer is the fake node.
func fakeHome(t *testing.T, mode string) (*Home, string) {
	t.Helper()
	dir := t.TempDir()
	s := Settings{MSPID: "KaunasMSP", Node: "kaunas", Role: "collector", Name: "Kaunas", Host: "127.0.0.1",
		Ports: Ports{Peer: freePort(t), Orderer: freePort(t), OrdererAdmin: freePort(t), PeerOps: freePort(t),
			OrdererOps: freePort(t), CA: freePort(t), CAOps: freePort(t), Chaincode: freePort(t)}}
	s.Normalize()
	require.NoError(t, s.Validate())
	h := &Home{Dir: dir, Settings: s}
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	exe, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.Symlink(exe, filepath.Join(bin, "orderer")))
	t.Setenv("MEMBER_FAKE_NODE", mode)
	t.Setenv("MEMBER_FAKE_LISTEN", h.OrdererAddress())
	t.Setenv("MEMBER_FAKE_HEALTH", local(h.Ports.OrdererOps))
	t.Cleanup(func() { _, _ = h.Stop(bin, time.Second) })
	return h, bin
}

func TestOverlaySetsPathsWithoutRegardToCaseAndAddsMissingOnes(t *testing.T) {
	sample := []byte("# the sample\nGeneral:\n  # a comment\n  ListenAddress: 0.0.0.0\n  TLS:\n    Enabled: false\n    RootCAs:\n      - tls/ca.crt\n  Cluster:\nOther: 1\n")
	out, err := overlay(sample, map[string]any{
		"general.listenAddress":    "10.1.2.3",
		"General.TLS.Enabled":      true,
		"General.TLS.RootCAs":      []string{"/a", "/b"},
		"General.Cluster.SendSize": 10,
		"New.Deep.Key":             "x",
	})
	require.NoError(t, err)
	var got struct {
		General struct {
			ListenAddress string `yaml:"ListenAddress"`
			TLS           struct {
				Enabled bool     `yaml:"Enabled"`
				RootCAs []string `yaml:"RootCAs"`
			} `yaml:"TLS"`
			Cluster map[string]int `yaml:"Cluster"`
		} `yaml:"General"`
		Other int `yaml:"Other"`
		New   struct {
			Deep map[string]string `yaml:"Deep"`
		} `yaml:"New"`
	}
	require.NoError(t, yaml.Unmarshal(out, &got))
	assert.Equal(t, "10.1.2.3", got.General.ListenAddress, "the existing key, matched without regard to case")
	assert.True(t, got.General.TLS.Enabled)
	assert.Equal(t, []string{"/a", "/b"}, got.General.TLS.RootCAs, "a list replaces the sample's")
	assert.Equal(t, 10, got.General.Cluster["SendSize"], "a null parent becomes a mapping")
	assert.Equal(t, "x", got.New.Deep["Key"])
	assert.Equal(t, 1, got.Other, "what is not set stays")
	assert.NotContains(t, string(out), "listenAddress", "the sample's spelling of the key is kept")

	_, err = overlay([]byte("General: 3\n"), map[string]any{"General.TLS.Enabled": true})
	assert.ErrorContains(t, err, "General.TLS.Enabled: General is not a mapping")
	_, err = overlay([]byte("- a\n"), map[string]any{"x": 1})
	assert.ErrorContains(t, err, "not a YAML mapping")
}

// sampleDir writes a small stand-in for Fabric's sampleconfig: the keys
// the member sets, some with Fabric's values.
func sampleDir(t *testing.T) string {
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "orderer.yaml"), []byte(
		"General:\n  ListenAddress: 127.0.0.1\n  ListenPort: 7050\n  TLS:\n    Enabled: false\n    ClientAuthRequired: false\n  Keepalive:\n    ServerMinInterval: 60s\nAdmin:\n  ListenAddress: 127.0.0.1:9443\n  TLS:\n    Enabled: false\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(d, "core.yaml"), []byte(
		"peer:\n  id: jdoe\n  gossip:\n    bootstrap: 127.0.0.1:7051\nvm:\n  endpoint: unix:///var/run/docker.sock\nchaincode:\n  externalBuilders:\n    - name: ccaas_builder\n      path: /opt/hyperledger/ccaas_builder\n"), 0o644))
	return d
}

func builderDir(t *testing.T) string {
	d := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(d, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "bin", "run"), []byte("#!/bin/sh\n"), 0o755))
	return d
}

func TestWriteNodeConfigPutsTheMemberOnItsHostWithTLSAndItsBuilder(t *testing.T) {
	h, _ := fakeHome(t, "up")
	h.Host = "10.77.0.5"
	files := NodeFiles{Sample: sampleDir(t), Builder: builderDir(t)}
	changed, err := h.WriteNodeConfig(files)
	require.NoError(t, err)
	assert.Len(t, changed, 2)

	var o struct {
		General struct {
			ListenAddress string `yaml:"ListenAddress"`
			ListenPort    int    `yaml:"ListenPort"`
			LocalMSPID    string `yaml:"LocalMSPID"`
			TLS           struct {
				Enabled            bool     `yaml:"Enabled"`
				ClientAuthRequired bool     `yaml:"ClientAuthRequired"`
				Certificate        string   `yaml:"Certificate"`
				ClientRootCAs      []string `yaml:"ClientRootCAs"`
			} `yaml:"TLS"`
			Keepalive map[string]string `yaml:"Keepalive"`
			Cluster   struct {
				ReplicationPolicy string `yaml:"ReplicationPolicy"`
			} `yaml:"Cluster"`
		} `yaml:"General"`
		Admin struct {
			ListenAddress string `yaml:"ListenAddress"`
			TLS           struct {
				Enabled            bool `yaml:"Enabled"`
				ClientAuthRequired bool `yaml:"ClientAuthRequired"`
			} `yaml:"TLS"`
		} `yaml:"Admin"`
		Operations struct {
			ListenAddress string `yaml:"ListenAddress"`
		} `yaml:"Operations"`
		FileLedger struct {
			Location string `yaml:"Location"`
		} `yaml:"FileLedger"`
		ChannelParticipation struct {
			Enabled bool `yaml:"Enabled"`
		} `yaml:"ChannelParticipation"`
	}
	raw, err := os.ReadFile(filepath.Join(h.ConfigDir("orderer"), "orderer.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &o))
	assert.Equal(t, "10.77.0.5", o.General.ListenAddress, "the orderer faces the other members on the host's address")
	assert.Equal(t, h.Ports.Orderer, o.General.ListenPort)
	assert.Equal(t, "KaunasMSP", o.General.LocalMSPID)
	assert.True(t, o.General.TLS.Enabled && o.General.TLS.ClientAuthRequired, "TLS with client authentication")
	assert.Equal(t, filepath.Join(h.OrdererDir(), "tls", "server.crt"), o.General.TLS.Certificate)
	assert.Equal(t, []string{filepath.Join(h.OrdererDir(), "tls", "ca.crt")}, o.General.TLS.ClientRootCAs)
	assert.Equal(t, "60s", o.General.Keepalive["ServerMinInterval"], "Fabric's other settings stay")
	assert.Equal(t, "simple", o.General.Cluster.ReplicationPolicy, "a restarted consenter catches up through orderers that require client certificates")
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(h.Ports.OrdererAdmin), o.Admin.ListenAddress, "the admin endpoint stays on the host")
	assert.True(t, o.Admin.TLS.Enabled && o.Admin.TLS.ClientAuthRequired)
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(h.Ports.OrdererOps), o.Operations.ListenAddress)
	assert.Equal(t, filepath.Join(h.Dir, "data", "orderer", "ledger"), o.FileLedger.Location)
	assert.True(t, o.ChannelParticipation.Enabled)

	var p struct {
		Peer struct {
			ID            string `yaml:"id"`
			Address       string `yaml:"address"`
			ListenAddress string `yaml:"listenAddress"`
			ChaincodeAddr string `yaml:"chaincodeListenAddress"`
			Gossip        struct {
				Bootstrap        string `yaml:"bootstrap"`
				ExternalEndpoint string `yaml:"externalEndpoint"`
			} `yaml:"gossip"`
			TLS struct {
				Enabled bool `yaml:"enabled"`
			} `yaml:"tls"`
		} `yaml:"peer"`
		VM struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"vm"`
		Chaincode struct {
			ExternalBuilders []struct {
				Name                 string   `yaml:"name"`
				Path                 string   `yaml:"path"`
				PropagateEnvironment []string `yaml:"propagateEnvironment"`
			} `yaml:"externalBuilders"`
		} `yaml:"chaincode"`
	}
	raw, err = os.ReadFile(filepath.Join(h.ConfigDir("peer"), "core.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &p))
	addr := "10.77.0.5:" + strconv.Itoa(h.Ports.Peer)
	assert.Equal(t, h.PeerHost(), p.Peer.ID)
	assert.Equal(t, addr, p.Peer.Address)
	assert.Equal(t, addr, p.Peer.ListenAddress)
	assert.Equal(t, addr, p.Peer.Gossip.ExternalEndpoint, "service discovery hands the other members this address")
	assert.Equal(t, addr, p.Peer.Gossip.Bootstrap, "not Fabric's default 7051")
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(h.Ports.Chaincode), p.Peer.ChaincodeAddr)
	assert.True(t, p.Peer.TLS.Enabled)
	assert.Empty(t, p.VM.Endpoint, "no Docker")
	require.Len(t, p.Chaincode.ExternalBuilders, 1, "the sample's builder is replaced")
	assert.Equal(t, "mtrace-binary", p.Chaincode.ExternalBuilders[0].Name)
	assert.Equal(t, files.Builder, p.Chaincode.ExternalBuilders[0].Path)
	assert.Equal(t, []string{"MTRACE_HOME", "MTRACE_PEER"}, p.Chaincode.ExternalBuilders[0].PropagateEnvironment)

	changed, err = h.WriteNodeConfig(files)
	require.NoError(t, err)
	assert.Empty(t, changed, "written again, the same files are kept")

	// The members' cards: their TLS roots are trusted for client
	// certificates from the start.
	orgs, _ := consortium(t, "recycler", "maker")
	files.Members = []*Card{orgs["recycler"].Card, orgs["maker"].Card}
	changed, err = h.WriteNodeConfig(files)
	require.NoError(t, err)
	assert.Len(t, changed, 3, "two root files and orderer.yaml")
	raw, err = os.ReadFile(filepath.Join(h.ConfigDir("orderer"), "orderer.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &o))
	require.Len(t, o.General.TLS.ClientRootCAs, 3)
	assert.Equal(t, filepath.Join(h.OrdererDir(), "tls", "ca.crt"), o.General.TLS.ClientRootCAs[0])
	for i, msp := range []string{"MakerMSP", "RecyclerMSP"} {
		f := o.General.TLS.ClientRootCAs[i+1]
		assert.Equal(t, filepath.Join(h.ConfigDir("orderer"), "members", msp+"-tlsca.pem"), f)
		pem, err := os.ReadFile(f)
		require.NoError(t, err)
		want := map[string]string{"MakerMSP": orgs["maker"].Card.TLSRootCert, "RecyclerMSP": orgs["recycler"].Card.TLSRootCert}[msp]
		assert.Equal(t, want, string(pem))
	}
	bad := *orgs["maker"].Card
	bad.TLSRootCert = "not a certificate"
	files.Members = []*Card{&bad}
	_, err = h.WriteNodeConfig(files)
	assert.ErrorContains(t, err, "MakerMSP's card")
	files.Members = nil

	_, err = h.WriteNodeConfig(NodeFiles{Sample: t.TempDir(), Builder: files.Builder})
	assert.ErrorContains(t, err, "orderer.yaml", "a folder without Fabric's sample is named")
	_, err = h.WriteNodeConfig(NodeFiles{Sample: files.Sample, Builder: t.TempDir()})
	assert.ErrorContains(t, err, "no bin/run")
}

func configure(t *testing.T, h *Home) {
	_, err := h.WriteNodeConfig(NodeFiles{Sample: sampleDir(t), Builder: builderDir(t)})
	require.NoError(t, err)
	// Start checks that the identities are enrolled; the fake needs none.
	for _, x := range h.Org().Holders {
		f := filepath.Join(x.Dir, "msp", "signcerts", x.File+"-cert.pem")
		require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
		require.NoError(t, os.WriteFile(f, nil, 0o644))
	}
	require.NoError(t, os.MkdirAll(h.MSPDir(), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(h.MSPDir(), "config.yaml"), nil, 0o644))
}

func TestStartRecordsThePIDAndIsIdempotentAndStopEndsItByThatPID(t *testing.T) {
	h, bin := fakeHome(t, "up")
	configure(t, h)
	ctx := context.Background()

	started, err := h.Start(ctx, bin, NodeOrderer)
	require.NoError(t, err)
	assert.Equal(t, []string{NodeOrderer}, started)
	r, err := readPID(h.PIDFile(NodeOrderer))
	require.NoError(t, err)
	_, start, err := procStat(r.pid)
	require.NoError(t, err)
	assert.Equal(t, start, r.start, "the PID file records the process's start time")
	assert.True(t, procEnv(r.pid, "MTRACE_ORG_HOME="+h.Dir), "the node carries its folder in its environment")
	assert.True(t, procEnv(r.pid, "FABRIC_CFG_PATH="+h.ConfigDir(NodeOrderer)))
	sid, err := unix.Getsid(r.pid)
	require.NoError(t, err)
	assert.Equal(t, r.pid, sid, "detached: its own session")

	started, err = h.Start(ctx, bin, NodeOrderer)
	require.NoError(t, err)
	assert.Empty(t, started, "a running node is left alone")
	again, err := readPID(h.PIDFile(NodeOrderer))
	require.NoError(t, err)
	assert.Equal(t, r, again)

	st := h.Status(bin)
	require.Len(t, st, 3)
	assert.Equal(t, NodeState{Node: NodeOrderer, PID: r.pid, Healthy: true}, st[1])
	assert.Equal(t, NodeState{Node: NodePeer}, st[2])

	stopped, err := h.Stop(bin, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []string{NodeOrderer}, stopped)
	assert.NoFileExists(t, h.PIDFile(NodeOrderer))
	assert.True(t, ends(r), "the process has ended")
	stopped, err = h.Stop(bin, time.Second)
	require.NoError(t, err)
	assert.Empty(t, stopped, "stopping again does nothing")
}

func TestStopReturnsOnceTheNodeHasExitedAndFreedItsPort(t *testing.T) {
	h, bin := fakeHome(t, "lingering")
	configure(t, h)
	_, err := h.Start(context.Background(), bin, NodeOrderer)
	require.NoError(t, err)
	r, err := readPID(h.PIDFile(NodeOrderer))
	require.NoError(t, err)
	stopped, err := h.Stop(bin, 5*time.Second, NodeOrderer)
	require.NoError(t, err)
	assert.Equal(t, []string{NodeOrderer}, stopped)
	// At once, not eventually: a start right after a stop must find the
	// node's port free.
	assert.False(t, alive(r), "the process has exited")
	l, err := net.Listen("tcp", h.OrdererAddress())
	require.NoError(t, err, "the stopped node's port is free")
	require.NoError(t, l.Close())
}

func TestStopKillsANodeThatIgnoresTERM(t *testing.T) {
	h, bin := fakeHome(t, "stubborn")
	configure(t, h)
	_, err := h.Start(context.Background(), bin, NodeOrderer)
	require.NoError(t, err)
	r, err := readPID(h.PIDFile(NodeOrderer))
	require.NoError(t, err)
	t0 := time.Now()
	stopped, err := h.Stop(bin, 300*time.Millisecond, NodeOrderer)
	require.NoError(t, err)
	assert.Equal(t, []string{NodeOrderer}, stopped)
	assert.GreaterOrEqual(t, time.Since(t0), 300*time.Millisecond, "TERM first, KILL after the grace")
	assert.True(t, ends(r), "killed")
}

// ends reports whether the process of r is gone within a few seconds: no
// such process, a zombie, or another process that got the PID since. Stop
// returns once the process is no longer the node's, which an exiting
// process is before it has quite ended.
func ends(r pidRecord) bool {
	for range 100 {
		state, start, err := procStat(r.pid)
		if err != nil || state == 'Z' || state == 'X' || (r.start != 0 && start != r.start) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A PID file that names another process (the PID reused, or a process
// of another folder) is never signalled: it is taken for stale and
// replaced.
func TestAStalePIDFileIsNeverSignalled(t *testing.T) {
	h, bin := fakeHome(t, "up")
	configure(t, h)
	// A live process that is not ours: a sleep with our marker missing.
	other := exec.Command("sleep", "30")
	require.NoError(t, other.Start())
	t.Cleanup(func() { _ = other.Process.Kill(); _, _ = other.Process.Wait() })
	_, start, err := procStat(other.Process.Pid)
	require.NoError(t, err)

	for name, rec := range map[string]string{
		"another program":          fmt.Sprintf("%d %d\n", other.Process.Pid, start),
		"the PID reused since":     fmt.Sprintf("%d %d\n", other.Process.Pid, start+1),
		"a PID that is gone":       "999999999 1\n",
		"not a PID file":           "hello\n",
		"our own test process PID": fmt.Sprintf("%d\n", os.Getpid()),
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, writeFile(h.PIDFile(NodeOrderer), []byte(rec), 0o644))
			st := h.Status(bin)
			assert.Equal(t, NodeState{Node: NodeOrderer, Stale: true}, st[1])
			assert.NoFileExists(t, h.PIDFile(NodeOrderer), "the stale file is removed")

			require.NoError(t, writeFile(h.PIDFile(NodeOrderer), []byte(rec), 0o644))
			stopped, err := h.Stop(bin, time.Second, NodeOrderer)
			require.NoError(t, err)
			assert.Empty(t, stopped)
			state, _, err := procStat(other.Process.Pid)
			require.NoError(t, err)
			assert.NotEqual(t, byte('Z'), state, "the other process was not signalled")

			require.NoError(t, writeFile(h.PIDFile(NodeOrderer), []byte(rec), 0o644))
			started, err := h.Start(context.Background(), bin, NodeOrderer)
			require.NoError(t, err)
			assert.Equal(t, []string{NodeOrderer}, started, "a stale PID file does not stop a start")
			_, err = h.Stop(bin, time.Second, NodeOrderer)
			require.NoError(t, err)
		})
	}
}

func TestStartRefusesATakenPortAndReportsANodeThatStopsAtOnce(t *testing.T) {
	h, bin := fakeHome(t, "up")
	configure(t, h)
	l, err := net.Listen("tcp", h.OrdererAddress())
	require.NoError(t, err)
	_, err = h.Start(context.Background(), bin, NodeOrderer)
	assert.ErrorContains(t, err, "already in use")
	assert.NoFileExists(t, h.PIDFile(NodeOrderer))
	require.NoError(t, l.Close())

	// The fake cannot listen on a bad address: it exits, and start says
	// so with the log's tail.
	t.Setenv("MEMBER_FAKE_LISTEN", "256.0.0.1:1")
	_, err = h.Start(context.Background(), bin, NodeOrderer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "orderer stopped at once")
	assert.Contains(t, err.Error(), "256.0.0.1")
	assert.NoFileExists(t, h.PIDFile(NodeOrderer))

	_, err = h.Start(context.Background(), bin, "couchdb")
	assert.ErrorContains(t, err, `no node "couchdb"`)
	_, err = h.Start(context.Background(), bin, NodePeer)
	assert.ErrorContains(t, err, "peer", "no peer binary in bin/")
}

func TestStartNeedsTheConfiguration(t *testing.T) {
	h, bin := fakeHome(t, "up")
	_, err := h.Start(context.Background(), bin, NodeOrderer)
	assert.ErrorContains(t, err, "no configuration (write it with node config)")
}

func TestPackageIsReproducibleAndRunsWithTheBuilder(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "cc")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho chaincode\n"), 0o755))
	a, b := filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")
	require.NoError(t, Package(bin, "mtrace", a))
	require.NoError(t, Package(bin, "mtrace", b))
	ra, _ := os.ReadFile(a)
	rb, _ := os.ReadFile(b)
	assert.Equal(t, ra, rb, "the same binary gives the same bytes")
	id, err := PackageID(a)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(id, "mtrace:"))

	// network/builder's build copies <label>-cc out of code.tar.gz.
	out := t.TempDir()
	cmd := exec.Command("tar", "-xzf", a, "-C", out)
	require.NoError(t, cmd.Run())
	md, err := os.ReadFile(filepath.Join(out, "metadata.json"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"mtrace-binary","label":"mtrace"}`, string(md))
	require.NoError(t, exec.Command("tar", "-xzf", filepath.Join(out, "code.tar.gz"), "-C", out).Run())
	fi, err := os.Stat(filepath.Join(out, "mtrace-cc"))
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&0o100, "executable")

	assert.ErrorContains(t, Package(bin, "Bad Label", a), "label")
	assert.Error(t, Package(filepath.Join(dir, "missing"), "mtrace", filepath.Join(dir, "c.tar.gz")))
	assert.NoFileExists(t, filepath.Join(dir, "c.tar.gz"), "nothing written on bad input")
}

func TestWriteProfileGivesTheCLIItsOwnIdentitiesAndTheOtherMembersPeers(t *testing.T) {
	orgs, mail := consortium(t, "istanbul", "recycler", "maker", "certifier")
	var cards []*Card
	for _, o := range orgs {
		cards = append(cards, o.Card)
	}
	b, err := Genesis("circular", cards)
	require.NoError(t, err)
	gen := filepath.Join(mail, "genesis.block")
	require.NoError(t, WriteBlock(gen, b))
	raw, err := os.ReadFile(gen)
	require.NoError(t, err)
	hash, err := configblock.GenesisHash(raw)
	require.NoError(t, err)

	h := orgs["istanbul"].Home
	out := h.ProfileFile()
	changed, err := h.WriteProfile(out, gen, "", "", "mtrace")
	require.NoError(t, err)
	assert.True(t, changed)
	// The format of client/internal/config (which network/ cannot
	// import).
	type profile struct {
		Endpoint    string `yaml:"endpoint"`
		TLSRootCert string `yaml:"tlsRootCert"`
		ServerName  string `yaml:"serverName"`
		MSPID       string `yaml:"mspId"`
		Cert        string `yaml:"cert"`
		Key         string `yaml:"key"`
		Channel     string `yaml:"channel"`
		Genesis     string `yaml:"genesis"`
		CA          *struct {
			Name string `yaml:"name"`
		} `yaml:"ca"`
		Orderer *struct {
			Endpoint string `yaml:"endpoint"`
			TLSCert  string `yaml:"tlsCert"`
			TLSKey   string `yaml:"tlsKey"`
		} `yaml:"orderer"`
	}
	var f struct {
		DefaultProfile string             `yaml:"defaultProfile"`
		Profiles       map[string]profile `yaml:"profiles"`
	}
	file, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(file, &f))
	assert.Equal(t, "istanbul", f.DefaultProfile)
	var names []string
	for n := range f.Profiles {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"istanbul", "istanbul-admin", "peer-RecyclerMSP", "peer-MakerMSP", "peer-CertifierMSP"}, names)

	for name, user := range map[string]string{"istanbul": "User1", "istanbul-admin": "Admin"} {
		p, ok := f.Profiles[name]
		require.True(t, ok)
		assert.Equal(t, "IstanbulMSP", p.MSPID)
		assert.Equal(t, h.PeerAddress(), p.Endpoint)
		assert.Equal(t, h.PeerHost(), p.ServerName)
		assert.Equal(t, "circular", p.Channel, "the channel, from the genesis block")
		assert.Equal(t, hash, p.Genesis, "the genesis block's hash is pinned")
		assert.FileExists(t, p.Cert)
		assert.Contains(t, p.Cert, user+"@istanbul.mtrace.example")
		assert.FileExists(t, p.Key)
		assert.True(t, strings.HasPrefix(p.Key, h.Dir), "the key is the organisation's own")
		require.NotNil(t, p.Orderer)
		assert.Equal(t, h.OrdererAddress(), p.Orderer.Endpoint, "its own orderer")
		assert.FileExists(t, p.Orderer.TLSCert, "the TLS client certificate the orderers require")
		assert.FileExists(t, p.Orderer.TLSKey)
		require.NotNil(t, p.CA)
		assert.Equal(t, "ca-istanbul", p.CA.Name)
	}
	p := f.Profiles["peer-RecyclerMSP"]
	assert.Equal(t, "RecyclerMSP", p.MSPID)
	assert.Equal(t, net.JoinHostPort(orgs["recycler"].Card.Peer.Host, strconv.Itoa(orgs["recycler"].Card.Peer.Port)), p.Endpoint, "the anchor peer")
	assert.Empty(t, p.Cert, "no identity goes with another member's peer")
	assert.Empty(t, p.Key)
	roots, err := os.ReadFile(p.TLSRootCert)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(orgs["recycler"].Card.TLSRootCert), strings.TrimSpace(string(roots)), "its TLS roots, from the channel configuration")

	changed, err = h.WriteProfile(out, gen, "", "", "mtrace")
	require.NoError(t, err)
	assert.False(t, changed, "written again: kept")

	// A block that is not the genesis block is refused, and nothing is
	// written.
	b.Header.Number = 1
	other := filepath.Join(mail, "one.block")
	require.NoError(t, WriteBlock(other, b))
	_, err = h.WriteProfile(filepath.Join(t.TempDir(), "c.yaml"), other, "", "", "mtrace")
	assert.ErrorContains(t, err, "is not a genesis block")
}

// A process whose leader has exited counts as alive while other threads
// of it remain: they hold its files, and so its ports.
func TestThreadsLeft(t *testing.T) {
	assert.True(t, threadsLeft(os.Getpid()), "a Go process runs several threads")
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	assert.False(t, threadsLeft(cmd.Process.Pid), "sleep has one thread, its leader")
	require.NoError(t, cmd.Process.Kill())
	_, _ = cmd.Process.Wait()
	assert.False(t, threadsLeft(cmd.Process.Pid), "no such process")
}
