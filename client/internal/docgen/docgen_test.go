package docgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool <command>", Short: "A tool"}
	root.PersistentFlags().StringP("output", "o", "table", "output format")
	root.PersistentFlags().String("secret-knob", "", "for benchmarks")
	_ = root.PersistentFlags().MarkHidden("secret-knob")

	noun := &cobra.Command{Use: "thing", Short: "Work with things"}
	noun.PersistentFlags().Int("page", 50, "page size")
	get := &cobra.Command{
		Use:     "get ID",
		Short:   "Show a <thing> | its parts",
		Long:    "Read one thing.\n\nColumns:\n\n  id,name\n\n# not a heading, *not bold*",
		Example: "  tool thing get T1\n  tool thing get T2 -o json",
		Run:     func(*cobra.Command, []string) {},
	}
	get.Flags().Bool("all", false, "show every part")
	get.Flags().Duration("wait", 0, "how long to wait")
	hidden := &cobra.Command{Use: "ghost", Hidden: true, Run: func(*cobra.Command, []string) {}}
	old := &cobra.Command{Use: "old", Deprecated: "use get", Run: func(*cobra.Command, []string) {}}
	noun.AddCommand(get, hidden, old)
	root.AddCommand(noun)
	return root
}

func TestPages(t *testing.T) {
	pages := Pages(tree())
	assert.ElementsMatch(t, []string{"README.md", "tool.md", "tool_thing.md", "tool_thing_get.md"}, keys(pages))

	get := string(pages["tool_thing_get.md"])
	assert.True(t, strings.HasPrefix(get, Header+"\n\n# tool thing get\n"))
	assert.Contains(t, get, "```\ntool thing get ID [flags]\n```")
	assert.Contains(t, get, "Columns:\n\n```text\nid,name\n```", "an indented paragraph stays preformatted")
	assert.Contains(t, get, `\# not a heading, \*not bold\*`)
	assert.Contains(t, get, "```sh\ntool thing get T1\ntool thing get T2 -o json\n```")
	assert.Contains(t, get, "| `--all` |  |  | show every part |")
	assert.Contains(t, get, "| `--wait` | duration |  | how long to wait |", "a zero default is left out, as --help does")
	assert.Contains(t, get, "## Flags from tool thing\n\n| flag | value | default | meaning |\n| --- | --- | --- | --- |\n| `--page` | int | `50` | page size |")
	assert.Contains(t, get, "Global flags: see [tool](tool.md#global-flags).")
	assert.NotContains(t, get, "--output", "root flags are on the root page only")

	noun := string(pages["tool_thing.md"])
	assert.Contains(t, noun, "| [get](tool_thing_get.md) | Show a &lt;thing&gt; \\| its parts |")
	assert.NotContains(t, noun, "ghost")
	assert.NotContains(t, noun, "old")

	root := string(pages["tool.md"])
	assert.Contains(t, root, "## Global flags")
	assert.Contains(t, root, "| `-o`, `--output` | string | `table` | output format |")
	assert.NotContains(t, root, "secret-knob")

	index := string(pages["README.md"])
	assert.Contains(t, index, "| [tool thing get](tool_thing_get.md) |")
	assert.Less(t, strings.Index(index, "(tool.md)"), strings.Index(index, "(tool_thing.md)"))
}

func TestPagesAreDeterministic(t *testing.T) {
	a, b := Pages(tree()), Pages(tree())
	assert.Equal(t, a, b)
}

func TestWriteAndCheck(t *testing.T) {
	dir := t.TempDir()
	pages := Pages(tree())

	diffs, err := Check(dir, pages)
	require.NoError(t, err)
	assert.Contains(t, diffs, "tool.md: missing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool_thing_removed.md"), []byte("old\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept\n"), 0o644))
	require.NoError(t, Write(dir, pages))
	diffs, err = Check(dir, pages)
	require.NoError(t, err)
	assert.Empty(t, diffs)
	assert.NoFileExists(t, filepath.Join(dir, "tool_thing_removed.md"), "a removed command's page goes")
	assert.FileExists(t, filepath.Join(dir, "notes.txt"), "only .md pages are the generator's")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool_thing.md"), []byte("edited by hand\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool_gone.md"), []byte("x\n"), 0o644))
	diffs, err = Check(dir, pages)
	require.NoError(t, err)
	assert.Equal(t, []string{"tool_thing.md: differs from the commands", "tool_gone.md: no such command any more"}, diffs)
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
