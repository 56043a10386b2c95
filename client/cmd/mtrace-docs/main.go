// Command mtrace-docs writes the command line reference of mtrace,
// docs/reference/cli/, from the cobra commands themselves (`make docs`),
// or, with -check, fails when the committed pages differ from what the
// commands say (`make docs-check`, run by `make lint`).
//
// Usage:
//
//	mtrace-docs [-dir docs/reference/cli] [-check]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mtrace/mtrace/client/internal/cmd/root"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/docgen"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtrace-docs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "docs/reference/cli", "folder of the generated pages")
	check := fs.Bool("check", false, "compare the folder with the commands instead of writing it; exit 1 if they differ")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pages := docgen.Pages(root.NewCmdRoot(factory()))
	if !*check {
		if err := docgen.Write(*dir, pages); err != nil {
			fmt.Fprintln(stderr, "mtrace-docs:", err)
			return 1
		}
		fmt.Fprintf(stdout, "mtrace-docs: wrote %d pages to %s\n", len(pages), *dir)
		return 0
	}
	diffs, err := docgen.Check(*dir, pages)
	if err != nil {
		fmt.Fprintln(stderr, "mtrace-docs:", err)
		return 1
	}
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintf(stderr, "mtrace-docs: %s/%s\n", *dir, d)
		}
		fmt.Fprintln(stderr, "mtrace-docs: the CLI reference is stale; run `make docs` and commit the result")
		return 1
	}
	fmt.Fprintf(stdout, "mtrace-docs: %s is up to date (%d pages)\n", *dir, len(pages))
	return 0
}

// factory is a Factory that reads no environment and connects to nothing:
// building the command tree needs neither, and the pages must not depend
// on the machine that wrote them.
func factory() *cmdutil.Factory {
	streams, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{
		IOStreams: streams,
		Globals:   &cmdutil.Globals{Output: cmdutil.FormatTable, Timeout: 30 * time.Second},
		Getenv:    func(string) string { return "" },
		Version:   "docs",
	}
}
