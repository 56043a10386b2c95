package audit

import (
	"encoding/json"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdAudit(e.F, nil) }

var registry = model.Registry{Participants: []model.Participant{
	{MSP: "MunicipalityMSP", Role: model.RoleCollector}, {MSP: "RecyclerMSP", Role: model.RoleRecycler},
	{MSP: "MakerMSP", Role: model.RoleMaker}, {MSP: "AuditorMSP", Role: model.RoleAuditor},
}}

// ledger serves batches two pages at a time: PET-1 received by the
// recycler with 10 kg lost, PET-2 still with the municipality, and
// PET-3, which corrupt may change.
func serve(f *ledgertest.Fake, corrupt func(*model.Batch)) {
	b3 := cmdtest.Collected("PET-3", 100_000)
	if corrupt != nil {
		corrupt(&b3)
	}
	pages := map[string]model.BatchPage{
		"":   {Batches: []model.Batch{cmdtest.Received(cmdtest.Collected("PET-1", 1_250_000), 10_000), cmdtest.Collected("PET-2", 800_000)}, Bookmark: "p2"},
		"p2": {Batches: []model.Batch{b3}},
	}
	f.On(api.ListBatches, func(args []string) ([]byte, error) {
		var q model.ListQuery
		if err := json.Unmarshal([]byte(args[0]), &q); err != nil {
			return nil, err
		}
		if q.Limit != PageSize {
			return nil, ledgertest.Rejection("limit: unexpected")
		}
		return json.Marshal(pages[q.Bookmark])
	})
	f.OnJSON(api.GetRegistry, registry)
}

func TestAuditClean(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		serve(e.Fake, nil)
		require.NoError(t, e.Run(newCmd(e), "audit", "--no-signatures", "-o", format))
		assert.Len(t, e.Fake.CallsTo(api.ListBatches), 2, "every page is read")
		cmdtest.Golden(t, "audit_clean_"+format, e.Out.String())
	}
}

func TestAuditViolations(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		serve(e.Fake, func(b *model.Batch) {
			b.Owner = "EvilMSP"
			b.RemainingMass = -5
		})
		err := e.Run(newCmd(e), "audit", "--no-signatures", "-o", format)
		require.ErrorIs(t, err, cmdutil.ErrSilent)
		assert.Contains(t, e.Out.String(), "owner EvilMSP is not a registered organisation")
		cmdtest.Golden(t, "audit_violations_"+format, e.Out.String())
	}
}

func TestAuditErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "audit", "--no-signatures", "-p", "ghost"), `profile "ghost" not found`)
	e.Fake.OnError(api.ListBatches, ledgertest.Rejection("role auditor may not list"))
	assert.EqualError(t, e.Run(newCmd(e), "audit", "--no-signatures"), "rejected by chaincode: role auditor may not list")

	e = cmdtest.New(t)
	e.Fake.OnJSON(api.ListBatches, model.BatchPage{Bookmark: "same"})
	assert.ErrorContains(t, e.Run(newCmd(e), "audit", "--no-signatures"), `page token "same" repeats`)
}
