package report

import (
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The figure's links and the list's rows, as the page's template wrote
// them with a loop over the transactions before txLinks and txRows: the
// two must write the same bytes, whatever the IDs hold.
const loopTemplate = `{{define "links"}}{{range .Refs}}<a href="#{{anchor .Tx}}">{{.Tx}}</a> {{end}}{{end}}` +
	`{{define "rows"}}{{range $l := .}}{{range .Refs}}<tr {{idOnce .Tx}}><td>{{label $l}}</td><td>{{.Block}}</td><td class="txs">{{.Tx}}</td><td>{{.At}}</td><td>{{.Batch}}</td><td class="n">{{kg .Mass}}</td></tr>
{{end}}{{end}}{{end}}`

func TestTxLinksAndRowsEscapeAsTheTemplate(t *testing.T) {
	refs := []Ref{
		{Block: 7, TxIndex: 0, Tx: "3f9a0c", At: "2026-11-02T10:00:00.000000000Z", Batch: "COL-1", Mass: 1_234_567},
		{Block: 8, TxIndex: 2, Tx: `a+b<c>&'"d`, At: "2026-11-03T10:00:00.000000000Z", Batch: "F<1>+\"x\" & 'y'", Mass: -5},
		{Block: 8, TxIndex: 2, Tx: `a+b<c>&'"d`, At: "x", Batch: "ünï\x00\xff", Mass: 0},
		{Block: 9, Tx: "id with spaces/and?query#frag%", Batch: ""},
	}
	lines := []Line{{Kind: KindCollection, Class: "post<consumer>", Refs: refs[:2]}, {Kind: KindDispatch, Refs: refs[1:]}}

	seenOld := map[string]bool{}
	old := template.Must(template.New("old").Funcs(template.FuncMap{
		"anchor": anchor, "label": LineLabel, "kg": Kg,
		"idOnce": func(tx string) template.HTMLAttr {
			if seenOld[tx] {
				return ""
			}
			seenOld[tx] = true
			return template.HTMLAttr(`id="` + template.HTMLEscapeString(anchor(tx)) + `"`)
		},
	}).Parse(loopTemplate))
	var want strings.Builder
	require.NoError(t, old.ExecuteTemplate(&want, "links", lines[1]))
	want.WriteString("|")
	require.NoError(t, old.ExecuteTemplate(&want, "rows", lines))

	seen := map[string]bool{}
	idOnce := func(tx string) string {
		if seen[tx] {
			return ""
		}
		seen[tx] = true
		return `id="` + template.HTMLEscapeString(anchor(tx)) + `"`
	}
	got := string(txLinks(lines[1].Refs)) + "|" + string(txRows(lines[0], idOnce)) + string(txRows(lines[1], idOnce))
	assert.Equal(t, want.String(), got)
	assert.Contains(t, got, `<a href="#tx-a%2bb%3cc%3e%26%27%22d">a&#43;b&lt;c&gt;&amp;&#39;&#34;d</a>`, "the URL escaped, then the attribute")
	assert.Equal(t, 3, strings.Count(got, `<tr id=`), "one anchor per transaction")
}
