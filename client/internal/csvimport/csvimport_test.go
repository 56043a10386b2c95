package csvimport

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

type row struct {
	line     int
	id, note string
	err      error
}

func parse(r Record) row          { return row{line: r.Line, id: r.Get("id"), note: r.Get("note")} }
func bad(line int, err error) row { return row{line: line, err: err} }

func TestRead(t *testing.T) {
	rows, err := Read(strings.NewReader("\ufeffID, Note\nA, one\nB\nC,three\n"), []string{"id"}, parse, bad)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, row{line: 2, id: "A", note: "one"}, rows[0])
	assert.EqualError(t, rows[1].err, "has 1 fields, the header has 2")
	assert.Equal(t, row{line: 4, id: "C", note: "three"}, rows[2])

	rows, err = Read(strings.NewReader("id\nA\n"), []string{"id"}, parse, bad)
	require.NoError(t, err)
	assert.Empty(t, rows[0].note, "a column the file lacks reads empty")

	for body, want := range map[string]string{
		"":               "empty file: want a header line id,mass",
		"id,mass\n":      "no rows after the header",
		"mass\n1kg\n":    `header: missing column "id" (want id,mass)`,
		"id,mass\n\"a,b": "extraneous or missing",
	} {
		_, err := Read(strings.NewReader(body), []string{"id", "mass"}, parse, bad)
		assert.ErrorContains(t, err, want, body)
	}
}

func TestSubmitAndPrint(t *testing.T) {
	f := ledgertest.New()
	f.On(api.Release, func(args []string) ([]byte, error) {
		switch args[0] {
		case "B":
			return nil, ledgertest.Rejection(`batch "B" already exists`)
		case "C":
			return nil, ledgertest.Rejection("role maker may not")
		}
		return nil, nil
	})
	job := func(line int, id string) Job {
		return Job{Line: line, ID: id, Write: func(ctx context.Context, c *api.Client) error { return c.Release(ctx, id) }}
	}
	jobs := []Job{job(2, "A"), job(3, "B"), job(4, "C"), {Line: 5, ID: "D", Err: errors.New("mass: malformed")}}
	ios, _, out, errOut := iostreams.Test()
	res := Submit(context.Background(), f, jobs, 2, ios)
	assert.Equal(t, Result{Registered: 1, Skipped: 1, Failed: 2, SkippedIDs: []string{"B"}, Failures: []Failure{
		{Line: 4, ID: "C", Error: "rejected by chaincode: role maker may not"}, {Line: 5, ID: "D", Error: "mass: malformed"}}}, res)
	assert.Len(t, f.CallsTo(api.Release), 3, "the malformed row is not submitted")

	err := Print(ios, cmdutil.FormatTable, res)
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.Equal(t, "registered 1, skipped 1, failed 2\n", out.String())
	assert.Equal(t, "line 4 (C): rejected by chaincode: role maker may not\nline 5 (D): mass: malformed\n", errOut.String())

	out.Reset()
	require.NoError(t, Print(ios, cmdutil.FormatJSON, Result{Registered: 2, SkippedIDs: []string{}, Failures: []Failure{}}))
	assert.JSONEq(t, `{"registered":2,"skipped":0,"failed":0,"skippedIds":[],"failures":[]}`, out.String())
}
