package model

import (
	"fmt"
	"slices"
	"strings"
)

// CustodyModel is a chain-of-custody model of ISO 22095.
type CustodyModel string

// Chain-of-custody models.
const (
	IdentityPreserved  CustodyModel = "identity-preserved"
	Segregated         CustodyModel = "segregated"
	ControlledBlending CustodyModel = "controlled-blending"
	MassBalance        CustodyModel = "mass-balance"
)

// CustodyModels lists every chain-of-custody model.
var CustodyModels = []CustodyModel{IdentityPreserved, Segregated, ControlledBlending, MassBalance}

// ParseCustodyModel reads a chain-of-custody model as a person types it.
func ParseCustodyModel(s string) (CustodyModel, error) {
	return parseEnum("model", strings.ToLower(strings.TrimSpace(s)), CustodyModels)
}

// DeclarationRequest issues a declaration for a batch while its transfer
// is offered: the batch's owner declares to the receiver what it ships.
type DeclarationRequest struct {
	ID    string       `json:"id"`
	Batch string       `json:"batch"`
	Model CustodyModel `json:"model"`
	// Certificate is the supplier's certificate reference (an ISCC PLUS
	// or RecyClass certificate number); it may be empty.
	Certificate string `json:"certificate,omitempty" metadata:",optional"`
}

// Validate checks the request on its own.
func (r DeclarationRequest) Validate() error {
	if err := CheckID("id", r.ID); err != nil {
		return err
	}
	if err := CheckID("batch", r.Batch); err != nil {
		return err
	}
	if !slices.Contains(CustodyModels, r.Model) {
		return &RuleError{Field: "model", Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(CustodyModels), clip(string(r.Model)))}
	}
	return CheckText("certificate", r.Certificate, false)
}

// Declaration is a batch declaration: what a supplier declares to its
// customer about a batch it ships, stored under a key of its own
// ("decl", id). Its recipient claims it once; the claim is written on the
// same key, so that using a declaration never adds a key.
type Declaration struct {
	ID        string `json:"id"`
	Batch     string `json:"batch"`
	Supplier  string `json:"supplier"`  // MSP ID of the issuing owner
	Recipient string `json:"recipient"` // MSP ID the transfer was offered to
	// Site is the supplier's site the batch leaves, when known.
	Site        string       `json:"site,omitempty" metadata:",optional"`
	Material    Material     `json:"material"`
	Mass        Grams        `json:"mass"` // the mass offered
	Shares      Shares       `json:"shares"`
	Model       CustodyModel `json:"model"`
	Certificate string       `json:"certificate,omitempty" metadata:",optional"`
	OfferTx     string       `json:"offerTx"`
	IssuedBy    Actor        `json:"issuedBy"`
	IssuedAt    string       `json:"issuedAt"` // the issuing transaction's time
	IssueTx     string       `json:"issueTx"`
	Claim       *DeclClaim   `json:"claim,omitempty" metadata:",optional"`
}

// DeclClaim is the recipient's one use of a declaration.
type DeclClaim struct {
	By Actor  `json:"by"`
	At string `json:"at"`
	Tx string `json:"tx"`
	// Site is the recipient's site that received the batch, when known.
	Site string `json:"site,omitempty" metadata:",optional"`
}

// Validate checks a stored declaration's fields.
func (d *Declaration) Validate() error {
	if err := (DeclarationRequest{ID: d.ID, Batch: d.Batch, Model: d.Model, Certificate: d.Certificate}).Validate(); err != nil {
		return err
	}
	if err := CheckMSP("supplier", d.Supplier); err != nil {
		return err
	}
	if err := CheckMSP("recipient", d.Recipient); err != nil {
		return err
	}
	if d.Supplier == d.Recipient {
		return &RuleError{Field: "recipient", Rule: "must differ from the supplier"}
	}
	if err := CheckMass("mass", d.Mass); err != nil {
		return err
	}
	return d.Shares.Validate("shares")
}

// URI is the declaration's identifier in EPCIS certificationInfo.
func (d *Declaration) URI() string { return "urn:mtrace:declaration:" + d.ID }

// DeclRef is a declaration that a handover of a graph names, with what
// the declaration must agree with: the handover's parties, offer and
// mass, and the batch's shares (fixed when the batch was made).
type DeclRef struct {
	ID      string `json:"id"`
	Batch   string `json:"batch"`
	From    string `json:"from"`
	To      string `json:"to"`
	OfferTx string `json:"offerTx"`
	Offered Grams  `json:"offered"`
	Shares  Shares `json:"shares"`
}

// DeclarationRefs lists the declarations the handovers of a graph name,
// in batch id order and, within a batch, handover order.
func DeclarationRefs(batches map[string]*Batch) []DeclRef {
	var out []DeclRef
	for _, id := range sortedIDs(batches) {
		b := batches[id]
		for _, h := range b.Handovers {
			if h.Declaration != "" {
				out = append(out, DeclRef{ID: h.Declaration, Batch: id, From: h.From, To: h.To, OfferTx: h.OfferTx, Offered: h.Offered, Shares: SharesOf(b)})
			}
		}
	}
	return out
}

// CheckDeclarations is the declarations check: every declaration a
// handover of the graph names exists and says what the handover and the
// batch say (supplier, recipient, offer, mass, shares), and, if claimed,
// was claimed by its recipient. decls maps declaration ids to what the
// ledger holds (nil or absent when missing).
func CheckDeclarations(refs []DeclRef, decls map[string]*Declaration) Check {
	var problems []string
	claimed := 0
	for _, r := range refs {
		d := decls[r.ID]
		switch {
		case d == nil:
			problems = append(problems, fmt.Sprintf("declaration %q named by the handover of batch %q to %s is missing", r.ID, r.Batch, r.To))
			continue
		case d.Batch != r.Batch || d.OfferTx != r.OfferTx:
			problems = append(problems, fmt.Sprintf("declaration %q is for batch %q offer %s, not the handover of batch %q that names it", r.ID, d.Batch, ShortTx(d.OfferTx), r.Batch))
		case d.Supplier != r.From || d.Recipient != r.To:
			problems = append(problems, fmt.Sprintf("declaration %q names %s to %s, but the handover is %s to %s", r.ID, d.Supplier, d.Recipient, r.From, r.To))
		case d.Mass != r.Offered:
			problems = append(problems, fmt.Sprintf("declaration %q declares %s, but %s was offered", r.ID, d.Mass, r.Offered))
		case d.Shares != r.Shares:
			problems = append(problems, fmt.Sprintf("declaration %q declares %s, but batch %q is %s", r.ID, d.Shares, r.Batch, r.Shares))
		case d.Claim != nil && d.Claim.By.MSP != d.Recipient:
			problems = append(problems, fmt.Sprintf("declaration %q was claimed by %s, not its recipient %s", r.ID, d.Claim.By.MSP, d.Recipient))
		}
		if d.Claim != nil {
			claimed++
		}
	}
	return result(CheckDeclared, problems, fmt.Sprintf("%d declarations on the path agree with their handovers; %d claimed by their recipients", len(refs), claimed))
}
