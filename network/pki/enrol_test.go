package pki

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
)

// caServers stands one fake Fabric CA server in for every organisation's:
// it hosts each organisation's enrolment and TLS CA, with the registrar
// and secret WriteServerConfig gave them, and every organisation's CA
// points at it. Each server's TLS root is where the real server would
// write it.
func caServers(t *testing.T, home string, orgs []Org) *fabcatest.Server {
	t.Helper()
	var names []string
	for _, o := range orgs {
		names = append(names, o.CA.Name, o.CA.TLSName)
	}
	s := fabcatest.New(t, names...)
	for i := range orgs {
		orgs[i].CA.Port = s.Port()
		ca := orgs[i].CA
		require.NoError(t, WriteServerConfig(home, ca))
		secret, err := registrarSecret(ServerDir(home, ca))
		require.NoError(t, err)
		s.AddUser(ca.Name, Registrar, secret, "client")
		s.AddUser(ca.TLSName, Registrar, secret, "client")
		require.NoError(t, writeFile(TLSRoot(home, ca), s.TLSRootPEM, 0o644))
	}
	return s
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	c, err := fabca.ParseCert(raw)
	require.NoError(t, err, path)
	return c
}

func TestEnrolWritesEveryHoldersFolders(t *testing.T) {
	home := t.TempDir()
	orgs := Orgs(consortium(t), 27000, filepath.Join(home, "crypto"))
	s := caServers(t, home, orgs)
	holders := 0
	for _, o := range orgs {
		holders += len(o.Holders)
	}

	n, err := Enrol(context.Background(), home, orgs)
	require.NoError(t, err)
	assert.Equal(t, holders, n)

	for _, o := range orgs {
		ca, tlsca := s.CA(o.CA.Name), s.CA(o.CA.TLSName)
		caPEM, err := os.ReadFile(o.CACert())
		require.NoError(t, err)
		assert.Equal(t, ca.PEM, caPEM, "%s: the enrolment CA's certificate", o.CA.Org)
		tlsPEM, err := os.ReadFile(o.TLSCACert())
		require.NoError(t, err)
		assert.Equal(t, tlsca.PEM, tlsPEM)
		cfg, err := os.ReadFile(filepath.Join(o.Dir, "msp", "config.yaml"))
		require.NoError(t, err)
		assert.Contains(t, string(cfg), "Certificate: cacerts/ca."+o.CA.Domain+"-cert.pem")
		assert.Contains(t, string(cfg), "OrganizationalUnitIdentifier: orderer")

		for _, h := range o.Holders {
			assert.True(t, complete(h), h.ID)
			sign := readCert(t, filepath.Join(h.Dir, "msp", "signcerts", h.File+"-cert.pem"))
			require.NoError(t, sign.CheckSignatureFrom(ca.Cert), "%s: signed by its organisation's enrolment CA", h.ID)
			assert.Equal(t, h.ID, sign.Subject.CommonName)
			assert.Equal(t, []string{h.Type}, sign.Subject.OrganizationalUnit, "%s: the OU is the Fabric type", h.ID)
			attrs, err := fabcatest.Attributes(sign)
			require.NoError(t, err)
			assert.Equal(t, string(h.Role), attrs["mtrace.role"], "%s: the in-house role is in the certificate", h.ID)

			key, err := os.ReadFile(filepath.Join(h.Dir, "msp", "keystore", "priv_sk"))
			require.NoError(t, err)
			k, err := fabca.ParseKey(key)
			require.NoError(t, err)
			assert.True(t, k.PublicKey.Equal(sign.PublicKey), "%s: the key is the certificate's", h.ID)
			info, err := os.Stat(filepath.Join(h.Dir, "msp", "keystore", "priv_sk"))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			cacert, err := os.ReadFile(filepath.Join(h.Dir, "msp", "cacerts", "ca."+o.CA.Domain+"-cert.pem"))
			require.NoError(t, err)
			assert.Equal(t, ca.PEM, cacert)

			certName, keyName := tlsFiles(h)
			tc := readCert(t, filepath.Join(h.Dir, "tls", certName))
			require.NoError(t, tc.CheckSignatureFrom(tlsca.Cert), "%s: TLS certificate from the TLS CA", h.ID)
			var names []string
			names = append(names, tc.DNSNames...)
			for _, ip := range tc.IPAddresses {
				names = append(names, ip.String())
			}
			slices.Sort(names)
			want := slices.Clone(h.Hosts)
			slices.Sort(want)
			assert.Equal(t, want, names, "%s: TLS names", h.ID)
			tk, err := os.ReadFile(filepath.Join(h.Dir, "tls", keyName))
			require.NoError(t, err)
			k, err = fabca.ParseKey(tk)
			require.NoError(t, err)
			assert.True(t, k.PublicKey.Equal(tc.PublicKey))
			root, err := os.ReadFile(filepath.Join(h.Dir, "tls", "ca.crt"))
			require.NoError(t, err)
			assert.Equal(t, tlsca.PEM, root)

			// Secrets are kept only until the folders are complete.
			_, err = os.Stat(filepath.Join(ServerDir(home, o.CA), "secrets", "ca", h.ID))
			assert.ErrorIs(t, err, os.ErrNotExist, "%s: secret left behind", h.ID)
		}
		// The registrars' enrolments are kept for the next run.
		for _, sub := range []string{"ca", "tlsca"} {
			_, err := fabca.LoadIdentity(filepath.Join(ServerDir(home, o.CA), "registrar", sub, "cert.pem"),
				filepath.Join(ServerDir(home, o.CA), "registrar", sub, "key.pem"))
			assert.NoError(t, err)
		}
	}

	// A second run finds everything complete and asks the CAs nothing.
	before := s.Enrolments(orgs[0].CA.Name)
	n, err = Enrol(context.Background(), home, orgs)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, before, s.Enrolments(orgs[0].CA.Name))
}

// A run that stopped after registering a holder finishes it the next time
// with the secret it kept; the holders that failed are named.
func TestEnrolResumesWithTheKeptSecret(t *testing.T) {
	home := t.TempDir()
	orgs := Orgs(consortium(t), 27000, filepath.Join(home, "crypto"))
	s := caServers(t, home, orgs)
	mun := orgs[0]
	s.Refuse(func(ca, endpoint, id string) error {
		if ca == mun.CA.Name && endpoint == "enroll" && id == "zeynep" {
			return errors.New("the CA's database is locked")
		}
		return nil
	})
	n, err := Enrol(context.Background(), home, orgs, "municipality")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "municipality ("+mun.CA.URL()+"): zeynep: ")
	assert.Contains(t, err.Error(), "the CA's database is locked")
	assert.Equal(t, len(mun.Holders)-1, n)
	_, err = os.Stat(filepath.Join(ServerDir(home, mun.CA), "secrets", "ca", "zeynep"))
	require.NoError(t, err, "the secret is kept for the next run")
	for _, o := range orgs {
		if o.CA.Org != "municipality" {
			_, err := os.Stat(o.Dir)
			assert.ErrorIs(t, err, os.ErrNotExist, "%s was not asked for", o.CA.Org)
		}
	}

	s.Refuse(nil)
	n, err = Enrol(context.Background(), home, orgs, "municipality")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only zeynep is left")
	assert.True(t, complete(mun.Holders[6]))
	_, err = os.Stat(filepath.Join(ServerDir(home, mun.CA), "secrets", "ca", "zeynep"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A registration the CA refuses leaves no secret behind, so that the next
// run registers afresh.
func TestEnrolRegistrationRefused(t *testing.T) {
	home := t.TempDir()
	orgs := Orgs(consortium(t), 27000, filepath.Join(home, "crypto"))
	s := caServers(t, home, orgs)
	s.Refuse(func(ca, endpoint, id string) error {
		if endpoint == "register" && id == "ayse" {
			return errors.New("affiliation unknown")
		}
		return nil
	})
	_, err := Enrol(context.Background(), home, orgs, "municipality")
	require.ErrorContains(t, err, "ayse: ")
	assert.Contains(t, err.Error(), "affiliation unknown")
	for _, sub := range []string{"ca", "tlsca"} {
		_, err = os.Stat(filepath.Join(ServerDir(home, orgs[0].CA), "secrets", sub, "ayse"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	}
}

func TestEnrolWithoutTheCAServer(t *testing.T) {
	home := t.TempDir()
	orgs := Orgs(consortium(t), 27000, filepath.Join(home, "crypto"))
	_, err := Enrol(context.Background(), home, orgs, "maker")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the CA server's TLS root (is ca-maker running?)")
	assert.NotContains(t, err.Error(), "recycler", "only maker was asked for")

	// A registrar secret the server does not know.
	s := caServers(t, home, orgs)
	s.AddUser(orgs[2].CA.Name, Registrar, "another secret", "client")
	_, err = Enrol(context.Background(), home, orgs, "maker")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "registrar of ca-maker: ")
	assert.Contains(t, err.Error(), "Authentication failure")
}

func TestFetchCRLs(t *testing.T) {
	home := t.TempDir()
	orgs := Orgs(consortium(t), 27000, filepath.Join(home, "crypto"))
	s := caServers(t, home, orgs)
	_, err := Enrol(context.Background(), home, orgs)
	require.NoError(t, err)

	// The municipality's admin revokes mehmet.
	mun := orgs[0]
	c, err := fabca.New(mun.CA.URL(), mun.CA.Name, s.TLSRootPEM)
	require.NoError(t, err)
	a := mun.Admin()
	admin, err := fabca.LoadIdentity(filepath.Join(a.Dir, "msp", "signcerts", a.File+"-cert.pem"), filepath.Join(a.Dir, "msp", "keystore", "priv_sk"))
	require.NoError(t, err)
	revoked, err := c.Revoke(context.Background(), admin, "mehmet", "")
	require.NoError(t, err)
	require.Len(t, revoked, 1)
	mehmet := readCert(t, filepath.Join(mun.Holders[5].Dir, "msp", "signcerts", mun.Holders[5].File+"-cert.pem"))

	require.NoError(t, FetchCRLs(context.Background(), home, orgs))
	var msps []string
	require.NoError(t, filepath.WalkDir(mun.Dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "msp" {
			msps = append(msps, path)
		}
		return err
	}))
	assert.Len(t, msps, 1+len(mun.Holders), "the channel MSP and every local MSP")
	for _, m := range msps {
		raw, err := os.ReadFile(filepath.Join(m, CRLFile))
		require.NoError(t, err, m)
		b, _ := pem.Decode(raw)
		require.NotNil(t, b)
		crl, err := x509.ParseRevocationList(b.Bytes)
		require.NoError(t, err)
		require.NoError(t, crl.CheckSignatureFrom(s.CA(mun.CA.Name).Cert))
		require.Len(t, crl.RevokedCertificateEntries, 1, m)
		assert.Equal(t, mehmet.SerialNumber, crl.RevokedCertificateEntries[0].SerialNumber)
	}
	// Another organisation's CRL is its own, and empty.
	raw, err := os.ReadFile(filepath.Join(orgs[1].Dir, "msp", CRLFile))
	require.NoError(t, err)
	b, _ := pem.Decode(raw)
	crl, err := x509.ParseRevocationList(b.Bytes)
	require.NoError(t, err)
	assert.Empty(t, crl.RevokedCertificateEntries)

	// An organisation whose admin has no folder cannot ask for its CRL.
	require.NoError(t, os.RemoveAll(orgs[2].Admin().Dir))
	err = FetchCRLs(context.Background(), home, orgs)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "CRL of ca-maker: "), err.Error())
	require.NoError(t, os.Remove(TLSRoot(home, orgs[3].CA)))
	err = FetchCRLs(context.Background(), home, orgs)
	assert.ErrorContains(t, err, "CRL of ca-auditor: the CA server's TLS root (is ca-auditor running?)")
}
