package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
	"github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

// sinceWrites is how many transactions follow the checkpoint in the
// benchmarks: half handovers, half processes (each writing its input and
// output), one transaction a block.
const sinceWrites = 40

// benchWorld is a clean ledger of n collected batches at a checkpoint,
// followed by the same sinceWrites honest transactions whatever n is.
func benchWorld(b *testing.B, n int) (*world, string) {
	w := newWorld(b, 1000)
	base := cmdtest.Collected("B", 100_000)
	for i := 0; i < n; i++ {
		c := base
		c.ID = fmt.Sprintf("B-%07d", i)
		w.batches[c.ID] = &c
		w.history[c.ID] = []model.HistoryEntry{{TxID: "tx-" + c.ID, Batch: &c}}
	}
	ckpt := w.checkpointAt(b, b.TempDir())
	for i := 0; i < sinceWrites; i++ {
		id := fmt.Sprintf("B-%07d", i*(n/sinceWrites))
		tx := fmt.Sprintf("tx-since-%d", i)
		if i%2 == 0 {
			w.block(w.height, valid(tx, w.put(tx, ptr(cmdtest.Received(*w.batches[id], 1_000)))...))
			continue
		}
		in := *w.batches[id]
		d := &model.Derivation{Step: model.StepSorting, Tx: tx, By: in.Submitter, At: "2026-11-22T08:00:00Z",
			Inputs: []model.Take{{ID: id, Mass: 50_000}}, Loss: 1_000}
		out := in
		out.ID, out.InitialMass, out.RemainingMass, out.Origin = "O-"+tx, 49_000, 49_000, model.Origin{Process: d}
		in.RemainingMass -= 50_000
		in.TakenMass += 50_000
		in.Takes++
		w.records[tx] = &model.Process{Derivation: *d, Outputs: []model.Take{{ID: out.ID, Mass: 49_000}}}
		w.takes[id] = append(w.takes[id], model.Take{ID: out.ID, Mass: 50_000, Tx: tx, At: d.At})
		kvs := append(w.put(tx, &in, &out), projectiontest.KV{Key: projectiontest.Key(objProcess, tx), Value: projectiontest.JSON(b, w.records[tx])})
		w.block(w.height, valid(tx, kvs...))
	}
	return w, ckpt
}

func benchAudit(b *testing.B, n int, args func(ckpt string) Options) {
	w, ckpt := benchWorld(b, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := ledgertest.New()
		w.serve(f)
		io, _, _, _ := iostreams.Test()
		opts := args(ckpt)
		opts.IO, opts.Ledger = io, func(context.Context) (ledger.Ledger, error) { return f, nil }
		if err := runAudit(context.Background(), &opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditSince audits the same 40 transactions after a checkpoint
// of a small and of a large ledger: its cost does not depend on the
// ledger's size. BenchmarkAuditFull, for contrast, reads every batch.
func BenchmarkAuditSince(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("batches=%d", n), func(b *testing.B) {
			benchAudit(b, n, func(ckpt string) Options {
				return Options{Format: cmdutil.FormatJSON, NoSignatures: true, Since: ckpt, Checkpoint: filepath.Join(b.TempDir(), "next")}
			})
		})
	}
}

func BenchmarkAuditFull(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("batches=%d", n), func(b *testing.B) {
			benchAudit(b, n, func(string) Options {
				return Options{Format: cmdutil.FormatJSON, NoSignatures: true}
			})
		})
	}
}
