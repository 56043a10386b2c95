// Package export implements `mtrace epcis export`: the ledger's events as
// a GS1 EPCIS 2.0 JSON-LD document, for one batch's provenance or for the
// whole ledger.
package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/epcis"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one export.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	Now    func() time.Time

	ID   string // one batch's provenance, or "" with All
	Down bool
	All  bool
	Base epcis.Base
	// Since and Until bound the ledger time of the events; zero is open.
	Since, Until time.Time
	// File receives the document; "" is standard output.
	File string
}

// Summary is what export prints when the document goes to a file.
type Summary struct {
	File   string `json:"file"`
	Events int    `json:"events"`
}

// NewCmdExport builds the command; runF replaces runExport in tests.
func NewCmdExport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Now: time.Now}
	var base, since, until string
	cmd := &cobra.Command{
		Use:   "export (ID [--down] | --all) [--since TIME] [--until TIME] [--file FILE]",
		Short: "Export the ledger's events as a GS1 EPCIS 2.0 JSON-LD document",
		Long: `Write an EPCISDocument (EPCIS 2.0 JSON-LD) of the ledger's events: every
event of the batches in ID's provenance (upstream to its collections, or with
--down everything made from it, for a recall), or with --all every event of
the ledger, in block order. --since and --until (RFC 3339; until exclusive)
keep the events recorded on the ledger in that window.

Batches, organisations, places and processes are URIs under --base (default
$MTRACE_EPCIS_BASE, then urn:mtrace:id:). Event IDs are name-based UUIDs of
the transaction and the batch, so the same ledger always exports the same
IDs. The document goes to standard output, or to --file; --all streams it, a
chunk of events at a time. Check it with 'mtrace epcis validate'.`,
		Example: `  mtrace epcis export VASE-1 > vase.jsonld
  mtrace epcis export PET-1 --down --file recall.jsonld
  mtrace epcis export --all --since 2026-11-01T00:00:00Z --base https://id.example.org/ > ledger.jsonld`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			switch {
			case opts.All && len(args) > 0:
				return cmdutil.FlagErrorf("--all exports the whole ledger: give no batch ID with it")
			case !opts.All && len(args) != 1:
				return cmdutil.FlagErrorf("%s: expected one batch ID or --all, got %d argument(s)", cmd.CommandPath(), len(args))
			case opts.All && opts.Down:
				return cmdutil.FlagErrorf("--down needs a batch ID, not --all")
			}
			if len(args) == 1 {
				if err := model.CheckID("ID", args[0]); err != nil {
					return cmdutil.FlagErrorf("%w", err)
				}
				opts.ID = args[0]
			}
			if opts.Base, err = epcis.ResolveBase(base, f.Getenv); err != nil {
				return cmdutil.FlagErrorf("--base: %w", err)
			}
			if opts.Since, err = parseTime("--since", since); err != nil {
				return err
			}
			if opts.Until, err = parseTime("--until", until); err != nil {
				return err
			}
			if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Since.Before(opts.Until) {
				return cmdutil.FlagErrorf("--since must be before --until")
			}
			if runF != nil {
				return runF(opts)
			}
			// No overall deadline: a ledger-wide export makes many calls,
			// each bounded by --timeout.
			return runExport(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Down, "down", false, "export downstream of ID, everything made from it")
	fl.BoolVar(&opts.All, "all", false, "export every event of the ledger")
	fl.StringVar(&base, "base", "", "identifier base URI, ending in / or : (default $MTRACE_EPCIS_BASE, then "+epcis.DefaultBase+")")
	fl.StringVar(&since, "since", "", "keep events recorded at or after this RFC 3339 time")
	fl.StringVar(&until, "until", "", "keep events recorded before this RFC 3339 time")
	fl.StringVar(&opts.File, "file", "", "write the document to FILE instead of standard output")
	return cmd
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, cmdutil.FlagErrorf("%s: must be an RFC 3339 time like 2026-11-20T09:30:00+03:00, got %q", flag, s)
	}
	return t, nil
}

func runExport(ctx context.Context, opts *Options) (err error) {
	out := opts.IO.Out
	if opts.File != "" {
		fh, err := os.Create(opts.File)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		defer func() {
			if cerr := fh.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("--file: %w", cerr)
			}
		}()
		out = fh
	}
	n, err := export(ctx, opts, out)
	if err != nil {
		return err
	}
	if opts.File == "" {
		return nil
	}
	s := Summary{File: opts.File, Events: n}
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, s)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Exported %d EPCIS events to %s\n", s.Events, s.File)
	return err
}

func export(ctx context.Context, opts *Options, out io.Writer) (int, error) {
	w := epcis.NewWriter(out, opts.Now())
	err := cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		x := &epcis.Exporter{Ledger: l, Base: opts.Base, Since: opts.Since, Until: opts.Until}
		if opts.All {
			return x.All(ctx, w)
		}
		dir := model.Upstream
		if opts.Down {
			dir = model.Downstream
		}
		return x.Provenance(ctx, w, opts.ID, dir)
	})
	if err != nil {
		return 0, err
	}
	return w.Count(), w.Close()
}
