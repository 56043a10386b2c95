// Package config reads the mtrace client configuration: a YAML file of
// named connection profiles, one per identity the user may act as.
//
//	defaultProfile: municipality
//	profiles:
//	  municipality:
//	    endpoint: 127.0.0.1:27100
//	    tlsRootCert: /abs/tlsca.pem
//	    serverName: peer0.municipality.mtrace.local
//	    mspId: MunicipalityMSP
//	    cert: /abs/User1-cert.pem
//	    key: /abs/priv_sk
//	    channel: circular
//	    chaincode: mtrace
//	    ca:                        # optional: the organisation's Fabric CA
//	      url: https://127.0.0.1:27150
//	      name: ca-municipality
//	      tlsRootCert: /abs/ca-tls.pem
//	    orderer:                   # optional: for channel config updates (the organisation's own orderer)
//	      endpoint: 127.0.0.1:27000
//	      tlsRootCert: /abs/orderer-tlsca.pem
//	      serverName: orderer0.municipality.mtrace.local
//	      tlsCert: /abs/tls/client.crt   # the orderers require a TLS client certificate
//	      tlsKey: /abs/tls/client.key
//
// Relative file paths are taken relative to the config file's folder.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables that choose the file and the profile.
const (
	EnvConfig  = "MTRACE_CONFIG"
	EnvProfile = "MTRACE_PROFILE"
)

// Defaults for the optional profile fields.
const (
	DefaultChannel   = "circular"
	DefaultChaincode = "mtrace"
)

// ErrNoConfig is returned when no config file was named or found.
var ErrNoConfig = errors.New("no config file: pass --config or set " + EnvConfig)

// Profile is one identity and the peer it talks to.
type Profile struct {
	Name string `yaml:"-"`
	// Source is the config file the profile was read from.
	Source      string `yaml:"-"`
	Endpoint    string `yaml:"endpoint"`
	TLSRootCert string `yaml:"tlsRootCert"`
	ServerName  string `yaml:"serverName,omitempty"`
	MSPID       string `yaml:"mspId"`
	Cert        string `yaml:"cert"`
	Key         string `yaml:"key"`
	Channel     string `yaml:"channel,omitempty"`
	Chaincode   string `yaml:"chaincode,omitempty"`
	// CA is the organisation's enrolment CA, for `mtrace identity`.
	CA *CA `yaml:"ca,omitempty"`
	// Orderer is where channel configuration updates go (revocation).
	Orderer *Orderer `yaml:"orderer,omitempty"`
	// Genesis is the hex SHA-256 of the channel's genesis block header
	// (the block's hash, as the next block names it). The checks of every
	// block read from a peer and of a proof start from it.
	Genesis string `yaml:"genesis,omitempty"`
}

// CA is an organisation's Fabric CA.
type CA struct {
	URL         string `yaml:"url"`
	Name        string `yaml:"name,omitempty"`
	TLSRootCert string `yaml:"tlsRootCert,omitempty"`
}

// Orderer is one orderer's client endpoint. The orderers require a TLS
// client certificate from a member organisation's TLS CA.
type Orderer struct {
	Endpoint    string `yaml:"endpoint"`
	TLSRootCert string `yaml:"tlsRootCert"`
	ServerName  string `yaml:"serverName,omitempty"`
	TLSCert     string `yaml:"tlsCert,omitempty"`
	TLSKey      string `yaml:"tlsKey,omitempty"`
}

// File is a parsed config file.
type File struct {
	Path           string             `yaml:"-"`
	DefaultProfile string             `yaml:"defaultProfile"`
	Profiles       map[string]Profile `yaml:"profiles"`
}

// Getenv looks up an environment variable; os.Getenv in production.
type Getenv func(string) string

// FindPath returns the config file to use: flag, then $MTRACE_CONFIG,
// then $XDG_CONFIG_HOME/mtrace/config.yaml (~/.config when unset) if it
// exists.
func FindPath(flag string, getenv Getenv) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", ErrNoConfig
		}
		dir = filepath.Join(home, ".config")
	}
	p := filepath.Join(dir, "mtrace", "config.yaml")
	if _, err := os.Stat(p); err != nil {
		return "", ErrNoConfig
	}
	return p, nil
}

// Load reads and parses the config file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, describe(err))
	}
	var f File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(f.Profiles) == 0 {
		return nil, fmt.Errorf("config %s: no profiles defined", path)
	}
	f.Path = path
	return &f, nil
}

// Names lists the profile names in order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Profile returns the named profile, or the default one when name is
// empty, with relative paths resolved and defaults filled in.
func (f *File) Profile(name string) (*Profile, error) {
	if name == "" {
		name = f.DefaultProfile
	}
	if name == "" {
		if len(f.Profiles) != 1 {
			return nil, fmt.Errorf("no profile chosen: pass --profile, set %s or set defaultProfile in %s (profiles: %s)",
				EnvProfile, f.Path, strings.Join(f.Names(), ", "))
		}
		name = f.Names()[0]
	}
	p, ok := f.Profiles[name]
	if !ok {
		return nil, fmt.Errorf("profile %q not found in %s (profiles: %s)", name, f.Path, strings.Join(f.Names(), ", "))
	}
	p.Name = name
	p.Source = f.Path
	if p.Channel == "" {
		p.Channel = DefaultChannel
	}
	if p.Chaincode == "" {
		p.Chaincode = DefaultChaincode
	}
	base := filepath.Dir(f.Path)
	paths := []*string{&p.TLSRootCert, &p.Cert, &p.Key}
	if p.CA != nil {
		ca := *p.CA
		p.CA = &ca
		paths = append(paths, &p.CA.TLSRootCert)
	}
	if p.Orderer != nil {
		o := *p.Orderer
		p.Orderer = &o
		paths = append(paths, &p.Orderer.TLSRootCert, &p.Orderer.TLSCert, &p.Orderer.TLSKey)
	}
	for _, s := range paths {
		if *s != "" && !filepath.IsAbs(*s) {
			*s = filepath.Join(base, *s)
		}
	}
	return &p, nil
}

// Resolve finds the config file and picks the profile: flagProfile, then
// $MTRACE_PROFILE, then the file's defaultProfile. The profile is checked.
func Resolve(flagPath, flagProfile string, getenv Getenv) (*Profile, error) {
	path, err := FindPath(flagPath, getenv)
	if err != nil {
		return nil, err
	}
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	name := flagProfile
	if name == "" {
		name = getenv(EnvProfile)
	}
	p, err := f.Profile(name)
	if err != nil {
		return nil, err
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return p, nil
}

// Check reports the first missing field or unreadable file of the profile.
func (p *Profile) Check() error {
	for _, f := range []struct{ name, v string }{
		{"endpoint", p.Endpoint}, {"mspId", p.MSPID}, {"tlsRootCert", p.TLSRootCert},
		{"cert", p.Cert}, {"key", p.Key},
	} {
		if f.v == "" {
			return fmt.Errorf("profile %s: %s is required", p.Name, f.name)
		}
	}
	for _, f := range []struct{ what, path string }{
		{"TLS root certificate", p.TLSRootCert}, {"certificate", p.Cert}, {"private key", p.Key},
	} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("profile %s: %s %s: %w", p.Name, f.what, f.path, describe(err))
		}
	}
	return nil
}

// describe shortens the common file errors to a few words.
func describe(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckCA reports what is missing for talking to the organisation's CA.
func (p *Profile) CheckCA() error {
	if p.CA == nil || p.CA.URL == "" {
		return fmt.Errorf("profile %s has no ca section (url, name, tlsRootCert of the organisation's Fabric CA)", p.Name)
	}
	if p.CA.TLSRootCert != "" {
		if _, err := os.Stat(p.CA.TLSRootCert); err != nil {
			return fmt.Errorf("profile %s: CA TLS root certificate %s: %w", p.Name, p.CA.TLSRootCert, describe(err))
		}
	}
	return nil
}

// CheckOrderer reports what is missing for sending channel configuration
// updates.
func (p *Profile) CheckOrderer() error {
	if p.Orderer == nil || p.Orderer.Endpoint == "" || p.Orderer.TLSRootCert == "" {
		return fmt.Errorf("profile %s has no orderer section (endpoint, tlsRootCert, serverName of an orderer)", p.Name)
	}
	if _, err := os.Stat(p.Orderer.TLSRootCert); err != nil {
		return fmt.Errorf("profile %s: orderer TLS root certificate %s: %w", p.Name, p.Orderer.TLSRootCert, describe(err))
	}
	if p.Orderer.TLSCert == "" || p.Orderer.TLSKey == "" {
		return fmt.Errorf("profile %s: the orderer section has no tlsCert and tlsKey (the orderers require a TLS client certificate)", p.Name)
	}
	for what, f := range map[string]string{"TLS client certificate": p.Orderer.TLSCert, "TLS client key": p.Orderer.TLSKey} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("profile %s: orderer %s %s: %w", p.Name, what, f, describe(err))
		}
	}
	return nil
}

// ErrProfileExists is returned by AddProfile when the name is taken and
// replace is false.
var ErrProfileExists = errors.New("profile exists")

// AddProfile writes profile p under name into the config file at path,
// keeping everything else in the file as it is (other profiles, comments,
// order). An existing profile of that name is replaced only when replace
// is set. The file is replaced whole, by a rename, so a reader never sees
// half of it.
func AddProfile(path, name string, p Profile, replace bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, describe(err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: not a mapping of settings", path)
	}
	var entry yaml.Node
	if err := entry.Encode(p); err != nil {
		return fmt.Errorf("encode profile %s: %w", name, err)
	}
	profiles := mappingValue(doc.Content[0], "profiles")
	if profiles == nil {
		profiles = &yaml.Node{Kind: yaml.MappingNode}
		doc.Content[0].Content = append(doc.Content[0].Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "profiles"}, profiles)
	}
	if profiles.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: profiles is not a mapping", path)
	}
	if old := mappingValue(profiles, name); old != nil {
		if !replace {
			return fmt.Errorf("config %s: %w: %s", path, ErrProfileExists, name)
		}
		*old = entry
	} else {
		profiles.Content = append(profiles.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, &entry)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return fmt.Errorf("encode config %s: %w", path, err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, describe(err))
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config %s: %w", path, describe(err))
	}
	return nil
}

// mappingValue returns the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
