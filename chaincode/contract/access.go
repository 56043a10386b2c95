package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
)

// errNoRegistry is returned while the registry has not been bootstrapped.
var errNoRegistry = errors.New("registry not bootstrapped: call BootstrapRegistry first")

// getRegistry reads the registry; errNoRegistry when there is none.
func getRegistry(stub shim.ChaincodeStubInterface) (*model.Registry, error) {
	raw, err := stub.GetState(registryKey())
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	if raw == nil {
		return nil, errNoRegistry
	}
	var r model.Registry
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode registry: %w", err)
	}
	return &r, nil
}

// member returns the caller's registry entry. Organisations that are not
// registered may not write.
func (t *txn) member() (model.Participant, *model.Registry, error) {
	reg, err := getRegistry(t.stub)
	if err != nil {
		return model.Participant{}, nil, err
	}
	t.reg = reg
	p, ok := reg.Lookup(t.actor.MSP)
	if !ok {
		return model.Participant{}, nil, fmt.Errorf("caller %s is not a registered participant", t.actor.MSP)
	}
	return p, reg, nil
}

// requireRole returns the caller's entry if its role is one of roles. what
// describes the action for the error message.
func (t *txn) requireRole(what string, roles ...model.Role) (model.Participant, *model.Registry, error) {
	p, reg, err := t.member()
	if err != nil {
		return p, nil, err
	}
	if !slices.Contains(roles, p.Role) {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		return p, nil, fmt.Errorf("role %s may not %s (%s only)", p.Role, what, joinOr(names))
	}
	return p, reg, nil
}

func joinOr(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " or " + s[len(s)-1]
}

// requireOwner checks that the caller's organisation holds custody of b.
func (t *txn) requireOwner(b *model.Batch) error {
	if b.Owner != t.actor.MSP {
		return fmt.Errorf("caller %s is not the owner of batch %q (owner %s)", t.actor.MSP, b.ID, b.Owner)
	}
	return nil
}

// The endorsement design (see docs/explanation/trust-model.md): every
// key mtrace writes needs the endorsement of the organisations it speaks
// for and of at least one other member organisation, whose peer runs its
// own copy of the chaincode and so re-checks the rules. No organisation
// alone, whatever chaincode its peer runs, can change a key. New keys fall
// under the chaincode-level policy, which the network sets to any two
// member organisations.

// minEndorsers is how many distinct organisations must endorse a change
// of any batch or process record key.
const minEndorsers = 2

// guardKey sets the key-level endorsement policy of key: a peer of every
// organisation in required and, in all, peers of at least minEndorsers
// distinct member organisations. what names the key in errors.
// A transaction builds each distinct policy once: a process sets the same
// one on every output and take.
func (t *txn) guardKey(key, what string, required ...string) error {
	members, err := t.members()
	if err != nil {
		return err
	}
	memo := strings.Join(required, "\x00")
	pol, ok := t.policies[memo]
	if !ok {
		if pol, err = witnessedPolicy(required, members, minEndorsers); err != nil {
			return fmt.Errorf("endorsement policy of %s: %w", what, err)
		}
		if t.policies == nil {
			t.policies = map[string][]byte{}
		}
		t.policies[memo] = pol
	}
	if err := t.stub.SetStateValidationParameter(key, pol); err != nil {
		return fmt.Errorf("set endorsement policy of %s: %w", what, err)
	}
	return nil
}

// guardBatch sets a batch's key-level policy from its state: its owner;
// while a transfer is pending, the receiver too; while an auditor holds
// it, that auditor's organisation too; and a witness when these are fewer
// than minEndorsers.
func (t *txn) guardBatch(b *model.Batch) error {
	key, err := batchKey(b.ID)
	if err != nil {
		return err
	}
	return t.guardKey(key, "batch "+strconv.Quote(b.ID), custodians(b)...)
}

// custodians lists the organisations that must endorse any change of b.
func custodians(b *model.Batch) []string {
	orgs := []string{b.Owner}
	if b.Pending != nil {
		orgs = append(orgs, b.Pending.To)
	}
	if b.Quarantine != nil && b.Quarantine.ByRole == model.HeldByAuditor {
		orgs = append(orgs, b.Quarantine.By.MSP)
	}
	return orgs
}

// members returns the registry's member organisations, reading the
// registry once per transaction.
func (t *txn) members() ([]string, error) {
	if t.reg == nil {
		reg, err := getRegistry(t.stub)
		if err != nil {
			return nil, err
		}
		t.reg = reg
	}
	return t.reg.Members(), nil
}

// witnessedPolicy is a signature policy that a peer of every required
// organisation signs and, in all, peers of at least min distinct
// organisations of members: AND(required..., OutOf(k, others)). When the
// required organisations are enough, it is AND(required...). A consortium
// with no other member has no witness to ask; its policy is the required
// organisations alone.
func witnessedPolicy(required, members []string, min int) ([]byte, error) {
	req := slices.Clone(required)
	slices.Sort(req)
	req = slices.Compact(req)
	if len(req) == 0 {
		return nil, errors.New("no organisation to require")
	}
	var others []string
	for _, m := range members {
		if !slices.Contains(req, m) {
			others = append(others, m)
		}
	}
	slices.Sort(others)
	others = slices.Compact(others)
	need := min - len(req)
	if need > len(others) {
		need = len(others)
	}
	var ids []*msp.MSPPrincipal
	principal := func(org string) (*common.SignaturePolicy, error) {
		role, err := proto.Marshal(&msp.MSPRole{MspIdentifier: org, Role: msp.MSPRole_PEER})
		if err != nil {
			return nil, err
		}
		ids = append(ids, &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_ROLE, Principal: role})
		return &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: int32(len(ids) - 1)}}, nil
	}
	rules := make([]*common.SignaturePolicy, 0, len(req)+1)
	for _, org := range req {
		r, err := principal(org)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if need > 0 {
		witnesses := make([]*common.SignaturePolicy, 0, len(others))
		for _, org := range others {
			r, err := principal(org)
			if err != nil {
				return nil, err
			}
			witnesses = append(witnesses, r)
		}
		rules = append(rules, nOutOf(need, witnesses))
	}
	return marshalPolicy(nOutOf(len(rules), rules), ids)
}

func nOutOf(n int, rules []*common.SignaturePolicy) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{
		N: int32(n), Rules: rules,
	}}}
}

// requireAdmin checks that the caller is an admin identity of its
// organisation: mtrace.role admin, and, with node OUs on, the admin OU in
// its certificate (Fabric type admin). fn names the function.
func (t *txn) requireAdmin(fn string) error {
	a := t.actor
	if a.Role == model.PersonAdmin && slices.Contains(t.ous, adminOU) {
		return nil
	}
	return fmt.Errorf("caller %s (%s) is not an admin identity of %s: %s needs %s %q and certificate OU %q (it has %s %q, OU %s)",
		a.Person(), a.MSP, a.MSP, fn, model.RoleAttribute, model.PersonAdmin, adminOU, model.RoleAttribute, a.Role, ouList(t.ous))
}

func marshalPolicy(rule *common.SignaturePolicy, ids []*msp.MSPPrincipal) ([]byte, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(&common.SignaturePolicyEnvelope{Version: 0, Rule: rule, Identities: ids})
	if err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return raw, nil
}

// majorityPolicy is a signature policy that a peer of more than half of
// the given organisations must sign: NOutOf(n/2+1, peer of each).
func majorityPolicy(orgs []string) ([]byte, error) {
	sorted := slices.Clone(orgs)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if len(sorted) == 0 {
		return nil, errors.New("majority policy: no organisations")
	}
	ids := make([]*msp.MSPPrincipal, len(sorted))
	rules := make([]*common.SignaturePolicy, len(sorted))
	for i, org := range sorted {
		role, err := proto.Marshal(&msp.MSPRole{MspIdentifier: org, Role: msp.MSPRole_PEER})
		if err != nil {
			return nil, fmt.Errorf("majority policy: %w", err)
		}
		ids[i] = &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_ROLE, Principal: role}
		rules[i] = &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: int32(i)}}
	}
	return marshalPolicy(nOutOf(len(sorted)/2+1, rules), ids)
}
