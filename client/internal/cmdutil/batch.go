package cmdutil

import (
	"context"
	"fmt"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// BatchWrite is a transaction that changes one batch, and how to show the
// batch it leaves.
type BatchWrite struct {
	IO     *iostreams.IOStreams
	Format string
	// ID is the batch the transaction changes.
	ID string
	// Write submits the transaction, e.g. c.Release(ctx, id).
	Write func(ctx context.Context, c *api.Client) error
	// Summary is the line printed for a table.
	Summary func(*model.Batch) string
}

// SubmitBatch runs w.Write, then reads the batch back and prints it: the
// batch as JSON, or for a table the line that w.Summary writes. Batch
// transactions answer nothing (the version they wrote is in their write
// set), so the batch comes from ReadBatch on the peer that has just
// committed the transaction.
func SubmitBatch(ctx context.Context, open LedgerFunc, w BatchWrite) error {
	return WithLedger(ctx, open, func(l ledger.Ledger) error {
		// The transaction Write submitted names it when the read back fails.
		sub := &submitted{Invoker: l}
		if err := w.Write(ctx, api.New(sub)); err != nil {
			return err
		}
		b, err := api.New(l).ReadBatch(ctx, w.ID)
		if err != nil {
			return fmt.Errorf("%s committed, but reading batch %q back failed: %w", sub.fn, w.ID, err)
		}
		if w.Format == FormatJSON {
			return render.JSON(w.IO.Out, b)
		}
		_, err = fmt.Fprintln(w.IO.Out, w.Summary(&b))
		return err
	})
}

// submitted is an Invoker that remembers the last transaction submitted
// through it.
type submitted struct {
	api.Invoker
	fn string
}

func (s *submitted) Submit(ctx context.Context, fn string, args ...string) ([]byte, error) {
	s.fn = fn
	return s.Invoker.Submit(ctx, fn, args...)
}
