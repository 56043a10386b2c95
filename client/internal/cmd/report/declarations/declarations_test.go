package declarations

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmd/report/reporttest"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
	"github.com/mtrace/mtrace/client/internal/report"
)

func TestDeclarationsOfASite(t *testing.T) {
	db := reporttest.SitesDB(t)
	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdDeclarations(e.F, nil), "declarations", "--db", db, "--site", pt.SiteCollector))
	out := e.Out.String()
	assert.Contains(t, out, "Batch declarations issued or claimed at site 8690000000012, all time")
	assert.Regexp(t, `D-1\s+PET-1\s+IstanbulMSP 8690000000012\s+RecyclerMSP\s+1000\.000 kg\s+100%\s+0%\s+controlled-blending\s+2026-11-20T07:00:03Z \(o1, 3\)\s+2026-11-20T07:00:04Z by RecyclerMSP at 8690000000029 \(c1, 4\)`, out,
		"the issue and the claim, each with its transaction and block")
	assert.NotContains(t, out, "D-2")

	e = cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdDeclarations(e.F, nil), "declarations", "--db", db, "-o", "json"))
	var r report.Declarations
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	require.Len(t, r.Declarations, 2)
	assert.Equal(t, "RecyclerMSP", r.Declarations[0].ClaimedBy)
	assert.Nil(t, r.Declarations[1].Claim, "D-2 is unclaimed")

	e = cmdtest.New(t)
	assert.ErrorContains(t, e.Run(NewCmdDeclarations(e.F, nil), "declarations", "--db", db, "--from", "yesterday"), `--from "yesterday": want a date`)
}
