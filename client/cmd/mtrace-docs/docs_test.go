package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/contract"
)

// repoRoot is the folder that holds go.mod, above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test")
		dir = parent
	}
}

// markdown lists the repository's Markdown files, relative to root,
// leaving out hidden folders (network state, .git) and build outputs.
func markdown(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "bin" || rel == "build" || rel == "results") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	fenceRE   = regexp.MustCompile("(?ms)^```.*?^```")
	codeRE    = regexp.MustCompile("`[^`\n]*`")
	headingRE = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

// links returns the link targets of a Markdown text, outside code.
func links(text string) []string {
	text = fenceRE.ReplaceAllString(text, "")
	text = codeRE.ReplaceAllString(text, "")
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// anchors returns the heading anchors of a Markdown text, as GitHub
// makes them: lower case, letters, digits, - and _ kept, spaces as -,
// everything else dropped.
func anchors(text string) map[string]bool {
	text = fenceRE.ReplaceAllString(text, "")
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(text, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// local reports whether a link target is in the repository.
func local(target string) bool {
	return !strings.Contains(target, "://") && !strings.HasPrefix(target, "mailto:")
}

// TestRelativeLinksResolve checks that every relative link in every
// Markdown file names a file or folder that exists and, for a heading
// anchor in a Markdown file, a heading that exists.
func TestRelativeLinksResolve(t *testing.T) {
	root := repoRoot(t)
	files := markdown(t, root)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		for _, target := range links(string(raw)) {
			if !local(target) {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := filepath.Join(root, filepath.Dir(f), path)
			if path == "" {
				dest = filepath.Join(root, f)
			}
			info, err := os.Stat(dest)
			if !assert.NoError(t, err, "%s: link %q names nothing", f, target) {
				continue
			}
			if anchor == "" || info.IsDir() || !strings.HasSuffix(dest, ".md") {
				continue
			}
			text, err := os.ReadFile(dest)
			require.NoError(t, err)
			assert.True(t, anchors(string(text))[anchor], "%s: link %q: no heading with that anchor", f, target)
		}
	}
}

// TestEveryDocReachableFromREADME follows the relative links from the
// top-level README and requires every page under docs/ to be reached.
func TestEveryDocReachableFromREADME(t *testing.T) {
	root := repoRoot(t)
	seen := map[string]bool{}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if seen[f] {
			continue
		}
		seen[f] = true
		raw, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // a dead link; TestRelativeLinksResolve names it
		}
		for _, target := range links(string(raw)) {
			path, _, _ := strings.Cut(target, "#")
			if !local(target) || !strings.HasSuffix(path, ".md") {
				continue
			}
			next := filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f), path)))
			if !strings.HasPrefix(next, "../") {
				queue = append(queue, next)
			}
		}
	}
	for _, f := range markdown(t, root) {
		if strings.HasPrefix(f, "docs/") {
			assert.True(t, seen[f], "%s cannot be reached from README.md", f)
		}
	}
}

// TestTransactionsDocumented requires the hand-written transaction
// reference to name every transaction the contract exposes.
func TestTransactionsDocumented(t *testing.T) {
	root := repoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "reference", "transactions.md"))
	require.NoError(t, err)
	ctxType := reflect.TypeOf((*contractapi.TransactionContextInterface)(nil)).Elem()
	typ := reflect.TypeOf(&contract.Contract{})
	var names []string
	for i := 0; i < typ.NumMethod(); i++ {
		m := typ.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType {
			continue
		}
		names = append(names, m.Name)
		assert.True(t, bytes.Contains(page, []byte("`"+m.Name)), "docs/reference/transactions.md does not name transaction %s", m.Name)
	}
	assert.Contains(t, names, api.RegisterBatch, "the reflection found the contract's transactions")
}
