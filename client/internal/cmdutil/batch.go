package cmdutil

import (
	"context"
	"fmt"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// SubmitBatch submits fn(args...), a transaction that changes batch id,
// then reads the batch back and prints it: the batch as JSON, or for a
// table the line that summary writes. Batch transactions answer nothing
// (the version they wrote is in their write set), so the batch comes from
// ReadBatch on the peer that has just committed the transaction.
func SubmitBatch(ctx context.Context, open LedgerFunc, io *iostreams.IOStreams, format, id, fn string, args []string, summary func(*model.Batch) string) error {
	return WithLedger(ctx, open, func(l ledger.Ledger) error {
		if _, err := l.Submit(ctx, fn, args...); err != nil {
			return err
		}
		b, err := Query[model.Batch](ctx, l, "ReadBatch", id)
		if err != nil {
			return fmt.Errorf("%s committed, but reading batch %q back failed: %w", fn, id, err)
		}
		if format == FormatJSON {
			return render.JSON(io.Out, b)
		}
		_, err = fmt.Fprintln(io.Out, summary(&b))
		return err
	})
}
