package model

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Sites, origin classes and recycled shares (contract 0.6.0).
//
// A site is a facility of one organisation, named by a GS1 GLN-shaped ID
// (13 digits whose last is the GS1 check digit). Each organisation keeps
// its own list of sites (SiteList) under a key of its own; one of them is
// its default site. Every receipt (a registration, an accepted transfer)
// and every process records the site where it happened.
//
// A batch carries two recycled shares in parts per million of its mass:
// post-consumer and pre-consumer. A registration has 100% of its origin
// class; a process output has the mass-weighted shares of its inputs,
// diluted by virgin mass, each rounded down, so that rounding never
// creates recycled material.

// OriginClass says what kind of waste a registered batch is.
type OriginClass string

// Origin classes.
const (
	// PostConsumer is material discarded by end users: household and
	// municipal collections.
	PostConsumer OriginClass = "post-consumer"
	// PreConsumer is scrap of a manufacturing process that never reached
	// a user (post-industrial).
	PreConsumer OriginClass = "pre-consumer"
)

// OriginClasses lists every origin class.
var OriginClasses = []OriginClass{PostConsumer, PreConsumer}

// ParseOriginClass reads an origin class as a person types it.
func ParseOriginClass(s string) (OriginClass, error) {
	return parseEnum("originClass", strings.ToLower(strings.TrimSpace(s)), OriginClasses)
}

// checkOriginClass checks a stored or requested origin class exactly.
func checkOriginClass(field string, c OriginClass) error {
	if !slices.Contains(OriginClasses, c) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(OriginClasses), clip(string(c)))}
	}
	return nil
}

// WholePPM is 100% in parts per million.
const WholePPM int64 = 1_000_000

// Shares are the recycled shares of a batch, in parts per million of its
// mass. Their sum is at most WholePPM; the rest is virgin material.
type Shares struct {
	PostConsumer int64 `json:"postConsumerPpm"`
	PreConsumer  int64 `json:"preConsumerPpm"`
}

// ClassShares are the shares of a registered batch of origin class c:
// all of it in that class.
func ClassShares(c OriginClass) Shares {
	if c == PreConsumer {
		return Shares{PreConsumer: WholePPM}
	}
	return Shares{PostConsumer: WholePPM}
}

// Validate checks that each share is from 0 to 100% and that together
// they are at most 100%.
func (s Shares) Validate(field string) error {
	if s.PostConsumer < 0 || s.PostConsumer > WholePPM || s.PreConsumer < 0 || s.PreConsumer > WholePPM || s.PostConsumer+s.PreConsumer > WholePPM {
		return &RuleError{Field: field, Rule: fmt.Sprintf("shares must each be from 0 to %d ppm and total at most %d ppm, got post-consumer %d and pre-consumer %d",
			WholePPM, WholePPM, s.PostConsumer, s.PreConsumer)}
	}
	return nil
}

// Bp is the post-consumer share in basis points, rounded down: the
// figure batches carried before contract 0.6.0 (recycledContentBp).
func (s Shares) Bp() int64 { return s.PostConsumer / 100 }

// String prints both shares, such as "post-consumer 62.5%, pre-consumer 20%".
func (s Shares) String() string {
	return fmt.Sprintf("post-consumer %s, pre-consumer %s", PPM(s.PostConsumer), PPM(s.PreConsumer))
}

// PPM prints parts per million as a percentage: 1000000 is "100%", 625000
// is "62.5%", 1 is "0.0001%".
func PPM(ppm int64) string {
	if ppm < 0 {
		return "-" + decimal(-ppm, 4) + "%"
	}
	return decimal(ppm, 4) + "%"
}

// SharesOf returns the shares of b. A batch written before contract 0.6.0
// and not yet migrated has none stored: its recycled content was its
// post-consumer share in basis points, which converts exactly.
func SharesOf(b *Batch) Shares {
	if b.Shares != nil {
		return *b.Shares
	}
	return Shares{PostConsumer: b.RecycledContent * 100}
}

// Portion is one input of a blend: the mass taken and its shares.
type Portion struct {
	Mass   Grams
	Shares Shares
}

// Blend is the shares of a blend of inputs and virgin mass: each class's
// mass-weighted share, rounded down. Rounding down each class on its own
// never credits the blend with more recycled material of a class than its
// inputs brought. Masses are at most MaxMass and shares at most WholePPM,
// so with at most MaxProcessIOs inputs no product overflows an int64.
func Blend(inputs []Portion, virgin Grams) Shares {
	var post, pre, total int64
	for _, in := range inputs {
		post += int64(in.Mass) * in.Shares.PostConsumer
		pre += int64(in.Mass) * in.Shares.PreConsumer
		total += int64(in.Mass)
	}
	total += int64(virgin)
	if total <= 0 {
		return Shares{}
	}
	return Shares{PostConsumer: post / total, PreConsumer: pre / total}
}

// ClassMass is the mass of each class in g grams of material with shares
// s, rounded down.
func (s Shares) ClassMass(g Grams) (post, pre Grams) {
	return Grams(int64(g) * s.PostConsumer / WholePPM), Grams(int64(g) * s.PreConsumer / WholePPM)
}

// MaxSites caps an organisation's site list, which every receipt reads.
const MaxSites = 100

var glnPattern = regexp.MustCompile(`^[0-9]{13}$`)

// CheckGLN reports whether s is shaped like a GS1 Global Location
// Number: 13 digits, the last of them the GS1 check digit of the others.
func CheckGLN(field, s string) error {
	if !glnPattern.MatchString(s) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be a GLN of 13 digits, got %q", clip(s))}
	}
	if want := GS1CheckDigit(s[:12]); s[12] != want {
		return &RuleError{Field: field, Rule: fmt.Sprintf("GLN %s has check digit %c, want %c", s, s[12], want)}
	}
	return nil
}

// GS1CheckDigit computes the GS1 check digit of a string of digits:
// weights 3 and 1 alternate from the rightmost digit, and the check digit
// brings the weighted sum to a multiple of ten.
func GS1CheckDigit(digits string) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// Site is one facility of an organisation.
type Site struct {
	ID   string `json:"id"` // GLN-shaped
	Name string `json:"name"`
	// Default marks the organisation's default site: receipts and
	// processes that name no site happen there, and the migration to
	// contract 0.6.0 places the organisation's batches there.
	Default bool   `json:"default,omitempty" metadata:",optional"`
	AddedAt string `json:"addedAt"`
	AddedTx string `json:"addedTx"`
}

// SiteRequest adds a site to the caller's organisation or renames one;
// Default makes it the default site.
type SiteRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default,omitempty" metadata:",optional"`
}

// Validate checks the request on its own.
func (r SiteRequest) Validate() error {
	if err := CheckGLN("id", r.ID); err != nil {
		return err
	}
	return CheckText("name", r.Name, true)
}

// SiteList is one organisation's sites, stored under a key of its own
// that only the organisation (with a witness) may change.
type SiteList struct {
	Org       string `json:"org"`
	Sites     []Site `json:"sites"`
	UpdatedAt string `json:"updatedAt"`
	UpdatedBy Actor  `json:"updatedBy"`
	LastTx    string `json:"lastTx"`
}

// Set adds the site of r, or renames it and sets its default flag when
// listed. The first site of an organisation is its default; making one
// the default takes the flag from the others. A site is never removed:
// records name it.
func (l *SiteList) Set(r SiteRequest, at, tx string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	i := slices.IndexFunc(l.Sites, func(s Site) bool { return s.ID == r.ID })
	if i < 0 {
		if len(l.Sites) >= MaxSites {
			return &RuleError{Field: "id", Rule: fmt.Sprintf("%s has %d sites already, the most one organisation may list", l.Org, MaxSites)}
		}
		l.Sites = append(l.Sites, Site{ID: r.ID, AddedAt: at, AddedTx: tx})
		i = len(l.Sites) - 1
	}
	l.Sites[i].Name = r.Name
	if _, ok := l.DefaultSite(); r.Default || !ok {
		for j := range l.Sites {
			l.Sites[j].Default = j == i
		}
	}
	slices.SortFunc(l.Sites, func(a, b Site) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// Lookup returns the site with this id.
func (l *SiteList) Lookup(id string) (Site, bool) {
	for _, s := range l.Sites {
		if s.ID == id {
			return s, true
		}
	}
	return Site{}, false
}

// DefaultSite returns the organisation's default site.
func (l *SiteList) DefaultSite() (Site, bool) {
	for _, s := range l.Sites {
		if s.Default {
			return s, true
		}
	}
	return Site{}, false
}

// Resolve returns the site where a receipt or process of the
// organisation happens when it names site (empty for the default). An
// organisation that lists no sites records none: the ledger then knows
// the organisation, not the facility. One that lists sites must use one
// of them.
func (l *SiteList) Resolve(field, site string) (string, error) {
	if site != "" {
		if err := CheckGLN(field, site); err != nil {
			return "", err
		}
	}
	if l == nil || len(l.Sites) == 0 {
		if site != "" {
			return "", &RuleError{Field: field, Rule: fmt.Sprintf("site %s is not a site of the caller's organisation, which lists none (add it first: mtrace site add)", site)}
		}
		return "", nil
	}
	if site == "" {
		d, ok := l.DefaultSite()
		if !ok {
			return "", &RuleError{Field: field, Rule: fmt.Sprintf("%s has no default site; name one", l.Org)}
		}
		return d.ID, nil
	}
	if _, ok := l.Lookup(site); !ok {
		return "", &RuleError{Field: field, Rule: fmt.Sprintf("site %s is not a site of %s", site, l.Org)}
	}
	return site, nil
}

// PurchaseRequest registers a batch a recycler bought in from outside the
// consortium: pre-consumer scrap from a factory, bales from a collector
// that is not a member. It is the recycler's own signed claim.
type PurchaseRequest struct {
	ID          string      `json:"id"`
	Material    Material    `json:"material"`
	WasteCode   string      `json:"wasteCode,omitempty" metadata:",optional"`
	Mass        Grams       `json:"mass"`
	Supplier    string      `json:"supplier"`
	SupplierID  string      `json:"supplierId,omitempty" metadata:",optional"`
	OriginClass OriginClass `json:"originClass"`
	// Site is the receiving site; empty for the default site.
	Site       string `json:"site,omitempty" metadata:",optional"`
	ReceivedAt string `json:"receivedAt"` // RFC 3339
	// Ticket is the weighbridge ticket's number or name, TicketSHA256 the
	// SHA-256 of its file, anchored on the batch.
	Ticket       string `json:"ticket"`
	TicketSHA256 string `json:"ticketSha256"`
}

// Validate checks every field; now is the transaction time.
func (r PurchaseRequest) Validate(now time.Time) error {
	if err := CheckID("id", r.ID); err != nil {
		return err
	}
	if err := checkMaterial("material", r.Material); err != nil {
		return err
	}
	if r.WasteCode != "" {
		if err := CheckWasteCode("wasteCode", r.WasteCode); err != nil {
			return err
		}
	}
	if err := CheckMass("mass", r.Mass); err != nil {
		return err
	}
	if err := CheckText("supplier", r.Supplier, true); err != nil {
		return err
	}
	if err := CheckText("supplierId", r.SupplierID, false); err != nil {
		return err
	}
	if err := checkOriginClass("originClass", r.OriginClass); err != nil {
		return err
	}
	if r.Site != "" {
		if err := CheckGLN("site", r.Site); err != nil {
			return err
		}
	}
	if _, err := CheckTime("receivedAt", r.ReceivedAt, now); err != nil {
		return err
	}
	if err := CheckText("ticket", r.Ticket, true); err != nil {
		return err
	}
	return CheckSHA256("ticketSha256", r.TicketSHA256)
}

// checkMaterial checks a material exactly as stored (upper case).
func checkMaterial(field string, m Material) error {
	if _, err := ParseMaterial(string(m)); err != nil || string(m) != strings.ToUpper(string(m)) {
		return &RuleError{Field: field, Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(Materials), clip(string(m)))}
	}
	return nil
}

// Purchase is where a bought-in batch came from: the supplier outside the
// consortium, as the purchasing recycler states it.
type Purchase struct {
	Supplier    string      `json:"supplier"`
	SupplierID  string      `json:"supplierId,omitempty" metadata:",optional"`
	OriginClass OriginClass `json:"originClass"`
	Site        string      `json:"site,omitempty" metadata:",optional"`
	ReceivedAt  string      `json:"receivedAt"`
	Purchaser   string      `json:"purchaser"` // MSP ID of the registrant
	Ticket      string      `json:"ticket"`
	// TicketSHA256 is the weighbridge ticket's hash, also anchored among
	// the batch's documents.
	TicketSHA256 string `json:"ticketSha256"`
	ZoneOffset   string `json:"zoneOffset,omitempty" metadata:",optional"`
}

// RegisteredClass is the origin class of a registered batch (a
// collection or a purchase); collections registered before contract
// 0.6.0 are post-consumer. ok is false for a derived batch.
func (o Origin) RegisteredClass() (c OriginClass, ok bool) {
	switch {
	case o.Purchase != nil:
		return o.Purchase.OriginClass, true
	case o.Collection != nil:
		if o.Collection.OriginClass == "" {
			return PostConsumer, true
		}
		return o.Collection.OriginClass, true
	}
	return "", false
}
