// Package topology reads and checks the consortium file
// (network/consortium.yaml): the channel and the member organisations with
// their mtrace roles. Every member runs one peer and one orderer, a SmartBFT
// consenter: there is no separate ordering organisation. It derives every
// node's ports from a base port and the organisation's slot, and it
// writes the mtrace CLI's profiles (network/member builds the channel's
// genesis block from each organisation's card). It also names each organisation's people (with
// their in-house roles) and places each organisation's Fabric CA server
// (network/pki enrols the identities from them).
//
// The domain rules for an organisation's registry entry (MSP ID, role,
// display name) are chaincode/model's; this package adds the network's
// own: unique MSP IDs, node names and slots, at least one collector, and
// ports that neither clash nor leave the range below 32768.
package topology

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/chaincode/model"
)

// Slots is how many member organisations a network can place: slot 0 to
// Slots-1. Each takes three ports for its orderer from base+0, base+10 and
// base+20, two for its CA from base+40 and base+50, and three for its peer
// from base+100, base+110 and base+120.
const Slots = 10

// MaxPort is the highest port a node may listen on: every listener stays
// below the ephemeral range.
const MaxPort = 32767

// Span is how many ports above the base a network may use; two networks
// whose bases are at least Span apart never clash. The Fabric CAs use
// base+40 to base+59 (ports.go), between the orderers' and the peers'.
const Span = 100 + 2*10 + Slots

// OrdererSuffix ends the name of an organisation's orderer node:
// <node>-orderer.
const OrdererSuffix = "-orderer"

// The consensus types a network can be created with.
const (
	ConsensusBFT  = "bft"
	ConsensusRaft = "raft"
)

// Topology is one consortium file.
type Topology struct {
	Channel       string `yaml:"channel"`
	Domain        string `yaml:"domain"`
	Organisations []Org  `yaml:"organisations"`
	// Consensus is how the members' orderers order: ConsensusBFT (the
	// default, also when empty) or ConsensusRaft, the same orderers as
	// etcdraft consenters, for benchmarks only. It is fixed when the
	// network is created.
	Consensus string `yaml:"consensus,omitempty"`
	// Legacy is the orderers section of a consortium file made before the
	// members ran the ordering themselves (one organisation with Raft
	// orderers); it is refused with an explanation.
	Legacy any `yaml:"orderers,omitempty"`
}

// Org is one member organisation with one peer.
type Org struct {
	Node string     `yaml:"node"`
	MSP  string     `yaml:"msp"`
	Role model.Role `yaml:"role"`
	Name string     `yaml:"name"`
	Slot int        `yaml:"slot"`
	// Peers is how many peers the organisation runs; only 1 is supported.
	Peers int `yaml:"peers,omitempty"`
	// People are the organisation's named identities besides Admin and
	// User1: each is enrolled from the organisation's CA with its role
	// and gets the CLI profile <node>-<name>.
	People []Person `yaml:"people,omitempty"`
}

// Person is one named identity of an organisation and its in-house role,
// which the enrolment certificate carries as the attribute mtrace.role.
type Person struct {
	Name string `yaml:"name"`
	// Role is the person's in-house role (attribute mtrace.role).
	Role model.PersonRole `yaml:"role"`
}

// personPattern is a person's name: it becomes an enrolment ID, part of a
// CLI profile name and of a folder name.
var personPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,30}$`)

// equal reports whether two organisation entries are the same.
func (o Org) equal(p Org) bool {
	return o.Node == p.Node && o.MSP == p.MSP && o.Role == p.Role && o.Name == p.Name &&
		o.Slot == p.Slot && o.Peers == p.Peers && slices.Equal(o.People, p.People)
}

// Participant is the organisation's registry entry.
func (o Org) Participant() model.Participant {
	return model.Participant{MSP: o.MSP, Role: o.Role, Name: o.Name}
}

// nodePattern is a node name: a DNS label, since it becomes part of the
// peer's host name, and safe in file names and shell words.
var nodePattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,30}$`)

// domainPattern is a DNS name of two or more labels.
var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// channelPattern is Fabric's rule for channel names.
var channelPattern = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)

// Load reads and validates a consortium file.
func Load(path string) (*Topology, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse decodes and validates a consortium file's content. Unknown fields
// are errors, so that a misspelt key is not silently ignored.
func Parse(raw []byte) (*Topology, error) {
	var t Topology
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks the whole topology; the error names the first field at
// fault.
func (t *Topology) Validate() error {
	if !channelPattern.MatchString(t.Channel) {
		return fmt.Errorf("channel: must be a Fabric channel name (lower case letters, digits, '.' and '-', starting with a letter), got %q", t.Channel)
	}
	if !domainPattern.MatchString(t.Domain) {
		return fmt.Errorf("domain: must be a DNS name such as mtrace.local, got %q", t.Domain)
	}
	if t.Legacy != nil {
		return errors.New("orderers: a separate ordering organisation is no longer supported: every member organisation runs its own orderer, a SmartBFT consenter; remove the orderers section (network/README.md)")
	}
	if t.Consensus != "" && t.Consensus != ConsensusBFT && t.Consensus != ConsensusRaft {
		return fmt.Errorf("consensus: must be %s or %s, got %q", ConsensusBFT, ConsensusRaft, t.Consensus)
	}
	if len(t.Organisations) == 0 {
		return errors.New("organisations: the consortium needs at least one member organisation")
	}
	msps := map[string]string{}
	nodes := map[string]string{}
	slots := map[int]string{}
	collector := false
	for i, o := range t.Organisations {
		f := fmt.Sprintf("organisations[%d]", i)
		if err := o.validate(f); err != nil {
			return err
		}
		if prev, dup := msps[o.MSP]; dup {
			return fmt.Errorf("%s.msp: duplicate MSP ID %s (also %s)", f, o.MSP, prev)
		}
		msps[o.MSP] = f + ".msp"
		if prev, dup := nodes[o.Node]; dup {
			return fmt.Errorf("%s.node: duplicate node name %s (also %s)", f, o.Node, prev)
		}
		nodes[o.Node] = f + ".node"
		if prev, dup := slots[o.Slot]; dup {
			return fmt.Errorf("%s.slot: port clash: slot %d is taken by %s, so both peers would listen on the same ports", f, o.Slot, prev)
		}
		slots[o.Slot] = f
		collector = collector || o.Role == model.RoleCollector
	}
	if !collector {
		return errors.New("organisations: no collector: at least one organisation must have the role collector, or no material can enter the ledger")
	}
	// Slots and node counts keep the ports apart by construction; this
	// check holds whatever the scheme becomes.
	_, err := t.Ports(1)
	return err
}

func (o Org) validate(f string) error {
	if err := o.Participant().Validate(f); err != nil {
		return err
	}
	if !nodePattern.MatchString(o.Node) {
		return fmt.Errorf("%s.node: must be a lower-case name of letters and digits starting with a letter, such as kaunas, got %q", f, o.Node)
	}
	if strings.HasPrefix(o.Node, "orderer") || strings.HasPrefix(o.Node, "cc") {
		return fmt.Errorf("%s.node: %q is reserved (orderer* and cc* name other processes)", f, o.Node)
	}
	if o.Slot < 0 || o.Slot >= Slots {
		return fmt.Errorf("%s.slot: must be 0 to %d, got %d", f, Slots-1, o.Slot)
	}
	if o.Peers != 0 && o.Peers != 1 {
		return fmt.Errorf("%s.peers: only one peer per organisation is supported, got %d", f, o.Peers)
	}
	seen := map[string]bool{}
	for i, p := range o.People {
		pf := fmt.Sprintf("%s.people[%d]", f, i)
		if !personPattern.MatchString(p.Name) {
			return fmt.Errorf("%s.name: must be a lower-case name of letters and digits starting with a letter, such as ayse, got %q", pf, p.Name)
		}
		if p.Name == "admin" || p.Name == "user1" {
			return fmt.Errorf("%s.name: %q is reserved (the organisation's Admin and User1 have the profiles %s-admin and %s)", pf, p.Name, o.Node, o.Node)
		}
		if seen[p.Name] {
			return fmt.Errorf("%s.name: duplicate person %s in %s", pf, p.Name, o.Node)
		}
		seen[p.Name] = true
		if !p.Role.Known() {
			return fmt.Errorf("%s.role: %s's role must be one of %s, got %q", pf, p.Name, strings.Join(model.PersonRoleNames(), ", "), p.Role)
		}
	}
	return nil
}

// ConsensusType is the network's consensus: ConsensusRaft or, by default,
// ConsensusBFT.
func (t *Topology) ConsensusType() string {
	if t.Consensus == ConsensusRaft {
		return ConsensusRaft
	}
	return ConsensusBFT
}

// Raft reports whether the members' orderers are etcdraft consenters.
func (t *Topology) Raft() bool { return t.ConsensusType() == ConsensusRaft }

// Org returns the organisation whose node name or MSP ID is key.
func (t *Topology) Org(key string) (Org, bool) {
	i := slices.IndexFunc(t.Organisations, func(o Org) bool { return o.Node == key || o.MSP == key })
	if i < 0 {
		return Org{}, false
	}
	return t.Organisations[i], true
}

// FreeSlot is the lowest slot no organisation holds, or -1.
func (t *Topology) FreeSlot() int {
	for s := range Slots {
		if !slices.ContainsFunc(t.Organisations, func(o Org) bool { return o.Slot == s }) {
			return s
		}
	}
	return -1
}

// With returns a copy of the topology with o added, validated. An entry
// equal to one already there returns the topology unchanged and added
// false; an entry that conflicts with one there is an error.
func (t *Topology) With(o Org) (next *Topology, added bool, err error) {
	if cur, ok := t.Org(o.MSP); ok {
		if o.Slot < 0 {
			o.Slot = cur.Slot
		}
		if cur.equal(o) {
			return t, false, nil
		}
		return nil, false, fmt.Errorf("%s is already in the consortium as %+v", o.MSP, cur)
	}
	if o.Slot < 0 {
		if o.Slot = t.FreeSlot(); o.Slot < 0 {
			return nil, false, fmt.Errorf("all %d slots are taken: the network has no ports left for another organisation", Slots)
		}
	}
	n := *t
	n.Organisations = append(slices.Clone(t.Organisations), o)
	if err := n.Validate(); err != nil {
		return nil, false, err
	}
	return &n, true, nil
}

// Without returns a copy of the topology without the organisation whose
// node or MSP ID is key, validated (the last collector cannot leave).
func (t *Topology) Without(key string) (*Topology, error) {
	o, ok := t.Org(key)
	if !ok {
		return nil, fmt.Errorf("no organisation %s in the consortium", key)
	}
	n := *t
	n.Organisations = slices.DeleteFunc(slices.Clone(t.Organisations), func(x Org) bool { return x.MSP == o.MSP })
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("without %s: %w", o.MSP, err)
	}
	return &n, nil
}

// Marshal encodes the topology as a consortium file.
func (t *Topology) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# The consortium as this network runs it (written by mtrace-net).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// Save writes the topology to path.
func (t *Topology) Save(path string) error {
	raw, err := t.Marshal()
	if err != nil {
		return err
	}
	return WriteFile(path, raw)
}

// WriteFile writes a generated file through a temporary one, so that a
// reader never sees half of it.
func WriteFile(path string, raw []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Participants lists the registry entries the network bootstraps with.
func (t *Topology) Participants() []model.Participant {
	ps := make([]model.Participant, len(t.Organisations))
	for i, o := range t.Organisations {
		ps[i] = o.Participant()
	}
	return ps
}

// Policy is the chaincode-level endorsement policy: peers of any two
// member organisations (of the only one, in a consortium of one).
func (t *Topology) Policy() string {
	ids := make([]string, len(t.Organisations))
	for i, o := range t.Organisations {
		ids[i] = fmt.Sprintf("'%s.peer'", o.MSP)
	}
	return fmt.Sprintf("OutOf(%d,%s)", min(2, len(ids)), strings.Join(ids, ","))
}

// Orderer is the name of the organisation's orderer node: <node>-orderer.
func (o Org) Orderer() string { return o.Node + OrdererSuffix }

// Host is a node's host name: orderer0.<org>.<domain> for an
// organisation's orderer (<org>-orderer), peer0.<node>.<domain> for its
// peer.
func (t *Topology) Host(node string) string {
	if org, ok := strings.CutSuffix(node, OrdererSuffix); ok {
		return "orderer0." + t.OrgDomain(org)
	}
	return "peer0." + t.OrgDomain(node)
}

// OrgDomain is a member organisation's domain.
func (t *Topology) OrgDomain(node string) string { return node + "." + t.Domain }
