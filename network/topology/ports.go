package topology

import (
	"fmt"
	"slices"
)

// Node is one orderer or peer process and its three listeners.
type Node struct {
	Kind string // "orderer" or "peer"
	Name string // the organisation's node name (peer) or <node>-orderer
	Org  string // the organisation's node name
	MSP  string
	Host string
	// Port serves clients (and SmartBFT, for an orderer; gossip, for a peer).
	Port int
	// Admin is the orderer's admin endpoint (osnadmin) or the peer's
	// chaincode listener.
	Admin int
	// Ops serves /healthz and /metrics.
	Ops int
}

// Nodes lists the organisations' orderers, then their peers, with ports
// from base: the organisation in slot s runs its orderer on base+s,
// base+10+s, base+20+s and its peer on base+100+s, +110+s, +120+s.
func (t *Topology) Nodes(base int) []Node {
	var ns []Node
	for _, o := range t.Organisations {
		ns = append(ns, Node{Kind: "orderer", Name: o.Orderer(), Org: o.Node, MSP: o.MSP, Host: t.Host(o.Orderer()),
			Port: base + o.Slot, Admin: base + 10 + o.Slot, Ops: base + 20 + o.Slot})
	}
	for _, o := range t.Organisations {
		ns = append(ns, Node{Kind: "peer", Name: o.Node, Org: o.Node, MSP: o.MSP, Host: t.Host(o.Node),
			Port: base + 100 + o.Slot, Admin: base + 110 + o.Slot, Ops: base + 120 + o.Slot})
	}
	return ns
}

// Orderers lists the organisations' orderer nodes, in topology order.
func (t *Topology) Orderers(base int) []Node {
	return slices.DeleteFunc(t.Nodes(base), func(n Node) bool { return n.Kind != "orderer" })
}

// CA is one organisation's Fabric CA server: one process serving two CAs,
// the enrolment CA (Name) and the TLS CA (TLSName), on one port.
type CA struct {
	Process string // ca-<node>
	Org     string // the organisation's node name
	MSP     string
	Domain  string // the organisation's domain
	Name    string // enrolment CA: ca-<node>
	TLSName string // TLS CA: tlsca-<node>
	Port    int
	Ops     int // /healthz and /metrics
}

// URL is the CA server's address.
func (c CA) URL() string { return fmt.Sprintf("https://127.0.0.1:%d", c.Port) }

// CAs lists the organisations' CA servers: the member in slot s listens
// on base+40+s (operations base+50+s). Each issues its organisation's
// peer, orderer and users.
func (t *Topology) CAs(base int) []CA {
	var cas []CA
	for _, o := range t.Organisations {
		cas = append(cas, CA{Process: "ca-" + o.Node, Org: o.Node, MSP: o.MSP, Domain: t.OrgDomain(o.Node),
			Name: "ca-" + o.Node, TLSName: "tlsca-" + o.Node, Port: base + 40 + o.Slot, Ops: base + 50 + o.Slot})
	}
	return cas
}

// CA returns the CA server of the organisation whose node name is org.
func (t *Topology) CA(base int, org string) (CA, bool) {
	cas := t.CAs(base)
	i := slices.IndexFunc(cas, func(c CA) bool { return c.Org == org })
	if i < 0 {
		return CA{}, false
	}
	return cas[i], true
}

// Node returns the node called name.
func (t *Topology) Node(base int, name string) (Node, bool) {
	ns := t.Nodes(base)
	i := slices.IndexFunc(ns, func(n Node) bool { return n.Name == name })
	if i < 0 {
		return Node{}, false
	}
	return ns[i], true
}

// Ports checks that no two listeners of the network (nodes and CAs)
// share a port and that all of them lie in 1..MaxPort, and returns the
// nodes.
func (t *Topology) Ports(base int) ([]Node, error) {
	ns := t.Nodes(base)
	seen := map[int]string{}
	claim := func(where string, port int) error {
		if port < 1 || port > MaxPort {
			return fmt.Errorf("%s %d is outside 1-%d: choose a lower base port", where, port, MaxPort)
		}
		if prev, dup := seen[port]; dup {
			return fmt.Errorf("port clash: %s and %s are both %d", prev, where, port)
		}
		seen[port] = where
		return nil
	}
	for _, n := range ns {
		for _, err := range []error{claim(n.Name+" port", n.Port), claim(n.Name+" admin port", n.Admin),
			claim(n.Name+" operations port", n.Ops)} {
			if err != nil {
				return nil, err
			}
		}
	}
	for _, c := range t.CAs(base) {
		if err := claim(c.Process+" port", c.Port); err != nil {
			return nil, err
		}
		if err := claim(c.Process+" operations port", c.Ops); err != nil {
			return nil, err
		}
	}
	return ns, nil
}
