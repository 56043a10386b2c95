package cmdtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// hold is a batch command as the real ones are built: it quarantines a
// batch and prints it back.
func hold(e *Env) *cobra.Command {
	return &cobra.Command{Use: "hold ID", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		format, err := e.F.Format()
		if err != nil {
			return err
		}
		return cmdutil.SubmitBatch(cmd.Context(), e.F.Ledger, cmdutil.BatchWrite{
			IO: e.IO, Format: format, ID: args[0],
			Write:   func(ctx context.Context, c *api.Client) error { return c.Quarantine(ctx, args[0], "test") },
			Summary: func(b *model.Batch) string { return fmt.Sprintf("held %s (%s)", b.ID, b.RemainingMass) },
		})
	}}
}

// show is a query command: it reads a batch and prints it.
func show(e *Env) *cobra.Command {
	return &cobra.Command{Use: "show ID", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		format, err := e.F.Format()
		if err != nil {
			return err
		}
		return cmdutil.WithLedger(cmd.Context(), e.F.Ledger, func(l ledger.Ledger) error {
			b, err := api.New(l).ReadBatch(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format == cmdutil.FormatJSON {
				return render.JSON(e.IO.Out, b)
			}
			_, err = fmt.Fprintf(e.IO.Out, "%s owned by %s\n", b.ID, b.Owner)
			return err
		})
	}}
}

func TestEnvAndCases(t *testing.T) {
	b := Received(Collected("PET-1", 1_250_000), 10_000)
	args := BatchFormats(t, "hold", hold, api.Quarantine, b, "hold", "PET-1")
	assert.Equal(t, []string{"PET-1", "test"}, args)
	args = Formats(t, "show", show, api.ReadBatch, b, "show", "PET-1")
	assert.Equal(t, []string{"PET-1"}, args)
	SubmitErrors(t, hold, api.Quarantine, "hold", "PET-1")
}

func TestEnvConnectsWithTheConfigFile(t *testing.T) {
	e := New(t)
	p, err := e.F.Profile()
	require.NoError(t, err)
	assert.Equal(t, "municipality", p.Name, "the default profile")
	e.F.Globals.Profile = "recycler"
	l, err := e.F.Ledger(context.Background())
	require.NoError(t, err)
	assert.Same(t, e.Fake, l)
	assert.Equal(t, e.F.Globals.Timeout, e.Options.Timeout, "the connector saw the options")
	assert.Equal(t, "test", e.F.Version)
}

// The fixtures obey the model: a collected batch is whole, a received
// one conserves its mass, and an audit of both finds nothing.
func TestFixturesAreConsistent(t *testing.T) {
	c := Collected("PET-1", 1_000_000)
	r := Received(Collected("PET-2", 800_000), 5_000)
	assert.Equal(t, c.InitialMass, c.RemainingMass)
	assert.Equal(t, r.InitialMass, r.RemainingMass+r.TransitLoss)
	assert.Equal(t, "RecyclerMSP", r.Owner)
	assert.Equal(t, "RecyclerMSP", r.Custodian(1))
	reg := model.Registry{Participants: []model.Participant{
		{MSP: "MunicipalityMSP", Role: model.RoleCollector, Name: "M"}, {MSP: "RecyclerMSP", Role: model.RoleRecycler, Name: "R"},
	}}
	rep := model.Audit([]model.Batch{c, r}, reg)
	assert.True(t, rep.OK, "%v", rep.Violations)
	created, err := time.Parse(time.RFC3339, c.CreatedAt)
	require.NoError(t, err)
	assert.True(t, Now.After(created), "the fixed clock is after the fixtures")
}

// TestGroup runs Group on a group built here as the real ones are.
func TestGroup(t *testing.T) {
	Group(t, "demo", func(f *cmdutil.Factory) *cobra.Command {
		g := &cobra.Command{Use: "demo", Short: "a group", RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}}
		for _, n := range []string{"one", "two"} {
			g.AddCommand(&cobra.Command{Use: n, Short: n, Example: "mtrace demo " + n, RunE: func(*cobra.Command, []string) error { return nil }})
		}
		return g
	}, "two", "one")
}
