package contract

import (
	"slices"
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Evidence returns the upstream graph of a batch as stored: every batch
// and every process record in it (model.Evidence as JSON). The client
// holds each record's claims against the signed transactions that wrote
// them (mtrace verify's signatures check), which the chaincode cannot
// read.
func (c *Contract) Evidence(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	if err := model.CheckID("id", id); err != nil {
		return "", err
	}
	batches, recs, err := upstream(ctx.GetStub(), id)
	if err != nil {
		return "", err
	}
	ev := model.Evidence{Batches: make([]model.Batch, 0, len(batches)), Processes: make([]model.Process, 0, len(recs))}
	for _, b := range batches {
		ev.Batches = append(ev.Batches, *b)
	}
	for _, p := range recs {
		ev.Processes = append(ev.Processes, *p)
	}
	slices.SortFunc(ev.Batches, func(a, b model.Batch) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(ev.Processes, func(a, b model.Process) int { return strings.Compare(a.Tx, b.Tx) })
	return encoded("evidence", &ev)
}
