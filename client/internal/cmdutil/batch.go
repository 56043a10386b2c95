package cmdutil

import (
	"context"
	"fmt"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// SubmitBatch submits fn(args...), whose answer is a batch, and prints it:
// the batch as JSON, or for a table the line that summary writes.
func SubmitBatch(ctx context.Context, open LedgerFunc, io *iostreams.IOStreams, format, fn string, args []string, summary func(*model.Batch) string) error {
	return WithLedger(ctx, open, func(l ledger.Ledger) error {
		res, err := l.Submit(ctx, fn, args...)
		if err != nil {
			return err
		}
		b, err := Decode[model.Batch](fn, res)
		if err != nil {
			return err
		}
		if format == FormatJSON {
			return render.JSON(io.Out, b)
		}
		_, err = fmt.Fprintln(io.Out, summary(&b))
		return err
	})
}
