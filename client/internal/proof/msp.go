package proof

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	ordererpb "github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/protobuf/proto"
)

// config is what one channel configuration defines that the checks need:
// every organisation's MSP (orderer and application), the consensus type,
// the BFT consenters and the block validation policy.
type config struct {
	block    uint64 // the config block that carries it
	sequence uint64
	msps     map[string]*mspDef // by MSP ID
	app      map[string]bool    // application organisations' MSP IDs
	bft      bool
	// consenters are the BFT consenters by ID (ConsenterMapping).
	consenters map[uint32]*common.Consenter
	// blockValidation is /Channel/Orderer/BlockValidation.
	blockValidation policy
	// checked caches identity checks by serialized identity.
	checked map[string]*checkedID
}

// checkedID is the outcome of one identity's check, which holds for any
// time in [from, to], where every certificate of its chain is valid.
type checkedID struct {
	id       *ident
	err      error
	from, to time.Time
}

// mspDef is one organisation's MSP.
type mspDef struct {
	id                   string
	roots, intermediates *x509.CertPool
	revoked              map[string]bool // issuer DN + serial of revoked certificates
	nodeOUs              bool
	admins               [][]byte // DER of explicit admin certificates
}

// policy is a decoded policy of a config group.
type policy struct {
	group     *common.ConfigGroup // the group it belongs to, for implicit meta policies
	implicit  *common.ImplicitMetaPolicy
	signature *common.SignaturePolicyEnvelope
}

// parseConfig reads the parts of a channel configuration the checks use.
func parseConfig(cfg *common.Config, block uint64) (*config, error) {
	ch := cfg.GetChannelGroup()
	c := &config{block: block, sequence: cfg.GetSequence(), msps: map[string]*mspDef{}, app: map[string]bool{},
		consenters: map[uint32]*common.Consenter{}, checked: map[string]*checkedID{}}
	ord := ch.GetGroups()["Orderer"]
	if ord == nil {
		return nil, errors.New("configuration has no Orderer group")
	}
	for _, section := range []string{"Orderer", "Application"} {
		for name, g := range ch.GetGroups()[section].GetGroups() {
			m, err := parseMSP(g)
			if err != nil {
				return nil, fmt.Errorf("%s organisation %s: %w", section, name, err)
			}
			if m == nil {
				continue
			}
			c.msps[m.id] = m
			if section == "Application" {
				c.app[m.id] = true
			}
		}
	}
	if v := ord.GetValues()["ConsensusType"]; v != nil {
		var ct ordererpb.ConsensusType
		if err := proto.Unmarshal(v.GetValue(), &ct); err != nil {
			return nil, fmt.Errorf("consensus type: %w", err)
		}
		c.bft = ct.GetType() == "BFT"
	}
	if v := ord.GetValues()["Orderers"]; v != nil {
		var os common.Orderers
		if err := proto.Unmarshal(v.GetValue(), &os); err != nil {
			return nil, fmt.Errorf("orderers: %w", err)
		}
		for _, cs := range os.GetConsenterMapping() {
			c.consenters[cs.GetId()] = cs
		}
	}
	p, err := groupPolicy(ord, "BlockValidation")
	if err != nil {
		return nil, fmt.Errorf("/Channel/Orderer/BlockValidation: %w", err)
	}
	c.blockValidation = p
	return c, nil
}

func groupPolicy(g *common.ConfigGroup, name string) (policy, error) {
	cp := g.GetPolicies()[name]
	if cp == nil {
		return policy{}, errors.New("no such policy")
	}
	p := policy{group: g}
	switch common.Policy_PolicyType(cp.GetPolicy().GetType()) {
	case common.Policy_IMPLICIT_META:
		p.implicit = &common.ImplicitMetaPolicy{}
		if err := proto.Unmarshal(cp.GetPolicy().GetValue(), p.implicit); err != nil {
			return policy{}, err
		}
	case common.Policy_SIGNATURE:
		p.signature = &common.SignaturePolicyEnvelope{}
		if err := proto.Unmarshal(cp.GetPolicy().GetValue(), p.signature); err != nil {
			return policy{}, err
		}
	default:
		return policy{}, fmt.Errorf("policy type %d is not supported", cp.GetPolicy().GetType())
	}
	return p, nil
}

func parseMSP(g *common.ConfigGroup) (*mspDef, error) {
	v := g.GetValues()["MSP"]
	if v == nil {
		return nil, nil
	}
	var mc msp.MSPConfig
	var fc msp.FabricMSPConfig
	if err := proto.Unmarshal(v.GetValue(), &mc); err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil {
		return nil, err
	}
	m := &mspDef{id: fc.GetName(), roots: x509.NewCertPool(), intermediates: x509.NewCertPool(),
		revoked: map[string]bool{}, nodeOUs: fc.GetFabricNodeOus().GetEnable()}
	var cas []*x509.Certificate
	for _, pemCert := range fc.GetRootCerts() {
		m.roots.AppendCertsFromPEM(pemCert)
		cas = append(cas, parsePEMCerts(pemCert)...)
	}
	for _, pemCert := range fc.GetIntermediateCerts() {
		m.intermediates.AppendCertsFromPEM(pemCert)
		cas = append(cas, parsePEMCerts(pemCert)...)
	}
	for _, a := range fc.GetAdmins() {
		for _, c := range parsePEMCerts(a) {
			m.admins = append(m.admins, c.Raw)
		}
	}
	for _, raw := range fc.GetRevocationList() {
		blk, _ := pem.Decode(raw)
		if blk == nil {
			continue
		}
		crl, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("revocation list: %w", err)
		}
		// A list counts only when one of the MSP's own CAs signed it.
		signed := slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return crl.CheckSignatureFrom(ca) == nil })
		if !signed {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			m.revoked[revokedKey(crl.RawIssuer, e.SerialNumber)] = true
		}
	}
	return m, nil
}

func revokedKey(issuer []byte, serial *big.Int) string {
	return string(issuer) + "#" + serial.String()
}

func parsePEMCerts(raw []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, raw = pem.Decode(raw)
		if blk == nil {
			return out
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// ident is a serialized identity checked against an MSP of a
// configuration.
type ident struct {
	raw  []byte // the SerializedIdentity
	msp  string
	cert *x509.Certificate
	def  *mspDef
}

// identity decodes a serialized identity and checks that its certificate
// chains to the roots of the MSP it names in c, at time at, and is not
// revoked. Each identity is checked once for the time its chain is valid.
func (c *config) identity(raw []byte, at time.Time) (*ident, error) {
	if k := c.checked[string(raw)]; k != nil && !at.Before(k.from) && !at.After(k.to) {
		return k.id, k.err
	}
	k := &checkedID{from: at, to: at}
	k.id, k.err = c.checkIdentity(raw, at, k)
	c.checked[string(raw)] = k
	return k.id, k.err
}

func (c *config) checkIdentity(raw []byte, at time.Time, k *checkedID) (*ident, error) {
	var sid msp.SerializedIdentity
	if err := proto.Unmarshal(raw, &sid); err != nil {
		return nil, fmt.Errorf("decode identity: %w", err)
	}
	blk, _ := pem.Decode(sid.GetIdBytes())
	if blk == nil {
		return nil, fmt.Errorf("identity of %s holds no PEM certificate", sid.GetMspid())
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s: %w", sid.GetMspid(), err)
	}
	id := &ident{raw: raw, msp: sid.GetMspid(), cert: cert}
	m := c.msps[sid.GetMspid()]
	if m == nil {
		return id, fmt.Errorf("%s (%s) is not an organisation of the channel configuration of block %d", cert.Subject.CommonName, sid.GetMspid(), c.block)
	}
	id.def = m
	chains, err := cert.Verify(x509.VerifyOptions{Roots: m.roots, Intermediates: m.intermediates, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return id, fmt.Errorf("%s does not chain to %s's root certificates: %v", cert.Subject.CommonName, sid.GetMspid(), err)
	}
	if len(chains) > 0 {
		k.from, k.to = chains[0][0].NotBefore, chains[0][0].NotAfter
		for _, ca := range chains[0][1:] {
			k.from, k.to = later(k.from, ca.NotBefore), earlier(k.to, ca.NotAfter)
		}
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			if m.revoked[revokedKey(chain[i].RawIssuer, chain[i].SerialNumber)] {
				return id, fmt.Errorf("%s (%s) is revoked", chain[i].Subject.CommonName, sid.GetMspid())
			}
		}
	}
	return id, nil
}

// hasOU says whether the identity carries the node OU ou ("peer",
// "orderer", "client", "admin"); without node OUs every identity counts.
func (id *ident) hasOU(ou string) bool {
	return !id.def.nodeOUs || slices.Contains(id.cert.Subject.OrganizationalUnit, ou)
}

// verifySig checks an ECDSA signature over the SHA-256 of msg.
func verifySig(cert *x509.Certificate, msg, sig []byte) error {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%s has no ECDSA key", cert.Subject.CommonName)
	}
	d := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub, d[:], sig) {
		return fmt.Errorf("signature of %s does not verify", cert.Subject.CommonName)
	}
	return nil
}

// signed is one signature over data by a serialized identity.
type signed struct {
	identity, data, signature []byte
}

// satisfied evaluates policy p against the signatures at time at, as
// Fabric does: identities are counted once, a signature that does not
// verify or an identity that does not validate counts for nothing, and
// each signature satisfies at most one principal of an n-out-of rule.
func (c *config) satisfied(p policy, sigs []signed, at time.Time) error {
	var ids []*ident
	seen := map[string]bool{}
	var problems []string
	for _, s := range sigs {
		if seen[string(s.identity)] {
			continue
		}
		seen[string(s.identity)] = true
		id, err := c.identity(s.identity, at)
		if err == nil {
			err = verifySig(id.cert, s.data, s.signature)
		}
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		ids = append(ids, id)
	}
	if c.evaluate(p, ids) {
		return nil
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d valid signatures do not satisfy the policy (%s)", len(ids), problems[0])
	}
	return fmt.Errorf("%d valid signatures do not satisfy the policy", len(ids))
}

func (c *config) evaluate(p policy, ids []*ident) bool {
	switch {
	case p.signature != nil:
		used := make([]bool, len(ids))
		return evalRule(p.signature.GetRule(), p.signature.GetIdentities(), ids, used)
	case p.implicit != nil:
		subs := p.group.GetGroups()
		n, met := 0, 0
		for _, g := range subs {
			sp, err := groupPolicy(g, p.implicit.GetSubPolicy())
			if err != nil {
				continue
			}
			n++
			if c.evaluate(sp, ids) {
				met++
			}
		}
		switch p.implicit.GetRule() {
		case common.ImplicitMetaPolicy_ANY:
			return met >= 1
		case common.ImplicitMetaPolicy_ALL:
			return met == n
		case common.ImplicitMetaPolicy_MAJORITY:
			return met > n/2
		}
	}
	return false
}

func evalRule(r *common.SignaturePolicy, principals []*msp.MSPPrincipal, ids []*ident, used []bool) bool {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		if int(t.SignedBy) >= len(principals) {
			return false
		}
		for i, id := range ids {
			if !used[i] && satisfies(id, principals[t.SignedBy]) {
				used[i] = true
				return true
			}
		}
		return false
	case *common.SignaturePolicy_NOutOf_:
		met := 0
		trial := make([]bool, len(used))
		for _, sub := range t.NOutOf.GetRules() {
			copy(trial, used)
			if evalRule(sub, principals, ids, trial) {
				met++
				copy(used, trial)
			}
		}
		return met >= int(t.NOutOf.GetN())
	}
	return false
}

// satisfies says whether a validated identity matches a principal.
func satisfies(id *ident, p *msp.MSPPrincipal) bool {
	switch p.GetPrincipalClassification() {
	case msp.MSPPrincipal_ROLE:
		var r msp.MSPRole
		if proto.Unmarshal(p.GetPrincipal(), &r) != nil || r.GetMspIdentifier() != id.msp {
			return false
		}
		switch r.GetRole() {
		case msp.MSPRole_MEMBER:
			return true
		case msp.MSPRole_ADMIN:
			if slices.ContainsFunc(id.def.admins, func(a []byte) bool { return bytes.Equal(a, id.cert.Raw) }) {
				return true
			}
			return id.def.nodeOUs && slices.Contains(id.cert.Subject.OrganizationalUnit, "admin")
		case msp.MSPRole_PEER:
			return id.hasOU("peer")
		case msp.MSPRole_ORDERER:
			return id.hasOU("orderer")
		case msp.MSPRole_CLIENT:
			return id.hasOU("client")
		}
	case msp.MSPPrincipal_IDENTITY:
		var want msp.SerializedIdentity
		if proto.Unmarshal(p.GetPrincipal(), &want) != nil {
			return false
		}
		return want.GetMspid() == id.msp && sameCert(want.GetIdBytes(), id.cert)
	}
	return false
}

func sameCert(pemBytes []byte, cert *x509.Certificate) bool {
	blk, _ := pem.Decode(pemBytes)
	return blk != nil && bytes.Equal(blk.Bytes, cert.Raw)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
