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
	if !slices.Contains(t.ous, adminOU) {
		return nil, fmt.Errorf("caller %s (%s) is not an admin identity (certificate OU %q required)", t.actor.Identity, t.actor.MSP, adminOU)
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

// SetParticipant adds a participant or updates the entry with its MSP ID.
// Any registered organisation except an auditor may propose it; the
// registry's endorsement policy makes it take effect only when a majority
// of member organisations endorse.
func (c *Contract) SetParticipant(ctx contractapi.TransactionContextInterface, p model.Participant) (*model.Registry, error) {
	t, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Validate("participant"); err != nil {
		return nil, err
	}
	_, reg, err := t.requireRole("change the registry", model.RoleCollector, model.RoleRecycler, model.RoleMaker)
	if err != nil {
		return nil, err
	}
	ps := slices.Clone(reg.Participants)
	if i := slices.IndexFunc(ps, func(x model.Participant) bool { return x.MSP == p.MSP }); i >= 0 {
		ps[i] = p
	} else {
		ps = append(ps, p)
	}
	if err := model.ValidateParticipants(ps); err != nil {
		return nil, err
	}
	reg.Participants = ps
	return reg, t.putRegistry(reg, model.EvParticipantSet)
}

// GetRegistry returns the participant registry.
func (c *Contract) GetRegistry(ctx contractapi.TransactionContextInterface) (*model.Registry, error) {
	return getRegistry(ctx.GetStub())
}

// putRegistry stores the registry sorted by MSP ID, sets its majority
// endorsement policy and emits the event.
func (t *txn) putRegistry(reg *model.Registry, event string) error {
	slices.SortFunc(reg.Participants, func(a, b model.Participant) int { return strings.Compare(a.MSP, b.MSP) })
	reg.UpdatedAt = t.at
	reg.UpdatedBy = t.actor
	reg.LastTx = t.id
	raw, err := json.Marshal(reg)
	if err != nil {
		return fmt.Errorf("encode registry: %w", err)
	}
	members := make([]string, len(reg.Participants))
	for i, p := range reg.Participants {
		members[i] = p.MSP
	}
	pol, err := majorityPolicy(members)
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
