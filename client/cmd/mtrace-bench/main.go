// Command mtrace-bench benchmarks a live mtrace network: committed
// throughput, latency percentiles and failures per scenario, against the
// platform baseline (the mtrace-baseline chaincode a bench network deploys)
// measured in the same run. `make bench` (scripts/bench.sh) runs it on a
// network of its own; docs/reference/bench.md describes its output.
//
// Exit status: 0 on success, 1 on any error.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mtrace/mtrace/client/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cmd := bench.NewCommand(os.Stdout, os.Stderr, os.Getenv, nil)
	cmd.SetArgs(os.Args[1:])
	err := cmd.ExecuteContext(ctx)
	stop()
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		if errors.Is(err, context.Canceled) {
			msg = "interrupted"
		}
		fmt.Fprintln(os.Stderr, "mtrace-bench: "+msg)
		os.Exit(1)
	}
}
