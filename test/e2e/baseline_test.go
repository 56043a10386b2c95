//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// TestNoBaselineInProduction: the benchmark's baseline, a write of any
// bytes under any key, is not a function of the chaincode `network.sh up`
// deploys, and its own chaincode is not deployed on this network. Two
// members endorsing together (the chaincode-level policy) could otherwise
// write what they like on the audited ledger.
func TestNoBaselineInProduction(t *testing.T) {
	gw, done, err := env.Gateway("municipality")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	p := env.Profiles["municipality"]
	nw := gw.GetNetwork(p.Channel)
	mtrace := nw.GetContract(p.Chaincode)
	// The connection works: the production chaincode answers.
	if _, err := mtrace.EvaluateTransaction("GetRegistry"); err != nil {
		t.Fatalf("GetRegistry: %s", testnet.Message(err))
	}
	key := id("baseline")
	h := height(t)
	_, err = mtrace.Submit("BaselinePut", client.WithArguments(key, `{"bench":true}`))
	if err == nil {
		t.Fatal("the production chaincode accepted BaselinePut")
	}
	if msg := testnet.Message(err); !strings.Contains(msg, "Function BaselinePut not found") {
		t.Fatalf("BaselinePut refused, but not as an unknown function: %s", msg)
	}
	if _, err := mtrace.EvaluateTransaction("BaselinePut", key, "x"); err == nil ||
		!strings.Contains(testnet.Message(err), "Function BaselinePut not found") {
		t.Fatalf("evaluate BaselinePut: want an unknown function, got %v", testnet.Message(err))
	}
	// The baseline's own chaincode is for bench networks only.
	_, err = nw.GetContract("mtrace-baseline").EvaluateTransaction("Put", key, "x")
	if err == nil {
		t.Fatal("the baseline chaincode mtrace-baseline answers on the test network")
	}
	if msg := testnet.Message(err); !strings.Contains(msg, "mtrace-baseline") {
		t.Fatalf("mtrace-baseline refused for another reason than its absence: %s", msg)
	}
	if got := height(t); got != h {
		t.Errorf("block height went from %d to %d: a refused proposal must not be ordered", h, got)
	}
}
