package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Invoker runs a transaction by name with its arguments encoded as
// strings, as the Fabric Gateway sends them. client/internal/ledger's
// Ledger is one; tests use a fake.
type Invoker interface {
	// Submit endorses fn(args...), orders it and waits for its commit.
	Submit(ctx context.Context, fn string, args ...string) ([]byte, error)
	// Evaluate runs fn(args...) on one peer without writing.
	Evaluate(ctx context.Context, fn string, args ...string) ([]byte, error)
}

// Client calls the chaincode's transactions with their Go types: it
// encodes the arguments as contract-api expects them, submits writes,
// evaluates reads, and decodes the answers.
type Client struct {
	inv Invoker
}

// New returns a Client that calls through inv.
func New(inv Invoker) *Client { return &Client{inv: inv} }

// Arg encodes one argument as contract-api reads it: a string as it is, a
// number in decimal, anything else as JSON.
func Arg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		// Only the types of Transactions reach here, and all of them
		// encode; a failure is a programming error.
		panic(fmt.Sprintf("api: encode argument %T: %v", v, err))
	}
	return string(raw)
}

// Decode reads the answer of fn into a T.
func Decode[T any](fn string, data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("decode answer of %s: %w", fn, err)
	}
	return v, nil
}

func (c *Client) submit(ctx context.Context, fn string, args ...any) ([]byte, error) {
	return c.inv.Submit(ctx, fn, encode(args)...)
}

func (c *Client) evaluate(ctx context.Context, fn string, args ...any) ([]byte, error) {
	return c.inv.Evaluate(ctx, fn, encode(args)...)
}

func encode(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Arg(a)
	}
	return out
}

// write submits fn and ignores its (empty) answer.
func (c *Client) write(ctx context.Context, fn string, args ...any) error {
	_, err := c.submit(ctx, fn, args...)
	return err
}

func written[T any](c *Client, ctx context.Context, fn string, args ...any) (T, error) {
	raw, err := c.submit(ctx, fn, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return Decode[T](fn, raw)
}

func read[T any](c *Client, ctx context.Context, fn string, args ...any) (T, error) {
	raw, err := c.evaluate(ctx, fn, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return Decode[T](fn, raw)
}

// RegisterBatch records a collection.
func (c *Client) RegisterBatch(ctx context.Context, req model.RegisterRequest) error {
	return c.write(ctx, RegisterBatch, req)
}

// ReadBatch returns a batch as the peer holds it.
func (c *Client) ReadBatch(ctx context.Context, id string) (model.Batch, error) {
	return read[model.Batch](c, ctx, ReadBatch, id)
}

// ReadBatches returns several batches in one call.
func (c *Client) ReadBatches(ctx context.Context, ids []string) ([]*model.Batch, error) {
	return read[[]*model.Batch](c, ctx, ReadBatches, ids)
}

// BatchExists says whether a batch is on the ledger.
func (c *Client) BatchExists(ctx context.Context, id string) (bool, error) {
	return read[bool](c, ctx, BatchExists, id)
}

// ListBatches returns one page of batches that match q.
func (c *Client) ListBatches(ctx context.Context, q model.ListQuery) (model.BatchPage, error) {
	return read[model.BatchPage](c, ctx, ListBatches, q)
}

// GetHistory returns every version of a batch.
func (c *Client) GetHistory(ctx context.Context, id string) ([]model.HistoryEntry, error) {
	return read[[]model.HistoryEntry](c, ctx, GetHistory, id)
}

// Quarantine holds a batch.
func (c *Client) Quarantine(ctx context.Context, id, reason string) error {
	return c.write(ctx, Quarantine, id, reason)
}

// Release lifts a hold.
func (c *Client) Release(ctx context.Context, id string) error {
	return c.write(ctx, Release, id)
}

// AttachDocument anchors a document's SHA-256 on a batch.
func (c *Client) AttachDocument(ctx context.Context, id, name, sha256, uri string) error {
	return c.write(ctx, AttachDocument, id, name, sha256, uri)
}

// OfferTransfer offers a batch to another organisation.
func (c *Client) OfferTransfer(ctx context.Context, id, to string) error {
	return c.write(ctx, OfferTransfer, id, to)
}

// AcceptTransfer takes custody of an offered batch at the receiver's
// default site; receivedMass 0 means the mass offered.
func (c *Client) AcceptTransfer(ctx context.Context, id string, receivedMass int64) error {
	return c.write(ctx, AcceptTransfer, id, receivedMass)
}

// AcceptTransferAt takes custody of an offered batch at a named site.
func (c *Client) AcceptTransferAt(ctx context.Context, id string, receivedMass int64, site string) error {
	return c.write(ctx, AcceptTransferAt, id, receivedMass, site)
}

// RejectTransfer refuses an offered batch.
func (c *Client) RejectTransfer(ctx context.Context, id, reason string) error {
	return c.write(ctx, RejectTransfer, id, reason)
}

// CancelTransfer withdraws an offer.
func (c *Client) CancelTransfer(ctx context.Context, id string) error {
	return c.write(ctx, CancelTransfer, id)
}

// Process records a transformation and returns its record.
func (c *Client) Process(ctx context.Context, req model.ProcessRequest) (model.Process, error) {
	return written[model.Process](c, ctx, Process, req)
}

// GetProcess returns the record of the process of transaction tx.
func (c *Client) GetProcess(ctx context.Context, tx string) (model.Process, error) {
	return read[model.Process](c, ctx, GetProcess, tx)
}

// ListTakes returns one page of what processes took from a batch.
func (c *Client) ListTakes(ctx context.Context, id, bookmark string, limit int) (model.TakePage, error) {
	return read[model.TakePage](c, ctx, ListTakes, id, bookmark, limit)
}

// Trace returns a batch's provenance graph in direction (model.Upstream
// or model.Downstream).
func (c *Client) Trace(ctx context.Context, id, direction string) (model.Trace, error) {
	return read[model.Trace](c, ctx, Trace, id, direction)
}

// TraceDown returns one page of a downstream walk.
func (c *Client) TraceDown(ctx context.Context, q model.DownQuery) (model.TracePage, error) {
	return read[model.TracePage](c, ctx, TraceDown, q)
}

// Evidence returns everything verification reads about a batch's ancestry.
func (c *Client) Evidence(ctx context.Context, id string) (model.Evidence, error) {
	return read[model.Evidence](c, ctx, Evidence, id)
}

// VerifyProvenance returns the chaincode's own verdict on a batch.
func (c *Client) VerifyProvenance(ctx context.Context, id, documentSHA256 string) (model.Verdict, error) {
	return read[model.Verdict](c, ctx, VerifyProvenance, id, documentSHA256)
}

// Capture records one EPCIS event as the transaction it maps to.
func (c *Client) Capture(ctx context.Context, req model.CaptureRequest) error {
	return c.write(ctx, Capture, req)
}

// GetCapture returns the record of a captured event.
func (c *Client) GetCapture(ctx context.Context, eventID string) (model.Captured, error) {
	return read[model.Captured](c, ctx, GetCapture, eventID)
}

// BootstrapRegistry writes the first registry.
func (c *Client) BootstrapRegistry(ctx context.Context, participants []model.Participant) (model.Registry, error) {
	return written[model.Registry](c, ctx, BootstrapRegistry, participants)
}

// GetRegistry returns the participant registry.
func (c *Client) GetRegistry(ctx context.Context) (model.Registry, error) {
	return read[model.Registry](c, ctx, GetRegistry)
}

// ProposeChange opens a registry proposal.
func (c *Client) ProposeChange(ctx context.Context, req model.ChangeRequest) (model.Proposal, error) {
	return written[model.Proposal](c, ctx, ProposeChange, req)
}

// ApproveChange approves a proposal for the caller's organisation.
func (c *Client) ApproveChange(ctx context.Context, id string) (model.Vote, error) {
	return written[model.Vote](c, ctx, ApproveChange, id)
}

// WithdrawChange withdraws the caller's organisation's proposal.
func (c *Client) WithdrawChange(ctx context.Context, id string) error {
	return c.write(ctx, WithdrawChange, id)
}

// RejectChange rejects a proposal for the caller's organisation; a
// majority of rejections closes it.
func (c *Client) RejectChange(ctx context.Context, id string) (model.Vote, error) {
	return written[model.Vote](c, ctx, RejectChange, id)
}

// SetSite adds or renames a site of the caller's organisation.
func (c *Client) SetSite(ctx context.Context, req model.SiteRequest) (model.SiteList, error) {
	return written[model.SiteList](c, ctx, SetSite, req)
}

// GetSites returns an organisation's sites.
func (c *Client) GetSites(ctx context.Context, msp string) (model.SiteList, error) {
	return read[model.SiteList](c, ctx, GetSites, msp)
}

// RegisterPurchase records a batch a recycler bought in.
func (c *Client) RegisterPurchase(ctx context.Context, req model.PurchaseRequest) error {
	return c.write(ctx, RegisterPurchase, req)
}

// IssueDeclaration issues a declaration for a batch's offered transfer.
func (c *Client) IssueDeclaration(ctx context.Context, req model.DeclarationRequest) (model.Declaration, error) {
	return written[model.Declaration](c, ctx, IssueDeclaration, req)
}

// ClaimDeclaration claims a declaration for its recipient, once.
func (c *Client) ClaimDeclaration(ctx context.Context, id string) (model.Declaration, error) {
	return written[model.Declaration](c, ctx, ClaimDeclaration, id)
}

// ReadDeclaration returns a declaration.
func (c *Client) ReadDeclaration(ctx context.Context, id string) (model.Declaration, error) {
	return read[model.Declaration](c, ctx, ReadDeclaration, id)
}

// PendingMigration returns one page of batches stored in an older format.
func (c *Client) PendingMigration(ctx context.Context, bookmark string, limit int) (model.IDPage, error) {
	return read[model.IDPage](c, ctx, PendingMigration, bookmark, limit)
}

// MigrateBatches rewrites batches in the current format and returns those
// it changed.
func (c *Client) MigrateBatches(ctx context.Context, ids []string) ([]string, error) {
	return written[[]string](c, ctx, MigrateBatches, ids)
}
