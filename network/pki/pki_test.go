package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/internal/fabca"
	"github.com/mtrace/mtrace/network/topology"
)

func consortium(t *testing.T) *topology.Topology {
	top, err := topology.Load(filepath.Join("..", "consortium.yaml"))
	require.NoError(t, err)
	return top
}

// writeCert writes a self-signed certificate for cn that expires at
// notAfter.
func writeCert(t *testing.T, path, cn string, notAfter time.Time) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-400 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

func TestCertsWarnAboutThoseThatExpireSoon(t *testing.T) {
	home := t.TempDir()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	org := filepath.Join(home, "crypto", "peerOrganizations", "maker.mtrace.local")
	peer := filepath.Join(org, "peers", "peer0.maker.mtrace.local")
	user := filepath.Join(org, "users", "User1@maker.mtrace.local")
	writeCert(t, filepath.Join(peer, "msp", "signcerts", "peer0.maker.mtrace.local-cert.pem"), "peer0.maker.mtrace.local", now.Add(10*day))
	writeCert(t, filepath.Join(peer, "tls", "server.crt"), "peer0.maker.mtrace.local", now.Add(-day))
	writeCert(t, filepath.Join(user, "msp", "signcerts", "User1@maker.mtrace.local-cert.pem"), "User1@maker.mtrace.local", now.Add(29*day))
	writeCert(t, filepath.Join(user, "tls", "client.crt"), "User1@maker.mtrace.local", now.Add(31*day))
	writeCert(t, filepath.Join(org, "ca", "ca.maker.mtrace.local-cert.pem"), "ca.maker.mtrace.local", now.Add(5000*day))
	writeCert(t, filepath.Join(home, "ca", "maker", "tls-cert.pem"), "vm", now.Add(20*day))
	// Copies of CA certificates in MSP folders and the CAs' own files are
	// covered once, not per copy.
	writeCert(t, filepath.Join(peer, "msp", "cacerts", "ca.maker.mtrace.local-cert.pem"), "ca.maker.mtrace.local", now.Add(day))
	writeCert(t, filepath.Join(home, "ca", "maker", "ca-cert.pem"), "ca.maker.mtrace.local", now.Add(day))
	require.NoError(t, os.WriteFile(filepath.Join(peer, "tls", "server.key"), []byte("key"), 0o600))

	certs, err := Certs(home)
	require.NoError(t, err)
	var got []string
	for _, c := range certs {
		got = append(got, c.Kind+" "+c.Subject)
	}
	assert.Equal(t, []string{"TLS peer0.maker.mtrace.local", "node peer0.maker.mtrace.local", "CA server TLS vm",
		"user User1@maker.mtrace.local", "TLS User1@maker.mtrace.local", "CA ca.maker.mtrace.local"}, got)
	assert.Equal(t, filepath.Join("ca", "maker", "tls-cert.pem"), certs[2].Path)

	soon := Expiring(certs, now, 30*day)
	require.Len(t, soon, 4, "expired, 10, 20 and 29 days; not 31 days or the CA")
	assert.Equal(t, "user", soon[3].Kind)
	assert.Empty(t, Expiring(certs, now.Add(-400*day), 30*day))
}

func TestCertsRefuseAFileThatIsNotACertificate(t *testing.T) {
	home := t.TempDir()
	bad := filepath.Join(home, "crypto", "peerOrganizations", "x", "peers", "p", "tls", "server.crt")
	require.NoError(t, os.MkdirAll(filepath.Dir(bad), 0o755))
	require.NoError(t, os.WriteFile(bad, []byte("garbage"), 0o644))
	_, err := Certs(home)
	assert.ErrorContains(t, err, "server.crt: no PEM certificate")
	certs, err := Certs(filepath.Join(home, "none"))
	require.NoError(t, err)
	assert.Empty(t, certs)
}

func TestOrgsFollowCryptogensLayout(t *testing.T) {
	orgs := Orgs(consortium(t), 27000, "/n/crypto")
	require.Len(t, orgs, 4, "one per member: no ordering organisation")
	mun := orgs[0]
	assert.Equal(t, "/n/crypto/peerOrganizations/municipality.mtrace.local", mun.Dir)
	assert.Equal(t, "/n/crypto/peerOrganizations/municipality.mtrace.local/tlsca/tlsca.municipality.mtrace.local-cert.pem", mun.TLSCACert())
	assert.Equal(t, Holder{ID: "orderer0.municipality.mtrace.local", Type: "orderer",
		Dir:  "/n/crypto/peerOrganizations/municipality.mtrace.local/orderers/orderer0.municipality.mtrace.local",
		File: "orderer0.municipality.mtrace.local", Hosts: []string{"orderer0.municipality.mtrace.local", "localhost", "127.0.0.1"}}, mun.Holders[1],
		"each member's own CA issues its orderer")
	assert.True(t, mun.Holders[1].Node())
	assert.Equal(t, "Admin@municipality.mtrace.local", mun.Admin().ID)
	assert.Equal(t, "ca-municipality", mun.CA.Name)
	assert.Equal(t, "/n/crypto/peerOrganizations/municipality.mtrace.local/ca/ca.municipality.mtrace.local-cert.pem", mun.CACert())
	var ids []string
	for _, h := range mun.Holders {
		ids = append(ids, h.ID+" "+h.Type+" "+string(h.Role))
	}
	assert.Equal(t, []string{"peer0.municipality.mtrace.local peer ", "orderer0.municipality.mtrace.local orderer ", "Admin@municipality.mtrace.local admin admin",
		"User1@municipality.mtrace.local client operator", "ayse client operator", "mehmet client operator", "zeynep client viewer"}, ids)
	zeynep := mun.Holders[6]
	assert.Equal(t, "/n/crypto/peerOrganizations/municipality.mtrace.local/users/zeynep@municipality.mtrace.local", zeynep.Dir)
	assert.Equal(t, "zeynep@municipality.mtrace.local", zeynep.File)
	assert.Empty(t, zeynep.Hosts, "a user's TLS certificate is a client certificate")
	assert.False(t, zeynep.Node())
}

func TestRegistrationCarriesTheRole(t *testing.T) {
	orgs := Orgs(consortium(t), 27000, "/n/crypto")
	admin := registration(orgs[0].Admin())
	assert.Equal(t, "admin", admin.Type)
	assert.Equal(t, -1, admin.MaxEnrollments)
	assert.Equal(t, []fabca.Attribute{{Name: "mtrace.role", Value: "admin", ECert: true},
		{Name: "hf.Registrar.Roles", Value: "client,admin"}, {Name: "hf.Registrar.Attributes", Value: "mtrace.role"},
		{Name: "hf.Revoker", Value: "true"}, {Name: "hf.GenCRL", Value: "true"}}, admin.Attrs)
	viewer := registration(orgs[0].Holders[6])
	assert.Equal(t, fabca.Registration{Name: "zeynep", Type: "client", MaxEnrollments: -1,
		Attrs: []fabca.Attribute{{Name: "mtrace.role", Value: "viewer", ECert: true}}}, viewer)
	peer := registration(orgs[0].Holders[0])
	assert.Empty(t, peer.Attrs, "nodes carry no in-house role")
	ord := registration(orgs[0].Holders[1])
	assert.Equal(t, fabca.Registration{Name: "orderer0.municipality.mtrace.local", Type: "orderer", MaxEnrollments: -1}, ord,
		"an orderer is registered with the identity type orderer, its certificate's OU")

	top := consortium(t)
	top.Organisations[2].People = []topology.Person{{Name: "selin", Role: model.PersonAdmin}}
	selin := Orgs(top, 27000, "/n/crypto")[2].Holders[4]
	assert.Equal(t, "selin", selin.ID)
	assert.Equal(t, "admin", registration(selin).Type, "a person with the admin role is an organisation admin")
}

func TestServerConfigKeepsItsSecret(t *testing.T) {
	home := t.TempDir()
	ca, ok := consortium(t).CA(25000, "recycler")
	require.True(t, ok)
	require.NoError(t, WriteServerConfig(home, ca))
	main, err := os.ReadFile(filepath.Join(home, "ca", "recycler", "fabric-ca-server-config.yaml"))
	require.NoError(t, err)
	tls, err := os.ReadFile(filepath.Join(home, "ca", "recycler", "tlsca", "fabric-ca-server-config.yaml"))
	require.NoError(t, err)
	for _, want := range []string{"port: 25041\n", "address: 127.0.0.1\n", "listenAddress: 127.0.0.1:25051\n",
		"name: ca-recycler\n", "cn: ca.recycler.mtrace.local\n", "- tlsca/fabric-ca-server-config.yaml\n"} {
		assert.Contains(t, string(main), want)
	}
	assert.Contains(t, string(tls), "name: tlsca-recycler\n")
	assert.Contains(t, string(tls), "cn: tlsca.recycler.mtrace.local\n")
	assert.NotContains(t, string(tls), "port:", "the listener is the server's")
	secret, err := registrarSecret(ServerDir(home, ca))
	require.NoError(t, err)
	assert.Len(t, secret, 32)
	assert.Contains(t, string(main), "pass: "+secret+"\n")
	require.NoError(t, WriteServerConfig(home, ca))
	again, err := os.ReadFile(filepath.Join(home, "ca", "recycler", "fabric-ca-server-config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(main), string(again), "the registrar's secret is made once")
	info, err := os.Stat(filepath.Join(home, "ca", "recycler", "registrar.secret"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}
