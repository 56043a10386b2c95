package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/network/member"
)

func chaincodeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "chaincode", Short: "A chaincode definition as a file: define, approve for the organisation, commit"}
	var d member.Definition
	var pkg, out string
	define := &cobra.Command{
		Use:   "define --name NAME --version V --sequence N (--package PKG.tar.gz | --package-id ID) --out NAME-N.chaincode",
		Short: "Write a chaincode definition file for the members to approve",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			d.Format = member.DefinitionFormat
			if pkg != "" {
				id, err := member.PackageID(pkg)
				if err != nil {
					return err
				}
				if d.PackageID != "" && d.PackageID != id {
					return fmt.Errorf("--package-id %s is not %s's ID (%s)", d.PackageID, pkg, id)
				}
				d.PackageID = id
			}
			if out == "" {
				out = fmt.Sprintf("%s-%d.chaincode", d.Name, d.Sequence)
			}
			if old, err := member.ReadDefinition(out); err == nil {
				if *old == d {
					fmt.Fprintf(a.out, "%s: kept (the same definition)\n", out)
					return nil
				}
				return fmt.Errorf("%s holds another definition: move it away first", out)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			if err := member.WriteDefinition(out, &d); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: %s version %s sequence %d, package %s\n", out, d.Name, d.Version, d.Sequence, d.PackageID)
			return nil
		},
	}
	f := define.Flags()
	f.StringVar(&d.Channel, "channel", "circular", "the channel's name")
	f.StringVar(&d.Name, "name", "mtrace", "the chaincode's name")
	f.StringVar(&d.Version, "version", "", "the definition's version")
	f.Int64Var(&d.Sequence, "sequence", 0, "the definition's sequence: the committed one's plus 1")
	f.StringVar(&d.PackageID, "package-id", "", "the package ID (label:sha256)")
	f.StringVar(&pkg, "package", "", "the chaincode package, to compute its ID")
	f.StringVar(&d.SignaturePolicy, "signature-policy", "", "the endorsement policy (default: the channel's Endorsement, MAJORITY)")
	f.StringVar(&out, "out", "", "the definition file (default NAME-SEQUENCE.chaincode)")

	approve := &cobra.Command{
		Use:   "approve FILE",
		Short: "Approve the definition for the organisation through its own peer and orderer",
		Long: `approve runs peer lifecycle chaincode approveformyorg as the organisation's
admin against its own peer and orderer (bin/peer; FABRIC_CFG_PATH names a
folder with core.yaml). Installing the package on the peer is separate
(peer lifecycle chaincode install).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, d, err := a.definition(args[0])
			if err != nil {
				return err
			}
			already, err := h.Approve(cmd.Context(), filepath.Join(a.bin, "peer"), d)
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintf(a.out, "%s: %s has approved it already\n", args[0], h.MSPID)
				return nil
			}
			fmt.Fprintf(a.out, "%s: approved by %s\n", args[0], h.MSPID)
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status FILE",
		Short: "Which organisations have approved the definition, from the organisation's peer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, d, err := a.definition(args[0])
			if err != nil {
				return err
			}
			ap, err := h.Approvals(cmd.Context(), filepath.Join(a.bin, "peer"), d)
			if err != nil {
				return err
			}
			var yes, no []string
			for m, ok := range ap {
				if ok {
					yes = append(yes, m)
				} else {
					no = append(no, m)
				}
			}
			slices.Sort(yes)
			slices.Sort(no)
			fmt.Fprintf(a.out, "approved: %s\nnot yet: %s\n", strings.Join(yes, ", "), strings.Join(no, ", "))
			return nil
		},
	}
	commit := &cobra.Command{
		Use:   "commit FILE",
		Short: "Commit the definition once a majority of the organisations approved it; names those missing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, d, err := a.definition(args[0])
			if err != nil {
				return err
			}
			already, err := h.Commit(cmd.Context(), filepath.Join(a.bin, "peer"), d)
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintf(a.out, "%s: committed already (sequence %d)\n", args[0], d.Sequence)
				return nil
			}
			fmt.Fprintf(a.out, "%s: committed %s version %s sequence %d\n", args[0], d.Name, d.Version, d.Sequence)
			return nil
		},
	}
	var binary, label string
	pack := &cobra.Command{
		Use:   "package --binary FILE [--label mtrace] --out PKG.tar.gz",
		Short: "Write a chaincode package of a compiled chaincode binary (the same binary gives the same package ID)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if binary == "" || out == "" {
				return errors.New("--binary and --out are required")
			}
			if err := member.Package(binary, label, out); err != nil {
				return err
			}
			id, err := member.PackageID(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s: package %s\n", out, id)
			return nil
		},
	}
	pack.Flags().StringVar(&binary, "binary", "", "the compiled chaincode (make build: bin/mtrace-cc)")
	pack.Flags().StringVar(&label, "label", "mtrace", "the package's label: the chaincode's name")
	pack.Flags().StringVar(&out, "out", "", "the package file to write")
	install := &cobra.Command{
		Use:   "install PKG.tar.gz",
		Short: "Install a chaincode package on the organisation's own peer, as its admin, unless it is installed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := a.open()
			if err != nil {
				return err
			}
			id, already, err := h.Install(cmd.Context(), filepath.Join(a.bin, "peer"), args[0])
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintf(a.out, "%s: installed already\n", id)
			} else {
				fmt.Fprintf(a.out, "%s: installed\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(define, approve, status, commit, pack, install)
	return cmd
}

// definition opens the organisation's folder and reads the definition
// file at path.
func (a *app) definition(path string) (*member.Home, *member.Definition, error) {
	h, err := a.open()
	if err != nil {
		return nil, nil, err
	}
	d, err := member.ReadDefinition(path)
	return h, d, err
}
