// Package member is one organisation's part in running the mtrace
// consortium from its own host, holding only its own keys. Every step
// works on the organisation's folder (its home) and on files the members
// mail each other, which carry public material and signatures only:
//
//	<org>.member.json   a member card: the organisation's MSP (root and
//	                    TLS root certificates, node OUs), its admin's
//	                    certificate, its peer and its orderer (endpoint,
//	                    enrolment and TLS certificates)
//	genesis.block       the channel's first block, built by any founder
//	                    from the founders' cards and checked by each
//	<name>.update       a proposed channel configuration update
//	<name>.<MSP>.sig    one organisation admin's signature over an update
//
// The steps are Init and Enrol (the organisation's identities from its own
// Fabric CA), Export (the card), Genesis and Inspect (the channel's first
// block), AddMember and RemoveMember (updates), Sign, Check and Submit
// (signatures and the policies an update touches), Join (the
// organisation's own orderer) and ForeignKeys (a check that a folder
// holds no other organisation's private key). Each reads and writes named
// files, writes nothing on bad input, and can be run again.
//
// The home's layout:
//
//	member.yaml                 the organisation's settings (Settings)
//	ca/<node>/                  its Fabric CA server (network/pki)
//	crypto/                     its MSP folders, cryptogen's layout:
//	  ca/, tlsca/, msp/         CA certificates and the channel MSP
//	  peers/<peer host>/        the peer's msp/ and tls/
//	  orderers/<orderer host>/  the orderer's msp/ and tls/
//	  users/Admin@<domain>/     the admin's msp/ and tls/ (client)
package member

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/network/pki"
	"github.com/mtrace/mtrace/network/topology"
)

// SettingsFile is the settings' file name in the home.
const SettingsFile = "member.yaml"

// Settings are an organisation's choices, made once at Init.
type Settings struct {
	MSPID string `yaml:"msp_id"` // e.g. KaunasMSP
	Node  string `yaml:"node"`   // short lower-case name, e.g. kaunas
	Role  string `yaml:"role"`   // mtrace role: collector, recycler, maker, auditor
	Name  string `yaml:"name"`   // display name
	// Domain names the organisation's hosts (peer0.<domain>,
	// orderer0.<domain>); default <node>.mtrace.example.
	Domain string `yaml:"domain"`
	// Host is the address other members reach this organisation's peer
	// and orderer at (an IP address or a DNS name); it is in their TLS
	// certificates.
	Host  string `yaml:"host"`
	Ports Ports  `yaml:"ports"`
}

// Ports are the organisation's listeners. Peer and Orderer face the
// other members; the rest stay on the host.
type Ports struct {
	Peer         int `yaml:"peer"`
	Orderer      int `yaml:"orderer"`
	OrdererAdmin int `yaml:"orderer_admin"`
	PeerOps      int `yaml:"peer_operations"`
	OrdererOps   int `yaml:"orderer_operations"`
	CA           int `yaml:"ca"`
	CAOps        int `yaml:"ca_operations"`
	// Chaincode is the peer's listener for its chaincode processes, on
	// the host's loopback.
	Chaincode int `yaml:"chaincode"`
}

// DefaultPorts are the ports of a member alone on its host.
var DefaultPorts = Ports{Peer: 7051, Orderer: 7050, OrdererAdmin: 7053, PeerOps: 9444, OrdererOps: 9443, CA: 7054, CAOps: 9445, Chaincode: 7052}

var (
	nodePattern   = regexp.MustCompile(`^[a-z][a-z0-9]{0,30}$`)
	mspPattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.-]{0,62}$`)
	domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// Normalize fills in the defaults: the domain and unset ports.
func (s *Settings) Normalize() {
	if s.Domain == "" && s.Node != "" {
		s.Domain = s.Node + ".mtrace.example"
	}
	for _, p := range []struct {
		into *int
		def  int
	}{
		{&s.Ports.Peer, DefaultPorts.Peer}, {&s.Ports.Orderer, DefaultPorts.Orderer},
		{&s.Ports.OrdererAdmin, DefaultPorts.OrdererAdmin}, {&s.Ports.PeerOps, DefaultPorts.PeerOps},
		{&s.Ports.OrdererOps, DefaultPorts.OrdererOps}, {&s.Ports.CA, DefaultPorts.CA},
		{&s.Ports.CAOps, DefaultPorts.CAOps}, {&s.Ports.Chaincode, DefaultPorts.Chaincode},
	} {
		if *p.into == 0 {
			*p.into = p.def
		}
	}
}

// Validate checks every setting and names the first that is wrong.
func (s Settings) Validate() error {
	if !mspPattern.MatchString(s.MSPID) {
		return fmt.Errorf("msp_id: must be letters, digits, dots or dashes starting with a letter, such as KaunasMSP, got %q", s.MSPID)
	}
	if !nodePattern.MatchString(s.Node) {
		return fmt.Errorf("node: must be a lower-case name of letters and digits starting with a letter, such as kaunas, got %q", s.Node)
	}
	if _, err := model.ParseRole(s.Role); err != nil {
		return fmt.Errorf("role: %w", err)
	}
	if strings.TrimSpace(s.Name) == "" {
		return errors.New("name: the organisation's display name is required")
	}
	if !domainPattern.MatchString(s.Domain) {
		return fmt.Errorf("domain: not a domain name: %q", s.Domain)
	}
	if net.ParseIP(s.Host) == nil && !hostPattern.MatchString(s.Host) {
		return fmt.Errorf("host: not an IP address or host name: %q", s.Host)
	}
	seen := map[int]string{}
	for _, p := range []struct {
		name string
		port int
	}{
		{"peer", s.Ports.Peer}, {"orderer", s.Ports.Orderer}, {"orderer_admin", s.Ports.OrdererAdmin},
		{"peer_operations", s.Ports.PeerOps}, {"orderer_operations", s.Ports.OrdererOps},
		{"ca", s.Ports.CA}, {"ca_operations", s.Ports.CAOps}, {"chaincode", s.Ports.Chaincode},
	} {
		if p.port < 1 || p.port > 65535 {
			return fmt.Errorf("ports.%s: %d is not a port", p.name, p.port)
		}
		if other, dup := seen[p.port]; dup {
			return fmt.Errorf("ports.%s: %d is also ports.%s", p.name, p.port, other)
		}
		seen[p.port] = p.name
	}
	return nil
}

// PeerHost and OrdererHost are the nodes' names, in their certificates
// beside Host.
func (s Settings) PeerHost() string    { return "peer0." + s.Domain }
func (s Settings) OrdererHost() string { return "orderer0." + s.Domain }

// Home is an organisation's folder with its settings.
type Home struct {
	Dir string
	Settings
	// CryptoDir, when set, is the folder of the organisation's MSP
	// folders instead of Dir/crypto: in the single-machine network
	// (Local) every organisation's lie side by side under
	// MTRACE_HOME/crypto/peerOrganizations.
	CryptoDir string
	// Via, when set, is the orderer the peer CLI sends the
	// organisation's transactions to first, instead of its own (the
	// single-machine network sends them to the SmartBFT leader, which
	// by definition orders); submitVia still tries every other
	// consenter when that one does not order them in time.
	Via *Via
}

// Via is an orderer of another organisation: its address, the host name
// in its TLS certificate and its organisation's TLS root certificate.
type Via struct {
	Addr, ServerName, CAFile string
}

// Open reads the settings of the organisation whose folder is dir.
func Open(dir string) (*Home, error) {
	path := filepath.Join(dir, SettingsFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no settings: is %s an organisation's folder (run init first)?", path, dir)
	}
	if err != nil {
		return nil, err
	}
	var s Settings
	if err := strictYAML(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Normalize()
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Home{Dir: dir, Settings: s}, nil
}

func strictYAML(raw []byte, into any) error {
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	return dec.Decode(into)
}

// CA is the organisation's CA server as network/pki knows it.
func (h *Home) CA() topology.CA {
	return topology.CA{Process: "ca-" + h.Node, Org: h.Node, MSP: h.MSPID, Domain: h.Domain,
		Name: "ca-" + h.Node, TLSName: "tlsca-" + h.Node, Port: h.Ports.CA, Ops: h.Ports.CAOps}
}

// Crypto is the folder of the MSP folders.
func (h *Home) Crypto() string {
	if h.CryptoDir != "" {
		return h.CryptoDir
	}
	return filepath.Join(h.Dir, "crypto")
}

// Org is the organisation's identities: its peer, its orderer (enrolled
// with type orderer), its admin and User1 (an operator, the everyday
// identity of the mtrace CLI). The nodes' TLS certificates name Host
// beside the node's name, localhost and 127.0.0.1.
func (h *Home) Org() pki.Org {
	dir := h.Crypto()
	hosts := func(name string) []string {
		hs := []string{name, h.Host}
		for _, x := range []string{"localhost", "127.0.0.1"} {
			if x != h.Host {
				hs = append(hs, x)
			}
		}
		return hs
	}
	admin, user := "Admin@"+h.Domain, "User1@"+h.Domain
	return pki.Org{CA: h.CA(), Dir: dir, Holders: []pki.Holder{
		{ID: h.PeerHost(), Type: "peer", Dir: filepath.Join(dir, "peers", h.PeerHost()), File: h.PeerHost(), Hosts: hosts(h.PeerHost())},
		{ID: h.OrdererHost(), Type: "orderer", Dir: filepath.Join(dir, "orderers", h.OrdererHost()), File: h.OrdererHost(), Hosts: hosts(h.OrdererHost())},
		{ID: admin, Type: "admin", Role: model.PersonAdmin, Dir: filepath.Join(dir, "users", admin), File: admin},
		{ID: user, Type: "client", Role: model.PersonOperator, Dir: filepath.Join(dir, "users", user), File: user},
	}}
}

// Paths of the identities' folders.
func (h *Home) MSPDir() string     { return filepath.Join(h.Crypto(), "msp") }
func (h *Home) AdminDir() string   { return filepath.Join(h.Crypto(), "users", "Admin@"+h.Domain) }
func (h *Home) UserDir() string    { return filepath.Join(h.Crypto(), "users", "User1@"+h.Domain) }
func (h *Home) PeerDir() string    { return filepath.Join(h.Crypto(), "peers", h.PeerHost()) }
func (h *Home) OrdererDir() string { return filepath.Join(h.Crypto(), "orderers", h.OrdererHost()) }
