// Package api is the mtrace chaincode as its clients call it: the name of
// every transaction, whether it writes, the Go types of its arguments and
// of its answer, and a Client that calls each one with those types.
//
// It is the one list of transactions. The contract (chaincode/contract)
// checks in its tests that it exposes exactly these, with these argument
// types; the CLI calls the chaincode only through Client, so a renamed
// transaction or a changed argument is a compile error or a failed test,
// never a string that no longer matches. Like package model, it has no
// Fabric imports.
package api

import (
	"reflect"

	"github.com/mtrace/mtrace/chaincode/model"
)

// The transactions, by name.
const (
	// Batches.
	RegisterBatch  = "RegisterBatch"
	ReadBatch      = "ReadBatch"
	ReadBatches    = "ReadBatches"
	BatchExists    = "BatchExists"
	ListBatches    = "ListBatches"
	GetHistory     = "GetHistory"
	Quarantine     = "Quarantine"
	Release        = "Release"
	AttachDocument = "AttachDocument"

	// Handovers.
	OfferTransfer  = "OfferTransfer"
	AcceptTransfer = "AcceptTransfer"
	// AcceptTransferAt is AcceptTransfer at a named site (contract 0.6.0).
	AcceptTransferAt = "AcceptTransferAt"
	RejectTransfer   = "RejectTransfer"
	CancelTransfer   = "CancelTransfer"

	// Transformations.
	Process    = "Process"
	GetProcess = "GetProcess"
	ListTakes  = "ListTakes"

	// Provenance.
	Trace            = "Trace"
	TraceDown        = "TraceDown"
	Evidence         = "Evidence"
	VerifyProvenance = "VerifyProvenance"

	// EPCIS capture.
	Capture    = "Capture"
	GetCapture = "GetCapture"

	// The registry and its governance.
	BootstrapRegistry = "BootstrapRegistry"
	GetRegistry       = "GetRegistry"
	ProposeChange     = "ProposeChange"
	ApproveChange     = "ApproveChange"
	WithdrawChange    = "WithdrawChange"
	RejectChange      = "RejectChange"

	// Sites, bought-in batches and declarations.
	SetSite          = "SetSite"
	GetSites         = "GetSites"
	RegisterPurchase = "RegisterPurchase"
	IssueDeclaration = "IssueDeclaration"
	ClaimDeclaration = "ClaimDeclaration"
	ReadDeclaration  = "ReadDeclaration"

	// Upgrades.
	PendingMigration = "PendingMigration"
	MigrateBatches   = "MigrateBatches"
)

// Tx describes one transaction.
type Tx struct {
	Name string
	// Write is true for a transaction that changes the ledger: clients
	// submit it, and only roles that may write may call it. Reads are
	// evaluated on one peer and open to every role.
	Write bool
	// Params are the transaction's arguments, in order.
	Params []Param
	// Result is the Go type the contract's method returns besides its
	// error; nil when it returns only an error.
	Result reflect.Type
	// Answer is the type the answer decodes to. It differs from Result
	// when the contract returns JSON it encoded itself as a string
	// (large answers, which contract-api would otherwise check against
	// a schema, slowly).
	Answer reflect.Type
}

// Param is one argument of a transaction.
type Param struct {
	Name string
	Type reflect.Type
}

func p[T any](name string) Param { return Param{Name: name, Type: reflect.TypeFor[T]()} }

func t[T any]() reflect.Type { return reflect.TypeFor[T]() }

// encodedString is the Result of transactions that answer JSON as a string.
var encodedString = t[string]()

// Transactions lists every transaction of the chaincode.
var Transactions = []Tx{
	{Name: RegisterBatch, Write: true, Params: []Param{p[model.RegisterRequest]("req")}},
	{Name: ReadBatch, Params: []Param{p[string]("id")}, Result: t[*model.Batch](), Answer: t[model.Batch]()},
	{Name: ReadBatches, Params: []Param{p[[]string]("ids")}, Result: encodedString, Answer: t[[]*model.Batch]()},
	{Name: BatchExists, Params: []Param{p[string]("id")}, Result: t[bool](), Answer: t[bool]()},
	{Name: ListBatches, Params: []Param{p[model.ListQuery]("q")}, Result: t[*model.BatchPage](), Answer: t[model.BatchPage]()},
	{Name: GetHistory, Params: []Param{p[string]("id")}, Result: t[[]model.HistoryEntry](), Answer: t[[]model.HistoryEntry]()},
	{Name: Quarantine, Write: true, Params: []Param{p[string]("id"), p[string]("reason")}},
	{Name: Release, Write: true, Params: []Param{p[string]("id")}},
	{Name: AttachDocument, Write: true, Params: []Param{p[string]("id"), p[string]("name"), p[string]("sha256"), p[string]("uri")}},

	{Name: OfferTransfer, Write: true, Params: []Param{p[string]("id"), p[string]("to")}},
	{Name: AcceptTransfer, Write: true, Params: []Param{p[string]("id"), p[int64]("receivedMass")}},
	{Name: AcceptTransferAt, Write: true, Params: []Param{p[string]("id"), p[int64]("receivedMass"), p[string]("site")}},
	{Name: RejectTransfer, Write: true, Params: []Param{p[string]("id"), p[string]("reason")}},
	{Name: CancelTransfer, Write: true, Params: []Param{p[string]("id")}},

	{Name: Process, Write: true, Params: []Param{p[model.ProcessRequest]("req")}, Result: encodedString, Answer: t[model.Process]()},
	{Name: GetProcess, Params: []Param{p[string]("tx")}, Result: encodedString, Answer: t[model.Process]()},
	{Name: ListTakes, Params: []Param{p[string]("id"), p[string]("bookmark"), p[int]("limit")}, Result: t[*model.TakePage](), Answer: t[model.TakePage]()},

	{Name: Trace, Params: []Param{p[string]("id"), p[string]("direction")}, Result: encodedString, Answer: t[model.Trace]()},
	{Name: TraceDown, Params: []Param{p[model.DownQuery]("q")}, Result: encodedString, Answer: t[model.TracePage]()},
	{Name: Evidence, Params: []Param{p[string]("id")}, Result: encodedString, Answer: t[model.Evidence]()},
	{Name: VerifyProvenance, Params: []Param{p[string]("id"), p[string]("documentSHA256")}, Result: encodedString, Answer: t[model.Verdict]()},

	{Name: Capture, Write: true, Params: []Param{p[model.CaptureRequest]("req")}},
	{Name: GetCapture, Params: []Param{p[string]("eventID")}, Result: encodedString, Answer: t[model.Captured]()},

	{Name: BootstrapRegistry, Write: true, Params: []Param{p[[]model.Participant]("participants")}, Result: t[*model.Registry](), Answer: t[model.Registry]()},
	{Name: GetRegistry, Result: t[*model.Registry](), Answer: t[model.Registry]()},
	{Name: ProposeChange, Write: true, Params: []Param{p[model.ChangeRequest]("req")}, Result: t[*model.Proposal](), Answer: t[model.Proposal]()},
	{Name: ApproveChange, Write: true, Params: []Param{p[string]("id")}, Result: t[*model.Vote](), Answer: t[model.Vote]()},
	{Name: WithdrawChange, Write: true, Params: []Param{p[string]("id")}},
	{Name: RejectChange, Write: true, Params: []Param{p[string]("id")}, Result: t[*model.Vote](), Answer: t[model.Vote]()},

	{Name: SetSite, Write: true, Params: []Param{p[model.SiteRequest]("req")}, Result: t[*model.SiteList](), Answer: t[model.SiteList]()},
	{Name: GetSites, Params: []Param{p[string]("msp")}, Result: t[*model.SiteList](), Answer: t[model.SiteList]()},
	{Name: RegisterPurchase, Write: true, Params: []Param{p[model.PurchaseRequest]("req")}},
	{Name: IssueDeclaration, Write: true, Params: []Param{p[model.DeclarationRequest]("req")}, Result: t[*model.Declaration](), Answer: t[model.Declaration]()},
	{Name: ClaimDeclaration, Write: true, Params: []Param{p[string]("id")}, Result: t[*model.Declaration](), Answer: t[model.Declaration]()},
	{Name: ReadDeclaration, Params: []Param{p[string]("id")}, Result: t[*model.Declaration](), Answer: t[model.Declaration]()},

	{Name: PendingMigration, Params: []Param{p[string]("bookmark"), p[int]("limit")}, Result: t[*model.IDPage](), Answer: t[model.IDPage]()},
	{Name: MigrateBatches, Write: true, Params: []Param{p[[]string]("ids")}, Result: t[[]string](), Answer: t[[]string]()},
}

// Lookup returns the transaction called name.
func Lookup(name string) (Tx, bool) {
	for _, tx := range Transactions {
		if tx.Name == name {
			return tx, true
		}
	}
	return Tx{}, false
}

// Reads lists the transactions that change nothing.
func Reads() []string {
	var out []string
	for _, tx := range Transactions {
		if !tx.Write {
			out = append(out, tx.Name)
		}
	}
	return out
}
