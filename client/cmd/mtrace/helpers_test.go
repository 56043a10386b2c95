package main

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/root"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func rootFor(e *cmdtest.Env) *cobra.Command { return root.NewCmdRoot(e.F) }

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, s := range c.Commands() {
		out = append(out, allCommands(s)...)
	}
	return out
}
