// Command baselinecc is the benchmark's baseline chaincode, mtrace-baseline:
// one function, Put, that writes a value under "baseline~"+key with no other
// check than the key's syntax, no index and no event. mtrace-bench measures
// it beside mtrace's transactions, at the same concurrency and endorsement
// policy, to separate the platform's cost from mtrace's.
//
// Only bench networks deploy it (scripts/bench.sh runs
// `network.sh deploy mtrace-baseline ./test/bench/baselinecc`); it is not
// part of the mtrace chaincode, so no member can use it to write arbitrary
// bytes on a production ledger. It starts like mtrace-cc, under the
// network's external builder (package launch).
package main

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/launch"
	"github.com/mtrace/mtrace/chaincode/model"
)

// Name is the baseline contract's name, and its chaincode's default contract.
const Name = "baseline"

// Baseline is the baseline contract.
type Baseline struct {
	contractapi.Contract
}

// Put writes value under "baseline~"+key and nothing else.
func (Baseline) Put(ctx contractapi.TransactionContextInterface, key string, value string) error {
	if err := model.CheckID("key", key); err != nil {
		return err
	}
	if err := ctx.GetStub().PutState("baseline~"+key, []byte(value)); err != nil {
		return fmt.Errorf("baseline write %q: %w", key, err)
	}
	return nil
}

// newChaincode builds the chaincode with Baseline as its default contract,
// so clients call Put by its bare name.
func newChaincode() (*contractapi.ContractChaincode, error) {
	c := &Baseline{}
	c.Name = Name
	cc, err := contractapi.NewChaincode(c)
	if err != nil {
		return nil, fmt.Errorf("build baseline chaincode: %w", err)
	}
	cc.DefaultContract = Name
	return cc, nil
}

func main() { launch.Main(newChaincode) }
