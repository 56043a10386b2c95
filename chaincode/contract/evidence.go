package contract

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Evidence returns the upstream graph of a batch as stored: every batch,
// every process record in it and every take its processes left on their
// inputs (model.Evidence as JSON). From it a client computes the verdict
// itself (model.Verify, what VerifyProvenance answers) and holds each
// record's claims against the signed transactions that wrote them
// (mtrace verify's signatures check), which the chaincode cannot read.
func (c *Contract) Evidence(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	if err := model.CheckID("id", id); err != nil {
		return "", err
	}
	ev, err := evidence(ctx.GetStub(), id)
	if err != nil {
		return "", err
	}
	return encoded("evidence", ev)
}

// provenance reads the upstream graph of root, the records of its
// processes and the takes they left on their inputs: what model.Verify
// takes.
func provenance(stub shim.ChaincodeStubInterface, root string) (map[string]*model.Batch, map[string]*model.Process, map[model.TakeRef]model.Take, error) {
	batches, recs, err := upstream(stub, root)
	if err != nil {
		return nil, nil, nil, err
	}
	takes, err := getTakes(stub, takeRefs(batches))
	if err != nil {
		return nil, nil, nil, err
	}
	return batches, recs, takes, nil
}

// evidence is the provenance of root as model.Evidence, sorted.
func evidence(stub shim.ChaincodeStubInterface, root string) (*model.Evidence, error) {
	batches, recs, takes, err := provenance(stub, root)
	if err != nil {
		return nil, err
	}
	ev := &model.Evidence{
		Batches:   make([]model.Batch, 0, len(batches)),
		Processes: make([]model.Process, 0, len(recs)),
		Takes:     make([]model.TakeOf, 0, len(takes)),
	}
	for _, id := range slices.Sorted(maps.Keys(batches)) {
		ev.Batches = append(ev.Batches, *batches[id])
	}
	for _, tx := range slices.Sorted(maps.Keys(recs)) {
		ev.Processes = append(ev.Processes, *recs[tx])
	}
	for r, t := range takes {
		ev.Takes = append(ev.Takes, model.TakeOf{Parent: r.Parent, Take: t})
	}
	slices.SortFunc(ev.Takes, func(a, b model.TakeOf) int {
		return cmp.Or(strings.Compare(a.Parent, b.Parent), strings.Compare(a.Tx, b.Tx))
	})
	return ev, nil
}
