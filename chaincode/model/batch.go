package model

// Batch is one lot of material on the ledger: collected waste, an
// intermediate (sorted, flakes, pellets, filament) or a product. It is the
// only definition of a batch; the chaincode stores it as JSON under its id
// and the client reads it back into this type.
//
// Slice and pointer fields are optional in the contract's schema, so that
// an empty list may be left out of the JSON.
type Batch struct {
	ID        string   `json:"id"`
	Material  Material `json:"material"`
	WasteCode string   `json:"wasteCode,omitempty" metadata:",optional"`
	Form      Form     `json:"form"`

	InitialMass   Grams `json:"initialMass"`
	RemainingMass Grams `json:"remainingMass"`
	// TransitLoss is the mass lost in handovers: offered minus received,
	// summed over every accepted transfer of this batch.
	TransitLoss Grams `json:"transitLoss"`

	Owner string `json:"owner"` // MSP ID of the organisation holding custody
	// Submitter is the organisation and identity that created the batch.
	Submitter Actor  `json:"submitter"`
	Status    Status `json:"status"`

	Pending    *Transfer   `json:"pending,omitempty" metadata:",optional"`
	Quarantine *Quarantine `json:"quarantine,omitempty" metadata:",optional"`

	Origin Origin `json:"origin"`
	// Handovers lists every accepted transfer, oldest first. Custody at any
	// time is the registrant's organisation followed by each handover's To.
	Handovers []Handover `json:"handovers,omitempty" metadata:",optional"`
	// TakenMass is the total mass that processes took from the batch, and
	// Takes how many processes did. Each take is stored under a key of its
	// own (see the chaincode's key layout), so a take adds a key instead of
	// growing this batch.
	TakenMass Grams `json:"takenMass"`
	Takes     int   `json:"takes"`

	// RecycledContent is the post-consumer share in basis points (10000 is
	// 100%). Collected waste is 10000; a derived batch has the mass-weighted
	// share of its inputs, lowered by declared virgin material.
	RecycledContent int64 `json:"recycledContentBp"`
	// Shares are the batch's post- and pre-consumer shares in parts per
	// million (contract 0.6.0); RecycledContent is then Shares.Bp(). A
	// batch of an earlier contract not yet migrated has none: SharesOf
	// reads its basis points.
	Shares *Shares `json:"shares,omitempty" metadata:",optional"`
	// Site is the GLN of the site that holds the batch: where it was
	// registered, made or last received. Empty when its organisation
	// listed no sites then.
	Site string `json:"site,omitempty" metadata:",optional"`

	Documents []Document `json:"documents,omitempty" metadata:",optional"`

	// Holds and AuditorDocuments are what auditors placed on the batch
	// from contract 0.5.0: holds in force and documents anchored. They are
	// stored under keys of their own, not on the batch (an auditor acts
	// without the owner's endorsement), and filled in when a batch is
	// read for an answer (ReadBatch, ReadBatches, ListBatches,
	// VerifyProvenance, Evidence; Trace fills in the holds); a stored
	// version never carries them.
	Holds            []Hold            `json:"holds,omitempty" metadata:",optional"`
	AuditorDocuments []AuditorDocument `json:"auditorDocuments,omitempty" metadata:",optional"`

	CreatedAt string `json:"createdAt"` // RFC 3339, from the transaction timestamp
	// CreatedTx is the transaction that created the batch (the registration,
	// or the process that made it). Batches written before contract 0.3.0
	// lack it; their first history entry names it.
	CreatedTx string `json:"createdTx,omitempty" metadata:",optional"`
	UpdatedAt string `json:"updatedAt"`
	// LastTx and UpdatedBy describe the transaction that wrote this version;
	// Event is that change in EPCIS terms. History reads them per version.
	LastTx    string `json:"lastTx"`
	UpdatedBy Actor  `json:"updatedBy"`
	Event     Event  `json:"event"`

	// Format is the stored format of this version: CurrentFormat when
	// written by this contract; 1 for contracts 0.3.0 to 0.5.0, 2 for
	// contract 0.6.0; 0 (absent) for a batch of contract 0.2.0, which
	// listed its takes in a "children" field and must be migrated before
	// it is used.
	Format int `json:"format,omitempty" metadata:",optional"`
}

// CurrentFormat is the stored format of batches that keep their takes
// under keys of their own (contract 0.3.0, format 1), carry their site
// and both recycled shares (contract 0.6.0, format 2) and have an entry
// in the owner-and-status index (contract 0.7.0, format 3). A batch of
// format 1 or 2 is still used as it is, and brought to the current
// format when it is next written; the migration gives a format 1 batch
// its shares and its owner's default site, and a format 1 or 2 batch
// its owner-and-status index entry.
const CurrentFormat = 3

// OwnerStatusFormat is the first stored format whose batches have an
// entry in the owner-and-status index. A batch of an older format has
// none until it is written again or migrated.
const OwnerStatusFormat = 3

// TakesFormat is the first stored format with takes under keys of their
// own; batches of an older format must be migrated before they are used.
const TakesFormat = 1

// SharesFormat is the first stored format whose batches carry their site
// and both recycled shares (contract 0.6.0).
const SharesFormat = 2

// Actor is who submitted a transaction: the organisation, the
// certificate's subject common name, and the person behind it.
//
// EnrollmentID and Role came with contract 0.4.0; versions written
// before it have neither, and still decode and verify.
type Actor struct {
	MSP      string `json:"msp"`
	Identity string `json:"identity"` // the X.509 subject common name
	// EnrollmentID is the person's enrolment ID at their organisation's
	// CA (the certificate's hf.EnrollmentID attribute, else its common name).
	EnrollmentID string `json:"enrollmentId,omitempty" metadata:",optional"`
	// Role is the person's mtrace.role when they acted.
	Role PersonRole `json:"role,omitempty" metadata:",optional"`
}

// Person names who acted: the enrolment ID, or the common name on
// versions written before contract 0.4.0.
func (a Actor) Person() string {
	if a.EnrollmentID != "" {
		return a.EnrollmentID
	}
	return a.Identity
}

// Transfer is a custody handover that the owner has offered and the
// receiver has not yet answered.
type Transfer struct {
	To        string `json:"to"`
	Mass      Grams  `json:"mass"` // offered: the remaining mass at offer time
	OfferedBy Actor  `json:"offeredBy"`
	OfferedAt string `json:"offeredAt"`
	OfferTx   string `json:"offerTx"`
	// Declaration is the id of the batch declaration its owner issued for
	// this transfer, if any.
	Declaration string `json:"declaration,omitempty" metadata:",optional"`
}

// Handover is an accepted transfer.
type Handover struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Offered    Grams  `json:"offered"`
	Received   Grams  `json:"received"`
	OfferTx    string `json:"offerTx"`
	AcceptTx   string `json:"acceptTx"`
	AcceptedBy Actor  `json:"acceptedBy"`
	AcceptedAt string `json:"acceptedAt"`
	// Site is the receiver's site that took the batch in, when known.
	Site string `json:"site,omitempty" metadata:",optional"`
	// Declaration is the declaration issued for this transfer, if any.
	Declaration string `json:"declaration,omitempty" metadata:",optional"`
}

// Quarantine records why and by whom a batch was held. Only the same role
// (the owner organisation, or an auditor) may release it.
type Quarantine struct {
	By             Actor  `json:"by"`
	ByRole         string `json:"byRole"` // "owner" or "auditor"
	Reason         string `json:"reason"`
	At             string `json:"at"`
	Tx             string `json:"tx"`
	PreviousStatus Status `json:"previousStatus"`
}

// Hold is an auditor's hold on a batch, stored under its own key
// ("hold", batch, tx) while it is in force and under ("held", batch, tx)
// once released. While a batch has one, it cannot be offered, accepted,
// rejected, cancelled or processed, whatever its stored status says; only
// the holding auditor organisation (with a witness) can release it, and
// the owner can neither lift nor hide it, since the key is not the
// batch's.
type Hold struct {
	Batch  string `json:"batch"`
	By     Actor  `json:"by"`
	Reason string `json:"reason"`
	At     string `json:"at"`
	Tx     string `json:"tx"`
	// Event is the hold as an EPCIS event (holding, non_conformant).
	Event Event `json:"event"`
	// Released is set on a released hold.
	Released *Release `json:"released,omitempty" metadata:",optional"`
}

// Release is who lifted an auditor's hold, and when.
type Release struct {
	By    Actor  `json:"by"`
	At    string `json:"at"`
	Tx    string `json:"tx"`
	Event Event  `json:"event"`
}

// AuditorDocument is a document an auditor anchored on a batch, stored
// under its own key ("doc", batch, tx).
type AuditorDocument struct {
	Batch string `json:"batch"`
	Document
	Event Event `json:"event"`
}

// Held reports whether the batch may not be used: quarantined by its
// owner (or, on a ledger not yet migrated, by an auditor on the batch
// itself), or under an auditor's hold.
func (b *Batch) Held() bool {
	return b.Status == StatusQuarantined || len(b.Holds) > 0
}

// EffectiveStatus is the status the batch has for anyone using it:
// quarantined while any hold is in force, else its stored status.
func (b *Batch) EffectiveStatus() Status {
	if b.Held() {
		return StatusQuarantined
	}
	return b.Status
}

// Stored returns the batch as its key holds it: without the holds and
// auditor documents that live under keys of their own.
func (b Batch) Stored() Batch {
	b.Holds, b.AuditorDocuments = nil, nil
	return b
}

// Quarantine roles.
const (
	HeldByOwner   = "owner"
	HeldByAuditor = "auditor"
)

// Origin says where a batch came from: a collection for waste registered
// by a collector, a purchase for material a recycler bought in from
// outside the consortium, or a process for a derived batch.
type Origin struct {
	Collection *Collection `json:"collection,omitempty" metadata:",optional"`
	Purchase   *Purchase   `json:"purchase,omitempty" metadata:",optional"`
	Process    *Derivation `json:"process,omitempty" metadata:",optional"`
}

// Collection is where and when a collector picked up waste.
type Collection struct {
	Location    string `json:"location"`
	CollectedAt string `json:"collectedAt"` // RFC 3339
	Collector   string `json:"collector"`   // MSP ID of the registrant
	// ZoneOffset is the time-zone offset the collector gave with
	// CollectedAt (stored in UTC), such as "+03:00"; EPCIS exports keep it.
	// Batches registered before it was kept have none; EPCIS exports give
	// their collection time in UTC.
	ZoneOffset string `json:"zoneOffset,omitempty" metadata:",optional"`
	// OriginClass is the collected waste's class (contract 0.6.0);
	// collections registered before it are post-consumer.
	OriginClass OriginClass `json:"originClass,omitempty" metadata:",optional"`
	// Site is the collector's receiving site, when it listed sites.
	Site string `json:"site,omitempty" metadata:",optional"`
}

// Derivation is how a derived batch was made: the process step, its
// transaction, and the parent batches with the mass the process took from
// each. It is the process record (Process) without the list of outputs:
// the record is stored once per transaction, so a process with m outputs
// does not store its output list m times.
type Derivation struct {
	Step     Step   `json:"step"`
	Tx       string `json:"tx"`
	By       Actor  `json:"by"`
	At       string `json:"at"`
	Location string `json:"location,omitempty" metadata:",optional"`
	// Site is the processor's site where the process ran, when known.
	Site       string `json:"site,omitempty" metadata:",optional"`
	Inputs     []Take `json:"inputs"`
	VirginMass Grams  `json:"virginMass"`
	Loss       Grams  `json:"loss"` // inputs taken + virgin - outputs
}

// Process is the record of one transformation, stored once under its
// transaction id and returned by the Process transaction: its Derivation
// (every input with the mass taken, the virgin mass added, the loss) and
// every output with the mass made. Every output's Origin.Process is a copy
// of the Derivation.
type Process struct {
	Derivation
	Outputs []Take `json:"outputs"`
	// RecycledContent is the post-consumer share every output carries, in
	// basis points; Shares are both shares in parts per million (records
	// of contract 0.6.0 on).
	RecycledContent int64   `json:"recycledContentBp"`
	Shares          *Shares `json:"shares,omitempty" metadata:",optional"`
}

// made reports whether id is an output of the process; a take written
// before takes named their output (an empty id) passes.
func (p *Process) made(id string) bool {
	_, ok := p.Output(id)
	return ok || id == ""
}

// Output returns the output take of batch id, if the process made it.
func (p *Process) Output(id string) (Take, bool) {
	for _, t := range p.Outputs {
		if t.ID == id {
			return t, true
		}
	}
	return Take{}, false
}

// Take is an amount of one batch that went into, or came out of, a
// process. Stored as a parent's take (one key per process that took from
// it), ID names the process's first output, Tx and At the process
// transaction, and Handovers is how many handovers the parent had had at
// that moment, which fixes who held custody then.
type Take struct {
	ID        string `json:"id"`
	Mass      Grams  `json:"mass"`
	Tx        string `json:"tx,omitempty" metadata:",optional"`
	Handovers int    `json:"handovers,omitempty" metadata:",optional"`
	At        string `json:"at,omitempty" metadata:",optional"`
}

// TakeRef names the take of process transaction Tx from batch Parent.
type TakeRef struct {
	Parent string
	Tx     string
}

// TakePage is one page of a batch's takes, in the order they were made.
// Bookmark is empty on the last page.
type TakePage struct {
	Takes    []Take `json:"takes"`
	Bookmark string `json:"bookmark"`
}

// Document is a file anchored on a batch by its SHA-256.
type Document struct {
	Name       string `json:"name"`
	SHA256     string `json:"sha256"`
	URI        string `json:"uri,omitempty" metadata:",optional"`
	AnchoredBy Actor  `json:"anchoredBy"`
	AnchoredAt string `json:"anchoredAt"`
	Tx         string `json:"tx"`
}

// Custodian returns the organisation that held the batch after n
// handovers, or "" when the batch has had fewer than n.
func (b *Batch) Custodian(n int) string {
	switch {
	case n <= 0:
		return b.Submitter.MSP
	case n > len(b.Handovers):
		return ""
	}
	return b.Handovers[n-1].To
}

// Total is the mass of a list of takes.
func Total(ts []Take) Grams {
	var t Grams
	for _, x := range ts {
		t += x.Mass
	}
	return t
}

// Participant is a member organisation of the consortium.
type Participant struct {
	MSP  string `json:"msp"`
	Role Role   `json:"role"`
	Name string `json:"name"`
}

// Registry is the consortium's participant list and its open change
// proposals, kept under one key whose endorsement policy is a majority of
// member organisations. Proposals are capped per proposing organisation
// (MaxOpenPerOrg) and leave the list when they are applied, withdrawn,
// rejected by a majority or expire.
type Registry struct {
	Participants []Participant `json:"participants"`
	Proposals    []Proposal    `json:"proposals,omitempty" metadata:",optional"`
	UpdatedAt    string        `json:"updatedAt"`
	UpdatedBy    Actor         `json:"updatedBy"`
	LastTx       string        `json:"lastTx"`
}

// Lookup returns the participant with the given MSP ID.
func (r *Registry) Lookup(msp string) (Participant, bool) {
	for _, p := range r.Participants {
		if p.MSP == msp {
			return p, true
		}
	}
	return Participant{}, false
}
