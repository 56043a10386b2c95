package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
)

// chaincode is the chaincode name the CLI profiles use.
const chaincode = "mtrace"

func topologyCommands(e *env) []*cobra.Command {
	validate := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a consortium file (default the --topology file)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := e.topoPath
			if len(args) == 1 {
				path = args[0]
			}
			t, err := topology.Load(path)
			if err != nil {
				return err
			}
			if _, err := t.Ports(e.base); err != nil {
				return fmt.Errorf("%s on base port %d: %w", path, e.base, err)
			}
			n := len(t.Organisations)
			if t.Raft() {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: channel %s, %d organisations, each with a peer and an orderer (%d Raft consenters, tolerating %d crashed), ports %d-%d\n",
					path, t.Channel, n, n, (n-1)/2, e.base, e.base+topology.Span-1)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: channel %s, %d organisations, each with a peer and an orderer (%d BFT consenters, quorum %d, tolerating %d faulty), ports %d-%d\n",
				path, t.Channel, n, n, channel.Quorum(n), (n-1)/3, e.base, e.base+topology.Span-1)
			return nil
		},
	}
	nodes := &cobra.Command{
		Use:   "nodes",
		Short: "List every node and CA server: kind, name, MSP ID, host, port, admin or chaincode port (0 for a CA), operations port",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			ns, err := t.Ports(e.base)
			if err != nil {
				return err
			}
			for _, n := range ns {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %s %d %d %d\n", n.Kind, n.Name, n.MSP, n.Host, n.Port, n.Admin, n.Ops)
			}
			for _, c := range t.CAs(e.base) {
				fmt.Fprintf(cmd.OutOrStdout(), "ca %s %s ca.%s %d 0 %d\n", c.Process, c.MSP, c.Domain, c.Port, c.Ops)
			}
			return nil
		},
	}
	var from, channelName, consensus string
	initCmd := &cobra.Command{
		Use:   "init --from FILE [--channel NAME] [--consensus bft|raft]",
		Short: "Check a consortium file and make it the network's own (HOME/consortium.yaml)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := topology.Load(from)
			if err != nil {
				return err
			}
			if channelName != "" {
				t.Channel = channelName
				if err := t.Validate(); err != nil {
					return fmt.Errorf("--channel: %w", err)
				}
			}
			if consensus != "" {
				t.Consensus = consensus
				if err := t.Validate(); err != nil {
					return fmt.Errorf("--consensus: %w", err)
				}
			}
			if _, err := t.Ports(e.base); err != nil {
				return fmt.Errorf("%s on base port %d: %w", from, e.base, err)
			}
			return t.Save(e.topoPath)
		},
	}
	initCmd.Flags().StringVar(&from, "from", "", "the consortium file to start from")
	initCmd.Flags().StringVar(&channelName, "channel", "", "channel name instead of the file's")
	initCmd.Flags().StringVar(&consensus, "consensus", "", "consensus instead of the file's: bft (default) or raft (benchmarks only)")
	_ = initCmd.MarkFlagRequired("from")
	genesis := &cobra.Command{
		Use:   "genesis",
		Short: "Write each organisation's member card into HOME/artifacts/cards and the channel's genesis block, built from the cards, into HOME/artifacts/<channel>.block",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			return writeGenesis(t, e.base, e.home)
		},
	}
	profiles := &cobra.Command{
		Use:   "profiles",
		Short: "Write the mtrace CLI profiles for the topology into HOME/config.yaml (keeping profiles added for a member's people)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			// The channel's genesis block, written by genesis when the
			// network was created: its hash is what the CLI checks
			// every block and proof against.
			var genesis string
			if block, err := os.ReadFile(filepath.Join(e.home, "artifacts", t.Channel+".block")); err == nil {
				if genesis, err = configblock.GenesisHash(block); err != nil {
					return err
				}
			}
			raw, err := t.Profiles(e.base, e.crypto(), e.home, chaincode, genesis)
			if err != nil {
				return err
			}
			path := filepath.Join(e.home, "config.yaml")
			if old, err := os.ReadFile(path); err == nil {
				if raw, err = t.KeepAdded(raw, old); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			return topology.WriteFile(path, raw)
		},
	}
	policy := &cobra.Command{
		Use:   "policy",
		Short: "Print the chaincode-level endorsement policy: peers of any two member organisations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.Policy())
			return nil
		},
	}
	participants := &cobra.Command{
		Use:   "participants",
		Short: "Print the registry entries the network bootstraps with, as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			raw, err := json.Marshal(t.Participants())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(raw))
			return nil
		},
	}
	consensusCmd := &cobra.Command{
		Use:   "consensus",
		Short: "Print the network's consensus: bft, or raft (a benchmark's comparison network)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.ConsensusType())
			return nil
		},
	}
	return []*cobra.Command{initCmd, validate, nodes, genesis, profiles, policy, participants, consensusCmd}
}

// orgCommand writes a copy of the consortium file with one organisation
// added or removed; the network's own copy changes only once the channel
// has changed (network.sh add-org and remove-org).
func orgCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Write a consortium file with one organisation more or less"}
	var o topology.Org
	var role, out string
	add := &cobra.Command{
		Use:   "add --msp ID --role ROLE --name TEXT [--node NAME] [--slot N] --out FILE",
		Short: "Add an organisation (node defaults to the MSP ID without MSP, in lower case; slot to the first free)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			o.Role = model.Role(role)
			if o.Node == "" {
				o.Node = nodeName(o.MSP)
			}
			next, added, err := t.With(o)
			if err != nil {
				return err
			}
			if _, err := next.Ports(e.base); err != nil {
				return err
			}
			if err := next.Save(out); err != nil {
				return err
			}
			n, _ := next.Org(o.MSP)
			if added {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", n.Node, "added")
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", n.Node, "present")
			}
			return nil
		},
	}
	add.Flags().StringVar(&o.MSP, "msp", "", "MSP ID of the organisation, such as KaunasMSP")
	add.Flags().StringVar(&role, "role", "", "mtrace role: collector, recycler, maker or auditor")
	add.Flags().StringVar(&o.Name, "name", "", "display name for the registry")
	add.Flags().StringVar(&o.Node, "node", "", "node name (peer0.<node>.<domain>, CLI profiles <node> and <node>-admin)")
	add.Flags().IntVar(&o.Slot, "slot", -1, "port slot 0-9 (default the first free)")
	add.Flags().StringVar(&out, "out", "", "file to write")
	remove := &cobra.Command{
		Use:   "remove NODE|MSP --out FILE",
		Short: "Remove an organisation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			next, err := t.Without(args[0])
			if err != nil {
				return err
			}
			return next.Save(out)
		},
	}
	remove.Flags().StringVar(&out, "out", "", "file to write")
	for _, c := range []*cobra.Command{add, remove} {
		_ = c.MarkFlagRequired("out")
	}
	for _, f := range []string{"msp", "role", "name"} {
		_ = add.MarkFlagRequired(f)
	}
	cmd.AddCommand(add, remove)
	return cmd
}

// nodeName is the default node name for an MSP ID: KaunasMSP is kaunas.
func nodeName(msp string) string {
	n := []rune{}
	for _, r := range msp {
		switch {
		case r >= 'A' && r <= 'Z':
			n = append(n, r+'a'-'A')
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			n = append(n, r)
		}
	}
	s := string(n)
	if len(s) > 3 && s[len(s)-3:] == "msp" {
		s = s[:len(s)-3]
	}
	return s
}

// writeGenesis builds the channel's first block the way the members of a
// consortium on their own hosts do (mtrace-org genesis): each
// organisation's card, exported from its MSP folders, then network/member's
// Genesis over the cards (RaftGenesis for a benchmark's Raft network).
// The cards stay in artifacts/cards, as the founders would have mailed
// them.
func writeGenesis(t *topology.Topology, base int, home string) error {
	cards, err := member.LocalCards(t, base, home)
	if err != nil {
		return err
	}
	dir := filepath.Join(home, "artifacts")
	for _, c := range cards {
		if err := member.WriteCard(filepath.Join(dir, "cards", c.Node+".member.json"), c); err != nil {
			return err
		}
	}
	build := member.Genesis
	if t.Raft() {
		build = member.RaftGenesis
	}
	b, err := build(t.Channel, cards)
	if err != nil {
		return fmt.Errorf("the genesis block: %w", err)
	}
	return member.WriteBlock(filepath.Join(dir, t.Channel+".block"), b)
}
