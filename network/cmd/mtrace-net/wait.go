package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
)

// waitCommand holds the waits of network.sh: until started nodes answer
// /healthz, until the orderers agree on a BFT leader, and until every peer
// sees the others through gossip. Each gives up after --timeout and names
// what it waited for.
func waitCommand(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{Use: "wait", Short: "Wait until nodes are healthy, the orderers have a leader, or gossip has settled"}
	cmd.PersistentFlags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	healthy := &cobra.Command{
		Use:   "healthy NODE...",
		Short: "Wait until each node (CA server, orderer or peer) answers /healthz; fail, with its log's tail, when one exits",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			ops := opsPorts(t, e.base)
			for _, n := range args {
				port, ok := ops[n]
				if !ok {
					return fmt.Errorf("unknown node %s", n)
				}
				if err := e.waitHealthy(cmd.Context(), n, port, timeout, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	leader := &cobra.Command{
		Use:   "leader",
		Short: "Wait until a quorum of the orderers (SmartBFT consenters) agree on a leader of the channel and that leader reports itself leader (Raft: one orderer leads and a majority answer)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			var last string
			return poll(cmd.Context(), timeout, func() bool {
				var name string
				name, last = leaderNode(t, e.base)
				return name != ""
			}, func() error {
				for _, n := range t.Orderers(e.base) {
					e.showLog(cmd.ErrOrStderr(), n.Name)
				}
				return fmt.Errorf("no %s leader for channel %s within %s (%s)", kind(t), t.Channel, timeout, last)
			})
		},
	}
	gossip := &cobra.Command{
		Use:   "gossip",
		Short: "Wait until every peer sees all the other peers of the channel through gossip (service discovery needs it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			want := fmt.Sprintf("gossip_membership_total_peers_known{channel=%q}", t.Channel)
			others := float64(len(t.Organisations) - 1)
			var behind []string
			return poll(cmd.Context(), timeout, func() bool {
				behind = nil
				for _, n := range t.Nodes(e.base) {
					if n.Kind == "peer" && metric(n.Ops, want) < others {
						behind = append(behind, n.Name)
					}
				}
				return len(behind) == 0
			}, func() error {
				return fmt.Errorf("the peers did not all see each other through gossip within %s (still short: %s)", timeout, strings.Join(behind, ", "))
			})
		},
	}
	level := &cobra.Command{
		Use:   "level PEER...",
		Short: "Wait until the named peers and the first member's have the same blocks, as many as the most any of them had (a newcomer replays the channel from its genesis block)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			for _, n := range args {
				if o, ok := t.Org(n); !ok || o.Node != n {
					return fmt.Errorf("no peer %s in the consortium file", n)
				}
			}
			hs, err := homes(t, e.base, e.home, append([]string{t.Organisations[0].Node}, args...))
			if err != nil {
				return err
			}
			return levelPeers(hs, t.Channel, timeout)(cmd.Context())
		},
	}
	cmd.AddCommand(healthy, leader, gossip, level)
	return cmd
}

// peerHeightOf is the channel's block height on the peer whose operations
// endpoint is ops, from its metrics: -1 when it cannot tell (down, or not
// a member of the channel yet).
func peerHeightOf(ops int, channel string) float64 {
	return metric(ops, fmt.Sprintf("ledger_blockchain_height{channel=%q}", channel))
}

// height prints a height peerHeightOf read, ? when there was none.
func height(h float64) string {
	if h < 0 {
		return "?"
	}
	return strconv.FormatFloat(h, 'f', 0, 64)
}

// leaderCommand prints the node name of the orderer that leads the
// channel's consensus: under SmartBFT as a quorum of the orderers agree,
// under Raft the one that reports itself leader.
func leaderCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "leader",
		Short: "Print the node name of the orderer that leads the channel's consensus (SmartBFT: a quorum agreeing); fail when none does",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			name, seen := leaderNode(t, e.base)
			switch {
			case name == "" && t.Raft():
				return fmt.Errorf("no orderer leads channel %s's Raft with a majority answering (%s)", t.Channel, seen)
			case name == "":
				return fmt.Errorf("no orderer leads channel %s with a quorum agreeing (%s)", t.Channel, seen)
			}
			fmt.Fprintln(cmd.OutOrStdout(), name)
			return nil
		},
	}
}

// kind names the network's consensus in messages.
func kind(t *topology.Topology) string {
	if t.Raft() {
		return "Raft"
	}
	return "BFT"
}

// leaderNode is the name of the orderer that leads the channel's
// consensus, or "", and what each orderer said.
func leaderNode(t *topology.Topology, base int) (string, string) {
	if t.Raft() {
		return raftLeaderNode(t, base)
	}
	return bftLeaderNode(t, base)
}

// raftLeaderNode is the name of the only orderer that reports itself
// leader of the channel's Raft (consensus_etcdraft_is_leader) while a
// majority of the orderers answer, or "". Raft has no metric naming the
// leader, so followers cannot vote as under BFT; a majority answering is
// what a leader needs to order.
func raftLeaderNode(t *topology.Topology, base int) (string, string) {
	var leaders, seen []string
	answered := 0
	ords := t.Orderers(base)
	for _, n := range ords {
		body, err := get(n.Ops, "/metrics")
		if err != nil {
			seen = append(seen, n.Name+" no answer")
			continue
		}
		switch sample(body, fmt.Sprintf("consensus_etcdraft_is_leader{channel=%q}", t.Channel)) {
		case 1:
			answered++
			leaders = append(leaders, n.Name)
			seen = append(seen, n.Name+" leader")
		case 0:
			answered++
			seen = append(seen, n.Name+" follower")
		default:
			seen = append(seen, n.Name+" not in the channel")
		}
	}
	if len(leaders) != 1 || answered < channel.Majority(len(ords)) {
		return "", strings.Join(seen, ", ")
	}
	return leaders[0], strings.Join(seen, ", ")
}

// bftLeaderNode is the name of the orderer that reports itself leader of
// the channel while a quorum of the orderers name the same leader, or "".
func bftLeaderNode(t *topology.Topology, base int) (string, string) {
	var vs []leaderView
	for _, n := range t.Orderers(base) {
		v := leaderView{Node: n.Name, Leader: -1}
		if body, err := get(n.Ops, "/metrics"); err == nil {
			v.Leader = sample(body, fmt.Sprintf("consensus_BFT_leader_id{channel=%q}", t.Channel))
			v.Self = sample(body, fmt.Sprintf("consensus_BFT_is_leader{channel=%q}", t.Channel)) == 1
		}
		vs = append(vs, v)
	}
	ok, seen := leaderAgreed(vs, channel.Quorum(len(vs)))
	if !ok {
		return "", seen
	}
	for _, v := range vs {
		if v.Self {
			return v.Node, seen
		}
	}
	return "", seen
}

// orderersCommand prints what each orderer's metrics say about the
// channel's consensus: under SmartBFT the leader it follows and its last
// decided block, under Raft whether it leads and its last committed block
// (network.sh status).
func orderersCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "orderers",
		Short: "Print each orderer's view of the channel's consensus: the leader and the last block it decided",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, n := range t.Orderers(e.base) {
				body, err := get(n.Ops, "/metrics")
				if err != nil {
					fmt.Fprintf(out, "%-24s no answer on 127.0.0.1:%d\n", n.Name, n.Ops)
					continue
				}
				ch := fmt.Sprintf("{channel=%q}", t.Channel)
				if t.Raft() {
					role := "follower"
					if sample(body, "consensus_etcdraft_is_leader"+ch) == 1 {
						role = "leader"
					}
					fmt.Fprintf(out, "%-24s %-8s cluster of %v, last committed block %v\n", n.Name, role,
						sample(body, "consensus_etcdraft_cluster_size"+ch), sample(body, "consensus_etcdraft_committed_block_number"+ch))
					continue
				}
				role := "follower"
				if sample(body, "consensus_BFT_is_leader"+ch) == 1 {
					role = "leader"
				}
				fmt.Fprintf(out, "%-24s %-8s leader %v, cluster of %v, last decided block %v\n", n.Name, role,
					sample(body, "consensus_BFT_leader_id"+ch), sample(body, "consensus_BFT_cluster_size"+ch),
					sample(body, "consensus_BFT_committed_block_number"+ch))
			}
			return nil
		},
	}
}

// peersCommand prints each peer's block height, from its metrics, and the
// chaincode definition in force as the first member's peer has it (its
// admin asks, through network/member) (network.sh status).
func peersCommand(e *env) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "peers [--chaincode NAME]",
		Short: "Print each peer's block height and the chaincode definition committed on the channel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, hs, err := e.members(nil)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, n := range t.Nodes(e.base) {
				if n.Kind == "peer" {
					fmt.Fprintf(out, "%-16s height %s\n", n.Name, strings.Replace(height(peerHeightOf(n.Ops, t.Channel)), "?", "-", 1))
				}
			}
			e.peerEnv()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			version, seq, err := hs[0].Committed(ctx, e.peerBin(), &member.Definition{Channel: t.Channel, Name: name})
			switch {
			case err != nil:
				fmt.Fprintf(out, "\nchaincode %s: unknown (%s's peer does not answer)\n", name, hs[0].Node)
			case seq == 0:
				fmt.Fprintf(out, "\nchaincode %s: not committed\n", name)
			default:
				fmt.Fprintf(out, "\nchaincode %s version %s sequence %d\n", name, version, seq)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "chaincode", "mtrace", "the chaincode's name")
	return cmd
}

// leaderView is what one orderer's metrics say about the channel's
// SmartBFT leader: the leader's consenter ID (consensus_BFT_leader_id,
// which each consenter sets from its latest decision; -1 when it has
// none or does not answer) and whether it is that leader itself
// (consensus_BFT_is_leader).
type leaderView struct {
	Node   string
	Leader float64
	Self   bool
}

// leaderAgreed reports whether at least quorum of the views name the same
// leader (an ID above 0) and one of those is the leader itself; it also
// says what each view holds.
func leaderAgreed(vs []leaderView, quorum int) (bool, string) {
	votes := map[float64]int{}
	self := map[float64]bool{}
	seen := make([]string, len(vs))
	for i, v := range vs {
		switch {
		case v.Leader <= 0:
			seen[i] = v.Node + " no leader"
		default:
			votes[v.Leader]++
			self[v.Leader] = self[v.Leader] || v.Self
			seen[i] = fmt.Sprintf("%s leader %v", v.Node, v.Leader)
			if v.Self {
				seen[i] += " (itself)"
			}
		}
	}
	for id, n := range votes {
		if n >= quorum && self[id] {
			return true, strings.Join(seen, ", ")
		}
	}
	return false, strings.Join(seen, ", ")
}

// opsPorts maps every node and CA server to its operations port.
func opsPorts(t *topology.Topology, base int) map[string]int {
	ops := map[string]int{}
	for _, n := range t.Nodes(base) {
		ops[n.Name] = n.Ops
	}
	for _, c := range t.CAs(base) {
		ops[c.Process] = c.Ops
	}
	return ops
}

// poll calls ok every 100 ms until it holds, and calls fail when the
// timeout passes first.
func poll(ctx context.Context, timeout time.Duration, ok func() bool, fail func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return fail()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// get returns the body of http://127.0.0.1:port/path, or an error unless
// the answer is 200.
func get(port int, path string) ([]byte, error) {
	resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	return body, nil
}

// metric is the value of the Prometheus sample named name (with its
// labels) on the node's operations port, or -1 when there is none.
func metric(port int, name string) float64 {
	body, err := get(port, "/metrics")
	if err != nil {
		return -1
	}
	return sample(body, name)
}

// sample finds the value of one sample in a Prometheus text exposition.
func sample(body []byte, name string) float64 {
	s := bufio.NewScanner(bytes.NewReader(body))
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// waitHealthy waits until node answers /healthz on port; it fails early,
// with the tail of the node's log, when the recorded process exits.
func (e *env) waitHealthy(ctx context.Context, node string, port int, timeout time.Duration, stderr io.Writer) error {
	raw, err := os.ReadFile(filepath.Join(e.home, "pids", node+".pid"))
	if err != nil {
		return fmt.Errorf("%s has no PID file: %w", node, err)
	}
	pid := strings.TrimSpace(string(raw))
	dead := false
	err = poll(ctx, timeout, func() bool {
		if !alive(pid) {
			dead = true
			return true
		}
		_, err := get(port, "/healthz")
		return err == nil
	}, func() error {
		e.showLog(stderr, node)
		return fmt.Errorf("%s did not become healthy within %s", node, timeout)
	})
	if err == nil && dead {
		e.showLog(stderr, node)
		return fmt.Errorf("%s exited while starting", node)
	}
	return err
}

// alive reports whether the process pid exists and is not a zombie. Right
// after the fork its command line may still be env or setsid rather than
// the node, so only its state is checked.
func alive(pid string) bool {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(raw, ')')
	return i >= 0 && i+2 < len(raw) && raw[i+2] != 'Z'
}

// showLog prints the last 20 lines of the node's log to w.
func (e *env) showLog(w io.Writer, node string) {
	path := filepath.Join(e.home, "logs", node+".log")
	raw, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	fmt.Fprintf(w, "--- last 20 lines of %s\n%s\n", path, strings.Join(lines[max(0, len(lines)-20):], "\n"))
}
