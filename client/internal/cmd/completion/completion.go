// Package completion implements `mtrace completion`: shell completion
// scripts.
package completion

import (
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
)

// Options are the inputs of completion.
type Options struct {
	IO    *iostreams.IOStreams
	Shell string
	Root  *cobra.Command
}

// NewCmdCompletion builds the command; runF replaces runCompletion in tests.
func NewCmdCompletion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Example: `  source <(mtrace completion bash)
  mtrace completion zsh > "${fpath[1]}/_mtrace"
  mtrace completion fish > ~/.config/fish/completions/mtrace.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      cmdutil.ExactArgs(1, "a shell: bash, zsh or fish"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell, opts.Root = args[0], cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return runCompletion(opts)
		},
	}
}

func runCompletion(opts *Options) error {
	switch opts.Shell {
	case "bash":
		return opts.Root.GenBashCompletionV2(opts.IO.Out, true)
	case "zsh":
		return opts.Root.GenZshCompletion(opts.IO.Out)
	case "fish":
		return opts.Root.GenFishCompletion(opts.IO.Out, true)
	}
	return cmdutil.FlagErrorf("unsupported shell %q: want bash, zsh or fish", opts.Shell)
}
