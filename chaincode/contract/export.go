package contract

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// ReadBatches returns the current versions of many batches, a JSON array
// in the order of ids, with null for a batch that does not exist. It reads
// them with one GetMultipleStates call; an EPCIS export reads the batches
// its events name this way, a chunk at a time.
func (c *Contract) ReadBatches(ctx contractapi.TransactionContextInterface, ids []string) (string, error) {
	if len(ids) > model.MaxListLimit {
		return "", &model.RuleError{Field: "ids", Rule: fmt.Sprintf("must list at most %d batches, got %d", model.MaxListLimit, len(ids))}
	}
	for i, id := range ids {
		if err := model.CheckID(fmt.Sprintf("ids[%d]", i), id); err != nil {
			return "", err
		}
	}
	bs, err := getBatches(ctx.GetStub(), ids)
	if err != nil {
		return "", err
	}
	if bs == nil {
		bs = []*model.Batch{}
	}
	if err := oversee(ctx.GetStub(), bs...); err != nil {
		return "", err
	}
	return encoded("batches", bs)
}
