package projectiontest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkLedger: the blocks are numbered from 0 and, after the genesis
// block, every write is to a composite key of the namespace
// with a JSON object for its value.
func checkLedger(t *testing.T, blocks []*common.Block) (keys []string) {
	t.Helper()
	require.NotEmpty(t, blocks)
	for i, b := range blocks {
		assert.Equal(t, uint64(i), b.GetHeader().GetNumber())
		if i == 0 {
			continue // the genesis configuration
		}
		for _, env := range b.GetData().GetData() {
			_, ws, _ := writes(t, env)
			for _, w := range ws[Namespace] {
				keys = append(keys, w.GetKey())
				assert.True(t, strings.HasPrefix(w.GetKey(), "\x00"), "composite key %q", w.GetKey())
				var v map[string]any
				assert.NoError(t, json.Unmarshal(w.GetValue(), &v), "value of %q", w.GetKey())
			}
		}
	}
	return keys
}

func TestSitesLedger(t *testing.T) {
	keys := checkLedger(t, SitesLedger(t))
	for _, want := range []string{Key("sites", "RecyclerMSP"), Key("batch", "PET-1"), Key("batch", "BUY-1"), Key("batch", "FLK-1"), Key("decl", "D-1"), Key("decl", "D-2")} {
		assert.Contains(t, keys, want)
	}
}

func TestNegativeLedger(t *testing.T) {
	keys := checkLedger(t, NegativeLedger(t))
	for _, want := range []string{Key("batch", "X"), Key("batch", "Y"), Key("batch", "Z")} {
		assert.Contains(t, keys, want)
	}
	assert.Equal(t, TxTime.Add(3e9), BlockTime(3))
}
