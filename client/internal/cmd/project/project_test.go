package project

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/projection"
	pt "github.com/mtrace/mtrace/client/internal/projection/projectiontest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdProject(e.F, nil) }

func batch(t *testing.T, id, owner string) pt.KV {
	return pt.KV{Key: pt.Key("batch", id), Value: pt.JSON(t, map[string]any{"id": id, "owner": owner, "status": "ACTIVE",
		"material": "PET", "initialMass": 1000, "remainingMass": 1000, "event": map[string]any{"name": "BatchRegistered"}})}
}

// blocks is a channel of five blocks: a config block, three with mtrace
// transactions (one of them invalid) and one of another chaincode.
func blocks(t *testing.T) []*common.Block {
	valid := peer.TxValidationCode_VALID
	return []*common.Block{
		pt.Block(t, 0, pt.Tx{ID: "genesis", Code: valid, Config: true}),
		pt.Block(t, 1, pt.Tx{ID: "tx1", Code: valid, Writes: []pt.KV{batch(t, "PET-1", "IstanbulMSP")}}),
		pt.Block(t, 2, pt.Tx{ID: "tx2", Code: valid, Writes: []pt.KV{batch(t, "PET-2", "IstanbulMSP")}},
			pt.Tx{ID: "tx3", Code: peer.TxValidationCode_MVCC_READ_CONFLICT, Writes: []pt.KV{batch(t, "PET-3", "IstanbulMSP")}}),
		pt.Block(t, 3, pt.Tx{ID: "tx4", Code: valid, Writes: []pt.KV{{Key: "k", Value: []byte("v"), NS: "other"}}}),
		pt.Block(t, 4, pt.Tx{ID: "tx5", Code: valid, Writes: []pt.KV{batch(t, "PET-1", "RecyclerMSP"), {Key: pt.Key("hold", "H-1"), Value: []byte(`{}`)}}}),
	}
}

func dumpOf(t *testing.T, url string) string {
	t.Helper()
	s, err := projection.Open(context.Background(), url)
	require.NoError(t, err)
	defer s.Close()
	var buf bytes.Buffer
	require.NoError(t, s.Dump(context.Background(), &buf))
	return buf.String()
}

func TestOnceCatchesUpAndResumes(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	all := blocks(t)

	// The channel has three blocks: project them and stop.
	e := cmdtest.New(t)
	e.Fake.AddBlocks(all[:3]...)
	require.NoError(t, e.Run(newCmd(e), "project", "--db", db, "--once"))
	assert.Equal(t, "projected blocks 0 to 2 (2 transactions); next block 3\n", e.Err.String())
	assert.Equal(t, uint64(0), e.Fake.BlocksFrom)
	assert.True(t, e.Fake.Closed, "the ledger is closed")
	got := dumpOf(t, db)
	assert.Contains(t, got, `"id":"PET-2"`)
	assert.NotContains(t, got, `"id":"PET-3"`, "the invalid transaction is not projected")

	// Nothing new: nothing read.
	e = cmdtest.New(t)
	e.Fake.AddBlocks(all[:3]...)
	require.NoError(t, e.Run(newCmd(e), "project", "--db", db, "--once"))
	assert.Equal(t, "up to date at block height 3\n", e.Err.String())

	// Two more blocks: the stream starts at the checkpoint, block 3.
	e = cmdtest.New(t)
	e.Fake.AddBlocks(all...)
	require.NoError(t, e.Run(newCmd(e), "project", "--db", db, "--once"))
	assert.Equal(t, "projected blocks 3 to 4 (1 transactions); next block 5\n"+
		"1 writes to key types this release does not know: kept in unknown_writes\n", e.Err.String())
	assert.Equal(t, uint64(3), e.Fake.BlocksFrom)

	// The same as a rebuild in one go.
	fresh := "sqlite:" + filepath.Join(t.TempDir(), "fresh.db")
	e = cmdtest.New(t)
	e.Fake.AddBlocks(all...)
	require.NoError(t, e.Run(newCmd(e), "project", "--db", fresh, "--once"))
	assert.Equal(t, dumpOf(t, fresh), dumpOf(t, db))
	assert.Contains(t, dumpOf(t, db), `"owner":"RecyclerMSP"`)

	// --dump prints the same, without the ledger.
	e = cmdtest.New(t)
	require.NoError(t, e.Run(newCmd(e), "project", "--db", db, "--dump"))
	assert.Equal(t, dumpOf(t, db), e.Out.String())
	assert.Empty(t, e.Fake.Calls())
	assert.Zero(t, e.Fake.BlocksFrom)
}

func TestFollowingEndsWithTheStream(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	e := cmdtest.New(t)
	e.Fake.AddBlocks(blocks(t)...)
	err := e.Run(newCmd(e), "project", "--db", db)
	assert.ErrorIs(t, err, ErrStreamEnded)
	assert.Contains(t, dumpOf(t, db), `{"row":{"next_block":5},"table":"checkpoint"}`, "every block the stream sent is applied")
}

func TestAGapInTheStreamIsRefused(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	all := blocks(t)
	e := cmdtest.New(t)
	e.Fake.AddBlocks(all[0], all[1], all[3], all[4])
	err := e.Run(newCmd(e), "project", "--db", db, "--once")
	assert.EqualError(t, err, "block stream skipped from block 2 to 3")
	assert.Contains(t, dumpOf(t, db), `{"row":{"next_block":2},"table":"checkpoint"}`)
}

func TestABadBlockStopsTheProjection(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	bad := pt.Block(t, 1, pt.Tx{ID: "txB", Code: peer.TxValidationCode_VALID, Writes: []pt.KV{{Key: pt.Key("batch", "PET-1"), Value: []byte("{broken")}}})
	e := cmdtest.New(t)
	e.Fake.AddBlocks(blocks(t)[0], bad)
	err := e.Run(newCmd(e), "project", "--db", db, "--once")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "block 1, transaction txB: batch PET-1:")
	assert.Contains(t, dumpOf(t, db), `{"row":{"next_block":1},"table":"checkpoint"}`, "nothing of the bad block is applied")
}

func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"project"}, "--db is required"},
		{[]string{"project", "--db", "sqlite:x", "--once", "--dump"}, "cannot be used together"},
		{[]string{"project", "--db", "mysql://x", "--once"}, `want sqlite:PATH or postgres://`},
		{[]string{"project", "--db", "sqlite:x", "extra"}, "no arguments"},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), tt.args...)
		require.Error(t, err, strings.Join(tt.args, " "))
		assert.Contains(t, err.Error(), tt.want)
		assert.Empty(t, e.Fake.Calls())
	}
}
