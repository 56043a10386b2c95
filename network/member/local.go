package member

import (
	"fmt"
	"path/filepath"

	"github.com/mtrace/mtrace/network/topology"
)

// LocalHost is where every node of the single-machine network listens.
const LocalHost = "127.0.0.1"

// Local is the organisation whose node name is node in the single-machine
// network that scripts/network.sh runs in home from the consortium file
// t on base: its settings (MSP ID, role, name, the domain <node>.<the
// file's domain>, host 127.0.0.1, the ports t gives its slot) and its
// MSP folders, crypto/peerOrganizations/<domain> under home, which
// network/pki enrols in the same layout as a member's own folder. The
// steps of this package then act for the organisation there as they do
// on a member's host: the single-machine network is the consortium's
// members run side by side, not a second way to build it.
func Local(t *topology.Topology, base int, home, node string) (*Home, error) {
	org, ok := t.Org(node)
	if !ok {
		return nil, fmt.Errorf("no organisation %s in the consortium file", node)
	}
	peer, _ := t.Node(base, org.Node)
	ord, _ := t.Node(base, org.Orderer())
	ca, _ := t.CA(base, org.Node)
	s := Settings{MSPID: org.MSP, Node: org.Node, Role: string(org.Role), Name: org.Name,
		Domain: t.OrgDomain(org.Node), Host: LocalHost,
		Ports: Ports{Peer: peer.Port, Orderer: ord.Port, OrdererAdmin: ord.Admin, PeerOps: peer.Ops,
			OrdererOps: ord.Ops, CA: ca.Port, CAOps: ca.Ops, Chaincode: peer.Admin}}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("organisation %s: %w", node, err)
	}
	return &Home{Dir: home, Settings: s,
		CryptoDir: filepath.Join(home, "crypto", "peerOrganizations", s.Domain)}, nil
}

// LocalCards are the member cards of every organisation of the
// single-machine network, in the consortium file's order, each read from
// its MSP folders by Export.
func LocalCards(t *topology.Topology, base int, home string) ([]*Card, error) {
	var cards []*Card
	for _, o := range t.Organisations {
		h, err := Local(t, base, home, o.Node)
		if err != nil {
			return nil, err
		}
		c, err := h.Export()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.MSP, err)
		}
		cards = append(cards, c)
	}
	return cards, nil
}
