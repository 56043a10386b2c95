// Package testnet is what the end-to-end tests share: it runs the real
// mtrace binary against the live local network, opens fabric-gateway
// connections from the profiles that `scripts/network.sh up` writes, reads
// each peer's block height, and stops and starts single nodes through the
// network script.
//
// The tests that use it run only under `make test` (build tag e2e), which
// brings a fresh network up first and exports MTRACE_CONFIG, MTRACE_HOME and
// MTRACE_BIN.
package testnet

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// Env is the live network as the test harness sees it.
type Env struct {
	Config   string // the CLI config file
	Home     string // the network's runtime folder
	Bin      string // folder holding the mtrace binary
	Root     string // the repository
	Profiles map[string]Profile
}

// Profile is one entry of the CLI config file.
type Profile struct {
	Endpoint    string `yaml:"endpoint"`
	TLSRootCert string `yaml:"tlsRootCert"`
	ServerName  string `yaml:"serverName"`
	MSPID       string `yaml:"mspId"`
	Cert        string `yaml:"cert"`
	Key         string `yaml:"key"`
	Channel     string `yaml:"channel"`
	Chaincode   string `yaml:"chaincode"`
	Orderer     struct {
		Endpoint    string `yaml:"endpoint"`
		TLSRootCert string `yaml:"tlsRootCert"`
		ServerName  string `yaml:"serverName"`
		TLSCert     string `yaml:"tlsCert"`
		TLSKey      string `yaml:"tlsKey"`
	} `yaml:"orderer"`
}

// Load reads the environment that `make test` sets up. A missing variable
// fails the test run: these tests never pass without a network.
func Load() (*Env, error) {
	e := &Env{Config: os.Getenv("MTRACE_CONFIG"), Home: os.Getenv("MTRACE_HOME"), Bin: os.Getenv("MTRACE_BIN")}
	if e.Config == "" || e.Home == "" || e.Bin == "" {
		return nil, errors.New("MTRACE_CONFIG, MTRACE_HOME and MTRACE_BIN must be set: run these tests with `make test` or `make test-e2e`")
	}
	raw, err := os.ReadFile(e.Config)
	if err != nil {
		return nil, fmt.Errorf("read CLI config: %w", err)
	}
	var cfg struct {
		Profiles map[string]Profile `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", e.Config, err)
	}
	e.Profiles = cfg.Profiles
	e.Root = filepath.Dir(e.Bin)
	return e, nil
}

// Result is what one run of the mtrace binary did.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int
}

func (r Result) String() string {
	return fmt.Sprintf("mtrace %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// Run runs `mtrace -p profile args...` and returns what it printed.
func (e *Env) Run(t testing.TB, profile string, args ...string) Result {
	t.Helper()
	full := append([]string{"-p", profile}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.Bin, "mtrace"), full...)
	cmd.Env = append(os.Environ(), "MTRACE_CONFIG="+e.Config)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Args: full, Stdout: out.String(), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run mtrace %v: %v", full, err)
	}
	return res
}

// MustRun is Run that fails the test unless the command exits 0.
func (e *Env) MustRun(t testing.TB, profile string, args ...string) Result {
	t.Helper()
	r := e.Run(t, profile, args...)
	if r.Code != 0 {
		t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// JSON runs a command with -o json, requires exit 0, and decodes stdout.
func (e *Env) JSON(t testing.TB, v any, profile string, args ...string) {
	t.Helper()
	r := e.MustRun(t, profile, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("decode JSON of %v: %v\n%s", r.Args, err, r.Stdout)
	}
}

// Gateway opens a fabric-gateway connection as the given profile. Close it
// with the returned function.
func (e *Env) Gateway(profile string, opts ...client.ConnectOption) (*client.Gateway, func(), error) {
	p, ok := e.Profiles[profile]
	if !ok {
		return nil, nil, fmt.Errorf("no profile %q in %s", profile, e.Config)
	}
	return Connect(p, opts...)
}

// Connect opens a gateway connection for a profile.
func Connect(p Profile, opts ...client.ConnectOption) (*client.Gateway, func(), error) {
	rootPEM, err := os.ReadFile(p.TLSRootCert)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(rootPEM)
	conn, err := grpc.NewClient(p.Endpoint, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, p.ServerName)))
	if err != nil {
		return nil, nil, err
	}
	id, sign, err := Signer(p.MSPID, p.Cert, p.Key)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	base := []client.ConnectOption{
		client.WithSign(sign), client.WithHash(hash.SHA256), client.WithClientConnection(conn),
		client.WithEvaluateTimeout(30 * time.Second), client.WithEndorseTimeout(30 * time.Second),
		client.WithSubmitTimeout(30 * time.Second), client.WithCommitStatusTimeout(time.Minute),
	}
	gw, err := client.Connect(id, append(base, opts...)...)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return gw, func() { gw.Close(); conn.Close() }, nil
}

// Signer loads an X.509 identity and its private key from PEM files.
func Signer(msp, certPath, keyPath string) (*identity.X509Identity, identity.Sign, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, nil, err
	}
	id, err := identity.NewX509Identity(msp, cert)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, nil, err
	}
	sign, err := identity.NewPrivateKeySign(key)
	return id, sign, err
}

// Height returns the channel's block height as the profile's peer sees it,
// asking the peer's query system chaincode.
func (e *Env) Height(profile string) (uint64, error) {
	gw, done, err := e.Gateway(profile)
	if err != nil {
		return 0, err
	}
	defer done()
	p := e.Profiles[profile]
	raw, err := gw.GetNetwork(p.Channel).GetContract("qscc").EvaluateTransaction("GetChainInfo", p.Channel)
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, err
	}
	return info.GetHeight(), nil
}

// Network runs scripts/network.sh with the given arguments.
func (e *Env) Network(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.Root, "scripts", "network.sh"), args...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("network.sh %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// PID returns the recorded PID of a node, such as maker-orderer or maker.
func (e *Env) PID(node string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(e.Home, "pids", node+".pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(raw)))
}

// Eventually polls cond every interval until it returns nil or the timeout
// passes, and returns the last error.
func Eventually(timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(interval)
	}
}

// BasePort is the network's base port (MTRACE_BASE_PORT, default 27000).
func BasePort() int {
	if p, err := strconv.Atoi(os.Getenv("MTRACE_BASE_PORT")); err == nil && p > 0 {
		return p
	}
	return 27000
}

// OpsAddr is the operations (health and metrics) address of a node of
// the four founding members or of kaunas, whom the add-org suite admits
// into the first free slot: a peer (municipality, recycler, maker,
// auditor, kaunas) or a member's orderer (<member>-orderer).
func OpsAddr(node string) (string, error) {
	b := BasePort()
	slots := map[string]int{"municipality": 0, "recycler": 1, "maker": 2, "auditor": 3, "kaunas": 4}
	if org, ok := strings.CutSuffix(node, "-orderer"); ok {
		j, ok := slots[org]
		if !ok {
			return "", fmt.Errorf("no orderer %q", node)
		}
		return fmt.Sprintf("127.0.0.1:%d", b+20+j), nil
	}
	j, ok := slots[node]
	if !ok {
		return "", fmt.Errorf("no node %q", node)
	}
	return fmt.Sprintf("127.0.0.1:%d", b+120+j), nil
}

// Metric reads one Prometheus gauge of a node for the channel, such as
// ledger_blockchain_height or consensus_BFT_is_leader.
func Metric(node, name, channel string) (float64, error) {
	addr, err := OpsAddr(node)
	if err != nil {
		return 0, err
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	prefix := fmt.Sprintf("%s{channel=%q} ", name, channel)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s has no metric %s for channel %s", node, name, channel)
}

// Alive reports whether a process with this PID runs. A zombie (exited,
// not yet reaped by its parent) does not.
func Alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	return len(f) == 0 || f[0] != "Z"
}

// Orderers are the node names of the four founding members' orderers,
// the channel's SmartBFT consenters (network/member's Genesis numbers
// them 1 to 4 in MSP ID order: auditor, maker, municipality, recycler).
var Orderers = []string{"municipality-orderer", "recycler-orderer", "maker-orderer", "auditor-orderer"}

// Peers are the profiles of the four member organisations, one per peer.
var Peers = []string{"municipality", "recycler", "maker", "auditor"}

// Channel is the channel the profiles use.
func (e *Env) Channel() string { return e.Profiles["municipality"].Channel }

// Heights reads the block height of every member organisation's peer.
func (e *Env) Heights() (map[string]uint64, error) {
	hs := map[string]uint64{}
	for _, p := range Peers {
		h, err := e.Height(p)
		if err != nil {
			return nil, fmt.Errorf("height of %s: %w", p, err)
		}
		hs[p] = h
	}
	return hs, nil
}

// Agreed waits until all four peers report the same height, at least min,
// and returns it.
func (e *Env) Agreed(timeout time.Duration, min uint64) (uint64, error) {
	var h uint64
	err := Eventually(timeout, 200*time.Millisecond, func() error {
		hs, err := e.Heights()
		if err != nil {
			return err
		}
		h = hs["municipality"]
		for _, v := range hs {
			if v != h || v < min {
				return fmt.Errorf("peer heights differ or lag: %v (want all >= %d)", hs, min)
			}
		}
		return nil
	})
	return h, err
}

// Reload reads the CLI config file again: the network's tooling rewrites
// it when an organisation joins or leaves.
func (e *Env) Reload() error {
	n, err := Load()
	if err != nil {
		return err
	}
	*e = *n
	return nil
}

// Membership is the channel's configuration as an orderer has it: the
// number of its config block, its member organisations' MSP IDs and the
// MSP IDs of its SmartBFT consenters.
type Membership struct {
	ConfigBlock uint64   `json:"configBlock"`
	Members     []string `json:"members"`
	Consenters  []string `json:"consenters"`
}

// Membership asks an orderer for the channel's current configuration,
// through bin/mtrace-net.
func (e *Env) Membership() (Membership, error) {
	var m Membership
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.Bin, "mtrace-net"), "channel", "show", "-o", "json")
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		return m, fmt.Errorf("mtrace-net channel show: %w", err)
	}
	return m, json.Unmarshal(out, &m)
}

// StatusHeights runs `network.sh status` and returns the block height it
// printed for each peer ("-" for a peer that does not answer is an error).
func (e *Env) StatusHeights() (map[string]uint64, error) {
	out, err := e.Network("status")
	if err != nil {
		return nil, err
	}
	hs := map[string]uint64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[1] != "height" {
			continue
		}
		h, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("network.sh status: peer %s has height %q:\n%s", f[0], f[2], out)
		}
		hs[f[0]] = h
	}
	return hs, nil
}
