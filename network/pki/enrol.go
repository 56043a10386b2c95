package pki

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/network/topology"
)

// Holder is one certificate holder the network enrols: a node (peer or
// orderer) or a user (Admin, User1, a person).
type Holder struct {
	ID   string           // enrolment ID: the host name, Admin@<domain>, User1@<domain> or the person's name
	Type string           // Fabric identity type, the certificate's OU: peer, orderer, admin or client
	Role model.PersonRole // mtrace.role, empty for nodes
	// Dir holds msp/ and tls/: peers/<host>, orderers/<host> or
	// users/<name>@<domain> under the organisation's folder.
	Dir string
	// File is the signing certificate's name in msp/signcerts, without
	// -cert.pem: the host, or <name>@<domain>.
	File string
	// Hosts are the TLS certificate's names; a node's is a server
	// certificate, a user's a client certificate.
	Hosts []string
}

// Node reports whether the holder is a peer or an orderer.
func (h Holder) Node() bool { return h.Type == "peer" || h.Type == "orderer" }

// Org is an organisation's identities: its CA, its folder under crypto/
// and everyone its CA enrols.
type Org struct {
	CA      topology.CA
	Dir     string // crypto/peerOrganizations/<domain>
	Holders []Holder
}

// CACert is the enrolment CA's certificate in the layout (ca/ca.<domain>-cert.pem).
func (o Org) CACert() string { return filepath.Join(o.Dir, "ca", "ca."+o.CA.Domain+"-cert.pem") }

// TLSCACert is the TLS CA's certificate (tlsca/tlsca.<domain>-cert.pem).
func (o Org) TLSCACert() string {
	return filepath.Join(o.Dir, "tlsca", "tlsca."+o.CA.Domain+"-cert.pem")
}

// Admin is the organisation's Admin.
func (o Org) Admin() Holder { return o.Holders[o.adminIndex()] }

func (o Org) adminIndex() int {
	for i, h := range o.Holders {
		if h.ID == "Admin@"+o.CA.Domain {
			return i
		}
	}
	panic("pki: organisation " + o.CA.Org + " has no Admin")
}

// Orgs lists every organisation's identities as the topology names them:
// its peer, its orderer, Admin, User1 and its people, all issued by the
// organisation's own CA.
func Orgs(t *topology.Topology, base int, crypto string) []Org {
	var orgs []Org
	for _, ca := range t.CAs(base) {
		o := Org{CA: ca}
		user := func(name, typ string, role model.PersonRole) Holder {
			id := name + "@" + ca.Domain
			if typ == "person" {
				id, typ = name, "client"
				if role == model.PersonAdmin {
					typ = "admin"
				}
			}
			return Holder{ID: id, Type: typ, Role: role, Dir: filepath.Join(o.Dir, "users", name+"@"+ca.Domain),
				File: name + "@" + ca.Domain}
		}
		node := func(host, typ, sub string) Holder {
			return Holder{ID: host, Type: typ, Dir: filepath.Join(o.Dir, sub, host), File: host,
				Hosts: []string{host, "localhost", "127.0.0.1"}}
		}
		org, _ := t.Org(ca.Org)
		o.Dir = filepath.Join(crypto, "peerOrganizations", ca.Domain)
		o.Holders = append(o.Holders, node(t.Host(org.Node), "peer", "peers"),
			node(t.Host(org.Orderer()), "orderer", "orderers"),
			user("Admin", "admin", model.PersonAdmin), user("User1", "client", model.PersonOperator))
		for _, p := range org.People {
			o.Holders = append(o.Holders, user(p.Name, "person", p.Role))
		}
		orgs = append(orgs, o)
	}
	return orgs
}

// registration is what the enrolment CA registers for h: its type and
// mtrace.role in every enrolment certificate; an admin also gets the
// registrar rights an organisation admin needs to manage its people
// (register clients and admins with mtrace.role, revoke, make the CRL).
func registration(h Holder) fabca.Registration {
	r := fabca.Registration{Name: h.ID, Type: h.Type, MaxEnrollments: -1}
	if h.Role != "" {
		r.Attrs = append(r.Attrs, fabca.Attribute{Name: model.RoleAttribute, Value: string(h.Role), ECert: true})
	}
	if h.Type == "admin" {
		r.Attrs = append(r.Attrs,
			fabca.Attribute{Name: "hf.Registrar.Roles", Value: "client,admin"},
			fabca.Attribute{Name: "hf.Registrar.Attributes", Value: "mtrace.role"},
			fabca.Attribute{Name: "hf.Revoker", Value: "true"},
			fabca.Attribute{Name: "hf.GenCRL", Value: "true"})
	}
	return r
}

// Enrol registers and enrols, from each organisation's CA server, every
// holder whose folders are not complete yet, and writes the organisations'
// MSP folders. Organisations are enrolled side by side; only those named
// in only (node names), when any are. It returns how many
// holders it enrolled.
func Enrol(ctx context.Context, home string, orgs []Org, only ...string) (int, error) {
	var wg sync.WaitGroup
	errs := make([]error, len(orgs))
	counts := make([]int, len(orgs))
	for i, o := range orgs {
		if len(only) > 0 && !slices.Contains(only, o.CA.Org) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if counts[i], err = enrolOrg(ctx, home, o); err != nil {
				errs[i] = fmt.Errorf("%s (%s): %w", o.CA.Org, o.CA.URL(), err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, errors.Join(errs...)
}

// server is one organisation's two CAs and their registrars.
type server struct {
	home     string
	ca, tls  *fabca.Client
	regCA    fabca.Identity
	regTLS   fabca.Identity
	org      Org
	caPEM    []byte
	tlsCAPEM []byte
}

func enrolOrg(ctx context.Context, home string, o Org) (int, error) {
	todo := []Holder{}
	for _, h := range o.Holders {
		if !complete(h) {
			todo = append(todo, h)
		}
	}
	if len(todo) == 0 && exists(o.CACert()) && exists(o.TLSCACert()) && exists(filepath.Join(o.Dir, "msp", "config.yaml")) {
		return 0, nil
	}
	s, err := dial(ctx, home, o)
	if err != nil {
		return 0, err
	}
	if err := s.writeOrgMSP(); err != nil {
		return 0, err
	}
	// The CA spends most of a request on bcrypt (of the secret, at
	// registration and at enrolment), so holders are enrolled a few at a
	// time: the organisation with the most people sets the pace.
	var wg sync.WaitGroup
	errs := make([]error, len(todo))
	sem := make(chan struct{}, 4)
	for i, h := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.enrol(ctx, h); err != nil {
				errs[i] = fmt.Errorf("%s: %w", h.ID, err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// dial connects to both CAs of o's server, enrols (or loads) their
// registrars and reads their certificates.
func dial(ctx context.Context, home string, o Org) (*server, error) {
	root, err := os.ReadFile(TLSRoot(home, o.CA))
	if err != nil {
		return nil, fmt.Errorf("the CA server's TLS root (is %s running?): %w", o.CA.Process, err)
	}
	s := &server{home: home, org: o}
	if s.ca, err = fabca.New(o.CA.URL(), o.CA.Name, root); err != nil {
		return nil, err
	}
	if s.tls, err = fabca.New(o.CA.URL(), o.CA.TLSName, root); err != nil {
		return nil, err
	}
	secret, err := registrarSecret(ServerDir(home, o.CA))
	if err != nil {
		return nil, err
	}
	for _, r := range []struct {
		c    *fabca.Client
		sub  string
		into *fabca.Identity
		pem  *[]byte
	}{{s.ca, "ca", &s.regCA, &s.caPEM}, {s.tls, "tlsca", &s.regTLS, &s.tlsCAPEM}} {
		if *r.into, err = registrar(ctx, r.c, filepath.Join(ServerDir(home, o.CA), "registrar", r.sub), secret); err != nil {
			return nil, fmt.Errorf("registrar of %s: %w", r.c.CAName, err)
		}
		info, err := r.c.Info(ctx)
		if err != nil {
			return nil, err
		}
		*r.pem = info.CAChain
	}
	return s, nil
}

// registrar loads the CA registrar's enrolment from dir, or enrols it
// with its secret and keeps it there.
func registrar(ctx context.Context, c *fabca.Client, dir, secret string) (fabca.Identity, error) {
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if exists(cert) && exists(key) {
		return fabca.LoadIdentity(cert, key)
	}
	e, err := c.Enroll(ctx, Registrar, secret, fabca.EnrollOptions{})
	if err != nil {
		return fabca.Identity{}, err
	}
	keyPEM, err := fabca.KeyPEM(e.Key)
	if err != nil {
		return fabca.Identity{}, err
	}
	if err := writeFile(key, keyPEM, 0o600); err != nil {
		return fabca.Identity{}, err
	}
	if err := writeFile(cert, e.CertPEM, 0o644); err != nil {
		return fabca.Identity{}, err
	}
	return e.Identity()
}

// secret registers h at c once and returns its enrolment secret. The
// secret is kept under the server's home from before the registration
// until h's folders are complete, so that a run that stopped between
// registering and enrolling can finish.
func (s *server) secret(ctx context.Context, c *fabca.Client, reg fabca.Identity, sub string, r fabca.Registration) (string, error) {
	path := filepath.Join(ServerDir(s.home, s.org.CA), "secrets", sub, r.Name)
	if raw, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	var err error
	if r.Secret, err = newSecret(); err != nil {
		return "", err
	}
	if err := writeFile(path, []byte(r.Secret+"\n"), 0o600); err != nil {
		return "", err
	}
	if _, err := c.Register(ctx, reg, r); err != nil {
		_ = os.Remove(path)
		return "", err
	}
	return r.Secret, nil
}

// enrol registers h at both CAs (side by side) and writes its TLS and
// MSP folders, the signing certificate last.
func (s *server) enrol(ctx context.Context, h Holder) error {
	var e, te *fabca.Enrolment
	var terr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr := fabca.Registration{Name: h.ID, Type: h.Type, MaxEnrollments: -1}
		tsecret, err := s.secret(ctx, s.tls, s.regTLS, "tlsca", tr)
		if err != nil {
			terr = err
			return
		}
		te, terr = s.tls.Enroll(ctx, h.ID, tsecret, fabca.EnrollOptions{Profile: "tls", Hosts: h.Hosts})
	}()
	secret, err := s.secret(ctx, s.ca, s.regCA, "ca", registration(h))
	if err == nil {
		e, err = s.ca.Enroll(ctx, h.ID, secret, fabca.EnrollOptions{})
	}
	<-done
	if err = errors.Join(err, terr); err != nil {
		return err
	}
	if err := s.writeTLS(h, te); err != nil {
		return err
	}
	if err := s.writeMSP(h, e); err != nil {
		return err
	}
	for _, sub := range []string{"ca", "tlsca"} {
		_ = os.Remove(filepath.Join(ServerDir(s.home, s.org.CA), "secrets", sub, h.ID))
	}
	return nil
}
