package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/topology"
)

// channelOpts are the flags of the channel commands.
type channelOpts struct {
	signers []string // node names of the organisations whose admins sign
	output  string
}

func channelCommand(e *env) *cobra.Command {
	o := &channelOpts{}
	cmd := &cobra.Command{Use: "channel", Short: "Read or change the channel's member organisations"}
	show := &cobra.Command{
		Use:   "show [-o json]",
		Short: "Print the channel's current config block number, member organisations and SmartBFT consenters (by MSP ID), as an orderer has them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withOrderer(cmd.Context(), e, nil, func(t *topology.Topology, ord *channel.Orderer) error {
				cfg, err := ord.Config(cmd.Context())
				if err != nil {
					return err
				}
				members, err := channel.Members(cfg.Config)
				if err != nil {
					return err
				}
				slices.Sort(members)
				// The consenters in ConsenterMapping order; none on a
				// channel that is not BFT.
				cs, _ := channel.Consenters(cfg.Config)
				consenters := []string{}
				for _, c := range cs {
					consenters = append(consenters, c.MspId)
				}
				if o.output == "json" {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
						ConfigBlock uint64   `json:"configBlock"`
						Members     []string `json:"members"`
						Consenters  []string `json:"consenters"`
					}{cfg.Block, members, consenters})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "channel %s: config block %d, members %s; consenters %s\n", t.Channel, cfg.Block,
					strings.Join(members, " "), strings.Join(consenters, " "))
				return nil
			})
		},
	}
	show.Flags().StringVarP(&o.output, "output", "o", "", "json for JSON output")
	add := &cobra.Command{
		Use:   "add-org NODE [--signers NODE,...]",
		Short: "Add the topology's organisation NODE and its anchor peer to the channel, signed by a majority of the members' admins",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeMembers(cmd.Context(), cmd.OutOrStdout(), e, o, args[0], true)
		},
	}
	remove := &cobra.Command{
		Use:   "remove-org NODE [--signers NODE,...]",
		Short: "Take the organisation NODE out of the channel, signed by a majority of the members' admins",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeMembers(cmd.Context(), cmd.OutOrStdout(), e, o, args[0], false)
		},
	}
	for _, c := range []*cobra.Command{add, remove} {
		c.Flags().StringSliceVar(&o.signers, "signers", nil,
			"organisations (node names) whose admins sign (default: a majority of the members, in topology order)")
	}
	cmd.AddCommand(show, add, remove)
	return cmd
}

// withOrderer connects to the orderer that leads the consensus (else the
// first organisation's) as id (by default the first organisation's admin)
// and runs f.
func withOrderer(ctx context.Context, e *env, id *configtx.SigningIdentity, f func(*topology.Topology, *channel.Orderer) error) error {
	t, err := e.topology()
	if err != nil {
		return err
	}
	if id == nil {
		first := t.Organisations[0]
		if id, err = channel.LoadSigner(t.UserMSPDir(e.crypto(), first.Node, "Admin"), first.MSP); err != nil {
			return err
		}
	}
	// The orderers ask for a TLS client certificate: the first
	// organisation's admin's.
	cert, err := tls.LoadX509KeyPair(t.UserTLS(e.crypto(), t.Organisations[0].Node, "Admin"))
	if err != nil {
		return fmt.Errorf("TLS client certificate for the orderer: %w", err)
	}
	// The orderer that leads the consensus, else the first
	// organisation's: Fabric v3.1.1's SmartBFT can leave a follower that
	// no longer orders nor receives blocks, and its view of the channel
	// would stay old (docs/design/2026-12-06-bft-ordering.md).
	n, _ := t.Node(e.base, t.Organisations[0].Orderer())
	if name, _ := bftLeaderNode(t, e.base); name != "" {
		n, _ = t.Node(e.base, name)
	}
	ord, err := channel.Dial(fmt.Sprintf("127.0.0.1:%d", n.Port), t.TLSCA(e.crypto(), n.Org), n.Host, cert, t.Channel, id)
	if err != nil {
		return err
	}
	defer ord.Close()
	return f(t, ord)
}

// changeMembers adds (or removes) the organisation key to (from) the
// channel, the way members on their own hosts do it with mtrace-org: the
// update is computed from the configuration in force
// (member.NewAddMember from the newcomer's card, or
// member.NewRemoveMember) and written as a file under updates/; each
// signing organisation's admin signs it as its own step (a signature file
// beside it); the first signer checks the signatures against the channel's
// policies and only then submits, through the orderer that leads the
// consensus. It does nothing when the channel already has (or lacks) the
// organisation. The update is one config transaction: the orderer applies
// it whole or refuses it whole, so a failure leaves the channel as it was.
func changeMembers(ctx context.Context, out io.Writer, e *env, o *channelOpts, key string, add bool) error {
	t, err := e.topology()
	if err != nil {
		return err
	}
	org, ok := t.Org(key)
	if !ok {
		return fmt.Errorf("no organisation %s in %s", key, e.topoPath)
	}
	if err := knownSigners(t, o.signers); err != nil {
		return err
	}
	return withOrderer(ctx, e, nil, func(t *topology.Topology, ord *channel.Orderer) error {
		cfg, err := ord.Config(ctx)
		if err != nil {
			return fmt.Errorf("read the channel configuration: %w", err)
		}
		// Membership of the application group is what member's updates
		// go by: NewAddMember refuses a member, NewRemoveMember takes out
		// its orderer group entry and consenter too.
		if channel.IsMember(cfg.Config, org.MSP) == add {
			state := "already a member of"
			if !add {
				state = "not a member of"
			}
			fmt.Fprintf(out, "channel: %s is %s channel %s (config block %d); nothing to do\n", org.MSP, state, t.Channel, cfg.Block)
			return nil
		}
		members, err := channel.Members(cfg.Config)
		if err != nil {
			return err
		}
		signers, err := signingAdmins(e, t, o.signers, org, members)
		if err != nil {
			return err
		}
		var u *member.UpdateFile
		what := "remove " + org.MSP + " and its orderer"
		if add {
			h, err := member.Local(t, e.base, e.home, org.Node)
			if err != nil {
				return err
			}
			card, err := h.Export()
			if err != nil {
				return fmt.Errorf("%s's member card: %w", org.MSP, err)
			}
			what = fmt.Sprintf("add %s with anchor peer %s and its orderer %s as a BFT consenter", org.MSP, card.Peer, card.Orderer)
			u, err = member.NewAddMember(cfg.Config, t.Channel, cfg.Block, card)
			if err != nil {
				return err
			}
		} else if u, err = member.NewRemoveMember(cfg.Config, t.Channel, cfg.Block, org.MSP); err != nil {
			return err
		}
		path := filepath.Join(e.home, "updates", fmt.Sprintf("%s-%d-%s-%s.update", t.Channel, cfg.Block, u.Kind, org.Node))
		if err := member.WriteUpdate(path, u); err != nil {
			return err
		}
		u, cu, err := member.ReadUpdate(path)
		if err != nil {
			return err
		}
		var sigs []member.Signed
		var names []string
		for _, h := range signers {
			s, err := h.Sign(u)
			if err != nil {
				return fmt.Errorf("%s signs %s: %w", h.MSPID, path, err)
			}
			sp := member.SignatureName(path, h.MSPID)
			if err := member.WriteSignature(sp, s); err != nil {
				return err
			}
			sigs = append(sigs, member.Signed{Path: sp, SignatureFile: s})
			names = append(names, h.MSPID)
		}
		fmt.Fprintf(out, "channel: update to %s signed by the admins of %s (%d of %d members; MAJORITY Admins needs %d): %s\n",
			what, strings.Join(names, ", "), len(signers), len(members), channel.Majority(len(members)), path)
		res, err := signers[0].SubmitTo(ctx, ord, u, cu, sigs, 30*time.Second)
		var missing *member.MissingError
		var refused *channel.RefusedError
		switch {
		case errors.As(err, &missing):
			return fmt.Errorf("not sent: %w; channel %s is unchanged (config block %d)", err, t.Channel, cfg.Block)
		case errors.As(err, &refused):
			return fmt.Errorf("%w; channel %s is unchanged (config block %d)", err, t.Channel, cfg.Block)
		case err != nil:
			return fmt.Errorf("submit the update: %w; channel %s is unchanged unless a later 'channel show' says otherwise", err, t.Channel)
		}
		fmt.Fprintf(out, "channel: %s done (config block %d)\n", what, res.Block)
		return nil
	})
}

func isConsenter(cfg *cb.Config, mspID string) bool {
	cs, err := channel.Consenters(cfg)
	return err == nil && slices.ContainsFunc(cs, func(c *cb.Consenter) bool { return c.MspId == mspID })
}

// consenter is the ConsenterMapping entry of org's orderer node n: its
// enrolment certificate as identity and its TLS certificate for both
// directions of the cluster's connections.
func consenter(e *env, t *topology.Topology, org topology.Org, n topology.Node) (*cb.Consenter, error) {
	id, err := os.ReadFile(t.OrdererCert(e.crypto(), org.Node))
	if err != nil {
		return nil, fmt.Errorf("%s's orderer identity: %w", org.MSP, err)
	}
	tlsCert, err := os.ReadFile(filepath.Join(t.OrdererDir(e.crypto(), org.Node), "tls", "server.crt"))
	if err != nil {
		return nil, fmt.Errorf("%s's orderer TLS certificate: %w", org.MSP, err)
	}
	return &cb.Consenter{Host: "127.0.0.1", Port: uint32(n.Port), MspId: org.MSP, Identity: id,
		ClientTlsCert: tlsCert, ServerTlsCert: tlsCert}, nil
}

// knownSigners refuses a --signers name that is no organisation of the
// consortium file.
func knownSigners(t *topology.Topology, names []string) error {
	for _, n := range names {
		if _, ok := t.Org(n); !ok {
			return fmt.Errorf("--signers: no organisation %s in the topology", n)
		}
	}
	return nil
}

// signingAdmins are the organisations whose admins sign an update about
// subject, as network/member sees them: the named organisations, or by
// default as many of the channel's other members (in consortium file
// order) as MAJORITY Admins needs of members, the channel's member MSP
// IDs. It refuses nothing itself: the check before submitting, and then
// the orderers, judge whether the signatures suffice.
func signingAdmins(e *env, t *topology.Topology, names []string, subject topology.Org, members []string) ([]*member.Home, error) {
	if len(names) == 0 {
		for _, o := range t.Organisations {
			if o.MSP != subject.MSP && slices.Contains(members, o.MSP) && len(names) < channel.Majority(len(members)) {
				names = append(names, o.Node)
			}
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no organisation to sign the update")
	}
	return homes(t, e.base, e.home, names)
}
