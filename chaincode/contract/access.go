package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
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

// setBatchPolicy sets the key-level endorsement policy of a batch: a peer
// of every listed organisation must endorse any change to it.
func setBatchPolicy(stub shim.ChaincodeStubInterface, id string, orgs ...string) error {
	key, err := batchKey(id)
	if err != nil {
		return err
	}
	return setKeyPolicy(stub, key, "batch "+strconv.Quote(id), orgs)
}

// setKeyPolicy sets the key-level endorsement policy of key to a peer of
// every listed organisation; what names the key in errors.
func setKeyPolicy(stub shim.ChaincodeStubInterface, key, what string, orgs []string) error {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return fmt.Errorf("endorsement policy of %s: %w", what, err)
	}
	sorted := slices.Clone(orgs)
	slices.Sort(sorted)
	if err := ep.AddOrgs(statebased.RoleTypePeer, slices.Compact(sorted)...); err != nil {
		return fmt.Errorf("endorsement policy of %s: %w", what, err)
	}
	pol, err := ep.Policy()
	if err != nil {
		return fmt.Errorf("endorsement policy of %s: %w", what, err)
	}
	if err := stub.SetStateValidationParameter(key, pol); err != nil {
		return fmt.Errorf("set endorsement policy of %s: %w", what, err)
	}
	return nil
}

// majorityPolicy is a signature policy that a peer of more than half of
// the given organisations must sign: NOutOf(n/2+1, peer of each).
// statebased only builds AND policies, so the envelope is built here.
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
	env := &common.SignaturePolicyEnvelope{
		Version: 0,
		Rule: &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{
			N:     int32(len(sorted)/2 + 1),
			Rules: rules,
		}}},
		Identities: ids,
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("majority policy: %w", err)
	}
	return raw, nil
}
