// Package revoke implements `mtrace identity revoke`: the organisation
// admin revokes a person's certificates at the CA and puts the CA's new
// revocation list into the organisation's MSP in the channel
// configuration, after which every peer and orderer refuses them.
package revoke

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-config/configtx"
	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
	"github.com/mtrace/mtrace/internal/channel"
	"github.com/mtrace/mtrace/internal/fabca"
)

// Options are the inputs of one revocation.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	Profile func() (*config.Profile, error)
	OpenCA  shared.Opener
	// SetCRL puts the CRL into the profile's organisation's MSP in the
	// channel configuration.
	SetCRL func(ctx context.Context, p *config.Profile, crlPEM []byte) (*ChannelCRL, error)

	Name   string
	Reason string
}

// ChannelCRL is the state of the channel after SetCRL.
type ChannelCRL struct {
	// Block is the config block that holds the CRL.
	Block uint64 `json:"configBlock"`
	// Changed is false when the channel already held this CRL.
	Changed bool `json:"changed"`
	// Serials are every serial the organisation's MSP revokes now (hex).
	Serials []string `json:"revokedInChannel"`
}

// Result is what a revocation reports (-o json).
type Result struct {
	Name    string   `json:"name"`
	MSP     string   `json:"msp"`
	CA      string   `json:"ca"`
	Reason  string   `json:"reason"`
	Code    string   `json:"reasonCode"`
	Revoked []string `json:"revoked"`
	ChannelCRL
}

// NewCmdRevoke builds the command; runF replaces runRevoke in tests.
func NewCmdRevoke(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Profile: f.Profile, OpenCA: shared.Open, SetCRL: SetChannelCRL}
	cmd := &cobra.Command{
		Use:   "revoke NAME --reason TEXT",
		Short: "Revoke a person's certificates on the whole network (organisation admins only)",
		Long: `Revoke every certificate of an identity at your organisation's Fabric CA
(the identity cannot enrol again), have the CA generate its revocation list,
and put that list into your organisation's MSP in the channel configuration:
a config update signed by your organisation's admin (the chosen profile) and
sent to the orderer in the profile's orderer section. Once the config block
is committed, every peer and orderer refuses the revoked certificates:
evaluate, endorse and submit all fail.

The reason is recorded by the CA as an RFC 5280 reason when it names one
(keycompromise, superseded, privilegewithdrawn, affiliationchanged,
cessationofoperation, ...; spaces and case do not matter), and as
unspecified otherwise. Running it again for the same name brings the
channel's list up to date with the CA's (for example after an interrupted run).`,
		Example: `  mtrace -p recycler-admin identity revoke derya --reason "key compromise"
  mtrace -p recycler-admin identity revoke ayse --reason "left the company" -o json`,
		Args: cmdutil.ExactArgs(1, "one identity name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Name, err = shared.CheckName(args[0]); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if strings.TrimSpace(opts.Reason) == "" {
				return cmdutil.FlagErrorf("--reason: say why the identity is revoked")
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runRevoke)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why: an RFC 5280 reason (keycompromise, superseded, ...) or any text")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// reasons are the RFC 5280 reason names Fabric CA knows.
var reasons = []string{"unspecified", "keycompromise", "cacompromise", "affiliationchanged", "superseded",
	"cessationofoperation", "certificatehold", "removefromcrl", "privilegewithdrawn", "aacompromise"}

// reasonCode maps a reason text to the name Fabric CA records.
func reasonCode(text string) string {
	code := strings.ToLower(strings.Join(strings.Fields(text), ""))
	if slices.Contains(reasons, code) {
		return code
	}
	return "unspecified"
}

func runRevoke(ctx context.Context, opts *Options) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	// Every check before the CA changes anything.
	if err := shared.RequireAdmin(p, "revoking identities"); err != nil {
		return err
	}
	if err := p.CheckOrderer(); err != nil {
		return fmt.Errorf("%w: revocation updates the channel configuration through an orderer", err)
	}
	ca, err := opts.OpenCA(p)
	if err != nil {
		return err
	}
	res := Result{Name: opts.Name, MSP: p.MSPID, CA: ca.Name, Reason: opts.Reason, Code: reasonCode(opts.Reason), Revoked: []string{}}
	certs, err := ca.Revoke(ctx, opts.Name, res.Code)
	if err != nil {
		return fmt.Errorf("revoke %s at %s: %w", opts.Name, ca.Name, err)
	}
	for _, c := range certs {
		res.Revoked = append(res.Revoked, strings.TrimLeft(strings.ToLower(c.Serial), "0"))
	}
	crl, err := ca.GenCRL(ctx)
	if err != nil {
		return fmt.Errorf("revoked %s at %s, but the CA gave no revocation list (run revoke again): %w", opts.Name, ca.Name, err)
	}
	ch, err := opts.SetCRL(ctx, p, crl)
	if err != nil {
		return fmt.Errorf("revoked %s at %s, but the channel does not know it yet (run revoke again): %w", opts.Name, ca.Name, err)
	}
	res.ChannelCRL = *ch
	for _, s := range res.Revoked {
		if !slices.Contains(ch.Serials, s) {
			// The CA leaves certificates that have expired out of its list.
			fmt.Fprintf(opts.IO.ErrOut, "warning: certificate %s is not in the channel's revocation list (expired?)\n", s)
		}
	}
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, res)
	}
	w := opts.IO.Out
	if len(res.Revoked) == 0 {
		fmt.Fprintf(w, "Revoked %s at %s: no certificate was still valid at the CA (the identity can no longer enrol).\n", res.Name, res.CA)
	} else {
		fmt.Fprintf(w, "Revoked %s at %s (%s): certificate %s.\n", res.Name, res.CA, res.Code, strings.Join(res.Revoked, ", "))
	}
	if !res.Changed {
		_, err = fmt.Fprintf(w, "The channel already held this revocation list (config block %d); %s revokes %d certificate(s).\n", res.Block, res.MSP, len(res.Serials))
		return err
	}
	_, err = fmt.Fprintf(w, "%s's revocation list (%d certificate(s)) is in the channel configuration from config block %d: every peer and orderer now refuses them.\n",
		res.MSP, len(res.Serials), res.Block)
	return err
}

// SetChannelCRL puts crlPEM into the MSP of p's organisation in the
// channel configuration: it reads the configuration from the orderer in
// p's orderer section, computes the update, has p's identity (the
// organisation's admin, whom the MSP's Admins policy names) sign it, sends
// it, and waits until the orderer has cut the new config block.
func SetChannelCRL(ctx context.Context, p *config.Profile, crlPEM []byte) (*ChannelCRL, error) {
	crl, err := channel.ParseCRL(crlPEM)
	if err != nil {
		return nil, err
	}
	id, err := fabca.LoadIdentity(p.Cert, p.Key)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	signer := &configtx.SigningIdentity{Certificate: id.Cert, PrivateKey: id.Key, MSPID: p.MSPID}
	cert, err := tls.LoadX509KeyPair(p.Orderer.TLSCert, p.Orderer.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("profile %s: orderer TLS client certificate: %w", p.Name, err)
	}
	o, err := channel.Dial(p.Orderer.Endpoint, p.Orderer.TLSRootCert, p.Orderer.ServerName, cert, p.Channel, signer)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	cfg, err := o.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("channel %s configuration: %w", p.Channel, err)
	}
	changed := false
	u, err := channel.Compute(cfg.Config, p.Channel, func(c *configtx.ConfigTx) error {
		var err error
		changed, err = channel.SetRevocationList(c, p.MSPID, crl)
		if err == nil && !changed {
			return errUnchanged
		}
		return err
	})
	if errors.Is(err, errUnchanged) {
		c := configtx.New(cfg.Config)
		serials, err := channel.RevokedSerials(&c, p.MSPID)
		return &ChannelCRL{Block: cfg.Block, Serials: serials}, err
	}
	if err != nil {
		return nil, err
	}
	if err := u.Sign(signer); err != nil {
		return nil, err
	}
	env, err := u.Envelope(signer)
	if err != nil {
		return nil, err
	}
	if err := o.Submit(ctx, env); err != nil {
		return nil, err
	}
	next, err := o.WaitConfig(ctx, cfg.Block)
	if err != nil {
		return nil, err
	}
	c := configtx.New(next.Config)
	serials, err := channel.RevokedSerials(&c, p.MSPID)
	if err != nil {
		return nil, err
	}
	return &ChannelCRL{Block: next.Block, Changed: true, Serials: serials}, nil
}

// errUnchanged stops Compute when the channel already holds the CRL.
var errUnchanged = errors.New("the channel holds this revocation list already")
