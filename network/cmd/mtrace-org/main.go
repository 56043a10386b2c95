// Command mtrace-org is one organisation's administration of the mtrace
// consortium from its own host: it works on the organisation's folder
// (--home) and on files the members mail each other, which hold public
// material and signatures only (network/member).
//
//	mtrace-org init --msp ID --node NAME --role ROLE --name TEXT --host ADDR   settings, CA, identities
//	mtrace-org export --out NODE.member.json        the organisation's member card
//	mtrace-org check CARD...                        check member cards (refuses private keys)
//	mtrace-org channel genesis --member CARD... --out genesis.block
//	mtrace-org channel inspect BLOCK [--member CARD...]
//	mtrace-org channel fetch-config --out latest.block
//	mtrace-org channel join BLOCK [--peer]          join its own orderer (and peer)
//	mtrace-org update add-member CARD --config BLOCK --out X.update
//	mtrace-org update remove-member MSPID --config BLOCK --out X.update
//	mtrace-org update show X.update
//	mtrace-org sign X.update [--out X.MSP.sig]
//	mtrace-org verify X.update SIG... --config BLOCK
//	mtrace-org submit X.update SIG...
//	mtrace-org chaincode define --name N --version V --sequence S --package PKG
//	mtrace-org chaincode approve|status|commit NAME-S.chaincode
//	mtrace-org node config|start|stop|status        the organisation's own CA, orderer and peer
//	mtrace-org chaincode package --binary BIN --out PKG; chaincode install PKG
//	mtrace-org profile --genesis BLOCK              the mtrace CLI's configuration
//	mtrace-org registry bootstrap --member CARD...   the chaincode's first registry
//	mtrace-org keys [DIR]                            private keys of other organisations in a folder
//
// Every command can be run again: a file that is already what the
// command would write is kept, a joined node stays joined, an applied
// update is reported as applied (exit 0).
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/member"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "mtrace-org:", err)
		os.Exit(1)
	}
}

// app is what the commands share.
type app struct {
	home string
	bin  string
	out  io.Writer
}

func (a *app) open() (*member.Home, error) {
	if a.home == "" {
		return nil, errors.New("--home: the organisation's folder is required (or MTRACE_ORG_HOME)")
	}
	return member.Open(a.home)
}

func newRoot(out io.Writer) *cobra.Command {
	a := &app{home: os.Getenv("MTRACE_ORG_HOME"), out: out}
	if exe, err := os.Executable(); err == nil {
		a.bin = filepath.Dir(exe)
	}
	root := &cobra.Command{
		Use:           "mtrace-org",
		Short:         "One organisation's part in running the mtrace consortium, by files of public material and signatures",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.PersistentFlags().StringVar(&a.home, "home", a.home, "the organisation's folder (MTRACE_ORG_HOME)")
	root.PersistentFlags().StringVar(&a.bin, "bin", a.bin, "the folder of the Fabric binaries (fabric-ca-server, peer)")
	root.AddCommand(initCmd(a), exportCmd(a), checkCmd(a), channelCmd(a), updateCmd(a), signCmd(a), verifyCmd(a), submitCmd(a), chaincodeCmd(a), keysCmd(a), nodeCmd(a), profileCmd(a), registryCmd(a))
	return root
}

func initCmd(a *app) *cobra.Command {
	var s member.Settings
	var noCA bool
	cmd := &cobra.Command{
		Use:   "init --msp ID --node NAME --role ROLE --name TEXT --host ADDR",
		Short: "Make the organisation's folder: settings, its Fabric CA, and its admin's, peer's and orderer's identities",
		Long: `init writes the organisation's settings (member.yaml) and its Fabric CA
server's configuration, starts the CA (bin/fabric-ca-server) for as long as
it takes to register and enrol the admin, the peer and the orderer (type
orderer), and stops it. The nodes' TLS certificates name --host. Run again,
it enrols only what is missing; other settings are refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.home == "" {
				return errors.New("--home: the organisation's folder is required")
			}
			h, err := member.Init(a.home, s)
			if err != nil {
				return err
			}
			if h.Enrolled() {
				fmt.Fprintf(a.out, "%s: %s is set up already; nothing to do\n", a.home, h.MSPID)
				return nil
			}
			if noCA {
				fmt.Fprintf(a.out, "%s: settings and CA configuration written; start the CA and run init again to enrol\n", a.home)
				return nil
			}
			stop, err := h.StartCA(cmd.Context(), filepath.Join(a.bin, "fabric-ca-server"))
			if err != nil {
				return err
			}
			n, err := h.Enrol(cmd.Context())
			if serr := stop(); err == nil && serr != nil {
				err = serr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: %s enrolled %d identities (admin, peer %s, orderer %s)\n", a.home, h.MSPID, n, h.PeerHost(), h.OrdererHost())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.MSPID, "msp", "", "the organisation's MSP ID, such as KaunasMSP")
	f.StringVar(&s.Node, "node", "", "its short lower-case name, such as kaunas")
	f.StringVar(&s.Role, "role", "", "its mtrace role: collector, recycler, maker or auditor")
	f.StringVar(&s.Name, "name", "", "its display name")
	f.StringVar(&s.Host, "host", "", "the address the other members reach its peer and orderer at")
	f.StringVar(&s.Domain, "domain", "", "the domain of its nodes' names (default NODE.mtrace.example)")
	f.IntVar(&s.Ports.Peer, "peer-port", member.DefaultPorts.Peer, "the peer's port")
	f.IntVar(&s.Ports.Orderer, "orderer-port", member.DefaultPorts.Orderer, "the orderer's port")
	f.IntVar(&s.Ports.OrdererAdmin, "orderer-admin-port", member.DefaultPorts.OrdererAdmin, "the orderer's admin (channel participation) port, on 127.0.0.1")
	f.IntVar(&s.Ports.PeerOps, "peer-ops-port", member.DefaultPorts.PeerOps, "the peer's operations port")
	f.IntVar(&s.Ports.OrdererOps, "orderer-ops-port", member.DefaultPorts.OrdererOps, "the orderer's operations port")
	f.IntVar(&s.Ports.CA, "ca-port", member.DefaultPorts.CA, "the Fabric CA's port, on 127.0.0.1")
	f.IntVar(&s.Ports.CAOps, "ca-ops-port", member.DefaultPorts.CAOps, "the Fabric CA's operations port")
	f.IntVar(&s.Ports.Chaincode, "chaincode-port", member.DefaultPorts.Chaincode, "the peer's chaincode listener, on 127.0.0.1")
	f.BoolVar(&noCA, "no-ca", false, "write the settings and the CA's configuration only")
	return cmd
}

// keep reports whether path already holds raw; a different file there is
// an error, so that nothing is overwritten unseen.
func keep(path string, raw []byte) (bool, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if bytes.Equal(old, raw) {
		return true, nil
	}
	return false, fmt.Errorf("%s exists and differs from what would be written: move it away first", path)
}

func exportCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export --out NODE.member.json",
		Short: "Write the organisation's member card: public material only, to mail to the other members",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			c, err := h.Export()
			if err != nil {
				return err
			}
			if out == "" {
				out = h.Node + ".member.json"
			}
			if err := member.WriteCard(out, c); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: member card of %s (orderer %s, peer %s, orderer identity sha256 %s)\n", out, c.MSPID, c.Orderer, c.Peer, member.Fingerprint(c.Orderer.Identity))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the card file (default NODE.member.json)")
	return cmd
}

func readCards(paths []string) ([]*member.Card, error) {
	var cs []*member.Card
	for _, p := range paths {
		c, err := member.ReadCard(p)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func checkCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check CARD...",
		Short: "Check member cards: well formed, certificates that fit together, and no private key",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			cs, err := readCards(args)
			if err != nil {
				return err
			}
			for i, c := range cs {
				fmt.Fprintf(a.out, "%s: %s (%s, %s): peer %s, orderer %s\n  root sha256 %s\n  TLS root sha256 %s\n  orderer identity sha256 %s\n",
					args[i], c.MSPID, c.Role, c.Name, c.Peer, c.Orderer, member.Fingerprint(c.RootCert), member.Fingerprint(c.TLSRootCert), member.Fingerprint(c.Orderer.Identity))
			}
			return nil
		},
	}
}

func channelCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "channel", Short: "The channel's genesis block, config blocks and joining"}
	var channelID, out string
	var cards []string
	genesis := &cobra.Command{
		Use:   "genesis --member CARD... --out genesis.block",
		Short: "Build the BFT channel's genesis block from the founders' member cards",
		Long: `genesis builds the first block of a SmartBFT channel whose members are the
cards' organisations, each in the Application and Orderer groups, each
orderer a consenter. The same cards give the same block: founders who build
it apart can compare its hash.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cs, err := readCards(cards)
			if err != nil {
				return err
			}
			b, err := member.Genesis(channelID, cs)
			if err != nil {
				return err
			}
			return writeBlock(a.out, out, b)
		},
	}
	genesis.Flags().StringVar(&channelID, "channel", "circular", "the channel's name")
	genesis.Flags().StringArrayVar(&cards, "member", nil, "a founder's member card (repeat)")
	genesis.Flags().StringVar(&out, "out", "genesis.block", "the block file")
	_ = genesis.MarkFlagRequired("member")

	var against []string
	inspect := &cobra.Command{
		Use:   "inspect BLOCK [--member CARD...]",
		Short: "Print a config block's members and consenters; with cards, fail on any difference",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := member.ReadBlock(args[0])
			if err != nil {
				return err
			}
			s, err := member.InspectBlock(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprint(a.out, s.Describe())
			cs, err := readCards(against)
			if err != nil {
				return err
			}
			if d := s.CompareCards(cs); len(d) > 0 {
				for _, x := range d {
					fmt.Fprintln(a.out, "DIFFERS:", x)
				}
				return fmt.Errorf("%s does not match %d of the cards given: do not join it", args[0], len(d))
			}
			if len(cs) > 0 {
				fmt.Fprintf(a.out, "matches the %d cards given\n", len(cs))
			}
			return nil
		},
	}
	inspect.Flags().StringArrayVar(&against, "member", nil, "a member card to compare the block with (repeat)")

	var fetchOut string
	fetch := &cobra.Command{
		Use:   "fetch-config --out latest.block",
		Short: "Fetch the channel's config block in force from the organisation's own orderer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			o, err := h.Orderer(channelID)
			if err != nil {
				return err
			}
			defer o.Close()
			b, err := o.ConfigBlock(cmd.Context())
			if err != nil {
				return err
			}
			if err := member.WriteBlock(fetchOut, b); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: config block %d of %s\n", fetchOut, b.Header.Number, channelID)
			return nil
		},
	}
	fetch.Flags().StringVar(&channelID, "channel", "circular", "the channel's name")
	fetch.Flags().StringVar(&fetchOut, "out", "latest.block", "the block file")

	var peer bool
	var peerBlock string
	join := &cobra.Command{
		Use:   "join BLOCK [--peer]",
		Short: "Join the organisation's orderer (and with --peer its peer) to the channel of a config block",
		Long: `join joins the organisation's own orderer through its channel participation
API (the admin's TLS client certificate) with the genesis block, or for a
member that joins later the config block that added it. With --peer it
also joins the peer (bin/peer channel join; FABRIC_CFG_PATH must name the
peer's core.yaml folder, or node config wrote config/peer/core.yaml). A
peer joins from the channel's genesis block (it validates every block
from there): a member that joins later names it with --peer-block. A node
that has the channel is left as it is.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			b, err := member.ReadBlock(args[0])
			if err != nil {
				return err
			}
			raw, err := proto.Marshal(b)
			if err != nil {
				return err
			}
			info, joined, err := h.JoinOrderer(cmd.Context(), b, raw)
			if err != nil {
				return err
			}
			verb := "has"
			if joined {
				verb = "joined"
			}
			fmt.Fprintf(a.out, "orderer %s %s %s (%s, %s, height %d)\n", h.OrdererHost(), verb, info.Name, info.ConsensusRelation, info.Status, info.Height)
			if peer {
				pb := args[0]
				if peerBlock != "" {
					pb = peerBlock
				}
				joined, err := h.JoinPeer(cmd.Context(), filepath.Join(a.bin, "peer"), pb)
				if err != nil {
					return err
				}
				if joined {
					fmt.Fprintf(a.out, "peer %s joined %s\n", h.PeerHost(), info.Name)
					return nil
				}
				height, err := h.PeerHeight(cmd.Context(), filepath.Join(a.bin, "peer"), info.Name)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "peer %s has %s (height %d)\n", h.PeerHost(), info.Name, height)
			}
			return nil
		},
	}
	join.Flags().BoolVar(&peer, "peer", false, "also join the peer")
	join.Flags().StringVar(&peerBlock, "peer-block", "", "the block the peer joins with (default BLOCK): the genesis block, for a member that joins later")
	cmd.AddCommand(genesis, inspect, fetch, join)
	return cmd
}

// writeBlock writes a genesis block, keeping an identical file.
func writeBlock(w io.Writer, path string, b *cb.Block) error {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return err
	}
	hash := hex.EncodeToString(configblock.HeaderHash(b.Header))
	same, err := keep(path, raw)
	if err != nil {
		return err
	}
	if !same {
		if err := member.WriteBlock(path, b); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s: block %d, hash %s (compare it with the other founders')\n", path, b.Header.Number, hash)
	return nil
}
