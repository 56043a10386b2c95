package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/network/member"
)

// nodeCmd runs the organisation's own nodes: its CA, orderer and peer.
func nodeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Configure, start, stop and check the organisation's own CA, orderer and peer"}
	var files member.NodeFiles
	var cards []string
	var which struct{ ca, orderer, peer bool }
	chosen := func() []string {
		var ns []string
		if which.ca {
			ns = append(ns, member.NodeCA)
		}
		if which.orderer {
			ns = append(ns, member.NodeOrderer)
		}
		if which.peer {
			ns = append(ns, member.NodePeer)
		}
		return ns
	}
	nodeFlags := func(c *cobra.Command) {
		c.Flags().BoolVar(&which.ca, "ca", false, "the organisation's Fabric CA")
		c.Flags().BoolVar(&which.orderer, "orderer", false, "its orderer")
		c.Flags().BoolVar(&which.peer, "peer", false, "its peer (and the chaincode the peer runs)")
	}
	fileFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&files.Sample, "sample", os.Getenv("MTRACE_FABRIC_SAMPLE"), "Fabric's sampleconfig folder (orderer.yaml, core.yaml) (MTRACE_FABRIC_SAMPLE)")
		c.Flags().StringVar(&files.Builder, "builder", os.Getenv("MTRACE_BUILDER"), "mtrace's external chaincode builder, network/builder (MTRACE_BUILDER)")
		c.Flags().StringArrayVar(&cards, "member", nil, "a member card whose TLS root the orderer trusts from the start (repeat; the founders' cards before the channel exists)")
	}
	writeConfig := func(h *member.Home) error {
		files.Members = nil
		for _, f := range cards {
			c, err := member.ReadCard(f)
			if err != nil {
				return err
			}
			files.Members = append(files.Members, c)
		}
		changed, err := h.WriteNodeConfig(files)
		if err != nil {
			return err
		}
		for _, f := range changed {
			fmt.Fprintf(a.out, "%s: written\n", f)
		}
		return nil
	}

	config := &cobra.Command{
		Use:   "config --sample DIR --builder DIR",
		Short: "Write the orderer's and the peer's configuration (config/orderer/orderer.yaml, config/peer/core.yaml)",
		Long: `config writes Fabric's sample orderer.yaml and core.yaml with the
organisation's settings over them: the orderer and the peer listen on the
organisation's host address (member.yaml), with TLS, client authentication
on the orderer and on its admin endpoint; the admin, operations and
chaincode listeners stay on 127.0.0.1; the ledgers are in data/; the peer
runs chaincode packages with mtrace's external builder. The orderer trusts
client certificates from the TLS roots of the cards given with --member
from the start (it adds the channel members' by itself once it has
joined): give the founders' cards before the channel exists. A file
already so is kept.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			return writeConfig(h)
		},
	}
	fileFlags(config)

	start := &cobra.Command{
		Use:   "start [--ca] [--orderer] [--peer] [--sample DIR --builder DIR]",
		Short: "Start the organisation's nodes (all when none is named) that are not running",
		Long: `start writes the nodes' configuration when --sample and --builder are
given (or none is written yet), then starts each named node that is not
running, detached, with its PID in pids/<node>.pid and its output in
logs/<node>.log, and waits until it answers. A node that runs already is
left alone; a PID file of a process that is gone is replaced.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			ns := chosen()
			needsConfig := len(ns) == 0 || which.orderer || which.peer
			if needsConfig && (files.Sample != "" || files.Builder != "" || len(cards) > 0 || !configured(h)) {
				if err := writeConfig(h); err != nil {
					return err
				}
			}
			started, err := h.Start(cmd.Context(), a.bin, ns...)
			for _, n := range started {
				fmt.Fprintf(a.out, "%s: started (PID file %s)\n", n, h.PIDFile(n))
			}
			if err != nil {
				return err
			}
			if len(started) == 0 {
				fmt.Fprintln(a.out, "running already; nothing to do")
			}
			return nil
		},
	}
	nodeFlags(start)
	fileFlags(start)

	var grace time.Duration
	stop := &cobra.Command{
		Use:   "stop [--ca] [--orderer] [--peer]",
		Short: "Stop the organisation's nodes (all when none is named) by their recorded PIDs",
		Long: `stop signals each named node by the PID in its PID file, and only while
that PID is still the node's process (same start time, same program, this
folder in its environment): SIGTERM, then SIGKILL after --grace. Stopping
the peer also stops the chaincode it runs.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			stopped, err := h.Stop(a.bin, grace, chosen()...)
			for _, n := range stopped {
				fmt.Fprintf(a.out, "%s: stopped\n", n)
			}
			if err == nil && len(stopped) == 0 {
				fmt.Fprintln(a.out, "nothing was running")
			}
			return err
		},
	}
	nodeFlags(stop)
	stop.Flags().DurationVar(&grace, "grace", 10*time.Second, "how long a node has to stop after SIGTERM before SIGKILL")

	status := &cobra.Command{
		Use:   "status",
		Short: "Show whether each node runs and answers; exit 1 if one does not",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			down := 0
			for _, s := range h.Status(a.bin) {
				fmt.Fprintln(a.out, s)
				if !s.Healthy {
					down++
				}
			}
			if down > 0 {
				return fmt.Errorf("%d of %d nodes are not running and healthy", down, len(member.Nodes))
			}
			return nil
		},
	}
	cmd.AddCommand(config, start, stop, status)
	return cmd
}

func configured(h *member.Home) bool {
	for _, f := range []string{filepath.Join(h.ConfigDir(member.NodeOrderer), "orderer.yaml"), filepath.Join(h.ConfigDir(member.NodePeer), "core.yaml")} {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// profileCmd writes the mtrace CLI's configuration for the organisation.
func profileCmd(a *app) *cobra.Command {
	var genesis, config, out, channel, chaincode string
	cmd := &cobra.Command{
		Use:   "profile --genesis BLOCK [--config BLOCK] [--out FILE]",
		Short: "Write the mtrace CLI's configuration (profiles NODE and NODE-admin) from the organisation's folder",
		Long: `profile writes the mtrace CLI's configuration file (client/config.yaml in
the folder, or --out): profile NODE acts as User1 (an operator), NODE-admin
as the admin, both through the organisation's own peer, orderer (with the
TLS client certificate the orderers require) and CA; the genesis block's
hash is pinned, so that every block the CLI reads is checked from it. For
each other member whose anchor peer the channel configuration names (the
genesis block's, or --config, a later config block), profile peer-MSPID
holds that peer's address and TLS roots only: mtrace verify asks them to
confirm what its own peer says.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			if genesis == "" {
				return errors.New("--genesis: the channel's genesis block file is required")
			}
			if out == "" {
				out = h.ProfileFile()
			}
			changed, err := h.WriteProfile(out, genesis, config, channel, chaincode)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(a.out, "%s: kept\n", out)
				return nil
			}
			fmt.Fprintf(a.out, "%s: written (MTRACE_CONFIG=%s)\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "", "the channel's genesis block (its hash is pinned)")
	cmd.Flags().StringVar(&config, "config", "", "a later config block, for the members' peers (default: the genesis block's)")
	cmd.Flags().StringVar(&out, "out", "", "where to write (default client/config.yaml in the folder)")
	cmd.Flags().StringVar(&channel, "channel", "", "the channel (default: the genesis block's)")
	cmd.Flags().StringVar(&chaincode, "chaincode", "mtrace", "the chaincode's name")
	return cmd
}

// registryCmd writes the chaincode's first registry from the members'
// cards.
func registryCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "registry", Short: "The chaincode's participant registry"}
	var cards []string
	var channel, chaincode string
	bootstrap := &cobra.Command{
		Use:   "bootstrap --member CARD...",
		Short: "Write the first registry (the cards' organisations, roles and names) as the organisation's admin, endorsed by every member's anchor peer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			var cs []*member.Card
			for _, f := range cards {
				c, err := member.ReadCard(f)
				if err != nil {
					return err
				}
				cs = append(cs, c)
			}
			already, err := h.Bootstrap(cmd.Context(), filepath.Join(a.bin, "peer"), channel, chaincode, cs)
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintln(a.out, "the registry exists already; nothing to do")
			} else {
				fmt.Fprintf(a.out, "registry bootstrapped with %d members\n", len(cs))
			}
			return nil
		},
	}
	bootstrap.Flags().StringArrayVar(&cards, "member", nil, "a member card (repeat)")
	bootstrap.Flags().StringVar(&channel, "channel", "circular", "the channel")
	bootstrap.Flags().StringVar(&chaincode, "chaincode", "mtrace", "the chaincode")
	cmd.AddCommand(bootstrap)
	return cmd
}
