package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/member"
)

// readConfig reads the configuration a config block carries.
func readConfig(path string) (*member.ConfigAt, error) {
	b, err := member.ReadBlock(path)
	if err != nil {
		return nil, err
	}
	cfg, err := configblock.Config(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name, err := member.BlockChannel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &member.ConfigAt{Config: cfg, Block: b.Header.Number, Channel: name}, nil
}

// writeUpdate writes an update file unless the same change from the same
// config block is already there (its signatures stay good).
func writeUpdate(a *app, path string, u *member.UpdateFile) error {
	if old, _, err := member.ReadUpdate(path); err == nil {
		if old.Kind == u.Kind && old.Member == u.Member && old.BaseBlock == u.BaseBlock && old.Channel == u.Channel {
			fmt.Fprintf(a.out, "%s: kept (the same change from config block %d)\n%s", path, old.BaseBlock, old.Describe())
			return nil
		}
		return fmt.Errorf("%s holds another update (%s %s from block %d): move it away first", path, old.Kind, old.Member, old.BaseBlock)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := member.WriteUpdate(path, u); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s: written\n%s", path, u.Describe())
	return nil
}

func updateCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "update", Short: "Propose a channel configuration update as a file for the admins to sign"}
	var config, out string
	add := &cobra.Command{
		Use:   "add-member CARD --config BLOCK --out X.update",
		Short: "Propose adding the card's organisation: a member, and its orderer a consenter",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := member.ReadCard(args[0])
			if err != nil {
				return err
			}
			cfg, err := readConfig(config)
			if err != nil {
				return err
			}
			u, err := member.NewAddMember(cfg.Config, cfg.Channel, cfg.Block, c)
			if err != nil {
				return fmt.Errorf("%s: %w", config, err)
			}
			if out == "" {
				out = "add-" + c.Node + ".update"
			}
			return writeUpdate(a, out, u)
		},
	}
	remove := &cobra.Command{
		Use:   "remove-member MSPID --config BLOCK --out X.update",
		Short: "Propose removing an organisation: out of the channel, its orderer out of the consenters",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg, err := readConfig(config)
			if err != nil {
				return err
			}
			u, err := member.NewRemoveMember(cfg.Config, cfg.Channel, cfg.Block, args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", config, err)
			}
			if out == "" {
				out = "remove-" + args[0] + ".update"
			}
			return writeUpdate(a, out, u)
		},
	}
	for _, c := range []*cobra.Command{add, remove} {
		c.Flags().StringVar(&config, "config", "", "the channel's config block in force (channel fetch-config)")
		c.Flags().StringVar(&out, "out", "", "the update file")
		_ = c.MarkFlagRequired("config")
	}
	show := &cobra.Command{
		Use:   "show X.update",
		Short: "Print what an update does (read from the update itself)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			u, _, err := member.ReadUpdate(args[0])
			if err != nil {
				return err
			}
			fmt.Fprint(a.out, u.Describe())
			return nil
		},
	}
	cmd.AddCommand(add, remove, show)
	return cmd
}

func signCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "sign X.update [--out X.MSP.sig]",
		Short: "Sign an update as the organisation's admin; the signature file names the update's hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			u, _, err := member.ReadUpdate(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = member.SignatureName(args[0], h.MSPID)
			}
			fmt.Fprint(a.out, u.Describe())
			if old, err := member.ReadSignature(out); err == nil && old.Update == u.SHA256 && old.MSPID == h.MSPID {
				fmt.Fprintf(a.out, "%s: kept (%s has signed this update)\n", out, h.MSPID)
				return nil
			}
			s, err := h.Sign(u)
			if err != nil {
				return err
			}
			if err := member.WriteSignature(out, s); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: %s's signature (%s)\n", out, h.MSPID, s.Signer)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the signature file (default X.MSP.sig beside the update)")
	return cmd
}

func readSigs(paths []string) ([]member.Signed, error) {
	var out []member.Signed
	for _, p := range paths {
		s, err := member.ReadSignature(p)
		if err != nil {
			return nil, err
		}
		out = append(out, member.Signed{Path: p, SignatureFile: s})
	}
	return out, nil
}

func verifyCmd(a *app) *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   "verify X.update SIG... --config BLOCK",
		Short: "Check signatures against the policies the update touches, offline; name the missing ones",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			u, cu, err := member.ReadUpdate(args[0])
			if err != nil {
				return err
			}
			sigs, err := readSigs(args[1:])
			if err != nil {
				return err
			}
			cfg, err := readConfig(config)
			if err != nil {
				return err
			}
			if at := member.Stale(cfg.Config, cu); at != "" {
				return fmt.Errorf("%s was computed from another configuration than %s's (%s differs)", args[0], config, at)
			}
			c, err := member.Check(cfg.Config, u, cu, sigs, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprint(a.out, c.Describe())
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the channel's config block in force")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func submitCmd(a *app) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "submit X.update SIG...",
		Short: "Check the signatures, then send the update to the organisation's own orderer",
		Long: `submit reads the configuration in force from the organisation's own orderer,
checks the signatures against every policy the update touches (adding its
own admin's signature when no file is its organisation's) and sends the
update only when they suffice; otherwise it names the organisations whose
admins' signatures are missing. It waits until the orderer's configuration
shows the update. An update the channel already has is reported and not
sent again.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			u, cu, err := member.ReadUpdate(args[0])
			if err != nil {
				return err
			}
			sigs, err := readSigs(args[1:])
			if err != nil {
				return err
			}
			res, err := h.Submit(cmd.Context(), u, cu, sigs, wait)
			if err != nil {
				return err
			}
			if res.AlreadyApplied {
				fmt.Fprintf(a.out, "%s: already applied (config block %d has it); nothing sent\n", args[0], res.Block)
				return nil
			}
			fmt.Fprint(a.out, res.Checked.Describe())
			fmt.Fprintf(a.out, "%s: applied in config block %d\n", args[0], res.Block)
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the update to show")
	return cmd
}

func keysCmd(a *app) *cobra.Command {
	var cards []string
	cmd := &cobra.Command{
		Use:   "keys [DIR]",
		Short: "List private keys in a folder that are not the organisation's own (exit 1 if any)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			dir := h.Dir
			if len(args) == 1 {
				dir = args[0]
			}
			cs, err := readCards(cards)
			if err != nil {
				return err
			}
			ks, err := member.ForeignKeys(dir, h.MSPID, cs...)
			if err != nil {
				return err
			}
			for _, k := range ks {
				owner := k.Owner
				if owner == "" {
					owner = "unknown owner"
				}
				fmt.Fprintf(a.out, "%s: private key of %s\n", k.Path, owner)
			}
			if len(ks) > 0 {
				return fmt.Errorf("%d private key(s) in %s are not %s's", len(ks), dir, h.MSPID)
			}
			fmt.Fprintf(a.out, "%s holds no private key but %s's\n", dir, h.MSPID)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&cards, "member", nil, "another member's card, to name the owner of its keys (repeat)")
	return cmd
}
