package channel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// The SmartBFT consenter set lives in the orderer group's "Orderers"
// value (a ConsenterMapping); every block must carry the signatures of a
// quorum of those consenters, which the orderer group's BlockValidation
// policy states. fabric-config (v0.3) knows neither, so they are edited on
// the protos; a change of the set changes both in one update.

// Key names in the orderer group.
const (
	orderersKey        = "Orderers"
	blockValidationKey = "BlockValidation"
)

// Quorum is how many of n SmartBFT consenters must agree: ceil((n+f+1)/2)
// with f = (n-1)/3 faulty ones tolerated (3 of 4, 4 of 5).
func Quorum(n int) int {
	f := (n - 1) / 3
	return (n + f + 2) / 2
}

// Consenters returns the channel's SmartBFT consenters, or an error when
// the channel has no ConsenterMapping (not a BFT channel).
func Consenters(cfg *cb.Config) ([]*cb.Consenter, error) {
	og, err := ordererGroup(cfg)
	if err != nil {
		return nil, err
	}
	v, ok := og.Values[orderersKey]
	if !ok {
		return nil, errors.New("the channel has no SmartBFT consenters (no Orderers value in its orderer group): is it a BFT channel?")
	}
	var os cb.Orderers
	if err := proto.Unmarshal(v.Value, &os); err != nil {
		return nil, fmt.Errorf("the channel's consenters: %w", err)
	}
	return os.ConsenterMapping, nil
}

func ordererGroup(cfg *cb.Config) (*cb.ConfigGroup, error) {
	if cfg.GetChannelGroup() == nil || cfg.ChannelGroup.Groups["Orderer"] == nil {
		return nil, errors.New("the channel config has no orderer group")
	}
	return cfg.ChannelGroup.Groups["Orderer"], nil
}

// AddConsenter adds c to the consenters of cfg (edited in place) with the
// next free ID, and sets the BlockValidation policy for the new set. A
// consenter of the same MSP, host and port is replaced, keeping its ID.
func AddConsenter(cfg *cb.Config, c *cb.Consenter) error {
	cs, err := Consenters(cfg)
	if err != nil {
		return err
	}
	c = proto.CloneOf(c)
	if i := slices.IndexFunc(cs, func(x *cb.Consenter) bool {
		return x.MspId == c.MspId && x.Host == c.Host && x.Port == c.Port
	}); i >= 0 {
		c.Id = cs[i].Id
		cs[i] = c
	} else {
		for _, x := range cs {
			c.Id = max(c.Id, x.Id)
		}
		c.Id++
		cs = append(cs, c)
	}
	og, err := ordererGroup(cfg)
	if err != nil {
		return err
	}
	return SetConsenters(og, cs)
}

// SetConsenters writes the orderer group's ConsenterMapping and, with it,
// the BlockValidation policy: NOutOf(quorum) of the consenters'
// identities, as configtxgen writes it for a new BFT channel. A change of
// one without the other would leave blocks the peers cannot validate. A
// value or policy the group lacks (a genesis block in the making) is
// created with the Admins mod policy; an existing one keeps its own.
func SetConsenters(og *cb.ConfigGroup, cs []*cb.Consenter) error {
	raw, err := proto.Marshal(&cb.Orderers{ConsenterMapping: cs})
	if err != nil {
		return err
	}
	if og.Values == nil {
		og.Values = map[string]*cb.ConfigValue{}
	}
	v := og.Values[orderersKey]
	if v == nil {
		v = &cb.ConfigValue{ModPolicy: configtx.AdminsPolicyKey}
		og.Values[orderersKey] = v
	}
	v.Value = raw
	env := &cb.SignaturePolicyEnvelope{}
	var rules []*cb.SignaturePolicy
	for i, c := range cs {
		id, err := proto.Marshal(&mb.SerializedIdentity{Mspid: c.MspId, IdBytes: c.Identity})
		if err != nil {
			return err
		}
		env.Identities = append(env.Identities, &mb.MSPPrincipal{
			PrincipalClassification: mb.MSPPrincipal_IDENTITY, Principal: id})
		rules = append(rules, &cb.SignaturePolicy{Type: &cb.SignaturePolicy_SignedBy{SignedBy: int32(i)}})
	}
	env.Rule = &cb.SignaturePolicy{Type: &cb.SignaturePolicy_NOutOf_{NOutOf: &cb.SignaturePolicy_NOutOf{
		N: int32(Quorum(len(cs))), Rules: rules}}}
	pol, err := proto.Marshal(env)
	if err != nil {
		return err
	}
	if og.Policies == nil {
		og.Policies = map[string]*cb.ConfigPolicy{}
	}
	p := og.Policies[blockValidationKey]
	if p == nil {
		p = &cb.ConfigPolicy{ModPolicy: configtx.AdminsPolicyKey}
		og.Policies[blockValidationKey] = p
	}
	p.Policy = &cb.Policy{Type: int32(cb.Policy_SIGNATURE), Value: pol}
	return nil
}
