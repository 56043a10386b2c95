// Package events implements `mtrace events`: follow the chaincode's
// events as they are committed, resuming from a checkpoint file.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

// Options are the inputs of one event stream.
type Options struct {
	IO         *iostreams.IOStreams
	Ledger     cmdutil.LedgerFunc
	Format     string
	Checkpoint string
	StartBlock uint64
}

// Line is the JSON form of one event, one per line with -o json.
type Line struct {
	Block   uint64       `json:"blockNumber"`
	TxID    string       `json:"txId"`
	Name    string       `json:"name"`
	Batches []string     `json:"batches"`
	Event   *model.Event `json:"event,omitempty"`
}

// ErrStreamEnded is returned when the peer closes the stream.
var ErrStreamEnded = errors.New("event stream ended: the peer closed it")

// NewCmdEvents builds the command; runF replaces runEvents in tests.
func NewCmdEvents(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	cmd := &cobra.Command{
		Use:   "events [--checkpoint FILE] [--start-block N]",
		Short: "Stream chaincode events as they are committed",
		Long: `Print each chaincode event as it is committed: block, transaction, event
name and the batches it wrote; with -o json, one JSON object per line. Stop
with Ctrl-C.

With --checkpoint, the position after each printed event is saved to FILE,
and a restart resumes right after it, with no gap and no duplicate. Without
a checkpoint (or with an empty one), the stream starts at --start-block, or
at the next block committed.`,
		Example: `  mtrace events
  mtrace events --start-block 0 -o json
  mtrace events --checkpoint ~/.mtrace-events.json`,
		Args: cmdutil.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if !cmd.Flags().Changed("start-block") {
				opts.StartBlock = ledger.NextBlock
			}
			if runF != nil {
				return runF(opts)
			}
			return runEvents(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "file that records the stream position")
	cmd.Flags().Uint64Var(&opts.StartBlock, "start-block", 0, "first block to read when there is no checkpoint (default: the next block committed)")
	return cmd
}

func runEvents(ctx context.Context, opts *Options) error {
	// Cancelling on return stops the ledger's forwarding goroutine when
	// printing or checkpointing fails mid-stream.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		evs, err := l.Events(ctx, opts.Checkpoint, opts.StartBlock)
		if err != nil {
			return err
		}
		for ev := range evs {
			if err := printEvent(opts, ev); err != nil {
				return err
			}
			if err := ev.Done(); err != nil {
				return fmt.Errorf("checkpoint %s: %w", opts.Checkpoint, err)
			}
		}
		if ctx.Err() != nil {
			return nil // stopped by the user
		}
		return ErrStreamEnded
	})
}

func printEvent(opts *Options, ev ledger.Event) error {
	line := Line{Block: ev.Block, TxID: ev.TxID, Name: ev.Name, Batches: []string{}}
	var payload model.ChaincodeEvent
	if err := json.Unmarshal(ev.Payload, &payload); err == nil {
		line.Event = &payload.Event
		if payload.Batches != nil {
			line.Batches = payload.Batches
		}
	}
	if opts.Format == cmdutil.FormatJSON {
		data, err := json.Marshal(line)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(opts.IO.Out, "%s\n", data)
		return err
	}
	_, err := fmt.Fprintf(opts.IO.Out, "block %d  tx %s  %s  %s\n", line.Block, line.TxID, line.Name, strings.Join(line.Batches, ","))
	return err
}
