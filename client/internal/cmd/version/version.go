// Package version implements `mtrace version`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of version.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	Version string
	// Build returns the binary's build information.
	Build func() (*debug.BuildInfo, bool)
}

// Info is the JSON form of the version.
type Info struct {
	Version       string `json:"version"`
	Commit        string `json:"commit,omitempty"`
	Go            string `json:"go"`
	FabricGateway string `json:"fabricGateway,omitempty"`
}

// NewCmdVersion builds the command; runF replaces runVersion in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Version, Build: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the mtrace version",
		Example: "  mtrace version\n  mtrace version -o json",
		Args:    cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *Options) error {
	info := Info{Version: opts.Version, Go: runtime.Version()}
	if bi, ok := opts.Build(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/hyperledger/fabric-gateway" {
				info.FabricGateway = d.Version
			}
		}
	}
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, info)
	}
	line := "mtrace " + info.Version
	if info.Commit != "" {
		line += " (" + info.Commit + ")"
	}
	line += ", " + info.Go
	if info.FabricGateway != "" {
		line += ", fabric-gateway " + info.FabricGateway
	}
	_, err := fmt.Fprintln(opts.IO.Out, line)
	return err
}
