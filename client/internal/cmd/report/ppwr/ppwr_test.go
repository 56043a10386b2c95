package ppwr

import (
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/report/reporttest"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

func TestPPWRLine(t *testing.T) {
	db := reporttest.SitesDB(t)
	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdPPWR(e.F, nil), "ppwr", "--db", db, "--plant", pt.SiteGebze, "--year", "2026"))
	assert.Contains(t, e.Out.String(), "Post-consumer content (PPWR Art. 7) of plant 8690000000029 (site 8690000000029, RecyclerMSP), year 2026")
	assert.Regexp(t, `PET\s+1\s+1300\.000 kg\s+919\.284 kg\s+70\.7141%\s+371\.428 kg\s+p1`, e.Out.String())

	e = cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdPPWR(e.F, nil), "ppwr", "--db", db, "--plant", pt.SiteGebze, "--year", "2026", "--format", "csv"))
	recs, err := csv.NewReader(e.Out).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"figure", pt.SiteGebze, "2026", "PET", "1", "1300000", "919284", "371428", "707141", "", "", "", "", "", "6"}, recs[1])
	assert.Equal(t, "p1", recs[2][11])

	for _, c := range []struct{ args []string }{
		{[]string{"--plant", pt.SiteGebze, "--year", "2026"}},
		{[]string{"--db", db, "--plant", "1", "--year", "2026"}},
		{[]string{"--db", db, "--plant", pt.SiteGebze}},
	} {
		e = cmdtest.New(t)
		assert.Error(t, e.Run(NewCmdPPWR(e.F, nil), append([]string{"ppwr"}, c.args...)...), "%v", c.args)
	}
}
