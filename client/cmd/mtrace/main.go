// Command mtrace is the command line client of the mtrace ledger.
//
// Exit status: 0 on success; 1 on any error, and when verify finds that
// provenance does not hold or audit finds a violation; 3 when proof
// verify finds a proof not authentic.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mtrace/mtrace/client/internal/cmd/root"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cmdutil.New(version), os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status. Errors are
// printed as a single line, "mtrace: <cause>", on the error stream.
func run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *cmdutil.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	if !errors.Is(err, cmdutil.ErrSilent) {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		if errors.Is(err, context.Canceled) {
			msg = "interrupted"
		}
		fmt.Fprintln(f.IOStreams.ErrOut, "mtrace: "+msg)
	}
	return 1
}
