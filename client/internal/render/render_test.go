package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
)

func TestTableKeepsColumns(t *testing.T) {
	var buf bytes.Buffer
	tb := NewTable(&buf)
	tb.Row("ID", "LOCATION")
	tb.Row("A", "Kadıköy\tIstanbul\nline two")
	require.NoError(t, tb.Flush())
	assert.Equal(t, "ID  LOCATION\nA   Kadıköy Istanbul line two\n", buf.String())
}

func TestJSONIsIndentedAndUnescaped(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, map[string]string{"where": "<Kadıköy & Üsküdar>"}))
	assert.Equal(t, "{\n  \"where\": \"<Kadıköy & Üsküdar>\"\n}\n", buf.String())
}

func TestTraceUnknownFormatAndLoneRoot(t *testing.T) {
	tr := &model.Trace{Root: "X", Direction: model.Upstream}
	assert.EqualError(t, Trace(&bytes.Buffer{}, tr, "png"), `unknown trace format "png" (want tree, json, dot, mermaid)`)

	var buf bytes.Buffer
	require.NoError(t, Tree(&buf, tr))
	assert.Equal(t, "X\n", buf.String(), "a root the answer does not describe is still printed")

	buf.Reset()
	require.NoError(t, DOT(&buf, &model.Trace{Root: `a"b\c`, Nodes: []model.TraceNode{{ID: `a"b\c`}}}))
	assert.Contains(t, buf.String(), `"a\"b\\c" [label="a\"b\\c`)

	buf.Reset()
	require.NoError(t, Mermaid(&buf, &model.Trace{Root: "a", Nodes: []model.TraceNode{{ID: `a<"b">`}}}))
	assert.True(t, strings.HasPrefix(buf.String(), "flowchart LR\n  n0[\"a#lt;#quot;b#quot;#gt;"))
}
