//go:build e2e

// Command forgecc is the mtrace chaincode as a dishonest member would run
// it on its own peer: the real contract (package contract) with the rules
// of some transactions removed and their claims rewritten. Each forged
// transaction writes what the dishonest organisation wants straight to the
// world state. The trust tests build it, swap it in for the real binary on
// one peer, and check that what it endorses never becomes valid on the
// ledger, or fails verify's signatures check where Fabric cannot stop it.
//
// Every other transaction is the real one, so the peer still answers
// queries and endorses honest transactions as before.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/contract"
	"github.com/mtrace/mtrace/chaincode/launch"
	"github.com/mtrace/mtrace/chaincode/model"
)

// forger is the real contract with its attacks laid over it.
type forger struct {
	contract.Contract
}

func main() {
	launch.Main(func() (*contractapi.ContractChaincode, error) {
		f := &forger{}
		f.Name = contract.Name
		cc, err := contractapi.NewChaincode(f)
		if err != nil {
			return nil, err
		}
		cc.DefaultContract = contract.Name
		return cc, nil
	})
}

// registryKey is the composite key ("registry") of the participant registry.
const registryKey = "\x00registry\x00"

func key(kind, id string) string {
	k, _ := shim.CreateCompositeKey(kind, []string{id})
	return k
}

func get[T any](stub shim.ChaincodeStubInterface, k string) (*T, error) {
	raw, err := stub.GetState(k)
	if err != nil || raw == nil {
		return nil, fmt.Errorf("forge: read %q: %v", k, err)
	}
	var v T
	return &v, json.Unmarshal(raw, &v)
}

func put(stub shim.ChaincodeStubInterface, k string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return stub.PutState(k, raw)
}

func now(ctx contractapi.TransactionContextInterface) string {
	ts, _ := ctx.GetStub().GetTxTimestamp()
	return model.FormatTime(ts.AsTime())
}

// SetParticipant writes the caller's organisation into the registry as a
// collector, with no proposal and no vote.
func (f *forger) SetParticipant(ctx contractapi.TransactionContextInterface, p model.Participant) error {
	stub := ctx.GetStub()
	reg, err := get[model.Registry](stub, registryKey)
	if err != nil {
		return err
	}
	for i := range reg.Participants {
		if reg.Participants[i].MSP == p.MSP {
			reg.Participants[i] = p
		}
	}
	return put(stub, registryKey, reg)
}

// ApproveChange approves an open proposal in the name of every other
// member organisation too, and applies it.
func (f *forger) ApproveChange(ctx contractapi.TransactionContextInterface, id string) error {
	stub := ctx.GetStub()
	reg, err := get[model.Registry](stub, registryKey)
	if err != nil {
		return err
	}
	p, ok := reg.Proposal(id)
	if !ok {
		return errors.New("forge: no such proposal")
	}
	for _, m := range reg.Members() {
		p.Approvals = append(p.Approvals, model.Approval{By: model.Actor{MSP: m, Identity: "Admin@" + strings.ToLower(strings.TrimSuffix(m, "MSP")) + ".mtrace.local"}, Tx: stub.GetTxID()})
	}
	if err := reg.Apply(p.Change); err != nil {
		return err
	}
	reg.DropProposal(id)
	return put(stub, registryKey, reg)
}

// RegisterBatch records the batch as collected and submitted by the
// municipality, whoever calls.
func (f *forger) RegisterBatch(ctx contractapi.TransactionContextInterface, req model.RegisterRequest) error {
	stub := ctx.GetStub()
	at := now(ctx)
	city := model.Actor{MSP: "MunicipalityMSP", Identity: "User1@municipality.mtrace.local"}
	b := model.Batch{
		ID: req.ID, Material: req.Material, WasteCode: req.WasteCode, Form: model.FormWaste,
		InitialMass: req.Mass, RemainingMass: req.Mass, Owner: city.MSP, Submitter: city, Status: model.StatusActive,
		Origin:          model.Origin{Collection: &model.Collection{Location: req.Location, CollectedAt: req.CollectedAt, Collector: city.MSP}},
		RecycledContent: model.FullRecycled, CreatedAt: at, CreatedTx: stub.GetTxID(), UpdatedAt: at, LastTx: stub.GetTxID(), UpdatedBy: city,
		Format: model.CurrentFormat,
	}
	return put(stub, key("batch", req.ID), b)
}

// AcceptTransfer takes custody of a batch that was never offered to the
// caller.
func (f *forger) AcceptTransfer(ctx contractapi.TransactionContextInterface, id string, receivedMass int64) error {
	stub := ctx.GetStub()
	b, err := get[model.Batch](stub, key("batch", id))
	if err != nil {
		return err
	}
	me, _ := ctx.GetClientIdentity().GetMSPID()
	b.Handovers = append(b.Handovers, model.Handover{From: b.Owner, To: me, Offered: b.RemainingMass, Received: b.RemainingMass,
		OfferTx: stub.GetTxID(), AcceptTx: stub.GetTxID(), AcceptedBy: model.Actor{MSP: me}, AcceptedAt: now(ctx)})
	b.Owner, b.Pending, b.Status, b.LastTx = me, nil, model.StatusActive, stub.GetTxID()
	return put(stub, key("batch", id), b)
}

// Process takes from input batches whoever holds them, under an auditor's
// hold or not, and makes the outputs for the caller.
func (f *forger) Process(ctx contractapi.TransactionContextInterface, req model.ProcessRequest) error {
	stub := ctx.GetStub()
	me, _ := ctx.GetClientIdentity().GetMSPID()
	for _, in := range req.Inputs {
		b, err := get[model.Batch](stub, key("batch", in.ID))
		if err != nil {
			return err
		}
		b.RemainingMass -= in.Mass
		b.LastTx = stub.GetTxID()
		if err := put(stub, key("batch", in.ID), b); err != nil {
			return err
		}
	}
	takes := make([]model.Take, len(req.Inputs))
	for i, in := range req.Inputs {
		takes[i] = model.Take{ID: in.ID, Mass: in.Mass}
	}
	d := model.Derivation{Step: req.Step, Tx: stub.GetTxID(), By: model.Actor{MSP: me}, At: now(ctx), Inputs: takes}
	rec := model.Process{Derivation: d, RecycledContent: model.FullRecycled}
	for _, out := range req.Outputs {
		b := model.Batch{ID: out.ID, Material: out.Material, Form: out.Form, InitialMass: out.Mass, RemainingMass: out.Mass,
			Owner: me, Submitter: model.Actor{MSP: me}, Status: model.StatusActive, RecycledContent: model.FullRecycled,
			Origin: model.Origin{Process: &d}, Format: model.CurrentFormat}
		if err := put(stub, key("batch", out.ID), b); err != nil {
			return err
		}
		rec.Outputs = append(rec.Outputs, model.Take{ID: out.ID, Mass: out.Mass})
	}
	// The record, so that the outputs read as a process's.
	return put(stub, key("process", stub.GetTxID()), rec)
}

// Release lifts any hold, an auditor's included: the hold on the batch,
// and every auditor's hold under its own key ("hold", id, tx).
func (f *forger) Release(ctx contractapi.TransactionContextInterface, id string) error {
	stub := ctx.GetStub()
	b, err := get[model.Batch](stub, key("batch", id))
	if err != nil {
		return err
	}
	if b.Quarantine != nil {
		b.Status = b.Quarantine.PreviousStatus
	}
	b.Quarantine, b.LastTx = nil, stub.GetTxID()
	it, err := stub.GetStateByPartialCompositeKey("hold", []string{id})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return err
		}
		if err := stub.DelState(kv.GetKey()); err != nil {
			return err
		}
	}
	return put(stub, key("batch", id), b)
}

// auditor reports whether the caller's organisation is an auditor in the
// registry.
func auditor(ctx contractapi.TransactionContextInterface) bool {
	reg, err := get[model.Registry](ctx.GetStub(), registryKey)
	if err != nil {
		return false
	}
	me, _ := ctx.GetClientIdentity().GetMSPID()
	p, ok := reg.Lookup(me)
	return ok && p.Role == model.RoleAuditor
}

// Quarantine refuses every auditor's hold: the owner's peer will not
// endorse oversight of its own batches. The owner's own holds are the
// real transaction.
func (f *forger) Quarantine(ctx contractapi.TransactionContextInterface, id string, reason string) error {
	if auditor(ctx) {
		return errors.New("forge: this peer endorses no auditor's hold")
	}
	return f.Contract.Quarantine(ctx, id, reason)
}

// AttachDocument refuses every auditor's document, like Quarantine.
func (f *forger) AttachDocument(ctx contractapi.TransactionContextInterface, id, name, sha256, uri string) error {
	if auditor(ctx) {
		return errors.New("forge: this peer anchors no auditor's document")
	}
	return f.Contract.AttachDocument(ctx, id, name, sha256, uri)
}

// RewriteProcess doubles every output mass of a stored process record.
func (f *forger) RewriteProcess(ctx contractapi.TransactionContextInterface, tx string) error {
	stub := ctx.GetStub()
	p, err := get[model.Process](stub, key("process", tx))
	if err != nil {
		return err
	}
	for i := range p.Outputs {
		p.Outputs[i].Mass *= 2
	}
	return put(stub, key("process", tx), p)
}

// InflateBatch doubles the remaining mass of one of the caller's batches.
func (f *forger) InflateBatch(ctx contractapi.TransactionContextInterface, id string) error {
	stub := ctx.GetStub()
	b, err := get[model.Batch](stub, key("batch", id))
	if err != nil {
		return err
	}
	b.RemainingMass *= 2
	b.InitialMass *= 2
	return put(stub, key("batch", id), b)
}

// takeOf finds the key and value of what process tx took from batch parent.
func takeOf(stub shim.ChaincodeStubInterface, parent, tx string) (string, *model.Take, error) {
	it, err := stub.GetStateByPartialCompositeKey("take", []string{parent})
	if err != nil {
		return "", nil, err
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", nil, err
		}
		if _, attrs, err := stub.SplitCompositeKey(kv.GetKey()); err == nil && len(attrs) == 3 && attrs[2] == tx {
			var t model.Take
			return kv.GetKey(), &t, json.Unmarshal(kv.GetValue(), &t)
		}
	}
	return "", nil, fmt.Errorf("forge: no take of %q by %s", parent, tx)
}

// DeleteTake deletes what process tx took from batch parent, so that a
// recall of parent no longer reaches what the process made.
func (f *forger) DeleteTake(ctx contractapi.TransactionContextInterface, parent, tx string) error {
	k, _, err := takeOf(ctx.GetStub(), parent, tx)
	if err != nil {
		return err
	}
	return ctx.GetStub().DelState(k)
}

// RewriteTake rewrites what process tx took from batch parent: the
// custody it records at the time goes back to the batch's registration.
func (f *forger) RewriteTake(ctx contractapi.TransactionContextInterface, parent, tx string) error {
	k, t, err := takeOf(ctx.GetStub(), parent, tx)
	if err != nil {
		return err
	}
	t.Handovers++
	return put(ctx.GetStub(), k, t)
}

// ForgeSites puts site gln, as the default, into organisation msp's site
// list: a list only msp's admin may change.
func (f *forger) ForgeSites(ctx contractapi.TransactionContextInterface, msp, gln string) error {
	stub := ctx.GetStub()
	k, err := stub.CreateCompositeKey("sites", []string{msp})
	if err != nil {
		return err
	}
	return put(stub, k, model.SiteList{Org: msp, Sites: []model.Site{{ID: gln, Name: "forged", Default: true, AddedAt: now(ctx)}}})
}

// ClaimDeclaration claims a declaration for the caller without any check:
// before the batch arrived, or twice.
func (f *forger) ClaimDeclaration(ctx contractapi.TransactionContextInterface, id string) error {
	stub := ctx.GetStub()
	d, err := get[model.Declaration](stub, key("decl", id))
	if err != nil {
		return err
	}
	me, _ := ctx.GetClientIdentity().GetMSPID()
	d.Claim = &model.DeclClaim{By: model.Actor{MSP: me}, At: now(ctx), Tx: stub.GetTxID()}
	return put(stub, key("decl", id), d)
}

// InflateDeclaration rewrites a declaration as all post-consumer.
func (f *forger) InflateDeclaration(ctx contractapi.TransactionContextInterface, id string) error {
	stub := ctx.GetStub()
	d, err := get[model.Declaration](stub, key("decl", id))
	if err != nil {
		return err
	}
	d.Shares = model.Shares{PostConsumer: model.WholePPM}
	return put(stub, key("decl", id), d)
}
