package pki

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mtrace/mtrace/internal/fabca"
)

// CRLFile is where a CRL lies in an MSP folder; Fabric reads every file of
// crls/ when the node (or CLI) starts.
const CRLFile = "crls/crl.pem"

// FetchCRLs asks each organisation's enrolment CA for its current CRL, as
// the organisation's Admin, and writes it into every MSP folder of the
// organisation (the channel MSP and each node's and user's local MSP), so
// that the nodes refuse revoked certificates of their own organisation
// from their start. The channel's copy is a config update
// (mtrace identity revoke); a new channel's genesis block takes the
// channel MSP's.
func FetchCRLs(ctx context.Context, home string, orgs []Org) error {
	var wg sync.WaitGroup
	errs := make([]error, len(orgs))
	for i, o := range orgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetchCRL(ctx, home, o); err != nil {
				errs[i] = fmt.Errorf("CRL of %s: %w", o.CA.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func fetchCRL(ctx context.Context, home string, o Org) error {
	root, err := os.ReadFile(TLSRoot(home, o.CA))
	if err != nil {
		return fmt.Errorf("the CA server's TLS root (is %s running?): %w", o.CA.Process, err)
	}
	c, err := fabca.New(o.CA.URL(), o.CA.Name, root)
	if err != nil {
		return err
	}
	a := o.Admin()
	admin, err := fabca.LoadIdentity(filepath.Join(a.Dir, "msp", "signcerts", a.File+"-cert.pem"),
		filepath.Join(a.Dir, "msp", "keystore", "priv_sk"))
	if err != nil {
		return err
	}
	crl, err := c.GenCRL(ctx, admin)
	if err != nil {
		return err
	}
	return filepath.WalkDir(o.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "msp" {
			if err := writeFile(filepath.Join(path, CRLFile), crl, 0o644); err != nil {
				return err
			}
			return filepath.SkipDir
		}
		return nil
	})
}
