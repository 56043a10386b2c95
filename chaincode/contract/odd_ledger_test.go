package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// The queries refuse a malformed batch id before they read anything.
func TestQueriesRefuseBadIDs(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		fn string
		a  []any
	}{
		{"Trace", []any{"no spaces", "up"}},
		{"VerifyProvenance", []any{"", ""}},
		{"ListTakes", []any{"a/b", "", 0}},
		{"Evidence", []any{strings.Repeat("x", 65)}},
		{"GetHistory", []any{"ü"}},
	} {
		w.queryFail(w.aud, "id: must be 1-64 characters of A-Z a-z 0-9 . _ : -", c.fn, c.a...)
	}
	w.register("C1", kg(1))
	w.queryFail(w.aud, `documentSHA256: must be exactly 64 lower-case hex characters, got "ABC"`, "VerifyProvenance", "C1", "ABC")
	w.queryFail(w.aud, `direction: must be "up" or "down", got "sideways"`, "Trace", "C1", "sideways")
	w.queryFail(w.aud, "limit: must be from 1 to 1000, got 1001", "ListTakes", "C1", "", 1001)
	w.queryFail(w.aud, "bookmark: is not a bookmark returned for this batch", "ListTakes", "C1", "!!", 0)
}

// A value written around the chaincode that does not decode is an error
// naming the batch, never a batch read as empty.
func TestUndecodableRecords(t *testing.T) {
	w := story(t)
	_, key := encode(t, w.batch("WASH-1"))
	w.l.Put(key, []byte(`{"id": "WASH-1", "initialMass": "heavy"}`))

	w.queryFail(w.aud, `decode batch "WASH-1"`, "ReadBatch", "WASH-1")
	w.queryFail(w.aud, `decode batch "WASH-1"`, "ReadBatches", []string{"C1", "WASH-1"})
	w.queryFail(w.aud, `decode batch "WASH-1"`, "Trace", "CHAIR-1", "up")
	w.queryFail(w.aud, `decode batch "WASH-1"`, "VerifyProvenance", "CHAIR-1", "")
	w.queryFail(w.aud, `decode batch "WASH-1"`, "GetHistory", "WASH-1")
	w.fail(w.rec, `decode batch "WASH-1"`, "Quarantine", "WASH-1", "odd")

	// A take that does not decode.
	var page model.TakePage
	w.query(w.aud, &page, "ListTakes", "FLK-1", "", 0)
	require.Len(t, page.Takes, 1)
	tk, err := takeKey("FLK-1", page.Takes[0].At, page.Takes[0].Tx)
	require.NoError(t, err)
	w.l.Put(tk, []byte(`[]`))
	w.queryFail(w.aud, `decode take of batch "FLK-1"`, "ListTakes", "FLK-1", "", 0)
	w.queryFail(w.aud, `decode take of batch "FLK-1"`, "TraceDown", model.DownQuery{IDs: []string{"FLK-1"}})
}

// A history that holds a version written around the chaincode fails to
// read, naming the batch; the deletion of a key reads as a deletion.
func TestHistoryOfATamperedBatch(t *testing.T) {
	w := newWorld(t)
	b := w.register("C1", kg(1))
	raw, key := encode(t, b)
	w.l.Put(key, nil)
	w.l.Put(key, raw)
	var h []model.HistoryEntry
	w.query(w.aud, &h, "GetHistory", "C1")
	require.Len(t, h, 3)
	assert.False(t, h[0].IsDelete)
	assert.True(t, h[1].IsDelete)
	assert.Nil(t, h[1].Batch)
	assert.Equal(t, b, h[2].Batch)

	w.l.Put(key, []byte("garbage"))
	w.queryFail(w.aud, `decode batch "C1"`, "GetHistory", "C1")
}

// A process record that names an output the ledger no longer holds breaks
// a downstream trace with an error naming the output.
func TestTraceDownMissingOutput(t *testing.T) {
	w := story(t)
	_, key := encode(t, w.batch("CHAIR-1"))
	w.l.Put(key, nil)
	w.queryFail(w.aud, `trace: process output "CHAIR-1" not found`, "Trace", "SPOOL-1", "down")
	w.queryFail(w.aud, `trace: process output "CHAIR-1" not found`, "TraceDown", model.DownQuery{IDs: []string{"SPOOL-1"}})
}

// A derivation whose time was rewritten so that it cannot name a take
// key: verification reports the take missing instead of failing.
func TestVerifyDerivationWithBadTime(t *testing.T) {
	w := story(t)
	b := w.batch("CHAIR-1")
	d := *b.Origin.Process
	d.At = "yesterday"
	b.Origin.Process = &d
	raw, key := encode(t, b)
	w.l.Put(key, raw)
	var v model.Verdict
	w.query(w.aud, &v, "VerifyProvenance", "CHAIR-1", "")
	assert.False(t, v.OK)
	mass := v.Checks[1]
	require.Equal(t, model.CheckMassBalance, mass.Name)
	assert.False(t, mass.OK)
	assert.Contains(t, mass.Detail, `batch "CHAIR-1": its origin differs from the record of process `+d.Tx)
	assert.Contains(t, mass.Detail, `batch "SPOOL-1" does not record process `+d.Tx+` that took 1 kg from it`)
}

// splitter: batch A, of which three processes each took 10 kg into two
// outputs, and batch Z, from which nothing was taken.
func splitter(t *testing.T) *world {
	w := newWorld(t)
	w.register("A", kg(100))
	w.register("Z", kg(100))
	w.move("A", w.mun, w.rec, 0)
	w.move("Z", w.mun, w.rec, 0)
	for _, p := range []string{"P1", "P2", "P3"} {
		w.l.Advance(60e9)
		w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSplitting, Inputs: []model.ProcessInput{in("A", kg(10))},
			Outputs: []model.ProcessOutput{out(p+"-x", model.FormFlakes, kg(5)), out(p+"-y", model.FormFlakes, kg(5))}})
	}
	return w
}

// A page holds whole processes: with room for three edges, a page holds
// one two-output process, and the next page starts at the process that
// did not fit, even though its take was already read.
func TestTraceDownPageEndsBeforeAProcessThatDoesNotFit(t *testing.T) {
	w := splitter(t)
	var tos []string
	q := model.DownQuery{IDs: []string{"Z", "A"}, Limit: 3}
	pages := 0
	for {
		var p model.TracePage
		w.query(w.aud, &p, "TraceDown", q)
		pages++
		require.Len(t, p.Edges, 2, "page %d", pages)
		require.Equal(t, p.Edges[0].Tx, p.Edges[1].Tx, "one process a page")
		for _, e := range p.Edges {
			assert.Equal(t, "A", e.From, "Z was skipped: nothing was taken from it")
			tos = append(tos, e.To)
		}
		if p.Bookmark == "" {
			break
		}
		q.Bookmark = p.Bookmark
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, []string{"P1-x", "P1-y", "P2-x", "P2-y", "P3-x", "P3-y"}, tos)
}

// A batch reached at two depths of a downstream trace is listed once, at
// the depth first reached.
func TestTraceDownDiamond(t *testing.T) {
	w := newWorld(t)
	w.register("A", kg(100))
	w.move("A", w.mun, w.rec, 0)
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepSorting, Inputs: []model.ProcessInput{in("A", kg(50))},
		Outputs: []model.ProcessOutput{out("B", model.FormSorted, kg(50))}})
	w.ok(w.rec, nil, "Process", model.ProcessRequest{Step: model.StepMerging, Inputs: []model.ProcessInput{in("A", kg(50)), in("B", kg(50))},
		Outputs: []model.ProcessOutput{out("C", model.FormFlakes, kg(100))}})
	var tr model.Trace
	w.query(w.aud, &tr, "Trace", "A", "down")
	depth := map[string]int{}
	for _, n := range tr.Nodes {
		depth[n.ID] = n.Depth
	}
	assert.Equal(t, map[string]int{"A": 0, "B": 1, "C": 1}, depth)
	assert.Len(t, tr.Edges, 3, "A>B, A>C and B>C")
}

// An unknown role too long for a message is clipped; an admin
// certificate without any OU says so.
func TestCallerMessagesStayShort(t *testing.T) {
	w := newWorld(t)
	long := person("MunicipalityMSP", "zed", model.PersonRole(strings.Repeat("r", 60)))
	w.fail(long, `has mtrace.role "`+strings.Repeat("r", 40)+`...", which is not a role`, "RegisterBatch", regReq("C1", kg(1)))
	noOU := fakestub.NewEnrolled("MunicipalityMSP", "ada", map[string]string{model.RoleAttribute: string(model.PersonAdmin)})
	w.fail(noOU, `(it has mtrace.role "admin", OU none)`, "WithdrawChange", "0123456789ab")
}

func TestOneLineCutsOnARuneBoundary(t *testing.T) {
	// A three-byte rune across the cut: the cut moves back to its start.
	s := strings.Repeat("a", maxErrorLen-1) + "€" + "tail"
	got := oneLine(s)
	assert.Equal(t, strings.Repeat("a", maxErrorLen-1)+"... (306 bytes in all)", got)
	var v any
	assert.NoError(t, json.Unmarshal([]byte(`"`+got+`"`), &v), "valid text")
}
