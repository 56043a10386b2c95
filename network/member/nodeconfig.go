package member

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NodeFiles name what a member's nodes are configured from: Fabric's
// sample configuration (its orderer.yaml and core.yaml, every setting
// with Fabric's default) and mtrace's external chaincode builder.
type NodeFiles struct {
	// Sample is Fabric's sampleconfig folder (the Fabric module's
	// sampleconfig/, which network/tools pins).
	Sample string
	// Builder is the external builder's folder (network/builder), whose
	// bin/ runs a chaincode package's prebuilt binary.
	Builder string
	// Members are member cards whose TLS roots the orderer trusts for
	// client certificates from the start. The orderer adds the channel
	// members' TLS roots by itself once it has joined; before that, a
	// consenter that joined earlier and dials it is refused (Go's TLS
	// client sends no certificate the server's list of CAs does not
	// name), and on Fabric v3.1.1 such a refused start left a consenter
	// that never ordered what it received.
	Members []*Card
}

// ConfigDir is the folder of a node's configuration file (FABRIC_CFG_PATH):
// config/orderer (orderer.yaml) and config/peer (core.yaml).
func (h *Home) ConfigDir(node string) string { return filepath.Join(h.Dir, "config", node) }

// DataDir is a node's ledger folder.
func (h *Home) DataDir(node string) string { return filepath.Join(h.Dir, "data", node) }

// PeerAddress and OrdererAddress are where the other members reach the
// organisation's nodes (host:port).
func (h *Home) PeerAddress() string { return net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Peer)) }
func (h *Home) OrdererAddress() string {
	return net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Orderer))
}

// local is a listener that stays on the host (admin, operations,
// chaincode).
func local(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// OrdererSettings are the orderer.yaml settings the member sets over
// Fabric's sample, by path: the main listener on the member's host
// address with TLS and client authentication (the orderer itself adds the
// TLS roots of the channels' members), channel participation, the admin
// endpoint on the host's loopback with TLS and client authentication by
// the organisation's TLS CA, the operations endpoint, and the ledger in
// data/orderer, and replication by the "simple" block puller.
func (h *Home) OrdererSettings(trusted ...string) map[string]any {
	d := h.OrdererDir()
	tls := func(f string) string { return filepath.Join(d, "tls", f) }
	data := h.DataDir("orderer")
	clientRoots := append([]string{tls("ca.crt")}, trusted...)
	return map[string]any{
		"General.ListenAddress":          h.Host,
		"General.ListenPort":             h.Ports.Orderer,
		"General.LocalMSPID":             h.MSPID,
		"General.LocalMSPDir":            filepath.Join(d, "msp"),
		"General.TLS.Enabled":            true,
		"General.TLS.Certificate":        tls("server.crt"),
		"General.TLS.PrivateKey":         tls("server.key"),
		"General.TLS.RootCAs":            []string{tls("ca.crt")},
		"General.TLS.ClientAuthRequired": true,
		"General.TLS.ClientRootCAs":      clientRoots,
		// A consenter that restarts behind catches up with Fabric's
		// cluster block puller: the default "consensus" policy's
		// deliverer in Fabric v3.1.1 sends no TLS certificate hash, so
		// orderers that require client certificates refuse it with
		// BAD_REQUEST and it never catches up.
		"General.Cluster.ReplicationPolicy": "simple",
		"FileLedger.Location":               filepath.Join(data, "ledger"),
		"Consensus.WALDir":                  filepath.Join(data, "wal"),
		"Consensus.SnapDir":                 filepath.Join(data, "snap"),
		"ChannelParticipation.Enabled":      true,
		"Operations.ListenAddress":          local(h.Ports.OrdererOps),
		"Metrics.Provider":                  "prometheus",
		"Admin.ListenAddress":               local(h.Ports.OrdererAdmin),
		"Admin.TLS.Enabled":                 true,
		"Admin.TLS.Certificate":             tls("server.crt"),
		"Admin.TLS.PrivateKey":              tls("server.key"),
		"Admin.TLS.RootCAs":                 []string{tls("ca.crt")},
		"Admin.TLS.ClientAuthRequired":      true,
		"Admin.TLS.ClientRootCAs":           []string{tls("ca.crt")},
	}
}

// PeerSettings are the core.yaml settings the member sets over Fabric's
// sample: the peer on the member's host address (also its gossip
// endpoint, which service discovery hands to the other members), TLS, the
// chaincode listener on the host's loopback, the operations endpoint, no
// Docker, and mtrace's external builder, which runs the package's binary
// as a client of the peer (it finds MTRACE_HOME and MTRACE_PEER in the
// peer's environment, and writes the chaincode's PID and log there).
func (h *Home) PeerSettings(builder string) map[string]any {
	d := h.PeerDir()
	tls := func(f string) string { return filepath.Join(d, "tls", f) }
	addr := h.PeerAddress()
	listen := net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Peer))
	cc := local(h.Ports.Chaincode)
	data := h.DataDir("peer")
	return map[string]any{
		"peer.id":                       h.PeerHost(),
		"peer.localMspId":               h.MSPID,
		"peer.mspConfigPath":            filepath.Join(d, "msp"),
		"peer.address":                  addr,
		"peer.listenAddress":            listen,
		"peer.chaincodeAddress":         cc,
		"peer.chaincodeListenAddress":   cc,
		"peer.gossip.bootstrap":         addr,
		"peer.gossip.externalEndpoint":  addr,
		"peer.gossip.reconnectInterval": "2s",
		"peer.tls.enabled":              true,
		"peer.tls.cert.file":            tls("server.crt"),
		"peer.tls.key.file":             tls("server.key"),
		"peer.tls.rootcert.file":        tls("ca.crt"),
		"peer.fileSystemPath":           data,
		"ledger.snapshots.rootDir":      filepath.Join(data, "snapshots"),
		"operations.listenAddress":      local(h.Ports.PeerOps),
		"metrics.provider":              "prometheus",
		"vm.endpoint":                   "",
		"chaincode.externalBuilders": []map[string]any{{
			"name": "mtrace-binary", "path": builder,
			"propagateEnvironment": []string{"MTRACE_HOME", "MTRACE_PEER"},
		}},
	}
}

// WriteNodeConfig writes config/orderer/orderer.yaml and
// config/peer/core.yaml: Fabric's sample files with the member's settings
// set over them. A file already so is left as it is; changed reports
// which were written.
func (h *Home) WriteNodeConfig(f NodeFiles) (changed []string, err error) {
	if f.Sample == "" {
		return nil, errors.New("the Fabric sample configuration folder (sampleconfig, with orderer.yaml and core.yaml) is not named")
	}
	if f.Builder == "" {
		return nil, errors.New("the external builder's folder (network/builder) is not named")
	}
	if _, err := os.Stat(filepath.Join(f.Builder, "bin", "run")); err != nil {
		return nil, fmt.Errorf("builder %s: no bin/run: %w", f.Builder, err)
	}
	builder, err := filepath.Abs(f.Builder)
	if err != nil {
		return nil, err
	}
	// The members' TLS roots, one file per card, beside orderer.yaml.
	var trusted []string
	for _, c := range f.Members {
		if _, err := parseCert("tls_root_cert", c.TLSRootCert); err != nil {
			return nil, fmt.Errorf("%s's card: %w", c.MSPID, err)
		}
	}
	for _, c := range f.Members {
		if c.MSPID == h.MSPID {
			continue
		}
		p := filepath.Join(h.ConfigDir("orderer"), "members", c.MSPID+"-tlsca.pem")
		if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, []byte(c.TLSRootCert)) {
			if err := writeFile(p, []byte(c.TLSRootCert), 0o644); err != nil {
				return nil, err
			}
			changed = append(changed, p)
		}
		trusted = append(trusted, p)
	}
	slices.Sort(trusted)
	for _, n := range []struct {
		node, file string
		settings   map[string]any
	}{
		{"orderer", "orderer.yaml", h.OrdererSettings(trusted...)},
		{"peer", "core.yaml", h.PeerSettings(builder)},
	} {
		src := filepath.Join(f.Sample, n.file)
		raw, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("the Fabric sample configuration: %w", err)
		}
		out, err := overlay(raw, n.settings)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		dst := filepath.Join(h.ConfigDir(n.node), n.file)
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, out) {
			continue
		}
		if err := writeFile(dst, out, 0o644); err != nil {
			return nil, err
		}
		changed = append(changed, dst)
	}
	return changed, nil
}

// overlay sets each dotted path of settings in the YAML document raw
// (keys matched without regard to case, as Fabric's configuration
// reader does) and returns the document. A path whose parent is missing
// is added.
func overlay(raw []byte, settings map[string]any) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	paths := make([]string, 0, len(settings))
	for p := range settings {
		paths = append(paths, p)
	}
	slices.Sort(paths) // a missing key is added in the same place every time
	for _, path := range paths {
		v := settings[path]
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := set(doc.Content[0], strings.Split(path, "."), &val); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

func set(m *yaml.Node, path []string, val *yaml.Node) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !strings.EqualFold(m.Content[i].Value, path[0]) {
			continue
		}
		if len(path) == 1 {
			val.HeadComment, val.LineComment = "", ""
			m.Content[i+1] = val
			return nil
		}
		next := m.Content[i+1]
		if next.Kind != yaml.MappingNode {
			if next.Tag != "!!null" {
				return fmt.Errorf("%s is not a mapping", path[0])
			}
			*next = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		return set(next, path[1:], val)
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: path[0]}
	if len(path) == 1 {
		m.Content = append(m.Content, key, val)
		return nil
	}
	sub := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, key, sub)
	return set(sub, path[1:], val)
}
