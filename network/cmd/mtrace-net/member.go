package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
)

// The organisations' own steps on the single-machine network: each runs
// network/member's code for one organisation, as its admin, exactly as a
// member on its own host runs it through mtrace-org. network.sh only
// chooses which organisations act and when.

// homes are the organisations named (node names; every organisation of
// the topology when none is named) as network/member sees them.
func homes(t *topology.Topology, base int, home string, nodes []string) ([]*member.Home, error) {
	if len(nodes) == 0 {
		for _, o := range t.Organisations {
			nodes = append(nodes, o.Node)
		}
	}
	var hs []*member.Home
	for _, n := range nodes {
		h, err := member.Local(t, base, home, n)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// eachOrg runs step for every home at once (a join or an approval waits
// mostly on the network, so side by side the waits overlap) and reports
// every organisation's failure. out serialises the steps' lines.
func eachOrg(hs []*member.Home, step func(h *member.Home) (string, error), out io.Writer) error {
	var mu sync.Mutex
	errs := make([]error, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			line, err := step(h)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", h.Node, err)
				return
			}
			if line != "" {
				fmt.Fprintln(out, line)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// peerBin is the peer CLI the steps run: --peer, else bin/peer beside
// mtrace-net, else peer on the PATH.
func (e *env) peerBin() string {
	if e.peer != "" {
		return e.peer
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "peer"); fileExists(p) {
			return p
		}
	}
	return "peer"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// peerEnv points the peer CLI at the network's core.yaml.
func (e *env) peerEnv() {
	if os.Getenv("FABRIC_CFG_PATH") == "" {
		_ = os.Setenv("FABRIC_CFG_PATH", filepath.Join(e.home, "config"))
	}
}

// members loads the consortium file and the homes of the named
// organisations (every one when none is named).
func (e *env) members(nodes []string) (*topology.Topology, []*member.Home, error) {
	t, err := e.topology()
	if err != nil {
		return nil, nil, err
	}
	hs, err := homes(t, e.base, e.home, nodes)
	if err != nil {
		return nil, nil, err
	}
	return t, hs, nil
}

func memberCommands(e *env) []*cobra.Command {
	var block string
	var timeout time.Duration
	join := &cobra.Command{Use: "join", Short: "Join organisations' orderers or peers to the channel (network/member's steps, as each organisation's admin)"}
	joinOrderer := &cobra.Command{
		Use:   "orderer [ORG...]",
		Short: "Join each organisation's orderer to the channel through its participation API (default every organisation; the genesis block unless --block)",
		RunE: func(cmd *cobra.Command, args []string) error {
			t, hs, err := e.members(args)
			if err != nil {
				return err
			}
			path := block
			if path == "" {
				path = filepath.Join(e.home, "artifacts", t.Channel+".block")
			}
			b, err := member.ReadBlock(path)
			if err != nil {
				return err
			}
			raw, err := proto.Marshal(b)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return eachOrg(hs, func(h *member.Home) (string, error) {
				info, joined, err := h.JoinOrderer(ctx, b, raw)
				if err != nil {
					return "", err
				}
				verb := "has"
				if joined {
					verb = "joined"
				}
				return fmt.Sprintf("orderer %s %s %s (%s, %s)", h.Node+topology.OrdererSuffix, verb, info.Name, info.ConsensusRelation, info.Status), nil
			}, cmd.OutOrStdout())
		},
	}
	joinOrderer.Flags().StringVar(&block, "block", "", "the config block to join with (default HOME/artifacts/<channel>.block)")
	joinPeer := &cobra.Command{
		Use:   "peer [ORG...]",
		Short: "Join each organisation's peer to the channel from its genesis block (default every organisation)",
		RunE: func(cmd *cobra.Command, args []string) error {
			t, hs, err := e.members(args)
			if err != nil {
				return err
			}
			e.peerEnv()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			genesis := filepath.Join(e.home, "artifacts", t.Channel+".block")
			return eachOrg(hs, func(h *member.Home) (string, error) {
				joined, err := h.JoinPeer(ctx, e.peerBin(), genesis)
				if err != nil || !joined {
					return "", err
				}
				return fmt.Sprintf("peer %s joined %s", h.Node, t.Channel), nil
			}, cmd.OutOrStdout())
		},
	}
	join.PersistentFlags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long the joins may take")
	join.AddCommand(joinOrderer, joinPeer)

	var out, from string
	fetch := &cobra.Command{
		Use:   "fetch-config --out FILE [--from ORG]",
		Short: "Fetch the channel's config block in force from an organisation's orderer (default the first's), as its admin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			if from == "" {
				from = t.Organisations[0].Node
			}
			h, err := member.Local(t, e.base, e.home, from)
			if err != nil {
				return err
			}
			o, err := h.Orderer(t.Channel)
			if err != nil {
				return err
			}
			defer o.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			b, err := o.ConfigBlock(ctx)
			if err != nil {
				return err
			}
			return member.WriteBlock(out, b)
		},
	}
	fetch.Flags().StringVar(&out, "out", "", "the block file")
	fetch.Flags().StringVar(&from, "from", "", "the organisation whose orderer serves the block (node name)")
	_ = fetch.MarkFlagRequired("out")

	bootstrap := &cobra.Command{
		Use:   "bootstrap",
		Short: "Bootstrap the registry with every organisation's card (role and name), as the first organisation's admin, endorsed by every member's peer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			cards, err := member.LocalCards(t, e.base, e.home)
			if err != nil {
				return err
			}
			h, err := member.Local(t, e.base, e.home, t.Organisations[0].Node)
			if err != nil {
				return err
			}
			e.peerEnv()
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
			defer cancel()
			already, err := h.Bootstrap(ctx, e.peerBin(), t.Channel, chaincode, cards)
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintln(cmd.OutOrStdout(), "the registry was bootstrapped already")
			}
			return nil
		},
	}
	return []*cobra.Command{join, fetch, bootstrap, deployCommand(e)}
}
