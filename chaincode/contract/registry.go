package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/model"
)

// adminOU is the organisational unit of an organisation's admin identity
// when the channel's MSPs use node OUs.
const adminOU = "admin"

// BootstrapRegistry writes the first participant registry. Only an admin
// identity may call it, and only while no registry exists.
func (c *Contract) BootstrapRegistry(ctx contractapi.TransactionContextInterface, participants []model.Participant) (*model.Registry, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.requireAdmin("BootstrapRegistry"); err != nil {
		return nil, err
	}
	if _, err := getRegistry(t.stub); err == nil {
		return nil, fmt.Errorf("registry already bootstrapped")
	} else if err != errNoRegistry {
		return nil, err
	}
	if err := model.ValidateParticipants(participants); err != nil {
		return nil, err
	}
	reg := &model.Registry{Participants: slices.Clone(participants)}
	return reg, t.putRegistry(reg, model.EvRegistryBootstrapped)
}

// ProposeChange opens a registry change: set an organisation's entry (add
// it, or change its role or name) or remove one. Only an admin identity of
// a member organisation may propose. Proposing is not approving: the
// proposer's organisation approves with its own ApproveChange.
func (c *Contract) ProposeChange(ctx contractapi.TransactionContextInterface, req model.ChangeRequest) (*model.Proposal, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	reg, err := t.governor("ProposeChange")
	if err != nil {
		return nil, err
	}
	reg.DropExpired(t.now)
	if n := reg.OpenBy(t.actor.MSP, t.now); n >= model.MaxOpenPerOrg {
		return nil, fmt.Errorf("%s has %d registry proposals open already (at most %d per organisation); withdraw one or let it expire first", t.actor.MSP, n, model.MaxOpenPerOrg)
	}
	change := model.Change{Action: req.Action, Participant: model.Participant{MSP: req.MSP, Role: req.Role, Name: req.Name}}
	// The change must apply to the registry as it is now.
	trial := model.Registry{Participants: reg.Participants}
	if err := trial.Apply(change); err != nil {
		return nil, fmt.Errorf("proposal cannot apply: %w", err)
	}
	id := t.id
	if len(id) > model.ProposalIDLength {
		id = id[:model.ProposalIDLength]
	}
	if _, dup := reg.Proposal(id); dup {
		return nil, fmt.Errorf("a proposal with id %s is open already", id)
	}
	p := model.Proposal{
		ID:         id,
		Change:     change,
		ProposedBy: t.actor,
		ProposedAt: t.at,
		Tx:         t.id,
		ExpiresAt:  model.FormatTime(t.now.Add(req.TTL())),
		Approvals:  []model.Approval{},
	}
	reg.Proposals = append(reg.Proposals, p)
	return &p, t.putRegistry(reg, model.EvChangeProposed)
}

// ApproveChange gives the approval of the caller's organisation to an open
// proposal. Only an admin identity of a member organisation may approve,
// once per organisation, before the proposal expires. The approval that
// brings the approving members to a majority applies the change.
func (c *Contract) ApproveChange(ctx contractapi.TransactionContextInterface, id string) (*model.Vote, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	reg, p, err := t.openProposal(id, "ApproveChange")
	if err != nil {
		return nil, err
	}
	if p.ApprovedBy(t.actor.MSP) {
		return nil, fmt.Errorf("%s has already approved proposal %s", t.actor.MSP, p.ID)
	}
	if p.RejectedBy(t.actor.MSP) {
		return nil, fmt.Errorf("%s has rejected proposal %s; an organisation votes once", t.actor.MSP, p.ID)
	}
	p.Approvals = append(p.Approvals, model.Approval{By: t.actor, At: t.at, Tx: t.id})
	v := &model.Vote{Proposal: *p, Votes: p.Votes(reg), Needed: reg.Majority()}
	event := model.EvChangeApproved
	if v.Votes >= v.Needed {
		if err := reg.Apply(p.Change); err != nil {
			return nil, fmt.Errorf("proposal %s cannot apply: %w", p.ID, err)
		}
		reg.DropProposal(p.ID)
		v.Applied = true
		event = model.EvRegistryChanged
	}
	return v, t.putRegistry(reg, event)
}

// RejectChange votes against an open proposal for the caller's
// organisation. Only an admin identity of a member organisation may
// reject, once per organisation, and not after approving it. The
// rejection that brings the rejecting members to a majority drops the
// proposal unapplied, so a majority can close any proposal, whoever made
// it.
func (c *Contract) RejectChange(ctx contractapi.TransactionContextInterface, id string) (*model.Vote, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	reg, p, err := t.openProposal(id, "RejectChange")
	if err != nil {
		return nil, err
	}
	if p.RejectedBy(t.actor.MSP) {
		return nil, fmt.Errorf("%s has already rejected proposal %s", t.actor.MSP, p.ID)
	}
	if p.ApprovedBy(t.actor.MSP) {
		return nil, fmt.Errorf("%s has approved proposal %s; an organisation votes once", t.actor.MSP, p.ID)
	}
	p.Rejections = append(p.Rejections, model.Approval{By: t.actor, At: t.at, Tx: t.id})
	v := &model.Vote{Proposal: *p, Votes: p.Against(reg), Needed: reg.Majority()}
	event := model.EvChangeRejected
	if v.Votes >= v.Needed {
		reg.DropProposal(p.ID)
		v.Dropped = true
		event = model.EvChangeDropped
	}
	return v, t.putRegistry(reg, event)
}

// WithdrawChange closes an open proposal unapplied. Only an admin identity
// of the proposing organisation may withdraw it.
func (c *Contract) WithdrawChange(ctx contractapi.TransactionContextInterface, id string) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	reg, p, err := t.openProposal(id, "WithdrawChange")
	if err != nil {
		return err
	}
	if p.ProposedBy.MSP != t.actor.MSP {
		return fmt.Errorf("proposal %s was made by %s; only %s may withdraw it", p.ID, p.ProposedBy.MSP, p.ProposedBy.MSP)
	}
	reg.DropProposal(p.ID)
	return t.putRegistry(reg, model.EvChangeWithdrawn)
}

// governor checks that the caller is an admin identity of a member
// organisation and returns the registry. fn names the function.
func (t *txn) governor(fn string) (*model.Registry, error) {
	if _, _, err := t.member(); err != nil {
		return nil, err
	}
	if err := t.requireAdmin(fn); err != nil {
		return nil, err
	}
	return t.reg, nil
}

// openProposal returns the registry and its open, unexpired proposal id,
// after the caller's governor check.
func (t *txn) openProposal(id, fn string) (*model.Registry, *model.Proposal, error) {
	if err := model.CheckID("id", id); err != nil {
		return nil, nil, err
	}
	reg, err := t.governor(fn)
	if err != nil {
		return nil, nil, err
	}
	p, ok := reg.Proposal(id)
	if !ok {
		return nil, nil, fmt.Errorf("no open registry proposal %q", id)
	}
	if p.Expired(t.now) {
		return nil, nil, fmt.Errorf("registry proposal %s expired at %s", p.ID, p.ExpiresAt)
	}
	return reg, p, nil
}

// GetRegistry returns the participant registry.
func (c *Contract) GetRegistry(ctx contractapi.TransactionContextInterface) (*model.Registry, error) {
	return getRegistry(ctx.GetStub())
}

// putRegistry stores the registry sorted by MSP ID, sets its majority
// endorsement policy (for the next change: this write is checked against
// the policy the previous one set) and emits the event.
func (t *txn) putRegistry(reg *model.Registry, event string) error {
	slices.SortFunc(reg.Participants, func(a, b model.Participant) int { return strings.Compare(a.MSP, b.MSP) })
	reg.UpdatedAt = t.at
	reg.UpdatedBy = t.actor
	reg.LastTx = t.id
	raw, err := json.Marshal(reg)
	if err != nil {
		return fmt.Errorf("encode registry: %w", err)
	}
	pol, err := majorityPolicy(reg.Members())
	if err != nil {
		return err
	}
	key := registryKey()
	if err := t.stub.PutState(key, raw); err != nil {
		return fmt.Errorf("write registry: %w", err)
	}
	if err := t.stub.SetStateValidationParameter(key, pol); err != nil {
		return fmt.Errorf("set registry endorsement policy: %w", err)
	}
	return t.emit(t.event(event, model.ObjectEvent, "commissioning", model.DispActive))
}
