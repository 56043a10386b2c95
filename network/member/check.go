package member

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-config/configtx"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"

	"github.com/mtrace/mtrace/internal/channel"
)

// Signed is a signature file and where it came from.
type Signed struct {
	Path string
	*SignatureFile
}

// Checked is what Check found: the policies the update needs and the
// organisations whose admins' signatures count.
type Checked struct {
	Needed  []Needed
	Signers []string
}

// Check checks signatures of an update against the configuration in
// force, as the orderer will: each signature must sign this update (by
// hash, and its bytes), come from an admin of an organisation of the
// channel, and together they must satisfy every policy the update
// touches. A bad signature fails naming its file; a policy not satisfied
// fails with a *MissingError naming who signed and who could still.
func Check(cfg *cb.Config, u *UpdateFile, cu *cb.ConfigUpdate, sigs []Signed, now time.Time) (*Checked, error) {
	ms, err := msps(cfg)
	if err != nil {
		return nil, err
	}
	e := &evaluator{cfg: cfg, msps: ms}
	var errs []error
	for _, s := range sigs {
		sg, err := s.verify(s.Path, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m := ms[sg.mspID]
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: signed by %s, which is not an organisation of channel %s: its signature counts for nothing; leave the file out", s.Path, sg.mspID, u.Channel))
			continue
		}
		if err := m.valid(sg.cert, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: the signer's certificate (%s) is not valid in %s: %w", s.Path, sg.cert.Subject.CommonName, sg.mspID, err))
			continue
		}
		if !m.role(sg, mb.MSPRole_ADMIN) {
			errs = append(errs, fmt.Errorf("%s: signed by %s, who is not an admin of %s (the certificate's OU is %v): only an organisation admin's signature counts", s.Path, sg.cert.Subject.CommonName, sg.mspID, sg.cert.Subject.OrganizationalUnit))
			continue
		}
		e.signers = append(e.signers, sg)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	needed, err := NeededPolicies(cfg, cu)
	if err != nil {
		return nil, err
	}
	if len(needed) == 0 {
		return nil, errors.New("the update changes nothing in the configuration in force")
	}
	c := &Checked{Needed: needed}
	for _, s := range e.signers {
		if !slices.Contains(c.Signers, s.mspID) {
			c.Signers = append(c.Signers, s.mspID)
		}
	}
	slices.Sort(c.Signers)
	for _, n := range needed {
		o, err := e.policy(n.Path)
		if err != nil {
			return nil, err
		}
		if !o.ok {
			errs = append(errs, &MissingError{Policy: n.Path, Rule: o.rule, Need: o.need, Have: o.have, Lacking: o.lacking, Elements: n.Elements})
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// Orderer connects to the organisation's own orderer as its admin.
func (h *Home) Orderer(channelID string) (*channel.Orderer, error) {
	id, err := channel.LoadSigner(filepath.Join(h.AdminDir(), "msp"), h.MSPID)
	if err != nil {
		return nil, err
	}
	tlsDir := filepath.Join(h.AdminDir(), "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return nil, fmt.Errorf("the admin's TLS client certificate: %w", err)
	}
	addr := net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Orderer))
	return channel.Dial(addr, filepath.Join(tlsDir, "ca.crt"), h.OrdererHost(), cert, channelID, id)
}

// SubmitResult is what Submit did.
type SubmitResult struct {
	AlreadyApplied bool
	Checked        *Checked
	Block          uint64 // the config block that holds the update, once seen
}

// Submit checks the signatures against the channel's configuration in
// force, read from the organisation's own orderer, and only when they
// suffice sends the update there, adding its own admin's signature if
// none of the files is its organisation's. It then waits (up to wait)
// until the orderer's configuration shows the update. An update whose
// result the channel already has is not sent again: AlreadyApplied.
func (h *Home) Submit(ctx context.Context, u *UpdateFile, cu *cb.ConfigUpdate, sigs []Signed, wait time.Duration) (*SubmitResult, error) {
	o, err := h.Orderer(u.Channel)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return h.submit(ctx, o, h.MSPID+"'s orderer", u, cu, sigs, wait)
}

// SubmitTo is Submit through the orderer connection o, which need not be
// the organisation's own: the single-machine network sends through the
// orderer that leads the consensus. The checks, the signatures and the
// wait are Submit's.
func (h *Home) SubmitTo(ctx context.Context, o *channel.Orderer, u *UpdateFile, cu *cb.ConfigUpdate, sigs []Signed, wait time.Duration) (*SubmitResult, error) {
	return h.submit(ctx, o, "the orderer", u, cu, sigs, wait)
}

func (h *Home) submit(ctx context.Context, o *channel.Orderer, from string, u *UpdateFile, cu *cb.ConfigUpdate, sigs []Signed, wait time.Duration) (*SubmitResult, error) {
	cfg, err := o.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("the channel's configuration from %s: %w", from, err)
	}
	if done, err := u.Applied(cfg.Config); err != nil || done {
		return &SubmitResult{AlreadyApplied: done, Block: cfg.Block}, err
	}
	if at := Stale(cfg.Config, cu); at != "" {
		return nil, fmt.Errorf("update %s was computed from config block %d, but the channel's configuration has changed since (%s; config block %d is in force): make the update again from the latest config block and collect the signatures again", short(u.SHA256), u.BaseBlock, at, cfg.Block)
	}
	if !slices.ContainsFunc(sigs, func(s Signed) bool { return s.MSPID == h.MSPID }) {
		own, err := h.Sign(u)
		if err != nil {
			return nil, err
		}
		sigs = append(slices.Clone(sigs), Signed{Path: "(" + h.MSPID + "'s own signature)", SignatureFile: own})
	}
	checked, err := Check(cfg.Config, u, cu, sigs, time.Now())
	if err != nil {
		return nil, err
	}
	var css []*cb.ConfigSignature
	for _, s := range sigs {
		css = append(css, s.ConfigSignature())
	}
	id, err := channel.LoadSigner(filepath.Join(h.AdminDir(), "msp"), h.MSPID)
	if err != nil {
		return nil, err
	}
	env, err := configtx.NewEnvelope(u.ConfigUpdate, css...)
	if err != nil {
		return nil, err
	}
	if err := id.SignEnvelope(env); err != nil {
		return nil, err
	}
	if err := o.Submit(ctx, env); err != nil {
		return nil, err
	}
	res := &SubmitResult{Checked: checked}
	deadline := time.Now().Add(wait)
	for {
		cfg, err := o.Config(ctx)
		if err == nil {
			if done, _ := u.Applied(cfg.Config); done {
				res.Block = cfg.Block
				return res, nil
			}
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the orderer took the update but its configuration does not show it after %s (is a quorum of orderers up?)", wait)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Describe is the check in a few lines.
func (c *Checked) Describe() string {
	var b strings.Builder
	for _, n := range c.Needed {
		fmt.Fprintf(&b, "policy %s satisfied (guards %s)\n", n.Path, strings.Join(n.Elements, ", "))
	}
	fmt.Fprintf(&b, "signed by admins of: %s\n", strings.Join(c.Signers, ", "))
	return b.String()
}
