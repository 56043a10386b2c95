// Package validate implements `mtrace epcis validate`: check EPCIS 2.0
// JSON-LD documents against GS1's JSON schema, offline.
package validate

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/epcis"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one validation.
type Options struct {
	IO     *iostreams.IOStreams
	Format string
	Files  []string
}

// Result is the verdict on one document of one file.
type Result struct {
	File string `json:"file"`
	epcis.Checked
}

// NewCmdValidate builds the command; runF replaces runValidate in tests.
func NewCmdValidate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check EPCIS 2.0 JSON-LD documents against GS1's JSON schema",
		Long: `Check each document of each FILE (one JSON document, or several one after
another; - reads standard input) against GS1's EPCIS 2.0 JSON schema, which
is built into mtrace: ` + epcis.SchemaSource + `.
No network is needed. Exits 1 when any document is not valid.`,
		Example: `  mtrace epcis validate vase.jsonld
  mtrace epcis export VASE-1 | mtrace epcis validate -`,
		Args: cmdutil.MinimumArgs(1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Files = args
			return cmdutil.Run(cmd.Context(), f, opts, runF, runValidate)
		},
	}
	return cmd
}

func runValidate(_ context.Context, opts *Options) error {
	var results []Result
	bad := 0
	for _, name := range opts.Files {
		checked, err := check(opts, name)
		for _, c := range checked {
			results = append(results, Result{File: name, Checked: c})
			if !c.Valid {
				bad++
			}
		}
		if err != nil {
			results = append(results, Result{File: name, Checked: epcis.Checked{Index: len(checked) + 1, Error: err.Error()}})
			bad++
		}
	}
	if opts.Format == cmdutil.FormatJSON {
		if err := render.JSON(opts.IO.Out, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.Valid {
				fmt.Fprintf(opts.IO.Out, "%s: document %d: valid EPCIS 2.0 %s, %d events\n", r.File, r.Index, r.Type, r.Events)
			} else {
				fmt.Fprintf(opts.IO.Out, "%s: document %d: %s\n", r.File, r.Index, r.Error)
			}
		}
	}
	if bad > 0 {
		return &cmdutil.SilentError{Reason: fmt.Sprintf("%d document(s) not valid", bad)}
	}
	return nil
}

func check(opts *Options, name string) ([]epcis.Checked, error) {
	r, err := epcis.Open(name, opts.IO.In)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return epcis.ValidateStream(r)
}
