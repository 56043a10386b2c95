package member

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	pb "github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/internal/channel"
)

// DefinitionFormat names the chaincode definition file's format.
const DefinitionFormat = "mtrace-chaincode/1"

// A Definition is a chaincode definition as the admins mail it: each
// approves it for its own organisation through its own peer, and one
// commits it once a majority has.
type Definition struct {
	Format    string `json:"format"`
	Channel   string `json:"channel"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Sequence  int64  `json:"sequence"`
	PackageID string `json:"package_id"` // <label>:<sha256 of the package file>
	// SignaturePolicy is the endorsement policy; empty means the
	// channel's /Channel/Application/Endorsement (MAJORITY Endorsement).
	SignaturePolicy string `json:"signature_policy,omitempty"`
}

var ccName = regexp.MustCompile(`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`)

// Validate checks the definition's fields.
func (d *Definition) Validate() error {
	switch {
	case d.Format != DefinitionFormat:
		return fmt.Errorf("format %q: expected %q", d.Format, DefinitionFormat)
	case !ccName.MatchString(d.Name):
		return fmt.Errorf("name %q: letters and digits, joined by - or _", d.Name)
	case d.Channel == "":
		return errors.New("channel: required")
	case d.Version == "" || strings.ContainsAny(d.Version, " \t\n"):
		return fmt.Errorf("version %q: required, without spaces", d.Version)
	case d.Sequence < 1:
		return fmt.Errorf("sequence %d: must be 1 or more", d.Sequence)
	}
	label, hash, ok := strings.Cut(d.PackageID, ":")
	if !ok || label == "" || len(hash) != 64 {
		return fmt.Errorf("package_id %q: expected <label>:<64 hex digits>", d.PackageID)
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return fmt.Errorf("package_id %q: %w", d.PackageID, err)
	}
	return nil
}

// PackageID is a chaincode package's ID as the peer computes it: the
// label in its metadata.json and the SHA-256 of the package file.
func PackageID(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("%s: not a chaincode package: %w", path, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("%s: no metadata.json in the package", path)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if h.Name != "metadata.json" {
			continue
		}
		var md struct {
			Label string `json:"label"`
		}
		if err := json.NewDecoder(tr).Decode(&md); err != nil {
			return "", fmt.Errorf("%s: metadata.json: %w", path, err)
		}
		if md.Label == "" {
			return "", fmt.Errorf("%s: metadata.json has no label", path)
		}
		sum := sha256.Sum256(raw)
		return md.Label + ":" + hex.EncodeToString(sum[:]), nil
	}
}

// WriteDefinition writes a definition file.
func WriteDefinition(path string, d *Definition) error {
	if err := d.Validate(); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(raw, '\n'), 0o644)
}

// ReadDefinition reads and checks a definition file.
func ReadDefinition(path string) (*Definition, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if HoldsPrivateKey(raw) {
		return nil, fmt.Errorf("%s: %w", path, ErrPrivateKey)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: not a chaincode definition: %w", path, err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// lifecycleArgs are the definition's flags for peer lifecycle chaincode.
func (d *Definition) lifecycleArgs() []string {
	a := []string{"-C", d.Channel, "-n", d.Name, "--version", d.Version, "--sequence", strconv.FormatInt(d.Sequence, 10)}
	if d.SignaturePolicy != "" {
		a = append(a, "--signature-policy", d.SignaturePolicy)
	}
	return a
}

// ordererArgs point the peer CLI at the organisation's own orderer, or
// at Via.
func (h *Home) ordererArgs() []string {
	tlsDir := filepath.Join(h.AdminDir(), "tls")
	addr, name, ca := net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Orderer)), h.OrdererHost(), filepath.Join(tlsDir, "ca.crt")
	if h.Via != nil {
		addr, name, ca = h.Via.Addr, h.Via.ServerName, h.Via.CAFile
	}
	return []string{"-o", addr, "--ordererTLSHostnameOverride", name,
		"--tls", "--cafile", ca, "--clientauth",
		"--certfile", filepath.Join(tlsDir, "client.crt"), "--keyfile", filepath.Join(tlsDir, "client.key")}
}

// Committed is the definition in force on the organisation's peer:
// version and sequence (0 when none).
func (h *Home) Committed(ctx context.Context, bin string, d *Definition) (version string, sequence int64, err error) {
	out, err := h.peerCmd(ctx, bin, "lifecycle", "chaincode", "querycommitted", "-C", d.Channel, "-n", d.Name, "-O", "json")
	if err != nil {
		if bytes.Contains(out, []byte("namespace "+d.Name+" is not defined")) {
			return "", 0, nil
		}
		return "", 0, err
	}
	var c struct {
		Version  string `json:"version"`
		Sequence int64  `json:"sequence"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return "", 0, fmt.Errorf("querycommitted: %w", err)
	}
	return c.Version, c.Sequence, nil
}

// Approvals asks the organisation's peer which organisations have
// approved the definition.
func (h *Home) Approvals(ctx context.Context, bin string, d *Definition) (map[string]bool, error) {
	out, err := h.peerCmd(ctx, bin, append([]string{"lifecycle", "chaincode", "checkcommitreadiness", "-O", "json"}, d.lifecycleArgs()...)...)
	if err != nil {
		return nil, err
	}
	var r struct {
		Approvals map[string]bool `json:"approvals"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("checkcommitreadiness: %w", err)
	}
	return r.Approvals, nil
}

// Approve approves the definition for the organisation through its own
// peer and orderer; already is true when it had.
func (h *Home) Approve(ctx context.Context, bin string, d *Definition) (already bool, err error) {
	if v, seq, err := h.Committed(ctx, bin, d); err != nil {
		return false, err
	} else if seq > d.Sequence || seq == d.Sequence && v != d.Version {
		return false, fmt.Errorf("sequence %d of %s is committed already (version %s): define sequence %d", seq, d.Name, v, seq+1)
	} else if seq == d.Sequence {
		// Committed before this organisation approved it (a member that
		// joined later): its own approval of the same sequence is what
		// lets its peer run the package.
		if pkg, err := h.approvedPackage(ctx, bin, d); err != nil {
			return false, err
		} else if pkg == d.PackageID {
			return true, nil
		}
	} else {
		ap, err := h.Approvals(ctx, bin, d)
		if err != nil {
			return false, err
		}
		if ap[h.MSPID] {
			return true, nil
		}
	}
	_, err = h.submitVia(ctx, bin, d.Channel, nil, func(orderer []string) []string {
		args := append([]string{"lifecycle", "chaincode", "approveformyorg"}, orderer...)
		args = append(args, d.lifecycleArgs()...)
		return append(args, "--package-id", d.PackageID, "--waitForEventTimeout", ordererWait)
	}, func(ctx context.Context) bool {
		pkg, err := h.approvedPackage(ctx, bin, d)
		return err == nil && pkg == d.PackageID
	})
	return false, err
}

// approvedPackage is the package ID this organisation approved for the
// definition's sequence ("" when it approved none).
func (h *Home) approvedPackage(ctx context.Context, bin string, d *Definition) (string, error) {
	out, err := h.peerCmd(ctx, bin, "lifecycle", "chaincode", "queryapproved", "-C", d.Channel, "-n", d.Name,
		"--sequence", strconv.FormatInt(d.Sequence, 10), "-O", "json")
	if err != nil {
		if bytes.Contains(out, []byte("could not fetch approved chaincode definition")) {
			return "", nil
		}
		return "", err
	}
	// The peer CLI prints the result struct with encoding/json: the
	// package ID sits in the source's oneof, whose field names follow
	// the generated Go code rather than the proto.
	var a any
	if err := json.Unmarshal(out, &a); err != nil {
		return "", fmt.Errorf("queryapproved: %w", err)
	}
	return findString(a, "package_id"), nil
}

// findString is the first string value named key in a decoded JSON tree
// (depth first, object keys in sorted order); "" when there is none.
func findString(v any, key string) string {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x[key].(string); ok {
			return s
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if s := findString(x[k], key); s != "" {
				return s
			}
		}
	case []any:
		for _, e := range x {
			if s := findString(e, key); s != "" {
				return s
			}
		}
	}
	return ""
}

// NotApprovedError names the organisations whose approval a commit still
// needs.
type NotApprovedError struct {
	Need     int
	Approved []string
	Missing  []string
}

func (e *NotApprovedError) Error() string {
	return fmt.Sprintf("the definition needs the approval of %d organisations (MAJORITY of the channel's); approved by %s; %d more needed from: %s",
		e.Need, orNone(e.Approved), e.Need-len(e.Approved), strings.Join(e.Missing, ", "))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// readiness checks approvals against the channel's
// LifecycleEndorsement (MAJORITY Endorsement of its organisations).
func readiness(members []string, approvals map[string]bool) ([]string, error) {
	var ok, missing []string
	for _, m := range members {
		if approvals[m] {
			ok = append(ok, m)
		} else {
			missing = append(missing, m)
		}
	}
	need := len(members)/2 + 1
	if len(ok) < need {
		return ok, &NotApprovedError{Need: need, Approved: ok, Missing: missing}
	}
	return ok, nil
}

// Commit commits the definition once a majority of the channel's
// organisations approved it, endorsed by the approving organisations'
// anchor peers (their addresses and TLS roots from the configuration in
// force, read from the organisation's own orderer). already is true when
// the definition was committed.
func (h *Home) Commit(ctx context.Context, bin string, d *Definition) (already bool, err error) {
	if v, seq, err := h.Committed(ctx, bin, d); err != nil {
		return false, err
	} else if seq >= d.Sequence {
		if seq == d.Sequence && v == d.Version {
			return true, nil
		}
		return false, fmt.Errorf("sequence %d of %s is committed already (version %s)", seq, d.Name, v)
	}
	o, err := h.Orderer(d.Channel)
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
	var members []string
	for m := range peers {
		members = append(members, m)
	}
	slices.Sort(members)
	ap, err := h.Approvals(ctx, bin, d)
	if err != nil {
		return false, err
	}
	ok, err := readiness(members, ap)
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "mtrace-commit")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	var args []string
	for _, m := range ok {
		p := peers[m]
		if p.addr == "" {
			return false, fmt.Errorf("%s has no anchor peer in the channel to endorse the commit", m)
		}
		f := filepath.Join(tmp, m+".pem")
		if err := os.WriteFile(f, p.tlsRoots, 0o644); err != nil {
			return false, err
		}
		args = append(args, "--peerAddresses", p.addr, "--tlsRootCertFiles", f)
	}
	_, err = h.submitVia(ctx, bin, d.Channel, cfg.Config, func(orderer []string) []string {
		return slices.Concat([]string{"lifecycle", "chaincode", "commit"}, orderer, d.lifecycleArgs(), args,
			[]string{"--waitForEventTimeout", ordererWait})
	}, func(ctx context.Context) bool {
		_, seq, err := h.Committed(ctx, bin, d)
		return err == nil && seq >= d.Sequence
	})
	return false, err
}

// ordererWait is how long the peer CLI waits for a transaction it sent
// through one orderer to reach the organisation's peer before submitVia
// tries the next.
const ordererWait = "30s"

// submitVia runs a peer CLI command that submits a transaction (args
// builds it for the orderer flags given), first through the
// organisation's own orderer. Under SmartBFT one orderer may take a
// request and never order it (a follower cut off from the leader for a
// while, or one that has just joined), and the peer CLI sends to one
// orderer only: when the transaction does not reach the peer in time,
// and done does not report it in force, submitVia sends it again
// through each other consenter of the channel (from cfg, or the
// configuration the own orderer serves), trusted by its organisation's
// TLS roots. A transaction that gets in twice is harmless: the second
// is refused as a repeat, or writes the same.
func (h *Home) submitVia(ctx context.Context, bin, channelID string, cfg *cb.Config, args func(orderer []string) []string, done func(context.Context) bool) ([]byte, error) {
	out, err := h.peerCmd(ctx, bin, args(h.ordererArgs())...)
	if err == nil || !timedOut(out) {
		return out, err
	}
	first := err
	if cfg == nil {
		o, oerr := h.Orderer(channelID)
		if oerr != nil {
			return out, first
		}
		c, oerr := o.Config(ctx)
		_ = o.Close()
		if oerr != nil {
			return out, first
		}
		cfg = c.Config
	}
	cs, cerr := channel.Consenters(cfg)
	if cerr != nil {
		return out, first
	}
	tmp, terr := os.MkdirTemp("", "mtrace-orderers")
	if terr != nil {
		return out, first
	}
	defer os.RemoveAll(tmp)
	orgs := cfg.GetChannelGroup().GetGroups()["Application"].GetGroups()
	tlsDir := filepath.Join(h.AdminDir(), "tls")
	for _, c := range cs {
		if c.MspId == h.MSPID {
			continue
		}
		if done(ctx) {
			return out, nil
		}
		roots, rerr := tlsRoots(orgs[c.MspId])
		f := filepath.Join(tmp, c.MspId+".pem")
		if rerr != nil || os.WriteFile(f, roots, 0o644) != nil {
			continue
		}
		out, err = h.peerCmd(ctx, bin, args([]string{"-o", net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))),
			"--tls", "--cafile", f, "--clientauth",
			"--certfile", filepath.Join(tlsDir, "client.crt"), "--keyfile", filepath.Join(tlsDir, "client.key")})...)
		if err == nil {
			return out, nil
		}
		if !timedOut(out) {
			// Refused, perhaps as a repeat of one that got in meanwhile.
			if done(ctx) {
				return out, nil
			}
			return out, err
		}
	}
	return out, first
}

// timedOut reports whether the peer CLI gave up waiting for its
// transaction to reach the peer: either its own wait ran out, or the
// peer's deliver stream it waits on ended at the deadline first.
func timedOut(out []byte) bool {
	return bytes.Contains(out, []byte("timed out waiting for txid")) ||
		bytes.Contains(out, []byte("context finished before block retrieved"))
}

type anchor struct {
	addr     string
	tlsRoots []byte
}

// anchorPeers are the application organisations' first anchor peers and
// TLS root certificates.
func anchorPeers(cfg *cb.Config) (map[string]anchor, error) {
	out := map[string]anchor{}
	for name, org := range cfg.GetChannelGroup().GetGroups()["Application"].GetGroups() {
		var a anchor
		var ap pb.AnchorPeers
		if v := org.Values["AnchorPeers"]; v != nil {
			if err := proto.Unmarshal(v.Value, &ap); err != nil {
				return nil, fmt.Errorf("%s/AnchorPeers: %w", name, err)
			}
			if len(ap.AnchorPeers) > 0 {
				a.addr = net.JoinHostPort(ap.AnchorPeers[0].Host, strconv.Itoa(int(ap.AnchorPeers[0].Port)))
			}
		}
		tls, err := tlsRoots(org)
		if err != nil {
			return nil, fmt.Errorf("%s/MSP: %w", name, err)
		}
		a.tlsRoots = tls
		out[name] = a
	}
	return out, nil
}

// tlsRoots are an organisation's TLS root certificates (PEM) from its MSP.
func tlsRoots(org *cb.ConfigGroup) ([]byte, error) {
	v := org.GetValues()["MSP"]
	if v == nil {
		return nil, errors.New("no MSP")
	}
	var mc mb.MSPConfig
	var fc mb.FabricMSPConfig
	if err := proto.Unmarshal(v.Value, &mc); err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(mc.Config, &fc); err != nil {
		return nil, err
	}
	return bytes.Join(fc.TlsRootCerts, nil), nil
}
