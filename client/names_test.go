// Package client_test holds checks that span every package of the CLI.
package client_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
)

// skipped are the directories the check leaves out, relative to client/.
var skipped = map[string]string{}

// transactionLiterals returns the position of every string literal in src
// whose value is the name of a transaction of api.Transactions.
//
// The rule: a transaction is named only by its constant in chaincode/api
// (api.ReadBatch), so that the CLI calls the chaincode only through
// api.Client and a renamed transaction cannot leave a stale string behind.
// The one exception is the label of a table row, the first argument of a
// method called Row (render.Table.Row): a word for a person to read, as
// "Process" and "Quarantine" head the lines of `mtrace batch get` that
// describe a batch's process and hold. A label reaches no chaincode; a
// string passed anywhere else might, so it is refused.
func transactionLiterals(fset *token.FileSet, f *ast.File) []string {
	labels := map[*ast.BasicLit]bool{}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Row" && len(n.Args) > 0 {
				if lit, ok := n.Args[0].(*ast.BasicLit); ok {
					labels[lit] = true
				}
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING || labels[n] {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			if _, ok := api.Lookup(s); ok {
				found = append(found, fset.Position(n.Pos()).String()+": "+n.Value)
			}
		}
		return true
	})
	return found
}

// TestNoTransactionNameLiterals scans every Go file under client/, tests
// included, for a transaction name spelled as a string.
func TestNoTransactionNameLiterals(t *testing.T) {
	fset := token.NewFileSet()
	var files int
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if _, ok := skipped[filepath.ToSlash(path)]; ok || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(path) != ".go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		found = append(found, transactionLiterals(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	// The walk starts at client/: it must have read the commands and the
	// packages that call the chaincode, not an empty directory.
	require.Greater(t, files, 100, "Go files read under client/")
	for _, path := range []string{"internal/cmd/batch/get/get.go", "internal/cmdutil/batch.go", "internal/signatures/signatures.go"} {
		_, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
		require.NoError(t, err, "the walk covers %s", path)
	}
	assert.Empty(t, found, "transaction names spelled as strings; use the constants of chaincode/api and call through api.Client")
}

// TestTransactionLiteralsRule checks the rule itself: a name passed to the
// ledger, kept in a variable or compared is found; a row label is not.
func TestTransactionLiteralsRule(t *testing.T) {
	const src = `package p

const fn = "GetHistory"

func f() {
	l.Evaluate(ctx, "ReadBatch", id)
	fake.OnJSON("Trace", v)
	t.Row("Process", detail)
	t.Row("Owner", "Quarantine")
	if name == ` + "`Release`" + ` {
	}
	_ = "ReadBatch: not a name" + "readbatch"
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{
		`p.go:3:12: "GetHistory"`,
		`p.go:6:18: "ReadBatch"`,
		`p.go:7:14: "Trace"`,
		`p.go:9:17: "Quarantine"`,
		"p.go:10:13: `Release`",
	}, transactionLiterals(fset, f))
}
