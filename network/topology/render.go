package topology

import (
	"bytes"
	"embed"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

//go:embed templates/*.tmpl
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "templates/*.tmpl"))

func (t *Topology) render(name string, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, v); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// MSPDir is where an organisation's channel MSP (root and TLS root
// certificates, node OU config) lies under the crypto folder.
func (t *Topology) MSPDir(crypto, node string) string {
	return filepath.Join(crypto, "peerOrganizations", t.OrgDomain(node), "msp")
}

// UserMSPDir is the local MSP of one of an organisation's users (Admin,
// User1 or a person).
func (t *Topology) UserMSPDir(crypto, node, user string) string {
	d := t.OrgDomain(node)
	return filepath.Join(crypto, "peerOrganizations", d, "users", user+"@"+d, "msp")
}

// UserTLS is the TLS client certificate and key of one of an
// organisation's users.
func (t *Topology) UserTLS(crypto, node, user string) (cert, key string) {
	dir := filepath.Join(filepath.Dir(t.UserMSPDir(crypto, node, user)), "tls")
	return filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
}

// TLSCA is an organisation's TLS root certificate.
func (t *Topology) TLSCA(crypto, node string) string {
	d := t.OrgDomain(node)
	return filepath.Join(crypto, "peerOrganizations", d, "tlsca", "tlsca."+d+"-cert.pem")
}

// OrdererDir is the folder of an organisation's orderer node (msp/ and
// tls/), beside its peer's.
func (t *Topology) OrdererDir(crypto, node string) string {
	return filepath.Join(crypto, "peerOrganizations", t.OrgDomain(node), "orderers", t.Host(node+OrdererSuffix))
}

// OrdererCert is the enrolment (signing) certificate of an organisation's
// orderer: its identity in the channel's ConsenterMapping and in the
// signatures on blocks.
func (t *Topology) OrdererCert(crypto, node string) string {
	return filepath.Join(t.OrdererDir(crypto, node), "msp", "signcerts", t.Host(node+OrdererSuffix)+"-cert.pem")
}

// CACert is an organisation's enrolment CA certificate; it also signs the
// CA server's TLS certificate.
func (t *Topology) CACert(crypto, node string) string {
	d := t.OrgDomain(node)
	return filepath.Join(crypto, "peerOrganizations", d, "ca", "ca."+d+"-cert.pem")
}

// Profiles is the mtrace CLI's config file: for every organisation a
// client profile (<node>, User1), an admin profile (<node>-admin) and one
// per person (<node>-<name>), each naming the organisation's CA and its
// own orderer, and the first organisation as the default. genesis, when
// not empty, is the hex SHA-256 of the channel's genesis block header,
// which every profile pins.
func (t *Topology) Profiles(base int, crypto, home, chaincode, genesis string) ([]byte, error) {
	type ca struct{ URL, Name, TLSRootCert string }
	type orderer struct{ Endpoint, TLSRootCert, ServerName, TLSCert, TLSKey string }
	type profile struct {
		Name, Endpoint, TLSRootCert, ServerName, MSP, Cert, Key, Channel, Chaincode, Genesis string
		CA                                                                                   ca
		Orderer                                                                              orderer
	}
	var ps []profile
	for _, n := range t.Nodes(base) {
		if n.Kind != "peer" {
			continue
		}
		org, _ := t.Org(n.Name)
		c, _ := t.CA(base, n.Name)
		own, _ := t.Node(base, org.Orderer())
		ord := orderer{Endpoint: fmt.Sprintf("127.0.0.1:%d", own.Port), TLSRootCert: t.TLSCA(crypto, n.Name), ServerName: own.Host}
		users := []struct{ user, profile string }{{"User1", n.Name}, {"Admin", n.Name + "-admin"}}
		for _, p := range org.People {
			users = append(users, struct{ user, profile string }{p.Name, n.Name + "-" + p.Name})
		}
		for _, u := range users {
			msp := t.UserMSPDir(crypto, n.Name, u.user)
			o := ord
			o.TLSCert, o.TLSKey = t.UserTLS(crypto, n.Name, u.user)
			ps = append(ps, profile{
				Name: u.profile, Endpoint: fmt.Sprintf("127.0.0.1:%d", n.Port),
				TLSRootCert: t.TLSCA(crypto, n.Name), ServerName: n.Host, MSP: n.MSP,
				Cert:    filepath.Join(msp, "signcerts", u.user+"@"+t.OrgDomain(n.Name)+"-cert.pem"),
				Key:     filepath.Join(msp, "keystore", "priv_sk"),
				Channel: t.Channel, Chaincode: chaincode,
				CA:      ca{URL: c.URL(), Name: c.Name, TLSRootCert: t.CACert(crypto, n.Name)},
				Orderer: o,
				Genesis: genesis,
			})
		}
	}
	return t.render("profiles.yaml.tmpl", struct {
		Home, Default string
		Profiles      []profile
	}{home, t.Organisations[0].Node, ps})
}

// KeepAdded returns the rendered profiles fresh with the profiles of the
// earlier file old appended that fresh lacks and that belong to a member
// organisation: those a person's enrolment added (`mtrace identity
// enroll`), which a restart must keep. A profile of an organisation that
// has left is dropped with it.
func (t *Topology) KeepAdded(fresh, old []byte) ([]byte, error) {
	var f, o struct {
		Profiles map[string]yaml.Node `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(fresh, &f); err != nil {
		return nil, fmt.Errorf("rendered profiles: %w", err)
	}
	if err := yaml.Unmarshal(old, &o); err != nil {
		return nil, fmt.Errorf("the CLI config: %w", err)
	}
	names := make([]string, 0, len(o.Profiles))
	for n := range o.Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	out := bytes.Clone(fresh)
	for _, n := range names {
		node := o.Profiles[n]
		var p struct {
			MSP string `yaml:"mspId"`
		}
		if _, ok := f.Profiles[n]; ok || node.Decode(&p) != nil {
			continue
		}
		if _, member := t.Org(p.MSP); !member {
			continue
		}
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(map[string]*yaml.Node{n: &node}); err != nil {
			return nil, err
		}
		for _, line := range strings.SplitAfter(strings.TrimRight(b.String(), "\n"), "\n") {
			out = append(out, "  "+line...)
		}
		out = append(out, '\n')
	}
	return out, nil
}
