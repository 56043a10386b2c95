package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer/etcdraft"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/network/pki"
	"github.com/mtrace/mtrace/network/topology"
)

// migrateOpts says which orderer to talk to and who signs the orderer
// group's updates. On a network made by the previous release the orderer
// group has one organisation, OrdererOrg, so its admin alone satisfies
// /Channel/Orderer/Admins (MAJORITY of one).
type migrateOpts struct {
	addr, tlsCA, serverName string
	mspDir, mspID           string
	tlsCert, tlsKey         string
	channel                 string
	next                    string
	env                     *env
}

func (o *migrateOpts) flags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.addr, "orderer", "", "orderer addresses to try in turn (default 127.0.0.1:BASE..BASE+9, every orderer port of both layouts)")
	f.StringVar(&o.tlsCA, "tls-ca", "", "the orderers' TLS root certificates (default HOME/migrate-bft/tls-roots.pem, every organisation's TLS CA)")
	f.StringVar(&o.serverName, "server-name", "127.0.0.1", "the name in the orderers' TLS certificates")
	f.StringVar(&o.mspDir, "msp-dir", "", "the ordering organisation admin's MSP folder (default OrdererOrg's Admin)")
	f.StringVar(&o.mspID, "msp", "OrdererMSP", "the ordering organisation's MSP ID")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS client certificate (default the first member's Admin's, which both layouts' orderers accept)")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS client key")
	f.StringVar(&o.channel, "channel", "circular", "channel")
	f.StringVar(&o.next, "next", "", "the consortium file in the new layout (default HOME/migrate-bft/consortium.yaml)")
}

// resolve fills in the defaults that depend on the home and base port,
// which are known only once the root's flags are parsed.
func (o *migrateOpts) resolve(e *env) error {
	oorg := e.home + "/crypto/ordererOrganizations/orderer.mtrace.local/"
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	var addrs []string
	for i := range 10 {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", e.base+i))
	}
	def(&o.addr, strings.Join(addrs, ","))
	def(&o.mspDir, oorg+"users/Admin@orderer.mtrace.local/msp")
	def(&o.next, filepath.Join(e.home, "migrate-bft", "consortium.yaml"))
	if o.tlsCert == "" {
		admins, _ := filepath.Glob(e.home + "/crypto/peerOrganizations/*/users/Admin@*/tls/client.crt")
		if len(admins) == 0 {
			return errors.New("no member admin's TLS client certificate in the home: give --tls-cert and --tls-key")
		}
		o.tlsCert, o.tlsKey = admins[0], strings.TrimSuffix(admins[0], ".crt")+".key"
	}
	if o.tlsCA == "" {
		roots, _ := filepath.Glob(e.home + "/crypto/*/*/tlsca/*-cert.pem")
		var bundle []byte
		for _, r := range roots {
			raw, err := os.ReadFile(r)
			if err != nil {
				return err
			}
			bundle = append(bundle, raw...)
		}
		o.tlsCA = filepath.Join(e.home, "migrate-bft", "tls-roots.pem")
		if err := os.MkdirAll(filepath.Dir(o.tlsCA), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.tlsCA, bundle, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// migrateCommand is the config-update half of Fabric's Raft-to-BFT
// migration; network.sh migrate-bft stops, backs up and starts the
// processes between the steps (docs/how-to/migrate-raft-to-bft.md).
func migrateCommand(e *env) *cobra.Command {
	o := &migrateOpts{}
	cmd := &cobra.Command{Use: "migrate-bft", Short: "Config updates that move a Raft channel to BFT in place"}
	o.flags(cmd)
	o.env = e
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "The channel's consensus type, mode and consenters",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.withConfig(c.Context(), func(cfg *channel.Config, _ *channel.Orderer) error {
				if err := migrationStatus(c.OutOrStdout(), cfg); err != nil {
					return err
				}
				return endpointsStatus(c.OutOrStdout(), cfg)
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "add-raft HOST:PORT TLS-CERT",
		Short: "Add a Raft consenter (normal mode); done already when it is one",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			host, port, err := hostPort(args[0])
			if err != nil {
				return err
			}
			cert, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			return o.update(c.Context(), c.OutOrStdout(), "add the Raft consenter "+args[0],
				func(cfg *channel.Config) (bool, error) {
					cs, err := channel.RaftConsenters(cfg.Config)
					if err != nil {
						return false, err
					}
					for _, x := range cs {
						if x.Host == host && x.Port == port {
							return true, nil
						}
					}
					return false, nil
				},
				func(c *configtx.ConfigTx) error {
					if err := channel.AddRaftConsenter(c.UpdatedConfig(), &etcdraft.Consenter{Host: host, Port: port,
						ClientTlsCert: cert, ServerTlsCert: cert}); err != nil {
						return err
					}
					// The ordering organisation names the new node as an
					// endpoint, for the peers and their gateways.
					orgs, err := channel.OrdererOrgs(c.UpdatedConfig())
					if err != nil {
						return err
					}
					for name, msp := range orgs {
						if msp == o.mspID {
							return c.Orderer().Organization(name).SetEndpoint(configtx.Address{Host: host, Port: int(port)})
						}
					}
					return fmt.Errorf("no orderer organisation %s in the channel", o.mspID)
				})
		},
	})
	for _, on := range []bool{true, false} {
		use, what := "maintenance", "enter maintenance mode"
		if !on {
			use, what = "normal", "return to normal mode"
		}
		cmd.AddCommand(&cobra.Command{
			Use:   use,
			Short: strings.ToUpper(what[:1]) + what[1:] + "; done already when the channel is so",
			Args:  cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				return o.update(c.Context(), c.OutOrStdout(), what,
					func(cfg *channel.Config) (bool, error) {
						_, m, err := channel.Consensus(cfg.Config)
						return m == on, err
					},
					func(c *configtx.ConfigTx) error { return channel.SetMaintenance(c.UpdatedConfig(), on) })
			},
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "to-bft HOST:PORT=MSP:ENROLMENT-CERT...",
		Short: "Switch the consensus type to BFT (in maintenance mode) with the Raft nodes as consenters",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ids := map[string]channel.BFTIdentity{}
			for _, a := range args {
				addr, rest, ok1 := strings.Cut(a, "=")
				msp, file, ok2 := strings.Cut(rest, ":")
				if !ok1 || !ok2 {
					return fmt.Errorf("%q: want HOST:PORT=MSP:ENROLMENT-CERT", a)
				}
				cert, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				ids[addr] = channel.BFTIdentity{MSP: msp, Cert: cert}
			}
			return o.update(c.Context(), c.OutOrStdout(), "switch to BFT",
				func(cfg *channel.Config) (bool, error) {
					typ, _, err := channel.Consensus(cfg.Config)
					return typ == channel.BFT, err
				},
				func(c *configtx.ConfigTx) error {
					return channel.ToBFT(c.UpdatedConfig(), channel.SmartBFTOptions(), ids)
				})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "remove-consenter HOST:PORT",
		Short: "Take the BFT consenter at HOST:PORT out; done already when there is none",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			host, port, err := hostPort(args[0])
			if err != nil {
				return err
			}
			return o.update(c.Context(), c.OutOrStdout(), "remove the consenter "+args[0],
				func(cfg *channel.Config) (bool, error) {
					_, there := channel.ConsenterAt(cfg.Config, host, port)
					return !there, nil
				},
				func(c *configtx.ConfigTx) error {
					x, ok := channel.ConsenterAt(c.UpdatedConfig(), host, port)
					if !ok {
						return fmt.Errorf("no consenter at %s", args[0])
					}
					orgs, err := channel.OrdererOrgs(c.UpdatedConfig())
					if err != nil {
						return err
					}
					if err := channel.RemoveConsenterAt(c.UpdatedConfig(), host, port); err != nil {
						return err
					}
					// Its organisation stops naming it as an endpoint (an
					// address it no longer has is no error). An orderer
					// organisation must name one: it names its remaining
					// consenters, or leaves the orderer group with its last.
					for name, msp := range orgs {
						if msp != x.MspId {
							continue
						}
						oo := c.Orderer().Organization(name)
						_ = oo.RemoveEndpoint(configtx.Address{Host: host, Port: int(port)})
						cfg, err := oo.Configuration()
						if err != nil {
							return err
						}
						if len(cfg.OrdererEndpoints) > 0 {
							continue
						}
						cs, _ := channel.Consenters(c.UpdatedConfig())
						left := slices.DeleteFunc(cs, func(k *cb.Consenter) bool { return k.MspId != msp })
						if len(left) == 0 {
							c.Orderer().RemoveOrganization(name)
							continue
						}
						for _, k := range left {
							if err := oo.SetEndpoint(configtx.Address{Host: k.Host, Port: int(k.Port)}); err != nil {
								return err
							}
						}
					}
					return nil
				})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "enrol-orderer NAME",
		Short: "Enrol the ordering organisation's orderer NAME (orderer4) from its CA, ca-orderer; done already when its folders are complete",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			org := raftOrg(e.home, e.base, args[0])
			n, err := pki.Enrol(c.Context(), e.home, []pki.Org{org})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "migrate-bft: enrolled %d identities from ca-orderer\n", n)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "wait-peers",
		Short: "Wait until every peer has every block the orderers have",
		Long: `Wait until every peer has every block the orderers have. A consenter move
reuses the port of the node that left, with a certificate from another TLS
CA: a peer that has not read the config block of the move would check the
new node against the old organisation's TLS CA and never catch up, so the
migration waits for every peer before each move.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.waitPeers(c.Context(), c.OutOrStdout())
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "topology",
		Short: "Write the new layout's consortium file (no ordering organisation) to --next",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return o.nextTopology(c.OutOrStdout()) },
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "add-member NODE",
		Short: "Add the member's orderer to the orderer group and as a BFT consenter; done already when it is one",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.resolve(e); err != nil {
				return err
			}
			t, err := topology.Load(o.next)
			if err != nil {
				return err
			}
			org, ok := t.Org(args[0])
			if !ok {
				return fmt.Errorf("no organisation %s in %s", args[0], o.next)
			}
			n, _ := t.Node(e.base, org.Orderer())
			cons, err := consenter(e, t, org, n)
			if err != nil {
				return err
			}
			return o.update(c.Context(), c.OutOrStdout(), fmt.Sprintf("add %s's orderer 127.0.0.1:%d", org.MSP, n.Port),
				func(cfg *channel.Config) (bool, error) {
					orgs, err := channel.OrdererOrgs(cfg.Config)
					return err == nil && slices.Contains(slices.Collect(maps.Values(orgs)), org.MSP) && isConsenter(cfg.Config, org.MSP), err
				},
				func(c *configtx.ConfigTx) error {
					if _, busy := channel.ConsenterAt(c.UpdatedConfig(), "127.0.0.1", uint32(n.Port)); busy {
						if x, _ := channel.ConsenterAt(c.UpdatedConfig(), "127.0.0.1", uint32(n.Port)); x.MspId != org.MSP {
							return fmt.Errorf("%s's consenter 127.0.0.1:%d is still in the channel: remove it first", x.MspId, n.Port)
						}
					}
					// The orderer group must define the member's MSP exactly
					// as the application group does.
					app := c.Application().Organization(org.MSP)
					if app == nil {
						return fmt.Errorf("%s is not a member of the channel", org.MSP)
					}
					m, err := app.MSP().Configuration()
					if err != nil {
						return err
					}
					if err := c.Orderer().SetOrganization(channel.OrdererOrg(m, fmt.Sprintf("127.0.0.1:%d", n.Port))); err != nil {
						return err
					}
					return channel.AddConsenter(c.UpdatedConfig(), cons)
				})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "remove-ordererorg",
		Short: "Take the ordering organisation out of the orderer group once none of its nodes is a consenter",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.update(c.Context(), c.OutOrStdout(), "remove "+o.mspID+" from the orderer group",
				func(cfg *channel.Config) (bool, error) {
					orgs, err := channel.OrdererOrgs(cfg.Config)
					return err == nil && !slices.Contains(slices.Collect(maps.Values(orgs)), o.mspID), err
				},
				func(c *configtx.ConfigTx) error {
					if isConsenter(c.UpdatedConfig(), o.mspID) {
						return fmt.Errorf("%s still runs consenters: move them to the members first", o.mspID)
					}
					orgs, err := channel.OrdererOrgs(c.UpdatedConfig())
					if err != nil {
						return err
					}
					for name, msp := range orgs {
						if msp == o.mspID {
							c.Orderer().RemoveOrganization(name)
						}
					}
					return nil
				})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "config-block FILE",
		Short: "Write the channel's last config block to FILE (a joining orderer's)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return o.withConfig(c.Context(), func(_ *channel.Config, ord *channel.Orderer) error {
				b, err := ord.ConfigBlock(c.Context())
				if err != nil {
					return err
				}
				raw, err := proto.Marshal(b)
				if err != nil {
					return err
				}
				return os.WriteFile(args[0], raw, 0o644)
			})
		},
	})
	return cmd
}

func hostPort(s string) (string, uint32, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port of %s: %w", s, err)
	}
	return h, uint32(n), nil
}

func migrationStatus(w io.Writer, cfg *channel.Config) error {
	typ, m, err := channel.Consensus(cfg.Config)
	if err != nil {
		return err
	}
	mode := "normal"
	if m {
		mode = "maintenance"
	}
	fmt.Fprintf(w, "config block %d: consensus %s, %s mode\n", cfg.Block, typ, mode)
	if typ == channel.Raft {
		cs, err := channel.RaftConsenters(cfg.Config)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(w, "  raft consenter %s:%d\n", c.Host, c.Port)
		}
		return nil
	}
	cs, err := channel.Consenters(cfg.Config)
	if err != nil {
		return err
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  bft consenter %d %s:%d %s\n", c.Id, c.Host, c.Port, c.MspId)
	}
	return nil
}

func endpointsStatus(w io.Writer, cfg *channel.Config) error {
	c := configtx.New(cfg.Config)
	orgs, err := channel.OrdererOrgs(cfg.Config)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(orgs)) {
		oc, err := c.Orderer().Organization(name).Configuration()
		if err != nil {
			return err
		}
		var eps []string
		for _, a := range oc.OrdererEndpoints {
			eps = append(eps, a)
		}
		fmt.Fprintf(w, "  orderer organisation %s (%s): endpoints %s\n", name, orgs[name], strings.Join(eps, " "))
	}
	return nil
}

// withConfig runs f with the channel's configuration as the orderer
// with the most blocks serves it: during the migration nodes come and go
// on the same ports, and a SmartBFT follower of Fabric v3.1.1 can stop
// receiving blocks (docs/design/2026-12-06-bft-ordering.md), so its view
// of the configuration would stay old.
func (o *migrateOpts) withConfig(ctx context.Context, f func(*channel.Config, *channel.Orderer) error) error {
	// Orderers that have just started answer SERVICE_UNAVAILABLE until
	// their consensus is up: ask again for a minute.
	deadline := time.Now().Add(time.Minute)
	for {
		err := o.withConfigOnce(ctx, f)
		var none *noOrdererError
		if !errors.As(err, &none) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
	}
}

// noOrdererError says that no orderer served the channel's blocks.
type noOrdererError struct{ err error }

func (e *noOrdererError) Error() string { return "no orderer answered: " + e.err.Error() }

func (o *migrateOpts) withConfigOnce(ctx context.Context, f func(*channel.Config, *channel.Orderer) error) error {
	if err := o.resolve(o.env); err != nil {
		return err
	}
	// Blocks are read as the ordering organisation's admin while it is in
	// the channel (in maintenance mode only orderer organisations may
	// read), then as the first member's admin (it leaves at the end).
	type reader struct{ dir, msp, cert, key string }
	readers := []reader{{o.mspDir, o.mspID, o.tlsCert, o.tlsKey}}
	if t, err := topology.Load(o.next); err == nil {
		first := t.Organisations[0]
		cert, key := t.UserTLS(o.env.crypto(), first.Node, "Admin")
		readers = append(readers, reader{t.UserMSPDir(o.env.crypto(), first.Node, "Admin"), first.MSP, cert, key})
	}
	var (
		best *channel.Orderer
		top  uint64
		errs []error
	)
	for _, r := range readers {
		id, err := channel.LoadSigner(r.dir, r.msp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cert, err := tls.LoadX509KeyPair(r.cert, r.key)
		if err != nil {
			return fmt.Errorf("TLS client certificate: %w", err)
		}
		for _, addr := range strings.Split(o.addr, ",") {
			ord, err := channel.Dial(addr, o.tlsCA, o.serverName, cert, o.channel, id)
			if err != nil {
				return err
			}
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			h, err := ord.Height(cctx)
			cancel()
			if err != nil || h <= top {
				ord.Close()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s as %s: %w", addr, r.msp, err))
				}
				continue
			}
			if best != nil {
				best.Close()
			}
			best, top = ord, h
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		return &noOrdererError{errors.Join(errs...)}
	}
	defer best.Close()
	cfg, err := best.Config(ctx)
	if err != nil {
		return fmt.Errorf("read the channel configuration: %w", err)
	}
	return f(cfg, best)
}

// update makes one config update unless done says it is made already,
// and waits until a config block holds it.
func (o *migrateOpts) update(ctx context.Context, w io.Writer, what string, done func(*channel.Config) (bool, error), edit func(*configtx.ConfigTx) error) error {
	return o.withConfig(ctx, func(cfg *channel.Config, ord *channel.Orderer) error {
		ok, err := done(cfg)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(w, "migrate-bft: %s: done already (config block %d)\n", what, cfg.Block)
			return nil
		}
		u, err := channel.Compute(cfg.Config, o.channel, edit)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		signers, err := o.signers(cfg)
		if err != nil {
			return err
		}
		for _, s := range signers {
			if err := u.Sign(s); err != nil {
				return err
			}
		}
		// The submitter must be a channel writer: the first signer, an
		// admin of an orderer organisation.
		env, err := u.Envelope(signers[0])
		if err != nil {
			return err
		}
		if err := ord.Submit(ctx, env); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			// Read afresh each time: the update may have taken the
			// reader's organisation out of the channel.
			var now *channel.Config
			err := o.withConfigOnce(ctx, func(c *channel.Config, _ *channel.Orderer) error {
				now = c
				return nil
			})
			if err == nil {
				if ok, _ := done(now); ok {
					fmt.Fprintf(w, "migrate-bft: %s (config block %d)\n", what, now.Block)
					return nil
				}
			}
			if time.Now().After(deadline) {
				return errors.Join(fmt.Errorf("%s: the orderer accepted the update but no config block holds it after 60 s", what), err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// signers are the admins of every organisation of the orderer group,
// whose MAJORITY the orderer group's changes need: OrdererOrg's from
// --msp-dir, the members' from the new consortium file's layout (on this
// machine every admin's key is at hand).
func (o *migrateOpts) signers(cfg *channel.Config) ([]*configtx.SigningIdentity, error) {
	orgs, err := channel.OrdererOrgs(cfg.Config)
	if err != nil {
		return nil, err
	}
	var t *topology.Topology
	var ids []*configtx.SigningIdentity
	for _, msp := range slices.Sorted(maps.Values(orgs)) {
		dir := o.mspDir
		if msp != o.mspID {
			if t == nil {
				if t, err = topology.Load(o.next); err != nil {
					return nil, fmt.Errorf("the new consortium file (run 'migrate-bft topology' first): %w", err)
				}
			}
			i := slices.IndexFunc(t.Organisations, func(x topology.Org) bool { return x.MSP == msp })
			if i < 0 {
				return nil, fmt.Errorf("orderer organisation %s is not in %s", msp, o.next)
			}
			dir = t.UserMSPDir(o.env.crypto(), t.Organisations[i].Node, "Admin")
		}
		id, err := channel.LoadSigner(dir, msp)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// nextTopology writes the new layout's consortium file: the home's, less
// its ordering organisation (each member now runs an orderer). It keeps a
// file written already.
func (o *migrateOpts) nextTopology(w io.Writer) error {
	if err := o.resolve(o.env); err != nil {
		return err
	}
	if _, err := os.Stat(o.next); err == nil {
		if _, err := topology.Load(o.next); err != nil {
			return err
		}
		fmt.Fprintf(w, "migrate-bft: %s exists already\n", o.next)
		return nil
	}
	src := filepath.Join(o.env.home, "consortium.yaml")
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s is not a consortium file", src)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "orderers" {
			m.Content = slices.Delete(m.Content, i, i+2)
			break
		}
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.next), 0o755); err != nil {
		return err
	}
	tmp := o.next + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	if _, err := topology.Load(tmp); err != nil {
		return fmt.Errorf("the new consortium file: %w", err)
	}
	if err := os.Rename(tmp, o.next); err != nil {
		return err
	}
	fmt.Fprintf(w, "migrate-bft: wrote %s\n", o.next)
	return nil
}

// raftOrg is the previous release's ordering organisation as network/pki
// enrols it: its CA server ca-orderer (base+30, operations base+31), its
// folder under crypto/ordererOrganizations, its Admin and the node name.
func raftOrg(home string, base int, name string) pki.Org {
	const domain = "orderer.mtrace.local"
	dir := filepath.Join(home, "crypto", "ordererOrganizations", domain)
	host := name + "." + domain
	return pki.Org{
		CA: topology.CA{Process: "ca-orderer", Org: "orderer", MSP: "OrdererMSP", Domain: domain,
			Name: "ca-orderer", TLSName: "tlsca-orderer", Port: base + 30, Ops: base + 31},
		Dir: dir,
		Holders: []pki.Holder{
			{ID: host, Type: "orderer", Dir: filepath.Join(dir, "orderers", host), File: host,
				Hosts: []string{host, "localhost", "127.0.0.1"}},
			{ID: "Admin@" + domain, Type: "admin", Dir: filepath.Join(dir, "users", "Admin@"+domain), File: "Admin@" + domain},
		},
	}
}

// waitPeers waits (at most two minutes) until every peer of the new
// consortium file reports, on its operations endpoint, at least the
// height the orderers have now.
func (o *migrateOpts) waitPeers(ctx context.Context, w io.Writer) error {
	var top uint64
	if err := o.withConfig(ctx, func(_ *channel.Config, ord *channel.Orderer) error {
		var err error
		top, err = ord.Height(ctx)
		return err
	}); err != nil {
		return err
	}
	t, err := topology.Load(o.next)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, n := range t.Nodes(o.env.base) {
		if n.Kind != "peer" {
			continue
		}
		for {
			h := peerHeightOf(n.Ops, o.channel)
			if h >= float64(top) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("peer %s has %s blocks, the orderers %d: restart it (it must read every config block of the migration before the next consenter move)", n.Name, height(h), top)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	fmt.Fprintf(w, "migrate-bft: every peer has the orderers' %d blocks\n", top)
	return nil
}
