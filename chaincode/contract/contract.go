// Package contract is the mtrace chaincode: the transactions that register
// collected waste, hand batches over between organisations, transform them
// into new batches, and answer provenance questions about them.
//
// Every rule about what a batch may contain lives in package model; this
// package adds what only the ledger knows: who is calling, what is already
// stored, key-level endorsement policies, indexes and events.
//
// Transactions that change a batch answer nothing: the version they wrote
// is in the transaction's write set, and ReadBatch returns it, so a copy in
// the answer would only add bytes to every block. Process answers its
// record, the one new thing it creates that is not a batch.
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Name and Version identify the contract in its metadata.
const (
	Name    = "mtrace"
	Version = "0.7.0"
)

// Contract holds every mtrace transaction. It is the chaincode's default
// contract, so clients call its functions by their bare names.
type Contract struct {
	contractapi.Contract
}

// NewChaincode builds the chaincode with Contract as its default contract.
func NewChaincode() (*contractapi.ContractChaincode, error) {
	info := metadata.InfoMetadata{
		Title:       "mtrace",
		Description: "Provenance of recycled material from collection to printed product",
		Version:     Version,
	}
	c := &Contract{}
	c.Name = Name
	c.Info = info
	arity := arities(c)
	access, arityOK := checkAccess(arity), checkArity(arity)
	c.BeforeTransaction = func(ctx contractapi.TransactionContextInterface) error {
		if err := access(ctx); err != nil {
			return err
		}
		return arityOK(ctx)
	}
	cc, err := contractapi.NewChaincode(c)
	if err != nil {
		return nil, fmt.Errorf("build mtrace chaincode: %w", err)
	}
	cc.TransactionSerializer = &argSerializer{}
	cc.DefaultContract = Name
	cc.Info = info
	return cc, nil
}

// txn is what one transaction knows about itself: the stub, its id and
// timestamp, and who submitted it.
type txn struct {
	stub  shim.ChaincodeStubInterface
	id    string
	now   time.Time
	at    string // now, formatted for the ledger
	actor model.Actor
	ous   []string        // the certificate's organisational units
	reg   *model.Registry // read by member, members or the registry functions
	// policies holds the key-level policies built so far, by required orgs.
	policies map[string][]byte
	// sites caches organisations' site lists read by upgrade.
	sites map[string]*model.SiteList
}

// begin reads the transaction's id, timestamp and caller, and starts a
// write batch: every write of the transaction (a batch, its index entries,
// its key-level policy) then reaches the peer in one message when the
// shim finishes the batch after the call, instead of one round trip each.
func begin(ctx contractapi.TransactionContextInterface) (*txn, error) {
	stub := ctx.GetStub()
	stub.StartWriteBatch()
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, fmt.Errorf("read transaction timestamp: %w", err)
	}
	if ts == nil {
		return nil, errors.New("read transaction timestamp: none in the proposal")
	}
	now := ts.AsTime().UTC()
	t := &txn{stub: stub, id: stub.GetTxID(), now: now, at: model.FormatTime(now)}

	c, err := identify(ctx)
	if err != nil {
		return nil, err
	}
	t.actor, t.ous = c.actor, c.ous
	return t, nil
}

// emit sets the transaction's one chaincode event. It names every batch
// written, sorted.
func (t *txn) emit(ev model.Event, ids ...string) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if sorted == nil {
		sorted = []string{}
	}
	payload, err := json.Marshal(model.ChaincodeEvent{Event: ev, Batches: sorted})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.Name, err)
	}
	if err := t.stub.SetEvent(ev.Name, payload); err != nil {
		return fmt.Errorf("set event %s: %w", ev.Name, err)
	}
	return nil
}

// event starts an EPCIS event for this transaction.
func (t *txn) event(name, typ, bizStep, disposition string) model.Event {
	return model.Event{
		Name:        name,
		Type:        typ,
		EventTime:   t.at,
		BizStep:     bizStep,
		Disposition: disposition,
		Where:       model.Where{Org: t.actor.MSP},
		TxID:        t.id,
		By:          t.actor,
	}
}
