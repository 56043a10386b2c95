// Package register implements `mtrace identity register`: an organisation
// admin registers a person at the organisation's Fabric CA with an
// mtrace.role, and gets the one-time enrolment secret.
package register

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmd/identity/shared"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/render"
	"github.com/mtrace/mtrace/internal/fabca"
)

// Options are the inputs of one registration.
type Options struct {
	IO      *iostreams.IOStreams
	Format  string
	Profile func() (*config.Profile, error)
	OpenCA  shared.Opener

	Name           string
	Role           model.PersonRole
	SecretFile     string
	MaxEnrollments int
}

// Result is what a registration reports (-o json).
type Result struct {
	Name           string           `json:"name"`
	MSP            string           `json:"msp"`
	Role           model.PersonRole `json:"role"`
	Type           string           `json:"type"`
	CA             string           `json:"ca"`
	MaxEnrollments int              `json:"maxEnrollments"`
	Secret         string           `json:"secret,omitempty"`
	SecretFile     string           `json:"secretFile,omitempty"`
}

// NewCmdRegister builds the command; runF replaces runRegister in tests.
func NewCmdRegister(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Profile: f.Profile, OpenCA: shared.Open}
	var role string
	cmd := &cobra.Command{
		Use:   "register NAME --role operator|viewer|admin",
		Short: "Register a person at your organisation's CA (organisation admins only)",
		Long: `Register a person at your organisation's Fabric CA, with the in-house role
the chaincode checks on every transaction:

  operator  submits everything the organisation's role allows
  viewer    reads only
  admin     an organisation admin (Fabric type admin): registry votes,
            migration; can also write like an operator

The CA answers a one-time enrolment secret (valid for --max-enrollments
enrolments, 1 unless you say otherwise). It is printed, or written to
--secret-file (mode 0600, never overwritten). Hand it to the person, who
runs 'mtrace identity enroll NAME'. The profile must be an organisation
admin's (such as recycler-admin).`,
		Example: `  mtrace -p recycler-admin identity register derya --role operator
  mtrace -p recycler-admin identity register ayse --role viewer --secret-file ayse.secret`,
		Args: cmdutil.ExactArgs(1, "one identity name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Name, err = shared.CheckName(args[0]); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if opts.Role, err = shared.ParseRole(role); err != nil {
				return cmdutil.FlagErrorf("%w", err)
			}
			if opts.MaxEnrollments < 1 {
				return cmdutil.FlagErrorf("--max-enrollments: must be 1 or more, got %d", opts.MaxEnrollments)
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runRegister)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&role, "role", "", "mtrace.role: operator, viewer or admin")
	fl.StringVar(&opts.SecretFile, "secret-file", "", "write the one-time secret to this file instead of printing it")
	fl.IntVar(&opts.MaxEnrollments, "max-enrollments", 1, "how many times the secret may be used")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func runRegister(ctx context.Context, opts *Options) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if err := shared.RequireAdmin(p, "registering identities"); err != nil {
		return err
	}
	if opts.SecretFile != "" {
		if _, err := os.Stat(opts.SecretFile); err == nil {
			return fmt.Errorf("--secret-file %s exists; it is never overwritten", opts.SecretFile)
		}
	}
	ca, err := opts.OpenCA(p)
	if err != nil {
		return err
	}
	res := Result{Name: opts.Name, MSP: p.MSPID, Role: opts.Role, Type: shared.FabricType(opts.Role), CA: ca.Name,
		MaxEnrollments: opts.MaxEnrollments}
	secret, err := ca.Register(ctx, fabca.Registration{
		Name: opts.Name, Type: res.Type, MaxEnrollments: opts.MaxEnrollments,
		Attrs: []fabca.Attribute{{Name: model.RoleAttribute, Value: string(opts.Role), ECert: true}},
	})
	if err != nil {
		return fmt.Errorf("register %s at %s: %w", opts.Name, ca.Name, err)
	}
	if opts.SecretFile != "" {
		if err := writeSecret(opts.SecretFile, secret); err != nil {
			return fmt.Errorf("registered %s, but the secret could not be stored: %w", opts.Name, err)
		}
		res.SecretFile = opts.SecretFile
	} else {
		res.Secret = secret
	}
	if opts.Format == cmdutil.FormatJSON {
		return render.JSON(opts.IO.Out, res)
	}
	fmt.Fprintf(opts.IO.Out, "Registered %s at %s (%s) with mtrace.role %s (Fabric type %s).\n", res.Name, res.CA, res.MSP, res.Role, res.Type)
	uses := "once"
	if res.MaxEnrollments > 1 {
		uses = fmt.Sprintf("%d times", res.MaxEnrollments)
	}
	if res.SecretFile != "" {
		_, err = fmt.Fprintf(opts.IO.Out, "The enrolment secret (usable %s) is in %s.\n", uses, res.SecretFile)
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Enrolment secret (usable %s): %s\n", uses, res.Secret)
	return err
}

// writeSecret creates path with the secret, readable by its owner only;
// an existing file is an error.
func writeSecret(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
