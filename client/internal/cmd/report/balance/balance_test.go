package balance

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/project"
	"github.com/mtrace/mtrace/client/internal/cmd/report/reporttest"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
	"github.com/mtrace/mtrace/client/internal/report"
)

func newCmd(e *cmdtest.Env) *cobra.Command {
	cmd := NewCmdBalance(e.F, nil)
	return cmd
}

// fixed makes the statement's generation time fixed.
func fixed(e *cmdtest.Env) *cobra.Command {
	return NewCmdBalance(e.F, func(o *Options) error {
		o.Now = func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }
		return runBalance(context.Background(), o)
	})
}

func TestBalanceOfASite(t *testing.T) {
	db := reporttest.SitesDB(t)
	e := cmdtest.New(t)
	require.NoError(t, e.Run(fixed(e), "balance", "--db", db, "--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2026-12-31"))
	out := e.Out.String()
	assert.Contains(t, out, "Mass balance of site 8690000000029 (site 8690000000029, RecyclerMSP), 2026-10-01 to 2026-12-31")
	assert.Contains(t, out, "Ledger height 6 (blocks 0 to 5 projected)")
	assert.Regexp(t, `\+ received from members\s+990\.000 kg\s+990\.000 kg\s+0\.000 kg\s+a1`, out)
	assert.Empty(t, e.Fake.Calls(), "a report reads no ledger")

	e = cmdtest.New(t)
	require.NoError(t, e.Run(fixed(e), "balance", "--db", db, "--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2026-12-31", "-o", "json"))
	var b report.Balance
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &b))
	assert.Equal(t, int64(6), b.Height)
	require.Len(t, b.Materials, 1)
	assert.Equal(t, int64(0), b.Materials[0].Closing)

	for _, f := range []string{"csv", "html", "table", "json"} {
		e = cmdtest.New(t)
		require.NoError(t, e.Run(fixed(e), "balance", "--db", db, "--site", pt.SiteGebze, "--from", "2026-11-01", "--to", "2026-11-30", "--format", f), f)
		assert.NotEmpty(t, e.Out.String(), f)
	}
}

func TestBalanceRefusesBadInput(t *testing.T) {
	db := reporttest.SitesDB(t)
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2026-12-31"}, "--db is required"},
		{[]string{"--db", db, "--site", "123", "--from", "2026-10-01", "--to", "2026-12-31"}, "--site"},
		{[]string{"--db", db, "--site", pt.SiteGebze, "--to", "2026-12-31"}, "--from and --to are required"},
		{[]string{"--db", db, "--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2027-01-01"}, "the period 2026-10-01 to 2027-01-01 is longer than three months"},
		{[]string{"--db", db, "--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2026-12-31", "--format", "pdf"}, `--format: must be one of table, json, csv, html, got "pdf"`},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), append([]string{"balance"}, c.args...)...)
		var fe *cmdutil.FlagError
		assert.True(t, errors.As(err, &fe), "%v: a usage error, got %v", c.args, err)
		assert.ErrorContains(t, err, c.err)
		assert.Empty(t, e.Out.String())
	}

	// A database that is not a projection, or not there.
	e := cmdtest.New(t)
	missing := "sqlite:" + filepath.Join(t.TempDir(), "none.db")
	err := e.Run(newCmd(e), "balance", "--db", missing, "--site", pt.SiteGebze, "--from", "2026-10-01", "--to", "2026-12-31")
	assert.ErrorContains(t, err, "run mtrace project --db")
	// A site no organisation lists.
	e = cmdtest.New(t)
	err = e.Run(newCmd(e), "balance", "--db", db, "--site", "4000000000006", "--from", "2026-10-01", "--to", "2026-12-31")
	assert.ErrorContains(t, err, "site 4000000000006: no organisation lists it")
}

func TestFailOnNegative(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "n.db")
	e := cmdtest.New(t)
	e.Fake.AddBlocks(pt.NegativeLedger(t)...)
	require.NoError(t, e.Run(project.NewCmdProject(e.F, nil), "project", "--db", db, "--once"))

	e = cmdtest.New(t)
	require.NoError(t, e.Run(newCmd(e), "balance", "--db", db, "--site", pt.SiteGebze, "--from", "2026-11-01", "--to", "2026-11-30"),
		"flagged, but not an error unless asked")
	assert.Contains(t, e.Out.String(), "NEGATIVE BALANCE")

	e = cmdtest.New(t)
	err := e.Run(newCmd(e), "balance", "--db", db, "--site", pt.SiteGebze, "--from", "2026-11-01", "--to", "2026-11-30", "--fail-on-negative")
	var exit *cmdutil.ExitError
	require.True(t, errors.As(err, &exit), "got %v", err)
	assert.Equal(t, 1, exit.Code)
	assert.Contains(t, e.Out.String(), "NEGATIVE BALANCE", "the statement is written first")
}
