package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtrace/mtrace/network/pki"
)

// pkiCommands are the identity steps of network.sh: the CA servers'
// configuration, the enrolment of every identity, the CRLs of the local
// MSPs and the expiry check.
func pkiCommands(e *env) []*cobra.Command {
	caConfig := &cobra.Command{
		Use:   "ca-config [ORG...]",
		Short: "Write each organisation's Fabric CA server configuration into HOME/ca/<org> (default all; ORG is a node name or orderer)",
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			for _, ca := range t.CAs(e.base) {
				if len(args) > 0 && !slices.Contains(args, ca.Org) {
					continue
				}
				if err := pki.WriteServerConfig(e.home, ca); err != nil {
					return fmt.Errorf("%s: %w", ca.Process, err)
				}
			}
			return nil
		},
	}
	enrol := &cobra.Command{
		Use:   "enroll [ORG...]",
		Short: "Register and enrol every node, Admin, User1 and person from the organisations' CAs into HOME/crypto (default all; what is there is kept)",
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			n, err := pki.Enrol(ctx, e.home, pki.Orgs(t, e.base, e.crypto()), args...)
			if err != nil {
				return fmt.Errorf("enrolment: %w", err)
			}
			if n > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "enrolled %d identities (a signing and a TLS certificate each) from the organisations' CAs in %.1f s\n",
					n, time.Since(start).Seconds())
			}
			return nil
		},
	}
	crls := &cobra.Command{
		Use:   "crls",
		Short: "Copy each organisation's current CRL from its CA into every local MSP of the organisation (msp/crls)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := e.topology()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			return pki.FetchCRLs(ctx, e.home, pki.Orgs(t, e.base, e.crypto()))
		},
	}
	var within time.Duration
	var all bool
	certs := &cobra.Command{
		Use:   "certs [--within 720h] [--all]",
		Short: "Warn about node, TLS, user and CA certificates that expire soon (--all lists every one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := pki.Certs(e.home)
			if err != nil {
				return err
			}
			return printCerts(cmd, cs, time.Now(), within, all)
		},
	}
	certs.Flags().DurationVar(&within, "within", 30*24*time.Hour, "warn about certificates that expire within this time")
	certs.Flags().BoolVar(&all, "all", false, "list every certificate with its expiry")
	return []*cobra.Command{caConfig, enrol, crls, certs}
}

// printCerts prints a warning line for each certificate that expires
// within the window, then the one to expire first (or all, with all).
func printCerts(cmd *cobra.Command, cs []pki.Cert, now time.Time, within time.Duration, all bool) error {
	out := cmd.OutOrStdout()
	line := func(prefix string, c pki.Cert) {
		fmt.Fprintf(out, "%s%-14s %-40s expires %s (%s)  %s\n", prefix, c.Kind, c.Subject,
			c.NotAfter.UTC().Format("2006-01-02"), left(c.NotAfter.Sub(now)), c.Path)
	}
	if len(cs) == 0 {
		fmt.Fprintln(out, "certificates: none found")
		return nil
	}
	soon := pki.Expiring(cs, now, within)
	for _, c := range soon {
		line("WARNING ", c)
	}
	if all {
		for _, c := range cs {
			line("", c)
		}
		return nil
	}
	fmt.Fprintf(out, "certificates: %d, %d expire within %s; the first to expire:\n", len(cs), len(soon), left(within))
	line("  ", cs[0])
	return nil
}

// left is a duration in days, or "expired".
func left(d time.Duration) string {
	if d < 0 {
		return "expired"
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
