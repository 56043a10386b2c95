// Package propose implements `mtrace registry propose`: open a registry
// change for the member organisations' admins to approve.
package propose

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/iostreams"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/render"
)

// Options are the inputs of one proposal.
type Options struct {
	IO      *iostreams.IOStreams
	Ledger  cmdutil.LedgerFunc
	Format  string
	Request model.ChangeRequest
}

// NewCmdPropose builds the command; runF replaces runPropose in tests.
func NewCmdPropose(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ledger: f.Ledger}
	var role, ttl string
	var remove bool
	cmd := &cobra.Command{
		Use:   "propose --msp MSP (--role ROLE --name TEXT | --remove)",
		Short: "Propose adding, changing or removing a member organisation (organisation admins only)",
		Long: `Propose a registry change. It applies once admins of a majority of the
member organisations have approved it with 'mtrace registry approve ID';
proposing does not approve, so the proposing organisation approves too if it
agrees. Run it with an admin profile (for example -p maker-admin).`,
		Example: `  mtrace -p maker-admin registry propose --msp KaunasMSP --role collector --name "Kaunas waste services"
  mtrace -p auditor-admin registry propose --msp AuditorMSP --role auditor --name "Circular Materials Certification B.V."
  mtrace -p recycler-admin registry propose --msp MakerMSP --remove --ttl 48h`,
		Args: cmdutil.ExactArgs(0, "flags only"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Request, err = request(opts.Request.MSP, role, opts.Request.Name, ttl, remove); err != nil {
				return err
			}
			return cmdutil.Run(cmd.Context(), f, opts, runF, runPropose)
		},
	}
	cmd.Flags().StringVar(&opts.Request.MSP, "msp", "", "MSP ID of the organisation to add, change or remove")
	cmd.Flags().StringVar(&role, "role", "", "its role: collector, recycler, maker or auditor")
	cmd.Flags().StringVar(&opts.Request.Name, "name", "", "its display name")
	cmd.Flags().BoolVar(&remove, "remove", false, "propose removing the organisation instead")
	cmd.Flags().StringVar(&ttl, "ttl", "", "how long the proposal stays open, in whole hours (e.g. 48h; default 168h, at most 720h)")
	return cmd
}

// request builds the change request from the flags.
func request(msp, role, name, ttl string, remove bool) (model.ChangeRequest, error) {
	r := model.ChangeRequest{MSP: msp, Name: name}
	if msp == "" {
		return r, cmdutil.FlagErrorf("--msp is required")
	}
	if remove {
		if role != "" || name != "" {
			return r, cmdutil.FlagErrorf("--remove takes no --role or --name")
		}
		r.Action = model.ActionRemove
	} else {
		if role == "" || name == "" {
			return r, cmdutil.FlagErrorf("--role and --name are required (or --remove)")
		}
		parsed, err := model.ParseRole(role)
		if err != nil {
			return r, cmdutil.FlagErrorf("--role: %v", err)
		}
		r.Action, r.Role = model.ActionSet, parsed
	}
	if ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 || d%time.Hour != 0 {
			return r, cmdutil.FlagErrorf("--ttl: want a whole number of hours such as 48h, got %q", ttl)
		}
		r.TTLHours = int64(d / time.Hour)
	}
	return r, nil
}

func runPropose(ctx context.Context, opts *Options) error {
	return cmdutil.WithLedger(ctx, opts.Ledger, func(l ledger.Ledger) error {
		p, err := api.New(l).ProposeChange(ctx, opts.Request)
		if err != nil {
			return err
		}
		if opts.Format == cmdutil.FormatJSON {
			return render.JSON(opts.IO.Out, p)
		}
		_, err = fmt.Fprintf(opts.IO.Out, "Proposed %s: %s (tx %s), open until %s.\nAdmins approve it with: mtrace registry approve %s\n",
			p.ID, p.Change, p.Tx, p.ExpiresAt, p.ID)
		return err
	})
}
