// Command mtrace-net is the part of the local network's tooling that is
// more than starting and stopping processes: it reads and checks the
// consortium file, writes the nodes' configuration and the CLI profiles
// from it, builds the channel's genesis block with network/member from
// every organisation's card (the same steps as members on their own hosts
// take with mtrace-org), enrols every identity from the organisations' Fabric CAs (network/pki),
// and changes the running channel's membership with majority-signed config
// updates, and runs the registry vote through the mtrace CLI.
// scripts/network.sh calls it; it starts no node process.
//
//	mtrace-net validate [FILE]            check a consortium file
//	mtrace-net nodes                      every node and its ports, one a line
//	mtrace-net genesis                    the member cards and the channel's genesis block (network/member) into MTRACE_HOME/artifacts
//	mtrace-net ca-config [ORG...]         each organisation's Fabric CA server config into MTRACE_HOME/ca
//	mtrace-net enroll [ORG...]            every identity from the CAs into MTRACE_HOME/crypto (cryptogen's layout)
//	mtrace-net crls                       each organisation's CRL into its local MSPs
//	mtrace-net certs [--all]              certificates that expire within 30 days
//	mtrace-net fabric-config ...          the nodes' orderer.yaml and core.yaml into MTRACE_HOME/config
//	mtrace-net wait healthy|leader|gossip|level until started nodes answer /healthz, a quorum of the BFT orderers agree on a leader (Raft: one leads), gossip has settled, named peers have the first peer's blocks
//	mtrace-net orderers                   each orderer's view of the leader and its last decided block
//	mtrace-net peers                      each peer's block height and the chaincode definition in force
//	mtrace-net leader                     the orderer that leads the consensus (network.sh sends the peer CLI's transactions there)
//	mtrace-net profiles                   the CLI profiles into MTRACE_HOME/config.yaml
//	mtrace-net policy | participants      the chaincode policy; the registry's first entries
//	mtrace-net consensus                  bft, or raft for a benchmark's comparison network (init --consensus)
//	mtrace-net org add|remove ...         a copy of the consortium file with one organisation more or less
//	mtrace-net channel show               the channel's config block and member organisations
//	mtrace-net channel add-org NODE       add an organisation, its anchor peer and its orderer (a consenter) to the channel
//	mtrace-net channel remove-org NODE    take an organisation and its orderer out of the channel
//	mtrace-net registry set|remove ...    the registry change through the governed vote (runs bin/mtrace)
//	mtrace-net join orderer|peer [ORG...] each organisation's orderer or peer joins the channel (network/member)
//	mtrace-net fetch-config --out FILE    the channel's config block in force, from the first organisation's orderer
//	mtrace-net bootstrap                  the registry from every organisation's card, as the first's admin (network/member)
//
// The consortium file is --topology, by default MTRACE_HOME/consortium.yaml
// (the network's own copy); ports follow --base (MTRACE_BASE_PORT).
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/network/topology"
)

// env is what every command shares: where the network lives, its base
// port and the consortium file.
type env struct {
	home     string
	base     int
	topoPath string
	// peer is the peer CLI binary (default bin/peer beside mtrace-net).
	peer string
}

func (e *env) topology() (*topology.Topology, error) {
	return topology.Load(e.topoPath)
}

// crypto is the folder of the network's identities.
func (e *env) crypto() string { return e.home + "/crypto" }

func main() {
	e := &env{home: os.Getenv("MTRACE_HOME"), base: 27000}
	if b, err := strconv.Atoi(os.Getenv("MTRACE_BASE_PORT")); err == nil {
		e.base = b
	}
	if err := newRoot(e).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "mtrace-net:", err)
		os.Exit(1)
	}
}

// newRoot builds the command tree on e.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "mtrace-net",
		Short:         "The mtrace network's consortium file and channel membership",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if e.topoPath == "" {
				e.topoPath = e.home + "/consortium.yaml"
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&e.home, "home", e.home, "the network's runtime folder (MTRACE_HOME)")
	root.PersistentFlags().IntVar(&e.base, "base", e.base, "the network's base port (MTRACE_BASE_PORT)")
	root.PersistentFlags().StringVar(&e.peer, "peer", e.peer, "the peer CLI (default bin/peer beside mtrace-net)")
	root.PersistentFlags().StringVarP(&e.topoPath, "topology", "t", "", "consortium file (default HOME/consortium.yaml)")
	root.AddCommand(topologyCommands(e)...)
	root.AddCommand(pkiCommands(e)...)
	root.AddCommand(fabricConfigCommand(e), waitCommand(e), orderersCommand(e), peersCommand(e), leaderCommand(e))
	root.AddCommand(orgCommand(e), channelCommand(e), registryCommand(e), migrateCommand(e))
	root.AddCommand(memberCommands(e)...)
	return root
}
