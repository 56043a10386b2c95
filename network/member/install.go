package member

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/configblock"
	"github.com/mtrace/mtrace/network/pki"
)

var labelPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Package writes a chaincode package of the type network/builder runs: a
// metadata.json (type mtrace-binary, the label) and a code.tar.gz holding
// the compiled chaincode binary as <label>-cc. The same binary and label
// always give the same bytes, so every member computes the same package
// ID from its own copy.
func Package(binary, label, out string) error {
	if !labelPattern.MatchString(label) {
		return fmt.Errorf("label %q: lower-case letters, digits and -", label)
	}
	code, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("the chaincode binary: %w", err)
	}
	inner, err := tarGz(map[string][]byte{label + "-cc": code}, 0o755)
	if err != nil {
		return err
	}
	md, err := json.Marshal(map[string]string{"type": "mtrace-binary", "label": label})
	if err != nil {
		return err
	}
	pkg, err := tarGz(map[string][]byte{"metadata.json": md, "code.tar.gz": inner}, 0o644)
	if err != nil {
		return err
	}
	return writeFile(out, pkg, 0o644)
}

// tarGz makes a gzipped tar of the files in name order, with no times,
// owners or gzip header fields, so that it is reproducible.
func tarGz(files map[string][]byte, mode int64) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: mode, Size: int64(len(files[n])), Format: tar.FormatUSTAR}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Install installs the chaincode package on the organisation's peer, as
// its admin, through the peer binary at bin, unless the peer has it
// already (already is then true). id is the package's ID.
func (h *Home) Install(ctx context.Context, bin, pkg string) (id string, already bool, err error) {
	if id, err = PackageID(pkg); err != nil {
		return "", false, err
	}
	out, err := h.peerCmd(ctx, bin, "lifecycle", "chaincode", "queryinstalled", "-O", "json")
	if err != nil {
		return id, false, err
	}
	var q struct {
		Installed []struct {
			PackageID string `json:"package_id"`
		} `json:"installed_chaincodes"`
	}
	if err := json.Unmarshal(out, &q); err != nil {
		return id, false, fmt.Errorf("queryinstalled: %w", err)
	}
	for _, c := range q.Installed {
		if c.PackageID == id {
			return id, true, nil
		}
	}
	if _, err := h.peerCmd(ctx, bin, "lifecycle", "chaincode", "install", pkg); err != nil {
		return id, false, err
	}
	return id, false, nil
}

// ProfileFile is the mtrace CLI's configuration WriteProfile writes, in
// the home.
func (h *Home) ProfileFile() string { return filepath.Join(h.Dir, "client", "config.yaml") }

// WriteProfile writes the mtrace CLI's configuration for the
// organisation to out (the format of client/internal/config): profile
// <node> acts as User1 (an operator) and <node>-admin as the admin, both
// through the organisation's own peer, with its own orderer (the TLS
// client certificate the orderers require) and its own CA, every block
// the CLI reads checked from the channel's genesis block, whose hash is
// pinned from the block file given. For every other member whose anchor
// peer the config block names (configFile, or the genesis block), a
// profile peer-<MSP ID> holds only that peer's address and TLS roots
// (written beside out): `mtrace verify` asks those peers to confirm the
// answers of its own; no identity goes with them. changed is false when
// out was already so.
func (h *Home) WriteProfile(out, genesisFile, configFile, channel, chaincode string) (changed bool, err error) {
	raw, err := os.ReadFile(genesisFile)
	if err != nil {
		return false, err
	}
	hash, err := configblock.GenesisHash(raw)
	if err != nil {
		return false, fmt.Errorf("%s: %w", genesisFile, err)
	}
	b, err := ReadBlock(genesisFile)
	if err != nil {
		return false, err
	}
	if b.Header.Number != 0 {
		return false, fmt.Errorf("%s: block %d, not the channel's genesis block", genesisFile, b.Header.Number)
	}
	if channel == "" {
		if channel, err = blockChannel(b); err != nil {
			return false, err
		}
	}
	if configFile != "" {
		if b, err = ReadBlock(configFile); err != nil {
			return false, err
		}
	}
	cfg, err := configblock.Config(b)
	if err != nil {
		return false, err
	}
	peers, err := anchorPeers(cfg)
	if err != nil {
		return false, err
	}
	type orderer struct {
		Endpoint    string `yaml:"endpoint"`
		TLSRootCert string `yaml:"tlsRootCert"`
		ServerName  string `yaml:"serverName"`
		TLSCert     string `yaml:"tlsCert"`
		TLSKey      string `yaml:"tlsKey"`
	}
	type ca struct {
		URL         string `yaml:"url"`
		Name        string `yaml:"name"`
		TLSRootCert string `yaml:"tlsRootCert"`
	}
	type profile struct {
		Endpoint    string   `yaml:"endpoint"`
		TLSRootCert string   `yaml:"tlsRootCert"`
		ServerName  string   `yaml:"serverName,omitempty"`
		MSPID       string   `yaml:"mspId"`
		Cert        string   `yaml:"cert,omitempty"`
		Key         string   `yaml:"key,omitempty"`
		Channel     string   `yaml:"channel"`
		Chaincode   string   `yaml:"chaincode"`
		CA          *ca      `yaml:"ca,omitempty"`
		Orderer     *orderer `yaml:"orderer,omitempty"`
		Genesis     string   `yaml:"genesis"`
	}
	c := h.CA()
	ps := map[string]profile{}
	for _, u := range []struct{ name, dir, file string }{
		{h.Node, h.UserDir(), "User1@" + h.Domain},
		{h.Node + "-admin", h.AdminDir(), "Admin@" + h.Domain},
	} {
		key, err := keyFile(filepath.Join(u.dir, "msp", "keystore"))
		if err != nil {
			return false, fmt.Errorf("%s: %w (run init)", u.file, err)
		}
		ps[u.name] = profile{
			Endpoint: h.PeerAddress(), TLSRootCert: filepath.Join(h.PeerDir(), "tls", "ca.crt"), ServerName: h.PeerHost(),
			MSPID: h.MSPID, Cert: filepath.Join(u.dir, "msp", "signcerts", u.file+"-cert.pem"), Key: key,
			Channel: channel, Chaincode: chaincode,
			CA: &ca{URL: c.URL(), Name: c.Name, TLSRootCert: pki.TLSRoot(h.Dir, c)},
			Orderer: &orderer{Endpoint: h.OrdererAddress(), TLSRootCert: filepath.Join(h.OrdererDir(), "tls", "ca.crt"),
				ServerName: h.OrdererHost(), TLSCert: filepath.Join(u.dir, "tls", "client.crt"), TLSKey: filepath.Join(u.dir, "tls", "client.key")},
			Genesis: hash,
		}
	}
	roots := map[string][]byte{}
	for msp, p := range peers {
		if msp == h.MSPID || p.addr == "" {
			continue
		}
		f := filepath.Join(filepath.Dir(out), "peers", msp+"-tlsroots.pem")
		roots[f] = p.tlsRoots
		ps["peer-"+msp] = profile{Endpoint: p.addr, TLSRootCert: f, MSPID: msp, Channel: channel, Chaincode: chaincode, Genesis: hash}
	}
	file, err := yaml.Marshal(struct {
		DefaultProfile string             `yaml:"defaultProfile"`
		Profiles       map[string]profile `yaml:"profiles"`
	}{h.Node, ps})
	if err != nil {
		return false, err
	}
	roots[out] = file
	for f, raw := range roots {
		if old, err := os.ReadFile(f); err == nil && bytes.Equal(old, raw) {
			continue
		}
		if err := writeFile(f, raw, 0o644); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// keyFile is the one private key file of an MSP's keystore.
func keyFile(dir string) (string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var keys []string
	for _, e := range es {
		if !e.IsDir() {
			keys = append(keys, filepath.Join(dir, e.Name()))
		}
	}
	if len(keys) != 1 {
		return "", fmt.Errorf("%s holds %d keys, want 1", dir, len(keys))
	}
	return keys[0], nil
}

// Bootstrap writes the chaincode's first participant registry, the
// organisations of the cards with their roles and names, as the
// organisation's admin (BootstrapRegistry), endorsed by every member's
// anchor peer (addresses and TLS roots from the configuration in force,
// read from the organisation's own orderer) and ordered by its own
// orderer. already is true when the registry exists: the chaincode
// refuses a second bootstrap.
func (h *Home) Bootstrap(ctx context.Context, bin, channelID, chaincode string, cards []*Card) (already bool, err error) {
	if len(cards) == 0 {
		return false, errors.New("the registry needs the members' cards")
	}
	var ps []model.Participant
	for _, c := range cards {
		ps = append(ps, model.Participant{MSP: c.MSPID, Role: model.Role(c.Role), Name: c.Name})
	}
	if err := model.ValidateParticipants(ps); err != nil {
		return false, err
	}
	rawPs, err := json.Marshal(ps)
	if err != nil {
		return false, err
	}
	call, err := json.Marshal(map[string]any{"function": api.BootstrapRegistry, "Args": []string{string(rawPs)}})
	if err != nil {
		return false, err
	}
	o, err := h.Orderer(channelID)
	if err != nil {
		return false, err
	}
	cfg, err := o.Config(ctx)
	_ = o.Close()
	if err != nil {
		return false, err
	}
	peers, err := anchorPeers(cfg.Config)
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "mtrace-bootstrap")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	var args []string
	members := make([]string, 0, len(peers))
	for m := range peers {
		members = append(members, m)
	}
	slices.Sort(members)
	for _, m := range members {
		p := peers[m]
		if p.addr == "" {
			continue
		}
		f := filepath.Join(tmp, m+".pem")
		if err := os.WriteFile(f, p.tlsRoots, 0o644); err != nil {
			return false, err
		}
		args = append(args, "--peerAddresses", p.addr, "--tlsRootCertFiles", f)
	}
	out, err := h.submitVia(ctx, bin, channelID, cfg.Config, func(orderer []string) []string {
		return slices.Concat([]string{"chaincode", "invoke"}, orderer,
			[]string{"-C", channelID, "-n", chaincode, "-c", string(call), "--waitForEvent", "--waitForEventTimeout", ordererWait}, args)
	}, func(context.Context) bool { return false })
	if err != nil && bytes.Contains(out, []byte("registry already bootstrapped")) {
		return true, nil
	}
	return false, err
}
