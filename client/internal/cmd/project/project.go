// Package project implements `mtrace project`: keep a SQL database of
// the ledger's batches, events, processes and takes in step with the
// channel's blocks, resuming from the database's own checkpoint.
package project

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/projection"
)

// Options are the inputs of one projection run.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	// Open opens the database; projection.Open in production.
	Open func(ctx context.Context, url string) (projection.Store, error)
	DB   string
	Once bool
	Dump bool
}

// ErrStreamEnded is returned when the peer closes the block stream.
var ErrStreamEnded = errors.New("block stream ended: the peer closed it")

// NewCmdProject builds the command; runF replaces runProject in tests.
func NewCmdProject(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger, Open: projection.Open}
	cmd := &cobra.Command{
		Use:   "project --db URL [--once | --dump]",
		Short: "Keep a SQL projection of the ledger up to date",
		Long: `Follow the channel's blocks and keep a SQL database of batches (their
current state), events (one row per batch version), processes, takes,
captured EPCIS events, the registry, sites, purchases, declarations and
per-site stock movements, each row tied to the block, transaction and
position that wrote it. mtrace report reads it. Only transactions the peers marked
VALID count; writes to key types this release does not know are kept in
unknown_writes.

The database records the last block it applied in the same SQL transaction
as that block's rows: stopped or killed at any point, a restart resumes at
the next block, with no gap and no duplicate.

--db is sqlite:PATH (an embedded file, created when missing) or a
postgres:// URL. The tables are created, or migrated to this release's
schema, on first use (from schema 1, by emptying it and replaying the
channel from block 0: schema 1 never kept what schema 2 adds). With
--once, catch up to the channel's height and exit; without it, follow until interrupted (Ctrl-C). --dump prints every
table in key order, one JSON object a line, without reading the ledger.`,
		Example: `  mtrace project --db sqlite:mtrace.db --once
  mtrace project --db postgres://mtrace@127.0.0.1:5432/mtrace
  mtrace project --db sqlite:mtrace.db --dump`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.DB == "" {
				return cmdutil.FlagErrorf("--db is required: sqlite:PATH or postgres://...")
			}
			if opts.Once && opts.Dump {
				return cmdutil.FlagErrorf("--once and --dump cannot be used together")
			}
			if runF != nil {
				return runF(opts)
			}
			return runProject(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DB, "db", "", "database: sqlite:PATH or postgres://...")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "catch up to the current height, then exit")
	cmd.Flags().BoolVar(&opts.Dump, "dump", false, "print the database's tables and exit")
	return cmd
}

func runProject(ctx context.Context, opts *Options) error {
	store, err := opts.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	if opts.Dump {
		return store.Dump(ctx, opts.IO.Out)
	}
	// Cancelling on return stops the block stream.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		next, err := store.Next(ctx)
		if err != nil {
			return err
		}
		first, txs, unknown := next, 0, 0
		report := func() {
			fmt.Fprintf(opts.IO.ErrOut, "projected blocks %d to %d (%d transactions); next block %d\n", first, next-1, txs, next)
			if unknown > 0 {
				fmt.Fprintf(opts.IO.ErrOut, "%d writes to key types this release does not know: kept in unknown_writes\n", unknown)
			}
		}
		var height uint64
		if opts.Once {
			if height, err = l.Height(ctx); err != nil {
				return err
			}
			if next >= height {
				fmt.Fprintf(opts.IO.ErrOut, "up to date at block height %d\n", height)
				return nil
			}
		}
		blocks, err := l.Blocks(ctx, checkpoint(next), next)
		if err != nil {
			return err
		}
		for blk := range blocks {
			num := blk.GetHeader().GetNumber()
			if num < next {
				continue // a block the stream repeated: already applied
			}
			if num > next {
				return fmt.Errorf("block stream skipped from block %d to %d", next, num)
			}
			b, err := projection.Decode(blk, l.Chaincode())
			if err != nil {
				return err
			}
			if err := store.Apply(ctx, b); err != nil {
				if ctx.Err() != nil {
					break // stopped by the user; the block's transaction rolled back
				}
				return err
			}
			next = num + 1
			txs += len(b.Txs)
			unknown += b.Unknown()
			if opts.Once && next >= height {
				report()
				return nil
			}
		}
		if ctx.Err() != nil {
			if next > first {
				report()
			}
			return nil // stopped by the user
		}
		return ErrStreamEnded
	})
}

// checkpoint is the database's position as the gateway's block stream
// reads it: the block in which the next event is expected, with no
// transaction of it handled yet.
type checkpoint uint64

func (c checkpoint) BlockNumber() uint64   { return uint64(c) }
func (c checkpoint) TransactionID() string { return "" }
