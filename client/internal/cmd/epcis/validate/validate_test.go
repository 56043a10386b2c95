package validate

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

const example = "../../../epcis/testdata/gs1-examples/Example_9.6.1-ObjectEvent.jsonld"

func TestValidateGS1Example(t *testing.T) {
	e := cmdtest.New(t)
	require.NoError(t, e.Run(NewCmdValidate(e.F, nil), "validate", example))
	assert.Equal(t, example+": document 1: valid EPCIS 2.0 EPCISDocument, 2 events\n", e.Out.String())
	assert.Empty(t, e.Fake.Calls(), "no network")
}

func TestValidateStreamAndJSON(t *testing.T) {
	raw, err := os.ReadFile(example)
	require.NoError(t, err)
	bad := strings.Replace(string(raw), `"readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"}`, `"readPoint": "Kadıköy"`, 1)
	require.NotEqual(t, string(raw), bad)
	e := cmdtest.New(t)
	e.In.WriteString(string(raw) + "\n" + bad)
	err = e.Run(NewCmdValidate(e.F, nil), "validate", "-", "-o", "json")
	require.Error(t, err)
	assert.True(t, errors.Is(err, cmdutil.ErrSilent))
	var got []Result
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &got))
	require.Len(t, got, 2)
	assert.True(t, got[0].Valid)
	assert.Equal(t, 2, got[1].Index)
	assert.False(t, got[1].Valid)
	assert.Equal(t, "not valid against GS1's EPCIS 2.0 schema: at /epcisBody/eventList/0/readPoint: got string, want object", got[1].Error)
}

func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.jsonld")
	require.NoError(t, os.WriteFile(notJSON, []byte(`{"type": "EPCISDocument",`), 0o600))
	empty := filepath.Join(dir, "empty.jsonld")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate", notJSON}, "document 1: not JSON"},
		{[]string{"validate", empty}, "no JSON document"},
		{[]string{"validate", filepath.Join(dir, "missing")}, "no such file"},
	}
	for _, tt := range tests {
		e := cmdtest.New(t)
		err := e.Run(NewCmdValidate(e.F, nil), tt.args...)
		require.ErrorIs(t, err, cmdutil.ErrSilent)
		assert.Contains(t, e.Out.String(), tt.want)
	}
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(NewCmdValidate(e.F, nil), "validate"), "expected at least one FILE")
}
