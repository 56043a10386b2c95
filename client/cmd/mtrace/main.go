// Command mtrace is the command line client of the mtrace ledger.
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

func main() { os.Exit(run()) }

func run() int {
	f := cmdutil.New(version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.NewCmdRoot(f).ExecuteContext(ctx)
	if err == nil {
		return 0
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
