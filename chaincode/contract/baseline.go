package contract

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// BaselinePut writes value under "baseline~"+key and nothing else: no
// checks beyond the key's syntax, no index, no event. Benchmarks compare
// it with RegisterBatch to separate the platform's cost from mtrace's.
func (c *Contract) BaselinePut(ctx contractapi.TransactionContextInterface, key string, value string) error {
	if err := model.CheckID("key", key); err != nil {
		return err
	}
	if err := ctx.GetStub().PutState("baseline~"+key, []byte(value)); err != nil {
		return fmt.Errorf("baseline write %q: %w", key, err)
	}
	return nil
}
