package contract

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Sites, bought-in batches and batch declarations (contract 0.6.0).
//
// An organisation's sites are its own statement about its facilities:
// they grant no permission and change no other member's rights, so they
// are not a registry change that a majority must approve. They live under
// ("sites", msp), one key per organisation, written only by an admin
// identity of that organisation; the key's endorsement policy is the
// organisation and a witness, so no other member can rewrite it. A
// declaration lives under ("decl", id): issued by the batch's owner while
// its transfer is offered, claimed once by the receiver after the
// transfer is accepted, on the same key (a claim adds no key). Its
// policy needs both organisations and a witness.

const (
	objSites = "sites"
	objDecl  = "decl"
)

func sitesKey(msp string) (string, error) {
	k, err := shim.CreateCompositeKey(objSites, []string{msp})
	if err != nil {
		return "", fmt.Errorf("sites key %q: %w", msp, err)
	}
	return k, nil
}

func declKey(id string) (string, error) {
	k, err := shim.CreateCompositeKey(objDecl, []string{id})
	if err != nil {
		return "", fmt.Errorf("declaration key %q: %w", id, err)
	}
	return k, nil
}

// getSites reads an organisation's site list; an organisation that listed
// none has an empty one.
func getSites(stub shim.ChaincodeStubInterface, msp string) (*model.SiteList, error) {
	key, err := sitesKey(msp)
	if err != nil {
		return nil, err
	}
	raw, err := stub.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read sites of %s: %w", msp, err)
	}
	l := &model.SiteList{Org: msp, Sites: []model.Site{}}
	if raw == nil {
		return l, nil
	}
	if err := json.Unmarshal(raw, l); err != nil {
		return nil, fmt.Errorf("decode sites of %s: %w", msp, err)
	}
	return l, nil
}

// site resolves the caller's site for a receipt or process: the named
// one, which must be the caller's, or its default.
func (t *txn) site(field, site string) (string, error) {
	l, err := getSites(t.stub, t.actor.MSP)
	if err != nil {
		return "", err
	}
	return l.Resolve(field, site)
}

// SetSite adds a site to the caller's organisation, or renames one;
// req.Default makes it the organisation's default site. Only an admin
// identity of a member organisation may, and only for its own
// organisation.
func (c *Contract) SetSite(ctx contractapi.TransactionContextInterface, req model.SiteRequest) (*model.SiteList, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.member(); err != nil {
		return nil, err
	}
	if err := t.requireAdmin("SetSite"); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	l, err := getSites(t.stub, t.actor.MSP)
	if err != nil {
		return nil, err
	}
	if err := l.Set(req, t.at, t.id); err != nil {
		return nil, err
	}
	l.UpdatedAt, l.UpdatedBy, l.LastTx = t.at, t.actor, t.id
	key, err := sitesKey(t.actor.MSP)
	if err != nil {
		return nil, err
	}
	if err := t.putGuarded(key, "sites of "+t.actor.MSP, l, t.actor.MSP); err != nil {
		return nil, err
	}
	ev := t.event(model.EvSiteSet, model.ObjectEvent, "commissioning", model.DispActive)
	ev.Action = "OBSERVE"
	ev.Where.Site = req.ID
	ev.Reason = req.Name
	return l, t.emit(ev)
}

// GetSites returns an organisation's site list (empty when it lists none).
func (c *Contract) GetSites(ctx contractapi.TransactionContextInterface, msp string) (*model.SiteList, error) {
	if err := model.CheckMSP("msp", msp); err != nil {
		return nil, err
	}
	return getSites(ctx.GetStub(), msp)
}

// RegisterPurchase records a batch a recycler bought in from outside the
// consortium: the supplier, its origin class, the receiving site and the
// weighbridge ticket, whose SHA-256 is anchored among the batch's
// documents. It is the recycler's own signed claim, and verify shows it
// as such. Only a recycler may register a purchase.
func (c *Contract) RegisterPurchase(ctx contractapi.TransactionContextInterface, req model.PurchaseRequest) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	if _, _, err := t.requireRole("register bought-in batches", model.RoleRecycler); err != nil {
		return err
	}
	if err := req.Validate(t.now); err != nil {
		return err
	}
	site, err := t.site("site", req.Site)
	if err != nil {
		return err
	}
	if err := t.requireNew(req.ID); err != nil {
		return err
	}
	received, _ := time.Parse(time.RFC3339, req.ReceivedAt) // validated above
	ev := t.event(model.EvBatchPurchased, model.ObjectEvent, model.BizReceiving, model.DispActive)
	ev.Action = "ADD"
	ev.Where.Site = site
	ev.Source = req.Supplier
	ev.Quantities = []model.Quantity{model.Qty(req.ID, req.Mass)}
	shares := model.ClassShares(req.OriginClass)
	b := &model.Batch{
		ID:            req.ID,
		Material:      req.Material,
		WasteCode:     req.WasteCode,
		Form:          model.FormWaste,
		InitialMass:   req.Mass,
		RemainingMass: req.Mass,
		Owner:         t.actor.MSP,
		Submitter:     t.actor,
		Status:        model.StatusActive,
		Origin: model.Origin{Purchase: &model.Purchase{
			Supplier:     req.Supplier,
			SupplierID:   req.SupplierID,
			OriginClass:  req.OriginClass,
			Site:         site,
			ReceivedAt:   model.FormatTime(received),
			Purchaser:    t.actor.MSP,
			Ticket:       req.Ticket,
			TicketSHA256: req.TicketSHA256,
			ZoneOffset:   received.Format("-07:00"),
		}},
		RecycledContent: shares.Bp(),
		Shares:          &shares,
		Site:            site,
		Documents: []model.Document{{Name: "weighbridge ticket " + req.Ticket, SHA256: req.TicketSHA256,
			AnchoredBy: t.actor, AnchoredAt: t.at, Tx: t.id}},
		CreatedAt: t.at,
		CreatedTx: t.id,
	}
	if err := t.save(nil, b, ev); err != nil {
		return err
	}
	return t.emit(ev, b.ID)
}

// IssueDeclaration issues a batch declaration while the batch's transfer
// is offered: the owner declares to the receiver the material, the mass
// offered, both recycled shares, the chain-of-custody model and a
// certificate reference. One declaration per transfer; its id may be used
// once. The batch's pending transfer names it.
func (c *Contract) IssueDeclaration(ctx contractapi.TransactionContextInterface, req model.DeclarationRequest) (*model.Declaration, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.requireRole("issue declarations", model.RoleCollector, model.RoleRecycler, model.RoleMaker); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	old, b, err := t.load(req.Batch)
	if err != nil {
		return nil, err
	}
	if err := t.requireOwner(b); err != nil {
		return nil, err
	}
	if b.Status != model.StatusInTransit || b.Pending == nil {
		return nil, fmt.Errorf("batch %q has no pending transfer (status %s): a declaration is issued when a batch leaves, after the offer", b.ID, b.Status)
	}
	if b.Pending.Declaration != "" {
		return nil, fmt.Errorf("the transfer of batch %q already has declaration %q", b.ID, b.Pending.Declaration)
	}
	key, err := declKey(req.ID)
	if err != nil {
		return nil, err
	}
	if raw, err := t.stub.GetState(key); err != nil {
		return nil, fmt.Errorf("read declaration %q: %w", req.ID, err)
	} else if raw != nil {
		return nil, fmt.Errorf("declaration %q already exists", req.ID)
	}
	d := &model.Declaration{
		ID: req.ID, Batch: b.ID, Supplier: b.Owner, Recipient: b.Pending.To, Site: b.Site,
		Material: b.Material, Mass: b.Pending.Mass, Shares: model.SharesOf(b), Model: req.Model,
		Certificate: req.Certificate, OfferTx: b.Pending.OfferTx,
		IssuedBy: t.actor, IssuedAt: t.at, IssueTx: t.id,
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("declaration of batch %q: %w", b.ID, err)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode declaration %q: %w", d.ID, err)
	}
	if err := t.stub.PutState(key, raw); err != nil {
		return nil, fmt.Errorf("write declaration %q: %w", d.ID, err)
	}
	if err := t.guardKey(key, fmt.Sprintf("declaration %q", d.ID), d.Supplier, d.Recipient); err != nil {
		return nil, err
	}
	p := *b.Pending
	p.Declaration = d.ID
	b.Pending = &p
	ev := t.event(model.EvDeclarationIssued, model.ObjectEvent, model.BizShipping, model.DispInTransit)
	ev.Action = "OBSERVE"
	ev.Where.Site = b.Site
	ev.Source, ev.Destination = d.Supplier, d.Recipient
	ev.Declaration = d.ID
	ev.Quantities = []model.Quantity{model.Qty(b.ID, d.Mass)}
	if err := t.save(old, b, ev); err != nil {
		return nil, err
	}
	return d, t.emit(ev, b.ID)
}

// ClaimDeclaration uses a declaration, once, for its recipient: only the
// organisation it was issued to may claim it, after accepting the
// transfer it came with. A second claim is refused.
func (c *Contract) ClaimDeclaration(ctx contractapi.TransactionContextInterface, id string) (*model.Declaration, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.member(); err != nil {
		return nil, err
	}
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	d, err := getDeclaration(t.stub, id)
	if err != nil {
		return nil, err
	}
	if t.actor.MSP != d.Recipient {
		return nil, fmt.Errorf("declaration %q was issued to %s; %s may not claim it", d.ID, d.Recipient, t.actor.MSP)
	}
	if d.Claim != nil {
		return nil, fmt.Errorf("declaration %q was claimed already by %s at %s (tx %s)", d.ID, d.Claim.By.MSP, d.Claim.At, d.Claim.Tx)
	}
	b, err := getBatch(t.stub, d.Batch)
	if err != nil {
		return nil, err
	}
	var received *model.Handover
	for i := range b.Handovers {
		if h := &b.Handovers[i]; h.OfferTx == d.OfferTx && h.To == d.Recipient {
			received = h
		}
	}
	if received == nil {
		return nil, fmt.Errorf("declaration %q: %s has not accepted the transfer of batch %q it came with", d.ID, d.Recipient, d.Batch)
	}
	d.Claim = &model.DeclClaim{By: t.actor, At: t.at, Tx: t.id, Site: received.Site}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode declaration %q: %w", d.ID, err)
	}
	key, err := declKey(d.ID)
	if err != nil {
		return nil, err
	}
	if err := t.stub.PutState(key, raw); err != nil {
		return nil, fmt.Errorf("write declaration %q: %w", d.ID, err)
	}
	ev := t.event(model.EvDeclarationClaimed, model.ObjectEvent, model.BizReceiving, model.DispActive)
	ev.Action = "OBSERVE"
	ev.Where.Site = received.Site
	ev.Source, ev.Destination = d.Supplier, d.Recipient
	ev.Declaration = d.ID
	ev.Quantities = []model.Quantity{model.Qty(d.Batch, received.Received)}
	return d, t.emit(ev)
}

// ReadDeclaration returns a declaration.
func (c *Contract) ReadDeclaration(ctx contractapi.TransactionContextInterface, id string) (*model.Declaration, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, err
	}
	return getDeclaration(ctx.GetStub(), id)
}

func getDeclaration(stub shim.ChaincodeStubInterface, id string) (*model.Declaration, error) {
	key, err := declKey(id)
	if err != nil {
		return nil, err
	}
	raw, err := stub.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read declaration %q: %w", id, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("declaration %q not found", id)
	}
	var d model.Declaration
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decode declaration %q: %w", id, err)
	}
	return &d, nil
}
