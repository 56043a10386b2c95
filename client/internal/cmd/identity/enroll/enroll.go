// Package enroll implements `mtrace identity enroll`: a registered person
// makes a key on this machine, has the organisation's CA certify it, and
// gets a profile of their own in the CLI config.
package enroll

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
	"github.com/mtrace/mtrace/internal/fabca"
)

// Options are the inputs of one enrolment.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	Profile func() (*config.Profile, error)
	OpenCA  shared.Opener
	// AddProfile writes the new profile into the config file.
	AddProfile func(path, name string, p config.Profile, replace bool) error

	Name        string
	Secret      string
	SecretFile  string
	ProfileName string // default <node>-<Name>
	Force       bool
}

// Result is what an enrolment reports (-o json).
type Result struct {
	Name    string           `json:"name"`
	MSP     string           `json:"msp"`
	Role    model.PersonRole `json:"role"`
	Serial  string           `json:"serial"`
	Expires string           `json:"expires"`
	Cert    string           `json:"cert"`
	Key     string           `json:"key"`
	Profile string           `json:"profile"`
	Config  string           `json:"config"`
}

// NewCmdEnroll builds the command; runF replaces runEnroll in tests.
func NewCmdEnroll(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Profile: f.Profile, OpenCA: shared.Open, AddProfile: config.AddProfile}
	cmd := &cobra.Command{
		Use:   "enroll NAME --secret SECRET",
		Short: "Enrol a registered identity: make its key here and add a profile for it",
		Long: `Enrol an identity that an organisation admin registered: a new private key
is made on this machine (it never leaves it), the organisation's CA (the ca
section of the chosen profile) certifies it in exchange for the one-time
secret, and the key and certificate are written under the config file's
folder, in identities/<profile>/. A profile named <node>-NAME (node from the
chosen profile's name: recycler-admin gives recycler-NAME), a copy of the
chosen profile with the new certificate and key, is added to the config file.

The certificate must carry mtrace.role; the chaincode refuses identities
without it.`,
		Example: `  mtrace -p recycler identity enroll derya --secret 8f2k...
  mtrace -p recycler identity enroll ayse --secret-file ayse.secret
  mtrace -p recycler-derya batch process ...`,
		Args: cmdutil.ExactArgs(1, "one identity name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Name, err = shared.CheckName(args[0]); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if (opts.Secret == "") == (opts.SecretFile == "") {
				return cmdutil.FlagErrorf("pass the enrolment secret with --secret or --secret-file (one of them)")
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runEnroll)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Secret, "secret", "", "the one-time enrolment secret")
	fl.StringVar(&opts.SecretFile, "secret-file", "", "read the secret from this file (as register --secret-file wrote it)")
	fl.StringVar(&opts.ProfileName, "profile-name", "", "name of the new profile (default <node>-NAME)")
	fl.BoolVar(&opts.Force, "force", false, "replace a profile and key files of the same name")
	return cmd
}

func runEnroll(ctx context.Context, opts *Options) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	secret := opts.Secret
	if opts.SecretFile != "" {
		raw, err := os.ReadFile(opts.SecretFile)
		if err != nil {
			return fmt.Errorf("--secret-file: %w", err)
		}
		if secret = strings.TrimSpace(string(raw)); secret == "" {
			return fmt.Errorf("--secret-file %s is empty", opts.SecretFile)
		}
	}
	file, err := config.Load(p.Source)
	if err != nil {
		return err
	}
	name := opts.ProfileName
	if name == "" {
		name = shared.Node(p.Name, file.Names()) + "-" + opts.Name
	}
	dir := filepath.Join(filepath.Dir(p.Source), "identities", name)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	// Refuse before the CA spends the one-time secret.
	if !opts.Force {
		if slices.Contains(file.Names(), name) {
			return fmt.Errorf("profile %s exists in %s; pass --force to replace it, or --profile-name", name, p.Source)
		}
		if _, err := os.Stat(keyFile); err == nil {
			return fmt.Errorf("%s exists; pass --force to replace it, or --profile-name", keyFile)
		}
	}
	ca, err := opts.OpenCA(p)
	if err != nil {
		return err
	}
	// Asking for mtrace.role makes the CA refuse an identity registered
	// without it, instead of issuing a certificate the chaincode refuses.
	e, err := ca.Enroll(ctx, opts.Name, secret, fabca.EnrollOptions{Attrs: []fabca.AttrRequest{{Name: model.RoleAttribute}}})
	if err != nil {
		return fmt.Errorf("enrol %s at %s: %w", opts.Name, ca.Name, err)
	}
	cert, err := e.Cert()
	if err != nil {
		return fmt.Errorf("enrol %s: the CA's certificate: %w", opts.Name, err)
	}
	role, err := shared.Role(cert)
	if err != nil {
		return err
	}
	if !role.Known() {
		return fmt.Errorf("enrol %s: the CA issued a certificate with mtrace.role %q, which the chaincode refuses; nothing was written", opts.Name, role)
	}
	keyPEM, err := fabca.KeyPEM(e.Key)
	if err != nil {
		return err
	}
	if err := writeFiles(dir, map[string][]byte{"cert.pem": e.CertPEM, "key.pem": keyPEM, "ca-chain.pem": e.ChainPEM}); err != nil {
		return fmt.Errorf("enrolled %s, but the key could not be stored (enrol again with a new secret): %w", opts.Name, err)
	}
	np := *p
	np.Cert, np.Key = certFile, keyFile
	if err := opts.AddProfile(p.Source, name, np, opts.Force); err != nil {
		return fmt.Errorf("enrolled %s (key and certificate in %s), but the profile was not added: %w", opts.Name, dir, err)
	}
	res := Result{Name: opts.Name, MSP: p.MSPID, Role: role, Serial: cert.SerialNumber.Text(16),
		Expires: cert.NotAfter.UTC().Format(time.RFC3339), Cert: certFile, Key: keyFile, Profile: name, Config: p.Source}
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Enrolled %s (%s, mtrace.role %s): certificate %s, expires %s.\nKey and certificate in %s; profile %s added to %s.\n",
		res.Name, res.MSP, res.Role, res.Serial, res.Expires, dir, res.Profile, res.Config)
	return err
}

// writeFiles writes the files into dir (created, mode 0700), each mode
// 0600, through a temporary name, so that a reader sees old or new.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, files[name], 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
