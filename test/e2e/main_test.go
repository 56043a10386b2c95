//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/test/internal/harness"
	"github.com/mtrace/mtrace/test/internal/testnet"
)

// env is the live network; TestMain refuses to run without one.
var env *testnet.Env

// run makes ids unique to this run, so the tests can run again on a network
// that already holds batches from an earlier run.
var run = fmt.Sprintf("r%d", time.Now().Unix()%1_000_000)

// TestMain runs the suite on a live network (test/internal/harness).
func TestMain(m *testing.M) { harness.Main(m, "e2e", &env) }

// id returns a batch id unique to this run.
func id(name string) string { return run + "-" + name }

// getBatch reads a batch as the given profile.
func getBatch(t *testing.T, profile, batchID string) model.Batch {
	t.Helper()
	var b model.Batch
	env.JSON(t, &b, profile, "batch", "get", batchID)
	return b
}

// height is the block height of the municipality's peer.
func height(t *testing.T) uint64 {
	t.Helper()
	h, err := env.Height("municipality")
	if err != nil {
		t.Fatalf("block height: %v", err)
	}
	return h
}
