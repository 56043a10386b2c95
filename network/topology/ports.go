package topology

import (
	"fmt"
	"slices"
)

// Node is one orderer or peer process and its three listeners.
type Node struct {
	Kind string // "orderer" or "peer"
	Name string // orderer1, or the organisation's node name
	MSP  string
	Host string
	// Port serves clients (and Raft, for an orderer; gossip, for a peer).
	Port int
	// Admin is the orderer's admin endpoint (osnadmin) or the peer's
	// chaincode listener.
	Admin int
	// Ops serves /healthz and /metrics.
	Ops int
}

// Nodes lists the orderers, then the peers, with ports from base:
// orderer i (from 1) on base+i-1, +10, +20; the peer in slot s on
// base+100+s, +110+s, +120+s.
func (t *Topology) Nodes(base int) []Node {
	var ns []Node
	for i, n := range t.Orderers.Nodes {
		ns = append(ns, Node{Kind: "orderer", Name: n, MSP: t.Orderers.MSP, Host: t.Host(n),
			Port: base + i, Admin: base + 10 + i, Ops: base + 20 + i})
	}
	for _, o := range t.Organisations {
		ns = append(ns, Node{Kind: "peer", Name: o.Node, MSP: o.MSP, Host: t.Host(o.Node),
			Port: base + 100 + o.Slot, Admin: base + 110 + o.Slot, Ops: base + 120 + o.Slot})
	}
	return ns
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

// Ports checks that no two listeners of the network share a port and that
// all of them lie in 1..MaxPort, and returns the nodes.
func (t *Topology) Ports(base int) ([]Node, error) {
	ns := t.Nodes(base)
	seen := map[int]string{}
	for _, n := range ns {
		for _, p := range []struct {
			what string
			port int
		}{{"port", n.Port}, {"admin port", n.Admin}, {"operations port", n.Ops}} {
			where := n.Name + " " + p.what
			if p.port < 1 || p.port > MaxPort {
				return nil, fmt.Errorf("%s %d is outside 1-%d: choose a lower base port", where, p.port, MaxPort)
			}
			if prev, dup := seen[p.port]; dup {
				return nil, fmt.Errorf("port clash: %s and %s are both %d", prev, where, p.port)
			}
			seen[p.port] = where
		}
	}
	return ns, nil
}
