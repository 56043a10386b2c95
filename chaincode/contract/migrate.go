package contract

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Migration from the stored format of contract 0.2.0, of auditors'
// holds from the batch to keys of their own (contract 0.5.0), to
// batches with a site and both recycled shares (contract 0.6.0, upgrade),
// and to batches with an owner-and-status index entry (contract 0.7.0).
//
// Contract 0.2.0 kept, on every batch, a "children" list with one entry per
// process that took from it, rewritten on every take. Contract 0.3.0 keeps
// each take under a key of its own, ("take", parent, time, tx), and only a
// total and a count on the batch. A 0.2.0 batch is refused by every other
// transaction until MigrateBatches has rewritten it.
//
// The migration is driven by a client, page by page: PendingMigration
// (evaluated) lists the batches still in the old format, and
// MigrateBatches (submitted by an organisation admin) migrates up to
// MaxMigrateBatch of them per transaction. A batch already in the current
// format is skipped without a write, so the migration can be interrupted
// and rerun at any point: a rerun finds only what is left.
//
// Before contract 0.5.0 an auditor's hold was stored on the batch
// (Quarantine with ByRole "auditor"), so the owner's endorsement was
// needed to place it. Such a hold keeps working where it is (its batch's
// policy still needs the auditor, and any auditor may release it), and
// the migration moves it to its own key, ("hold", batch, tx of the
// hold), guarded by the auditor's organisation and a witness; the batch
// returns to the status it had before the hold.
//
// Contract 0.7.0 (stored format 3) indexes every batch by owner and
// status together, ("idx~owner-status", msp, status, id), so that a list
// by both reads only what it answers. A batch of format 2 (contract
// 0.6.0) or older has no such entry; it is read and used by every
// transaction as it is, and gets its entry when it is next written. Its
// migration writes the batch in the current format and its
// owner-and-status entry; nothing else about it changes. Until it is
// migrated, a list by owner and status leaves it out (ListBatches).

// MaxMigrateBatch is how many batches one MigrateBatches transaction may
// name.
const MaxMigrateBatch = 100

// maxMigrationScan is how many batches one PendingMigration call reads
// before it answers, whatever it found.
const maxMigrationScan = 2000

// legacyBatch is a batch as contract 0.2.0 stored it.
type legacyBatch struct {
	model.Batch
	Children []model.Take `json:"children,omitempty"`
}

// PendingMigration returns one page of the ids of batches still stored in
// a format older than model.CurrentFormat, or holding an auditor's hold
// on the batch itself, in id order. A page holds at most limit ids
// (default 50, at most MaxMigrateBatch) and comes from at most 2000
// batches read; an empty bookmark means the scan is complete. Evaluate it:
// it uses paginated range reads.
func (c *Contract) PendingMigration(ctx contractapi.TransactionContextInterface, bookmark string, limit int) (*model.IDPage, error) {
	if limit < 0 || limit > MaxMigrateBatch {
		return nil, &model.RuleError{Field: "limit", Rule: fmt.Sprintf("must be from 1 to %d, got %d", MaxMigrateBatch, limit)}
	}
	if limit == 0 {
		limit = model.DefaultListLim
	}
	stub := ctx.GetStub()
	prefix, _ := stub.CreateCompositeKey(objBatch, nil) // cannot fail: fixed, valid object type
	after := ""
	if bookmark != "" {
		raw, err := base64.RawURLEncoding.DecodeString(bookmark)
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			return nil, &model.RuleError{Field: "bookmark", Rule: "is not a bookmark returned by PendingMigration"}
		}
		after = string(raw)
	}
	page := &model.IDPage{IDs: []string{}}
	start, scanned := after, 0
	for {
		keys, values, next, err := readIndexPage(stub, objBatch, nil, int32(min(limit, maxMigrationScan-scanned)), start, after)
		if err != nil {
			return nil, err
		}
		for i, raw := range values {
			var v struct {
				ID         string `json:"id"`
				Format     int    `json:"format"`
				Quarantine *struct {
					ByRole string `json:"byRole"`
				} `json:"quarantine"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("decode batch at key %q: %w", keys[i], err)
			}
			if v.Format != model.CurrentFormat || v.Quarantine != nil && v.Quarantine.ByRole == model.HeldByAuditor {
				page.IDs = append(page.IDs, v.ID)
			}
			after = keys[i]
		}
		scanned += len(keys)
		if next == "" {
			return page, nil
		}
		if len(page.IDs) >= limit || scanned >= maxMigrationScan {
			page.Bookmark = base64.RawURLEncoding.EncodeToString([]byte(after))
			return page, nil
		}
		start = after
	}
}

// MigrateBatches rewrites the named batches in the current stored format.
// From the format of contract 0.2.0, every entry of a batch's children
// list becomes a take under its own key (its time read from the process
// record) and the batch keeps the total taken and the count; a batch of
// contract 0.5.0 or older gets its shares and site (upgrade); an
// auditor's hold on the batch moves to its own key; every migrated batch
// gets its owner-and-status index entry (putBatch). Each batch's
// key-level endorsement policy is set again from its custodians
// (guardBatch), the way a new batch gets it; the record of the process
// that made a derived batch gets today's policy too (processor and a
// witness). Batches already in the current format are left untouched. Only
// an organisation admin (certificate OU "admin") of a registered member
// may migrate. It answers the ids it migrated, sorted.
func (c *Contract) MigrateBatches(ctx contractapi.TransactionContextInterface, ids []string) ([]string, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.requireAdmin("MigrateBatches"); err != nil {
		return nil, err
	}
	if _, _, err := t.member(); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > MaxMigrateBatch {
		return nil, &model.RuleError{Field: "ids", Rule: fmt.Sprintf("must list 1 to %d batches, got %d", MaxMigrateBatch, len(ids))}
	}
	for i, id := range ids {
		if err := model.CheckID(fmt.Sprintf("ids[%d]", i), id); err != nil {
			return nil, err
		}
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)

	found, err := getMany[legacyBatch](t.stub, "batch", batchKey, sorted)
	if err != nil {
		return nil, err
	}
	var todo []*legacyBatch
	var txs []string
	for i, b := range found {
		switch {
		case b == nil:
			return nil, fmt.Errorf("batch %q not found", sorted[i])
		case b.Format == model.CurrentFormat && !heldOnBatch(&b.Batch):
			continue // migrated before: nothing to write
		case b.Format > model.CurrentFormat:
			return nil, fmt.Errorf("batch %q has stored format %d, which this contract does not know", b.ID, b.Format)
		}
		todo = append(todo, b)
		for _, c := range b.Children {
			txs = append(txs, c.Tx)
		}
		if d := b.Origin.Process; d != nil {
			txs = append(txs, d.Tx)
		}
	}
	slices.Sort(txs)
	txs = slices.Compact(txs)
	recs, err := getProcesses(t.stub, txs)
	if err != nil {
		return nil, err
	}
	byTx := make(map[string]*model.Process, len(txs))
	for i, tx := range txs {
		byTx[tx] = recs[i]
	}

	// Every check has run; now write.
	migrated := []string{}
	guarded := map[string]bool{} // process records whose policy was set
	ev := t.event(model.EvBatchesMigrated, model.ObjectEvent, "", model.DispActive)
	ev.Action = "OBSERVE"
	for _, lb := range todo {
		old := lb.Batch
		b := clone(&old)
		children := lb.Children
		if lb.Format >= model.TakesFormat {
			children = nil // its takes are under their own keys already
		}
		for _, c := range children {
			rec := byTx[c.Tx]
			if rec == nil {
				return nil, fmt.Errorf("batch %q names process %s, which has no record: it cannot be migrated", b.ID, c.Tx)
			}
			take := model.Take{ID: c.ID, Mass: c.Mass, Tx: c.Tx, Handovers: c.Handovers, At: rec.At}
			if err := t.putTake(b.ID, take); err != nil {
				return nil, err
			}
			b.TakenMass += c.Mass
			b.Takes++
		}
		if heldOnBatch(b) {
			if err := t.moveHold(b); err != nil {
				return nil, err
			}
		}
		bev := ev
		bev.Disposition = disposition(b.Status)
		bev.Quantities = []model.Quantity{model.Qty(b.ID, b.RemainingMass)}
		if err := t.save(&old, b, bev); err != nil {
			return nil, err
		}
		// save keeps the policy when the custodians did not change; the
		// migration sets it anew, so that old batches get today's, and
		// so does the record of the process that made the batch.
		if err := t.guardBatch(b); err != nil {
			return nil, err
		}
		if d := b.Origin.Process; d != nil && byTx[d.Tx] != nil && !guarded[d.Tx] {
			guarded[d.Tx] = true
			key, err := processKey(d.Tx)
			if err != nil {
				return nil, err
			}
			if err := t.guardKey(key, "process record "+d.Tx, byTx[d.Tx].By.MSP); err != nil {
				return nil, err
			}
		}
		migrated = append(migrated, b.ID)
	}
	return migrated, t.emit(ev, migrated...)
}

// upgrade brings a batch written before contract 0.6.0 to the current
// format before it is written again, by MigrateBatches or by any other
// transaction: its shares are its post-consumer basis points in parts per
// million (an exact conversion; nothing before 0.6.0 was pre-consumer),
// and a batch with no site is placed at its owner's default site, when
// the owner lists one. A batch that has its shares is left as it is.
func (t *txn) upgrade(b *model.Batch) error {
	if b.Shares != nil {
		return nil
	}
	s := model.SharesOf(b)
	b.Shares = &s
	if b.Site != "" {
		return nil
	}
	l, ok := t.sites[b.Owner]
	if !ok {
		var err error
		if l, err = getSites(t.stub, b.Owner); err != nil {
			return err
		}
		if t.sites == nil {
			t.sites = map[string]*model.SiteList{}
		}
		t.sites[b.Owner] = l
	}
	if d, ok := l.DefaultSite(); ok {
		b.Site = d.ID
	}
	return nil
}

// heldOnBatch reports whether an auditor's hold is stored on the batch
// itself, as contracts before 0.5.0 stored it.
func heldOnBatch(b *model.Batch) bool {
	return b.Quarantine != nil && b.Quarantine.ByRole == model.HeldByAuditor
}

// moveHold moves an auditor's hold from the batch to its own key, named
// by the transaction that placed it, and returns the batch to the status
// it had before. The hold's event is rebuilt from the hold: a held batch
// cannot be used, so its remaining mass is what it was then.
func (t *txn) moveHold(b *model.Batch) error {
	q := b.Quarantine
	ev := model.Event{Name: model.EvBatchQuarantined, Type: model.ObjectEvent, EventTime: q.At, Action: "OBSERVE",
		BizStep: model.BizHolding, Disposition: model.DispNonConformant, Where: model.Where{Org: q.By.MSP},
		TxID: q.Tx, By: q.By, Reason: q.Reason, Quantities: []model.Quantity{model.Qty(b.ID, b.RemainingMass)}}
	h := model.Hold{Batch: b.ID, By: q.By, Reason: q.Reason, At: q.At, Tx: q.Tx, Event: ev}
	key, err := oversightKey(objHold, b.ID, q.Tx)
	if err != nil {
		return err
	}
	if err := t.putGuarded(key, fmt.Sprintf("hold of batch %q", b.ID), h, q.By.MSP); err != nil {
		return err
	}
	b.Status = q.PreviousStatus
	b.Quarantine = nil
	return nil
}
