package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
)

// ccVersion is a chaincode definition's version on the single-machine
// network: it names the package and the endorsement policy, so that a
// change of either deploys a new sequence and neither alone does not.
func ccVersion(packageID, policy string) string {
	sum := sha256.Sum256([]byte(packageID + " " + policy))
	return hex.EncodeToString(sum[:])[:12]
}

// via is the orderer the organisations send their lifecycle transactions
// to: the one that leads the consensus, which by definition orders (under
// Fabric v3.1.1's SmartBFT a follower may take a request and never order
// it; docs/design/2026-12-06-bft-ordering.md). nil (each its own orderer)
// when no leader is agreed.
func via(t *topology.Topology, base int, crypto string) *member.Via {
	name, _ := leaderNode(t, base)
	n, ok := t.Node(base, name)
	if name == "" || !ok {
		return nil
	}
	return &member.Via{Addr: fmt.Sprintf("127.0.0.1:%d", n.Port), ServerName: n.Host, CAFile: t.TLSCA(crypto, n.Org)}
}

// deployer runs the chaincode lifecycle of the single-machine network:
// every organisation installs the package on its peer and approves the
// definition as its own admin, and the first commits it, all through
// network/member's Install, Approve and Commit, the steps an admin runs
// with mtrace-org on a member's own host.
type deployer struct {
	hs   []*member.Home
	peer string
	out  io.Writer
	// level waits until every peer has every block (between the
	// approvals and the commit).
	level func(ctx context.Context) error
}

// deploy brings the chaincode name to the package at pkg with the
// endorsement policy: nothing when the committed definition has the
// same version (package and policy), else the next sequence.
func (d *deployer) deploy(ctx context.Context, channelID, name, pkg, policy string) error {
	id, err := member.PackageID(pkg)
	if err != nil {
		return err
	}
	def := &member.Definition{Format: member.DefinitionFormat, Channel: channelID, Name: name,
		Version: ccVersion(id, policy), PackageID: id, SignaturePolicy: policy}
	cur, seq, err := d.hs[0].Committed(ctx, d.peer, def)
	if err != nil {
		return fmt.Errorf("the committed definition: %w", err)
	}
	if cur == def.Version {
		fmt.Fprintf(d.out, "chaincode %s up to date (version %s, sequence %d)\n", name, cur, seq)
		return nil
	}
	if cur == "" {
		cur = "-"
	}
	def.Sequence = seq + 1
	if err := def.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "deploying chaincode %s version %s as sequence %d (was %s)\n", name, def.Version, def.Sequence, cur)
	var quiet strings.Builder
	if err := eachOrg(d.hs, func(h *member.Home) (string, error) {
		_, _, err := h.Install(ctx, d.peer, pkg)
		return "", err
	}, &quiet); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	fmt.Fprintf(d.out, "installed on %d peers\n", len(d.hs))
	if err := eachOrg(d.hs, func(h *member.Home) (string, error) {
		_, err := h.Approve(ctx, d.peer, def)
		return "", err
	}, &quiet); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	fmt.Fprintf(d.out, "approved by %d organisations\n", len(d.hs))
	// Each approval waited for its own peer only; the commit is endorsed
	// by every approver's peer, and one that has not yet the block with
	// the last approval answers differently.
	if d.level != nil {
		if err := d.level(ctx); err != nil {
			return err
		}
	}
	if _, err := d.hs[0].Commit(ctx, d.peer, def); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	fmt.Fprintf(d.out, "chaincode %s committed: version %s, sequence %d\n", name, def.Version, def.Sequence)
	return nil
}

// levelPeers waits until every home's peer has the highest height any
// of them had at the start (at least the genesis block), reading each
// height from the peer's metrics; a peer that does not answer counts as
// behind.
func levelPeers(hs []*member.Home, channelID string, within time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		heights := func() []float64 {
			out := make([]float64, len(hs))
			for i, h := range hs {
				out[i] = peerHeightOf(h.Ports.PeerOps, channelID)
			}
			return out
		}
		want := 1.0
		for _, v := range heights() {
			want = max(want, v)
		}
		var behind []string
		return poll(ctx, within, func() bool {
			behind = nil
			for i, v := range heights() {
				if v < want {
					behind = append(behind, hs[i].Node)
				}
			}
			return len(behind) == 0
		}, func() error {
			return fmt.Errorf("peers %s did not reach height %s within %s", strings.Join(behind, ", "), height(want), within)
		})
	}
}

func deployCommand(e *env) *cobra.Command {
	var name, binary, policy string
	cmd := &cobra.Command{
		Use:   "deploy --name NAME --binary FILE [--policy POLICY]",
		Short: "Package the chaincode binary into HOME/cc/NAME.tar.gz; install, approve (every organisation, as its admin) and commit its next sequence, unless the committed definition has its package and policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, hs, err := e.members(nil)
			if err != nil {
				return err
			}
			if policy == "" {
				policy = t.Policy()
			}
			pkg := filepath.Join(e.home, "cc", name+".tar.gz")
			if err := member.Package(binary, name, pkg); err != nil {
				return err
			}
			v := via(t, e.base, e.crypto())
			for _, h := range hs {
				h.Via = v
			}
			e.peerEnv()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			d := &deployer{hs: hs, peer: e.peerBin(), out: cmd.OutOrStdout(),
				level: levelPeers(hs, t.Channel, 30*time.Second)}
			return d.deploy(ctx, t.Channel, name, pkg, policy)
		},
	}
	cmd.Flags().StringVar(&name, "name", "mtrace", "the chaincode's name")
	cmd.Flags().StringVar(&binary, "binary", "", "the compiled chaincode (a Go binary the external builder runs)")
	cmd.Flags().StringVar(&policy, "policy", "", "the chaincode's endorsement policy (default the consortium's)")
	_ = cmd.MarkFlagRequired("binary")
	return cmd
}
