// Package export implements `mtrace proof export`: gather a batch's proof
// from the network and write it to a file.
package export

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/proof"
	"github.com/mtrace/mtrace/client/internal/proofnet"
)

// Options are the inputs of one export.
type Options struct {
	IO *iostreams.IOStreams
	// Collect gathers the proof of a batch from the network.
	Collect func(ctx context.Context, id string) (*proof.Proof, error)
	ID      string
	File    string
}

// NewCmdExport builds the command; runF replaces runExport in tests.
func NewCmdExport(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Collect: func(ctx context.Context, id string) (*proof.Proof, error) {
		return Collect(ctx, f, id)
	}}
	cmd := &cobra.Command{
		Use:   "export ID --file FILE",
		Short: "Write a proof of a batch's provenance that verifies offline",
		Long: `Gather the proof of a batch's provenance and write it to FILE: the records
of its upstream graph as peers of your organisation and of another sign
them, the blocks that hold the transactions that wrote them and the newest
block, the channel's config blocks from the genesis block on, and each
transaction's validity as peers of both organisations sign it. The other
organisation's peer is the first that answers among the other
organisations' profiles of the config file.

Check it with 'mtrace proof verify FILE', anywhere, without the network.`,
		Example: `  mtrace -p maker proof export CUP-1 --file cup-1.proof`,
		Args:    cmdutil.ExactArgs(1, "one batch ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.File == "" {
				return cmdutil.FlagErrorf("--file is required")
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runExport)
		},
	}
	cmd.Flags().StringVar(&opts.File, "file", "", "where to write the proof")
	return cmd
}

// Collect gathers the proof of batch id as the factory's profile.
func Collect(ctx context.Context, f *cmdutil.Factory, id string) (*proof.Proof, error) {
	prof, err := f.Profile()
	if err != nil {
		return nil, err
	}
	var out *proof.Proof
	err = cmdutil.WithLedger(ctx, f.Ledger, func(l ledger.Ledger) error {
		c, err := proofnet.NewCollector(l, prof)
		if err != nil {
			return err
		}
		defer c.Close()
		out, err = c.Collect(ctx, id)
		return err
	})
	return out, err
}

func runExport(ctx context.Context, opts *Options) error {
	p, err := opts.Collect(ctx, opts.ID)
	if err != nil {
		return err
	}
	if err := p.Strip(); err != nil {
		return err
	}
	if err := p.Compact(); err != nil {
		return err
	}
	raw, err := p.Encode()
	if err != nil {
		return err
	}
	if err := os.WriteFile(opts.File, raw, 0o644); err != nil {
		return fmt.Errorf("write proof: %w", err)
	}
	fmt.Fprintf(opts.IO.Out, "Wrote the proof of %s to %s (%d bytes): %d blocks to height %d, %d config blocks, %d signed answers\n",
		p.Batch, opts.File, len(raw), len(p.Blocks), p.Head+1, len(p.Configs), len(p.State)+len(p.Validity))
	return nil
}
