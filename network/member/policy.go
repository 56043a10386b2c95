package member

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// This file checks signatures the way the orderer will, before anything
// is sent: which elements of the configuration an update changes (its
// delta: what the write set holds at another version than the read set),
// the mod policy of each in the configuration in force, and whether the
// signatures satisfy those policies. A policy that is not satisfied is
// reported with the organisations whose admins signed and those that
// could still sign.

// Needed is one policy an update must satisfy, and the elements that
// need it.
type Needed struct {
	Path     string   // /Channel/Application/Admins
	Elements []string // the changed elements it guards
}

// NeededPolicies lists the policies the update touches in cfg, in path
// order.
func NeededPolicies(cfg *cb.Config, cu *cb.ConfigUpdate) ([]Needed, error) {
	need := map[string][]string{}
	var walk func(path []string, cur, read, write *cb.ConfigGroup) error
	resolve := func(mod string, group []string, elem string) error {
		if mod == "" {
			return fmt.Errorf("%s has no mod policy", elem)
		}
		p := mod
		if !strings.HasPrefix(mod, "/") {
			p = "/" + strings.Join(append(slices.Clone(group), mod), "/")
		}
		need[p] = append(need[p], elem)
		return nil
	}
	walk = func(path []string, cur, read, write *cb.ConfigGroup) error {
		name := "/" + strings.Join(path, "/")
		if cur != nil && (read == nil || read.Version != write.Version) {
			if err := resolve(cur.ModPolicy, path, name); err != nil {
				return err
			}
		}
		for k, w := range write.Values {
			r, c := read.GetValues()[k], cur.GetValues()[k]
			if c != nil && (r == nil || r.Version != w.Version) {
				if err := resolve(c.ModPolicy, path, name+"/"+k); err != nil {
					return err
				}
			}
		}
		for k, w := range write.Policies {
			r, c := read.GetPolicies()[k], cur.GetPolicies()[k]
			if c != nil && (r == nil || r.Version != w.Version) {
				if err := resolve(c.ModPolicy, path, name+"/"+k); err != nil {
					return err
				}
			}
		}
		for k, w := range write.Groups {
			if err := walk(append(slices.Clone(path), k), cur.GetGroups()[k], read.GetGroups()[k], w); err != nil {
				return err
			}
		}
		return nil
	}
	if cu.GetWriteSet() == nil {
		return nil, errors.New("the update has no write set")
	}
	if err := walk([]string{"Channel"}, cfg.GetChannelGroup(), cu.GetReadSet(), cu.GetWriteSet()); err != nil {
		return nil, err
	}
	var out []Needed
	for p, els := range need {
		slices.Sort(els)
		out = append(out, Needed{Path: p, Elements: els})
	}
	slices.SortFunc(out, func(a, b Needed) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Stale reports the first element of the update's read set whose version
// differs from cfg's: the update was computed from another configuration.
func Stale(cfg *cb.Config, cu *cb.ConfigUpdate) string {
	var walk func(path string, cur, read *cb.ConfigGroup) string
	walk = func(path string, cur, read *cb.ConfigGroup) string {
		if cur == nil || cur.Version != read.Version {
			return path
		}
		for k, r := range read.Values {
			if c := cur.Values[k]; c == nil || c.Version != r.Version {
				return path + "/" + k
			}
		}
		for k, r := range read.Policies {
			if c := cur.Policies[k]; c == nil || c.Version != r.Version {
				return path + "/" + k
			}
		}
		for k, r := range read.Groups {
			if s := walk(path+"/"+k, cur.Groups[k], r); s != "" {
				return s
			}
		}
		return ""
	}
	if cu.GetReadSet() == nil {
		return ""
	}
	return walk("/Channel", cfg.GetChannelGroup(), cu.GetReadSet())
}

// msp is what the check needs of an organisation's MSP in the config.
type msp struct {
	id      string
	roots   *x509.CertPool
	inter   *x509.CertPool
	nodeOUs *mb.FabricNodeOUs
	admins  [][]byte
}

// msps reads every MSP of the configuration (Application and Orderer
// organisations).
func msps(cfg *cb.Config) (map[string]*msp, error) {
	out := map[string]*msp{}
	for _, g := range []string{"Application", "Orderer"} {
		for name, org := range cfg.GetChannelGroup().GetGroups()[g].GetGroups() {
			v := org.GetValues()["MSP"]
			if v == nil {
				continue
			}
			var mc mb.MSPConfig
			if err := proto.Unmarshal(v.Value, &mc); err != nil {
				return nil, fmt.Errorf("%s/%s/MSP: %w", g, name, err)
			}
			var fc mb.FabricMSPConfig
			if err := proto.Unmarshal(mc.Config, &fc); err != nil {
				return nil, fmt.Errorf("%s/%s/MSP: %w", g, name, err)
			}
			if _, ok := out[fc.Name]; ok {
				continue
			}
			m := &msp{id: fc.Name, roots: x509.NewCertPool(), inter: x509.NewCertPool(), nodeOUs: fc.FabricNodeOus, admins: fc.Admins}
			for _, c := range fc.RootCerts {
				m.roots.AppendCertsFromPEM(c)
			}
			for _, c := range fc.IntermediateCerts {
				m.inter.AppendCertsFromPEM(c)
			}
			out[fc.Name] = m
		}
	}
	return out, nil
}

// valid reports whether m issued cert and it is valid now.
func (m *msp) valid(cert *x509.Certificate, now time.Time) error {
	_, err := cert.Verify(x509.VerifyOptions{Roots: m.roots, Intermediates: m.inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

// role reports whether the certificate has the role in m (valid already).
func (m *msp) role(s *signer, r mb.MSPRole_MSPRoleType) bool {
	if r == mb.MSPRole_MEMBER {
		return true
	}
	if r == mb.MSPRole_ADMIN {
		for _, a := range m.admins {
			if bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(s.raw)) {
				return true
			}
		}
	}
	if m.nodeOUs == nil || !m.nodeOUs.Enable {
		return false
	}
	var id *mb.FabricOUIdentifier
	switch r {
	case mb.MSPRole_ADMIN:
		id = m.nodeOUs.AdminOuIdentifier
	case mb.MSPRole_CLIENT:
		id = m.nodeOUs.ClientOuIdentifier
	case mb.MSPRole_PEER:
		id = m.nodeOUs.PeerOuIdentifier
	case mb.MSPRole_ORDERER:
		id = m.nodeOUs.OrdererOuIdentifier
	}
	return id != nil && slices.Contains(s.cert.Subject.OrganizationalUnit, id.OrganizationalUnitIdentifier)
}

// evaluator evaluates the configuration's policies against signers.
type evaluator struct {
	cfg     *cb.Config
	msps    map[string]*msp
	signers []*signer
}

// outcome is a policy's evaluation: whether it holds, and for an
// implicit meta policy over organisations, which did and which did not.
type outcome struct {
	ok       bool
	rule     string
	need     int
	have     []string // sub-groups (organisations) whose policy holds
	lacking  []string // those whose policy does not
	subgroup bool
}

// policy evaluates the policy at an absolute path (/Channel/.../Name).
func (e *evaluator) policy(path string) (outcome, error) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 || parts[0] != "Channel" {
		return outcome{}, fmt.Errorf("policy path %s is not under /Channel", path)
	}
	g := e.cfg.GetChannelGroup()
	for _, p := range parts[1 : len(parts)-1] {
		if g = g.GetGroups()[p]; g == nil {
			return outcome{}, fmt.Errorf("policy %s: no group %s", path, p)
		}
	}
	return e.eval(g, parts[len(parts)-1], path)
}

func (e *evaluator) eval(g *cb.ConfigGroup, name, path string) (outcome, error) {
	cp := g.GetPolicies()[name]
	if cp == nil || cp.Policy == nil {
		return outcome{}, fmt.Errorf("no policy %s", path)
	}
	switch cb.Policy_PolicyType(cp.Policy.Type) {
	case cb.Policy_IMPLICIT_META:
		var im cb.ImplicitMetaPolicy
		if err := proto.Unmarshal(cp.Policy.Value, &im); err != nil {
			return outcome{}, fmt.Errorf("%s: %w", path, err)
		}
		o := outcome{subgroup: true}
		var subs []string
		for k := range g.Groups {
			subs = append(subs, k)
		}
		slices.Sort(subs)
		for _, k := range subs {
			sub, err := e.eval(g.Groups[k], im.SubPolicy, strings.TrimSuffix(path, "/"+name)+"/"+k+"/"+im.SubPolicy)
			if err != nil {
				return outcome{}, err
			}
			if sub.ok {
				o.have = append(o.have, k)
			} else {
				o.lacking = append(o.lacking, k)
			}
		}
		n := len(subs)
		switch im.Rule {
		case cb.ImplicitMetaPolicy_ANY:
			o.need = 1
		case cb.ImplicitMetaPolicy_ALL:
			o.need = n
		case cb.ImplicitMetaPolicy_MAJORITY:
			o.need = n/2 + 1
		}
		o.rule = fmt.Sprintf("%s %s of %d", im.Rule, im.SubPolicy, n)
		o.ok = len(o.have) >= o.need
		return o, nil
	case cb.Policy_SIGNATURE:
		var env cb.SignaturePolicyEnvelope
		if err := proto.Unmarshal(cp.Policy.Value, &env); err != nil {
			return outcome{}, fmt.Errorf("%s: %w", path, err)
		}
		used := make([]bool, len(e.signers))
		ok, err := e.signature(env.Rule, env.Identities, used)
		return outcome{ok: ok, rule: "signature policy"}, err
	}
	return outcome{}, fmt.Errorf("%s: policy type %d unknown", path, cp.Policy.Type)
}

// signature evaluates a signature policy as Fabric does: each signer
// counts once.
func (e *evaluator) signature(p *cb.SignaturePolicy, principals []*mb.MSPPrincipal, used []bool) (bool, error) {
	switch t := p.GetType().(type) {
	case *cb.SignaturePolicy_SignedBy:
		if int(t.SignedBy) >= len(principals) {
			return false, errors.New("signature policy names a principal it does not have")
		}
		for i, s := range e.signers {
			if used[i] {
				continue
			}
			ok, err := e.satisfies(s, principals[t.SignedBy])
			if err != nil {
				return false, err
			}
			if ok {
				used[i] = true
				return true, nil
			}
		}
		return false, nil
	case *cb.SignaturePolicy_NOutOf_:
		n := 0
		for _, r := range t.NOutOf.Rules {
			trial := slices.Clone(used)
			ok, err := e.signature(r, principals, trial)
			if err != nil {
				return false, err
			}
			if ok {
				copy(used, trial)
				n++
			}
		}
		return n >= int(t.NOutOf.N), nil
	}
	return false, errors.New("signature policy of an unknown kind")
}

func (e *evaluator) satisfies(s *signer, p *mb.MSPPrincipal) (bool, error) {
	switch p.PrincipalClassification {
	case mb.MSPPrincipal_ROLE:
		var r mb.MSPRole
		if err := proto.Unmarshal(p.Principal, &r); err != nil {
			return false, err
		}
		m := e.msps[r.MspIdentifier]
		return m != nil && s.mspID == r.MspIdentifier && m.role(s, r.Role), nil
	case mb.MSPPrincipal_IDENTITY:
		var id mb.SerializedIdentity
		if err := proto.Unmarshal(p.Principal, &id); err != nil {
			return false, err
		}
		return id.Mspid == s.mspID && bytes.Equal(id.IdBytes, s.raw), nil
	}
	return false, nil
}

// MissingError is Check's answer when the signatures do not satisfy a
// policy the update needs.
type MissingError struct {
	Policy   string
	Rule     string
	Need     int
	Have     []string
	Lacking  []string
	Elements []string
}

func (e *MissingError) Error() string {
	if e.Need == 0 {
		return fmt.Sprintf("policy %s (%s, guarding %s) is not satisfied by the signatures given", e.Policy, e.Rule, strings.Join(e.Elements, ", "))
	}
	have := "none"
	if len(e.Have) > 0 {
		have = strings.Join(e.Have, ", ")
	}
	return fmt.Sprintf("policy %s (%s: %d needed, guarding %s) is not satisfied: signed by %s; missing %d more admin signature(s) from: %s",
		e.Policy, e.Rule, e.Need, strings.Join(e.Elements, ", "), have, e.Need-len(e.Have), strings.Join(e.Lacking, ", "))
}

// pemCert parses a PEM certificate.
func pemCert(raw []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, errors.New("not PEM")
	}
	return x509.ParseCertificate(b.Bytes)
}
