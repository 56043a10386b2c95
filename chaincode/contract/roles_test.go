package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// writeFuncs are the transactions that change the ledger and are open to
// operators and admins, and adminFuncs those open to admins only. Listed
// here by hand, so that a function moved to the read list by mistake fails
// TestFunctionsClassified.
var (
	writeFuncs = []string{
		"AcceptTransfer", "AttachDocument", "CancelTransfer", "Capture",
		"OfferTransfer", "Process", "Quarantine", "RegisterBatch", "RejectTransfer", "Release",
		"AcceptTransferAt", "ClaimDeclaration", "IssueDeclaration", "RegisterPurchase",
	}
	adminFuncs = []string{"ApproveChange", "BootstrapRegistry", "MigrateBatches", "ProposeChange", "RejectChange", "SetSite", "WithdrawChange"}
)

func TestFunctionsClassified(t *testing.T) {
	all := slices.Sorted(func(yield func(string) bool) {
		for fn := range arities(&Contract{}) {
			if !yield(fn) {
				return
			}
		}
	})
	listed := slices.Concat(writeFuncs, api.Reads(), adminFuncs)
	slices.Sort(listed)
	assert.Equal(t, all, listed, "every transaction is exactly one of write, read or admin")
}

// placeholder returns arguments of the right count for fn.
func placeholder(fn string) []any {
	n := arities(&Contract{})[fn]
	a := make([]any, n)
	for i := range a {
		a[i] = "x"
	}
	return a
}

func TestViewerMayOnlyRead(t *testing.T) {
	w := story(t)
	ayse := person("RecyclerMSP", "ayse", model.PersonViewer)

	// Every write and every admin function is refused by name, before any
	// transaction code runs (so whatever the arguments), and nothing is
	// written.
	for _, fn := range slices.Concat(writeFuncs, adminFuncs) {
		w.fail(ayse, `caller ayse (RecyclerMSP) has mtrace.role "viewer", which may only read; `+fn+` needs operator or admin`, fn, placeholder(fn)...)
	}
	// With real arguments too: a process the recycler's operator could run.
	w.fail(ayse, `has mtrace.role "viewer", which may only read; Process needs operator or admin`, "Process", model.ProcessRequest{
		Step: model.StepExtrusion, Inputs: []model.ProcessInput{in("SPOOL-2", kg(100))},
		Outputs: []model.ProcessOutput{out("SPOOL-9", model.FormFilament, kg(100))}})

	// Reads answer a viewer as anyone else.
	var b model.Batch
	w.query(ayse, &b, "ReadBatch", "SPOOL-2")
	assert.Equal(t, "RecyclerMSP", b.Owner)
	var v model.Verdict
	w.query(ayse, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.True(t, v.OK)
	var h []model.HistoryEntry
	w.query(ayse, &h, "GetHistory", "C1")
	assert.NotEmpty(t, h)
	w.query(ayse, nil, "GetRegistry")
	w.query(ayse, nil, "ListBatches", model.ListQuery{Owner: "RecyclerMSP"})
	w.query(ayse, nil, "Trace", "C1", "down")
}

func TestRoleAttributeRequired(t *testing.T) {
	w := newWorld(t)
	w.register("C1", kg(10))
	cases := []struct {
		name string
		id   *fakestub.Identity
		want string
	}{
		{"cryptogen certificate, no attributes", fakestub.NewIdentity("MunicipalityMSP", "User1@municipality.mtrace.local", "client"),
			`caller User1@municipality.mtrace.local (MunicipalityMSP) has no mtrace.role attribute in its certificate: enrol it with mtrace.role=operator, viewer or admin`},
		{"enrolled without the role", fakestub.NewEnrolled("MunicipalityMSP", "bob", nil, "client"),
			`caller bob (MunicipalityMSP) has no mtrace.role attribute`},
		{"empty role", person("MunicipalityMSP", "eve", ""),
			`caller eve (MunicipalityMSP) has no mtrace.role attribute`},
		{"unknown role", person("MunicipalityMSP", "carl", "superuser"),
			`caller carl (MunicipalityMSP) has mtrace.role "superuser", which is not a role (operator, viewer or admin)`},
		{"role in another case", person("MunicipalityMSP", "dina", "Operator"),
			`has mtrace.role "Operator", which is not a role`},
		{"malformed attribute extension", fakestub.NewWithExtension("MunicipalityMSP", "mallory", []byte(`{"attrs":`), "client"),
			"caller identity: failed to get attributes from the transaction invoker's certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.fail(c.id, c.want, "RegisterBatch", regReq("C2", kg(5)))
			w.queryFail(c.id, c.want, "ReadBatch", "C1")
		})
	}
}

func TestAdminFunctionsNeedAdminRoleAndOU(t *testing.T) {
	w := newBare(t)
	opOU := fakestub.NewEnrolled("MunicipalityMSP", "olli", map[string]string{model.RoleAttribute: "operator"}, "admin")
	adminClient := fakestub.NewEnrolled("MunicipalityMSP", "anna", map[string]string{model.RoleAttribute: "admin"}, "client")
	w.fail(w.mun, `caller User1@municipality.mtrace.local (MunicipalityMSP) is not an admin identity of MunicipalityMSP: BootstrapRegistry needs mtrace.role "admin" and certificate OU "admin" (it has mtrace.role "operator", OU client)`,
		"BootstrapRegistry", members)
	w.fail(opOU, `(it has mtrace.role "operator", OU admin)`, "BootstrapRegistry", members)
	w.fail(adminClient, `(it has mtrace.role "admin", OU client)`, "BootstrapRegistry", members)
	w.ok(w.adm, nil, "BootstrapRegistry", members)

	change := model.ChangeRequest{Action: model.ActionSet, MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas"}
	for _, id := range []*fakestub.Identity{w.mun, opOU, adminClient} {
		w.fail(id, "is not an admin identity of MunicipalityMSP: ProposeChange needs", "ProposeChange", change)
	}
	var p model.Proposal
	w.ok(w.adm, &p, "ProposeChange", change)
	for _, id := range []*fakestub.Identity{w.mun, opOU, adminClient} {
		w.fail(id, "ApproveChange needs", "ApproveChange", p.ID)
		w.fail(id, "WithdrawChange needs", "WithdrawChange", p.ID)
		w.fail(id, "MigrateBatches needs", "MigrateBatches", []string{"C1"})
	}
	w.ok(w.adm, nil, "WithdrawChange", p.ID)

	// A proposal's arguments are checked before the admin check, as before
	// roles: a malformed one gets the argument's error, a surplus argument
	// the count, whoever calls.
	w.fail(w.mun, "action", "ProposeChange", model.ChangeRequest{Action: "crown", MSP: "MakerMSP"})
	w.fail(w.mun, "ProposeChange takes 1 argument, got 2", "ProposeChange", change, "x")

	// An admin may also write like an operator, and is recorded as one.
	w.ok(w.adm, nil, "RegisterBatch", regReq("C1", kg(3)))
	assert.Equal(t, model.PersonAdmin, w.batch("C1").Submitter.Role)
}

func TestPersonRecordedOnEveryVersion(t *testing.T) {
	w := newWorld(t)
	ali := person("MunicipalityMSP", "ali", model.PersonOperator)
	derya := person("RecyclerMSP", "derya", model.PersonOperator)
	emre := person("AuditorMSP", "emre", model.PersonOperator)

	w.ok(ali, nil, "RegisterBatch", regReq("C1", kg(100)))
	w.ok(ali, nil, "OfferTransfer", "C1", "RecyclerMSP")
	w.ok(derya, nil, "AcceptTransfer", "C1", 0)
	var rec model.Process
	w.ok(derya, &rec, "Process", model.ProcessRequest{Step: model.StepSorting,
		Inputs: []model.ProcessInput{in("C1", kg(40))}, Outputs: []model.ProcessOutput{out("S1", model.FormSorted, kg(40))}})
	w.ok(emre, nil, "AttachDocument", "C1", "lab report", sha1, "")
	w.ok(emre, nil, "Quarantine", "C1", "sample at the lab")

	want := []string{"ali", "ali", "derya", "derya"}
	var all, h []model.HistoryEntry
	w.query(w.out, &all, "GetHistory", "C1")
	var acts []model.Oversight
	for _, e := range all {
		if e.Oversight != nil {
			acts = append(acts, *e.Oversight)
		} else {
			h = append(h, e)
		}
	}
	require.Len(t, acts, 2)
	for _, a := range acts {
		switch a.Kind {
		case model.OversightDocument:
			assert.Equal(t, actor(emre), a.Document.AnchoredBy)
		case model.OversightHold:
			assert.Equal(t, actor(emre), a.Hold.By)
		default:
			t.Errorf("unexpected act %s", a.Kind)
		}
	}
	require.Len(t, h, len(want))
	for i, e := range h {
		by := e.Batch.UpdatedBy
		assert.Equalf(t, want[i], by.EnrollmentID, "version %d (%s)", i, e.Batch.Event.Name)
		assert.Equal(t, model.PersonOperator, by.Role)
		assert.Equal(t, by, e.Batch.Event.By, "the version's event names the same person")
	}
	b := w.batch("C1")
	assert.Equal(t, actor(ali), b.Submitter)
	assert.Equal(t, actor(derya), b.Handovers[0].AcceptedBy)
	assert.Equal(t, actor(emre), b.AuditorDocuments[0].AnchoredBy)
	assert.Equal(t, actor(emre), b.Holds[0].By)
	assert.Equal(t, actor(derya), rec.By)
	assert.Equal(t, "derya", w.batch("S1").Origin.Process.By.EnrollmentID)

	// The common name stands in for a certificate without hf.EnrollmentID.
	cn := fakestub.NewWithAttributes("RecyclerMSP", "Operator7@recycler.mtrace.local", map[string]string{model.RoleAttribute: "operator"}, "client")
	w.ok(cn, nil, "Quarantine", "S1", "odour")
	by := w.batch("S1").UpdatedBy
	assert.Equal(t, model.Actor{MSP: "RecyclerMSP", Identity: "Operator7@recycler.mtrace.local",
		EnrollmentID: "Operator7@recycler.mtrace.local", Role: model.PersonOperator}, by)
}

// stripPerson removes the fields contract 0.4.0 added to every actor
// (objects with "msp" and "identity"), as a ledger written before it
// stores them.
func stripPerson(v any) any {
	switch x := v.(type) {
	case map[string]any:
		_, msp := x["msp"]
		_, identity := x["identity"]
		if msp && identity {
			delete(x, "enrollmentId")
			delete(x, "role")
		}
		for k, e := range x {
			x[k] = stripPerson(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stripPerson(e)
		}
	}
	return v
}

func TestRecordsWithoutPersonStillVerify(t *testing.T) {
	w := story(t)
	stripped := 0
	for _, k := range w.l.Keys() {
		raw := w.l.State(k)
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		out, err := json.Marshal(stripPerson(v))
		require.NoError(t, err)
		if string(out) != string(raw) {
			w.l.Put(k, out)
			stripped++
		}
	}
	require.Greater(t, stripped, 10, "the story's records carried persons")
	b := w.batch("C1")
	assert.Empty(t, b.Submitter.EnrollmentID)
	assert.Equal(t, "User1@municipality.mtrace.local", b.Submitter.Person(), "the common name stands in for the person")

	var v model.Verdict
	w.query(w.out, &v, "VerifyProvenance", "CHAIR-1", "")
	for _, c := range v.Checks {
		assert.Truef(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	assert.True(t, v.OK)
	var h []model.HistoryEntry
	w.query(w.out, &h, "GetHistory", "SPOOL-2")
	require.NotEmpty(t, h)

	// An old version is written over with today's record of the person.
	owner := map[string]*fakestub.Identity{"MunicipalityMSP": w.mun, "RecyclerMSP": w.rec, "MakerMSP": w.mak}[w.batch("SPOOL-2").Owner]
	require.NotNil(t, owner)
	w.ok(owner, nil, "Quarantine", "SPOOL-2", "check")
	assert.Equal(t, owner.MSP, w.batch("SPOOL-2").UpdatedBy.MSP)
	assert.NotEmpty(t, w.batch("SPOOL-2").UpdatedBy.EnrollmentID)
	assert.True(t, strings.Contains(string(w.l.State(mustBatchKey(t, "SPOOL-2"))), `"role":"operator"`))
}

func mustBatchKey(t *testing.T, id string) string {
	k, err := batchKey(id)
	require.NoError(t, err)
	return k
}
