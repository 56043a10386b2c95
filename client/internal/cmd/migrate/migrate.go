// Package migrate implements `mtrace migrate`: bring the batches stored by
// an older contract into the current stored format, page by page.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// MaxBatch is the most batches one MigrateBatches transaction may name
// (the chaincode's MaxMigrateBatch).
const MaxBatch = 100

// MaxParallel bounds --parallel.
const MaxParallel = 32

// Options are the inputs of one migration.
type Options struct {
	IO     *iostreams.IOStreams
	Ledger cmdutil.LedgerFunc
	Format string
	// Batch is how many batches each transaction migrates.
	Batch int
	// DryRun lists the batches still to migrate and writes nothing.
	DryRun bool
	// Parallel is how many MigrateBatches transactions may be in flight.
	Parallel int
}

// Result is what a migration did, as -o json prints it.
type Result struct {
	Pending      int      `json:"pending"`      // batches found in the old format
	Migrated     []string `json:"migrated"`     // batches this run migrated
	Transactions int      `json:"transactions"` // MigrateBatches transactions submitted
	DryRun       bool     `json:"dryRun"`
}

// NewCmdMigrate builds the command; runF replaces runMigrate in tests.
func NewCmdMigrate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "migrate [--batch N] [--parallel N] [--dry-run]",
		Short: "Migrate batches stored by an older contract to the current stored format (organisation admin)",
		Long: `After a chaincode upgrade that changed the stored format, rewrite every batch
still in the old format. The command lists them with PendingMigration and
submits MigrateBatches for --batch of them at a time, so each transaction
stays small, with up to --parallel transactions in flight (they name
different batches; one that loses a race for a shared process record
runs again alone at the end). It must run as an organisation admin identity (certificate OU
"admin"), such as the network's <org>-admin profiles.

The migration is idempotent: a batch already in the current format is left
untouched, so an interrupted run is finished by running it again. Until a
batch of contract 0.2.0 is migrated, every other transaction refuses it. An
auditor's hold that contract 0.4.0 or earlier kept on the batch stays in
force where it is until the migration moves it to its own key (contract
0.5.0). Batches of contracts 0.3.0 to 0.6.0 are used as they are; until
one is migrated (or written again), a list by both owner and status
(batch list --owner --status) leaves it out (contract 0.7.0).`,
		Example: `  mtrace -p municipality-admin migrate --dry-run
  mtrace -p municipality-admin migrate
  mtrace -p municipality-admin migrate -o json | jq .migrated`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Batch < 1 || opts.Batch > MaxBatch {
				return cmdutil.FlagErrorf("--batch: must be from 1 to %d, got %d", MaxBatch, opts.Batch)
			}
			if opts.Parallel < 1 || opts.Parallel > MaxParallel {
				return cmdutil.FlagErrorf("--parallel: must be from 1 to %d, got %d", MaxParallel, opts.Parallel)
			}
			return cmdutil.RunPaged(cmd.Context(), runF, opts, runMigrate)
		},
	}
	cmd.Flags().IntVar(&opts.Batch, "batch", 25, "batches per MigrateBatches transaction")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "only count the batches still in the old format")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 4, "MigrateBatches transactions in flight at once")
	return cmd
}

func runMigrate(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		r, err := migrate(ctx, api.New(l), opts)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, r)
		}
		switch {
		case opts.DryRun:
			_, err = fmt.Fprintf(opts.IO.Out, "%d batches are in the old stored format; nothing written (dry run)\n", r.Pending)
		case r.Pending == 0:
			_, err = fmt.Fprintln(opts.IO.Out, "Every batch is in the current stored format; nothing to migrate.")
		default:
			_, err = fmt.Fprintf(opts.IO.Out, "Migrated %d of %d batches in %d transactions.\n", len(r.Migrated), r.Pending, r.Transactions)
		}
		return err
	})
}

// migrate reads the pending batches page by page and hands them, --batch
// at a time, to --parallel workers that submit MigrateBatches. The scan
// does not wait for the migration: its bookmark is a position in the
// batches' key range, which migrating does not move, and the chunks name
// disjoint batches; two of them may still write the record of a process
// that made batches of both, and one that loses that race runs again
// alone once the others are done. Migrated lists the batches in id order
// whatever order the transactions committed in. On an error the workers
// finish what they hold, nothing more is handed out, and the error says
// how far the migration got.
func migrate(ctx context.Context, c *api.Client, opts *Options) (Result, error) {
	r := Result{Migrated: []string{}, DryRun: opts.DryRun}
	type chunk struct {
		seq int
		ids []string
	}
	var (
		mu    sync.Mutex
		done  = map[int][]string{} // by chunk: the ids migrated
		moved int
		first error
		later []chunk // chunks that lost a race with another in flight
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	// fail keeps the first error; the caller holds mu.
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	// migrateOne submits one chunk and records how it ended.
	migrateOne := func(ch chunk, alone bool) {
		ids, err := c.MigrateBatches(ctx, ch.ids)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && !alone && raced(err):
			later = append(later, ch)
		case err != nil:
			fail(err)
		default:
			done[ch.seq] = ids
			r.Transactions++
			moved += len(ids)
			if opts.Format != cmdutil.FormatJSON {
				fmt.Fprintf(opts.IO.ErrOut, "migrated %d batches (%d so far)\n", len(ids), moved)
			}
		}
	}
	work := make(chan chunk)
	var wg sync.WaitGroup
	for range max(opts.Parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range work {
				if !failed() { // hand-outs already in the channel are dropped
					migrateOne(ch, false)
				}
			}
		}()
	}
	seq, bookmark := 0, ""
	for !failed() {
		page, err := c.PendingMigration(ctx, bookmark, MaxBatch)
		if err != nil {
			mu.Lock()
			fail(err)
			mu.Unlock()
			break
		}
		mu.Lock()
		r.Pending += len(page.IDs)
		mu.Unlock()
		for lo := 0; lo < len(page.IDs) && !opts.DryRun && !failed(); lo += opts.Batch {
			work <- chunk{seq: seq, ids: page.IDs[lo:min(lo+opts.Batch, len(page.IDs))]}
			seq++
		}
		if page.Bookmark == "" {
			break
		}
		bookmark = page.Bookmark
	}
	close(work)
	wg.Wait()
	// Batches made by one process share its record, whose policy the
	// migration sets again: two transactions in flight may both write it,
	// and one loses the race (raced). Those run again one at a time.
	for _, ch := range later {
		if first != nil {
			break
		}
		migrateOne(ch, true)
	}
	// The batches in the order they were found, which is id order.
	for i := range seq {
		r.Migrated = append(r.Migrated, done[i]...)
	}
	switch {
	case first != nil && len(r.Migrated) > 0:
		return r, fmt.Errorf("migrated %d of the %d old batches found so far, then: %w", len(r.Migrated), r.Pending, first)
	case first != nil:
		return r, first
	}
	return r, nil
}

// raced reports whether a MigrateBatches transaction may have failed only
// because another one in flight wrote what it read: a read conflict;
// endorsers that read different versions; or an endorsement policy
// failure, which is how a peer invalidates a transaction that writes a key
// whose policy an earlier transaction of the same block changed (Fabric's
// ValidationParameterUpdatedError). Run alone, a chunk that failed for
// another reason fails again, and that error is reported.
func raced(err error) bool {
	var ce *ledger.CommitError
	var ee *ledger.EndorseError
	return errors.As(err, &ce) && (ce.Conflict() || ce.Code == peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE.String()) ||
		errors.As(err, &ee) && ee.Mismatch
}
