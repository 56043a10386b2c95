// Package verify implements `mtrace proof verify`: check a proof file
// offline, with no network and no peer.
package verify

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Exit statuses beyond 0 (authentic, provenance holds).
const (
	ExitFails        = 1 // authentic, provenance does not hold
	ExitNotAuthentic = 3
)

// Options are the inputs of one proof check.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	File    string
	Genesis string
	// PinnedGenesis is the profile's genesis hash, used when Genesis is
	// empty; it returns "" when there is no profile.
	PinnedGenesis func() string
}

// NewCmdVerify builds the command; runF replaces runVerify in tests.
func NewCmdVerify(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, PinnedGenesis: func() string {
		p, err := f.Profile()
		if err != nil {
			return ""
		}
		return p.Genesis
	}}
	cmd := &cobra.Command{
		Use:   "verify FILE [--genesis HASH]",
		Short: "Check a proof offline: is it authentic, and does the provenance hold",
		Long: `Check a proof file with no network and no peer, and say two things apart:
whether the proof is authentic (every block is the channel's, signed by its
orderers back to the genesis block whose hash you trust, and peers of two
organisations sign the records and each transaction's validity), and the
provenance verdict it proves, as of the block height it names.

The genesis hash comes from --genesis, else from your profile (its genesis
field). Exit status: 0 authentic and the provenance holds; 1 authentic and
it does not hold; 3 not authentic.`,
		Example: `  mtrace proof verify cup-1.proof --genesis 0e6aee…
  mtrace proof verify cup-1.proof -o json | jq .authentic`,
		Args: cmdutil.ExactArgs(1, "one proof file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.File = args[0]
			return cmdutil.Run(cmd.Context(), f, opts, runF, runVerify)
		},
	}
	cmd.Flags().StringVar(&opts.Genesis, "genesis", "", "hex SHA-256 of the channel's genesis block header (default: the profile's)")
	return cmd
}

func runVerify(_ context.Context, opts *Options) error {
	raw, err := os.ReadFile(opts.File)
	if err != nil {
		return fmt.Errorf("read proof: %w", err)
	}
	genesis := opts.Genesis
	if genesis == "" && opts.PinnedGenesis != nil {
		genesis = opts.PinnedGenesis()
	}
	r := proof.Verify(raw, genesis)
	if opts.Format == cmdutil.FormatJSON {
		err = render.JSON(opts.IO.Out, r)
	} else {
		err = Print(opts.IO.Out, r)
	}
	if err != nil {
		return err
	}
	switch {
	case !r.Authentic:
		return &cmdutil.ExitError{Code: ExitNotAuthentic, Reason: "proof not authentic"}
	case !r.Holds():
		return &cmdutil.ExitError{Code: ExitFails, Reason: "provenance does not hold"}
	}
	return nil
}

// Print writes a report as two tables: the proof's checks, then the
// verdict it proves.
func Print(w io.Writer, r *proof.Report) error {
	state := "AUTHENTIC"
	if !r.Authentic {
		state = "NOT AUTHENTIC"
	}
	fmt.Fprintf(w, "Proof of %s: %s\n", r.Batch, state)
	if r.Genesis != "" {
		fmt.Fprintf(w, "Genesis block: %s\n", r.Genesis)
	}
	fmt.Fprintln(w)
	if err := checks(w, r.Checks); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if !r.Authentic || r.Verdict == nil {
		fmt.Fprintln(w, "Provenance: not established, since the proof is not authentic")
		return nil
	}
	v := r.Verdict
	verdict := "holds"
	if !v.OK {
		verdict = "DOES NOT HOLD"
	}
	fmt.Fprintf(w, "Provenance of %s %s as of block %d (height %d), %s (%d batches checked)\n\n",
		v.BatchID, verdict, r.Head, r.Head+1, r.Time.UTC().Format(time.RFC3339), v.Nodes)
	if err := checks(w, v.Checks); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRecycled content: %s\n", model.Percent(v.RecycledContent))
	fmt.Fprintf(w, "Collection sources (%d):\n", len(v.Sources))
	t := render.NewTable(w)
	t.Row("  ID", "LOCATION", "COLLECTED", "COLLECTOR", "WASTE CODE", "MASS")
	for _, s := range v.Sources {
		t.Row("  "+s.ID, s.Location, s.CollectedAt, s.Collector, render.Or(s.WasteCode, "-"), s.Mass.String())
	}
	return t.Flush()
}

func checks(w io.Writer, cs []model.Check) error {
	t := render.NewTable(w)
	for _, c := range cs {
		mark := "ok"
		if !c.OK {
			mark = "FAIL"
		}
		t.Row(mark, c.Name, c.Detail)
	}
	return t.Flush()
}
