package events

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/ledger"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdEvents(e.F, nil) }

func stream() []ledger.Event {
	ev := func(block uint64, tx, name string, batches ...string) ledger.Event {
		p, _ := json.Marshal(model.ChaincodeEvent{Event: model.Event{Name: name, Type: model.ObjectEvent, TxID: tx,
			BizStep: model.BizCollecting, EventTime: "2026-11-20T07:00:00Z"}, Batches: batches})
		return ledger.Event{Block: block, TxID: tx, Name: name, Payload: p}
	}
	return []ledger.Event{
		ev(7, "tx1", model.EvBatchRegistered, "PET-1"),
		ev(8, "tx2", model.EvBatchProcessed, "FLK-1", "PET-1", "PET-2"),
		{Block: 9, TxID: "tx3", Name: "Foreign", Payload: []byte("not json")},
	}
}

func TestEvents(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		e.Fake.AddEvents(stream()...)
		err := e.Run(newCmd(e), "events", "--start-block", "7", "-o", format)
		assert.ErrorIs(t, err, ErrStreamEnded, "the fake's stream ends after its events")
		assert.Equal(t, uint64(7), e.Fake.EventsStart)
		assert.Empty(t, e.Fake.Checkpointed, "no checkpoint file, nothing recorded")
		cmdtest.Golden(t, "events_"+format, e.Out.String())
	}
}

func TestEventsCheckpointAfterPrinting(t *testing.T) {
	e := cmdtest.New(t)
	e.Fake.AddEvents(stream()...)
	_ = e.Run(newCmd(e), "events", "--checkpoint", "/tmp/cp.json")
	assert.Equal(t, "/tmp/cp.json", e.Fake.EventsCheckpoint)
	assert.Equal(t, ledger.NextBlock, e.Fake.EventsStart, "no --start-block: the next block committed")
	e = cmdtest.New(t)
	_ = e.Run(newCmd(e), "events", "--start-block", "0")
	assert.Equal(t, uint64(0), e.Fake.EventsStart, "--start-block 0 means block 0")
	e = cmdtest.New(t)
	e.Fake.AddEvents(stream()...)
	_ = e.Run(newCmd(e), "events", "--checkpoint", "/tmp/cp.json")
	assert.Equal(t, []string{"tx1", "tx2", "tx3"}, e.Fake.Checkpointed)
}

func TestEventsErrors(t *testing.T) {
	e := cmdtest.New(t)
	assert.ErrorContains(t, e.Run(newCmd(e), "events", "-p", "ghost"), `profile "ghost" not found`)
	e.Fake.EventsErr = &ledger.UnavailableError{Endpoint: "127.0.0.1:27100", Cause: "connection refused"}
	assert.EqualError(t, e.Run(newCmd(e), "events"), "peer 127.0.0.1:27100 unreachable: connection refused")
	e.Fake.EventsErr = nil
	err := e.Run(newCmd(e), "events", "--start-block", "x")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrStreamEnded))
}
