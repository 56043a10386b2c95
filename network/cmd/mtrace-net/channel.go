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
// channel. It does nothing when the channel already has (or lacks) it.
// The update is one config transaction: the orderer applies it whole or
// refuses it whole, so a failure leaves the channel as it was.
func changeMembers(ctx context.Context, out io.Writer, e *env, o *channelOpts, key string, add bool) error {
	t, err := e.topology()
	if err != nil {
		return err
	}
	org, ok := t.Org(key)
	if !ok {
		return fmt.Errorf("no organisation %s in %s", key, e.topoPath)
	}
	signers, err := signingAdmins(e, t, o.signers, org)
	if err != nil {
		return err
	}
	return withOrderer(ctx, e, signers[0], func(t *topology.Topology, ord *channel.Orderer) error {
		cfg, err := ord.Config(ctx)
		if err != nil {
			return fmt.Errorf("read the channel configuration: %w", err)
		}
		if inChannel(cfg.Config, org.MSP) == add {
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
		var edit func(*configtx.ConfigTx) error
		what := "remove " + org.MSP + " and its orderer"
		if add {
			m, err := channel.LoadMSP(t.MSPDir(e.crypto(), org.Node), org.MSP)
			if err != nil {
				return err
			}
			n, _ := t.Node(e.base, org.Node)
			on, _ := t.Node(e.base, org.Orderer())
			cons, err := consenter(e, t, org, on)
			if err != nil {
				return err
			}
			what = fmt.Sprintf("add %s with anchor peer 127.0.0.1:%d and its orderer 127.0.0.1:%d as a BFT consenter", org.MSP, n.Port, on.Port)
			edit = func(c *configtx.ConfigTx) error {
				mo := channel.MemberOrg(m, "127.0.0.1", n.Port)
				if err := c.Application().SetOrganization(mo); err != nil {
					return err
				}
				oo := channel.OrdererOrg(m, fmt.Sprintf("127.0.0.1:%d", on.Port))
				if err := c.Orderer().SetOrganization(oo); err != nil {
					return err
				}
				return channel.AddConsenter(c.UpdatedConfig(), cons)
			}
		} else {
			edit = func(c *configtx.ConfigTx) error {
				c.Application().RemoveOrganization(org.MSP)
				c.Orderer().RemoveOrganization(org.MSP)
				return channel.RemoveConsenters(c.UpdatedConfig(), org.MSP)
			}
		}
		u, err := channel.Compute(cfg.Config, t.Channel, edit)
		if err != nil {
			return err
		}
		var names []string
		for _, s := range signers {
			if err := u.Sign(s); err != nil {
				return err
			}
			names = append(names, s.MSPID)
		}
		fmt.Fprintf(out, "channel: update to %s signed by the admins of %s (%d of %d members; MAJORITY Admins needs %d)\n",
			what, strings.Join(names, ", "), len(signers), len(members), channel.Majority(len(members)))
		env, err := u.Envelope(signers[0])
		if err != nil {
			return err
		}
		if err := ord.Submit(ctx, env); err != nil {
			var refused *channel.RefusedError
			if errors.As(err, &refused) {
				return fmt.Errorf("%w; channel %s is unchanged (config block %d)", err, t.Channel, cfg.Block)
			}
			return fmt.Errorf("submit the update: %w; channel %s is unchanged unless a later 'channel show' says otherwise", err, t.Channel)
		}
		// The orderer accepted the update; wait until it is in a block.
		deadline := time.Now().Add(30 * time.Second)
		for {
			now, err := ord.Config(ctx)
			if err == nil && inChannel(now.Config, org.MSP) == add {
				fmt.Fprintf(out, "channel: %s done (config block %d)\n", what, now.Block)
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the orderer accepted the update to %s, but no config block holds it after 30 s (last error: %v)", what, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// inChannel reports whether the organisation mspID is a member of the
// channel and its orderer one of the consenters; an organisation that is
// only half in (an update made by hand) counts as out for adding and as
// in for removing, so that either command completes it.
func inChannel(cfg *cb.Config, mspID string) bool {
	return channel.IsMember(cfg, mspID) && isConsenter(cfg, mspID)
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

// signingAdmins loads the admin identities that sign an update about
// subject: those of the named organisations, or by default of a majority
// of the other members, in topology order. It refuses nothing itself: the
// orderer judges whether the signatures suffice.
func signingAdmins(e *env, t *topology.Topology, names []string, subject topology.Org) ([]*configtx.SigningIdentity, error) {
	var orgs []topology.Org
	if len(names) > 0 {
		for _, n := range names {
			o, ok := t.Org(n)
			if !ok {
				return nil, fmt.Errorf("--signers: no organisation %s in the topology", n)
			}
			orgs = append(orgs, o)
		}
	} else {
		others := slices.DeleteFunc(slices.Clone(t.Organisations), func(o topology.Org) bool { return o.MSP == subject.MSP })
		orgs = others[:min(len(others), channel.Majority(len(others)))]
	}
	if len(orgs) == 0 {
		return nil, errors.New("no organisation to sign the update")
	}
	ids := make([]*configtx.SigningIdentity, len(orgs))
	for i, o := range orgs {
		id, err := channel.LoadSigner(t.UserMSPDir(e.crypto(), o.Node, "Admin"), o.MSP)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}
