package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/network/topology"
)

// runner runs the mtrace CLI as a profile with -o json and returns what
// it printed.
type runner func(profile string, args ...string) ([]byte, error)

// registryCommand changes the registry through the governed vote, with
// the mtrace CLI and the network's admin profiles.
func registryCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "registry", Short: "Change the registry through the governed vote of the members' admins"}
	var role, name string
	set := &cobra.Command{
		Use:   "set --msp ID --role ROLE --name TEXT",
		Short: "Add or change an organisation's registry entry: proposed by one member's admin, approved by a majority",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msp, _ := cmd.Flags().GetString("msp")
			return runVote(cmd.OutOrStdout(), e, model.Change{Action: model.ActionSet,
				Participant: model.Participant{MSP: msp, Role: model.Role(role), Name: name}})
		},
	}
	set.Flags().StringVar(&role, "role", "", "the registry role")
	set.Flags().StringVar(&name, "name", "", "the display name")
	remove := &cobra.Command{
		Use:   "remove --msp ID",
		Short: "Remove an organisation's registry entry by the same vote",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msp, _ := cmd.Flags().GetString("msp")
			return runVote(cmd.OutOrStdout(), e, model.Change{Action: model.ActionRemove, Participant: model.Participant{MSP: msp}})
		},
	}
	for _, c := range []*cobra.Command{set, remove} {
		c.Flags().String("msp", "", "MSP ID of the organisation")
		_ = c.MarkFlagRequired("msp")
	}
	cmd.AddCommand(set, remove)
	return cmd
}

func runVote(out io.Writer, e *env, change model.Change) error {
	t, err := e.topology()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cli := filepath.Join(filepath.Dir(self), "mtrace")
	run := func(profile string, args ...string) ([]byte, error) {
		c := exec.Command(cli, append(append([]string{"-p", profile}, args...), "-o", "json")...)
		c.Env = append(os.Environ(), "MTRACE_CONFIG="+filepath.Join(e.home, "config.yaml"))
		var stderr bytes.Buffer
		c.Stderr = &stderr
		raw, err := c.Output()
		if err != nil {
			return nil, fmt.Errorf("mtrace -p %s %s: %s", profile, strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return raw, nil
	}
	return vote(out, t, run, change)
}

// vote applies change to the registry the way the consortium does: an
// admin of the first other member proposes it (an open proposal for the
// same change is reused), then admins of the members approve it one
// organisation at a time, in topology order, until the approval that
// reaches a majority applies it. On this machine every admin's key is at
// hand; in a consortium each admin approves with their own CLI.
func vote(out io.Writer, t *topology.Topology, run runner, change model.Change) error {
	msp := change.Participant.MSP
	var voters []topology.Org
	for _, o := range t.Organisations {
		if o.MSP != msp {
			voters = append(voters, o)
		}
	}
	if len(voters) == 0 {
		return errors.New("no other organisation to vote")
	}
	var reg model.Registry
	if err := decode(run, &reg, voters[0].Node, "registry", "show"); err != nil {
		return err
	}
	cur, in := reg.Lookup(msp)
	if (change.Action == model.ActionSet && in && cur == change.Participant) || (change.Action == model.ActionRemove && !in) {
		fmt.Fprintf(out, "registry: nothing to do (%s)\n", done(change))
		return nil
	}
	var open *model.Proposal
	for i, p := range reg.Proposals {
		if p.Change == change {
			open = &reg.Proposals[i]
			break
		}
	}
	for _, o := range voters {
		if _, member := reg.Lookup(o.MSP); !member {
			continue
		}
		if open == nil {
			var p model.Proposal
			if err := decode(run, &p, o.Node+"-admin", proposeArgs(change)...); err != nil {
				return err
			}
			open = &p
			fmt.Fprintf(out, "registry: %s proposed to %s (proposal %s)\n", o.MSP, change, p.ID)
		}
		if open.ApprovedBy(o.MSP) {
			continue
		}
		var v model.Vote
		if err := decode(run, &v, o.Node+"-admin", "registry", "approve", open.ID); err != nil {
			return err
		}
		fmt.Fprintf(out, "registry: %s approved (%d of %d needed)\n", o.MSP, v.Votes, v.Needed)
		if v.Applied {
			fmt.Fprintf(out, "registry: applied (%s)\n", done(change))
			return nil
		}
	}
	return fmt.Errorf("proposal to %s did not reach a majority of the members' approvals", change)
}

func proposeArgs(c model.Change) []string {
	args := []string{"registry", "propose", "--msp", c.Participant.MSP}
	if c.Action == model.ActionRemove {
		return append(args, "--remove")
	}
	return append(args, "--role", string(c.Participant.Role), "--name", c.Participant.Name)
}

func done(c model.Change) string {
	if c.Action == model.ActionRemove {
		return c.Participant.MSP + " is out of the registry"
	}
	return fmt.Sprintf("%s is in the registry as %s", c.Participant.MSP, c.Participant.Role)
}

func decode(run runner, v any, profile string, args ...string) error {
	raw, err := run(profile, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("mtrace -p %s %s: %w", profile, strings.Join(args, " "), err)
	}
	return nil
}
