package member

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	mb "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// A principal names a role of an organisation, which an identity has by
// its certificate's node OU (or, for an admin, by being listed as one),
// or names one identity exactly.
func TestPrincipalsAndRoles(t *testing.T) {
	ous := &mb.FabricNodeOUs{Enable: true,
		ClientOuIdentifier:  &mb.FabricOUIdentifier{OrganizationalUnitIdentifier: "client"},
		PeerOuIdentifier:    &mb.FabricOUIdentifier{OrganizationalUnitIdentifier: "peer"},
		AdminOuIdentifier:   &mb.FabricOUIdentifier{OrganizationalUnitIdentifier: "admin"},
		OrdererOuIdentifier: &mb.FabricOUIdentifier{OrganizationalUnitIdentifier: "orderer"}}
	listed := []byte("-----BEGIN CERTIFICATE-----\nlisted admin\n-----END CERTIFICATE-----\n")
	e := &evaluator{msps: map[string]*msp{
		"KaunasMSP": {id: "KaunasMSP", nodeOUs: ous, admins: [][]byte{listed}},
		"LeuvenMSP": {id: "LeuvenMSP"}, // no node OUs
	}}
	as := func(mspID, ou string, raw []byte) *signer {
		return &signer{mspID: mspID, cert: &x509.Certificate{Subject: pkix.Name{OrganizationalUnit: []string{ou}}}, raw: raw}
	}
	role := func(mspID string, r mb.MSPRole_MSPRoleType) *mb.MSPPrincipal {
		raw, err := proto.Marshal(&mb.MSPRole{MspIdentifier: mspID, Role: r})
		require.NoError(t, err)
		return &mb.MSPPrincipal{PrincipalClassification: mb.MSPPrincipal_ROLE, Principal: raw}
	}
	identity := func(mspID string, cert []byte) *mb.MSPPrincipal {
		raw, err := proto.Marshal(&mb.SerializedIdentity{Mspid: mspID, IdBytes: cert})
		require.NoError(t, err)
		return &mb.MSPPrincipal{PrincipalClassification: mb.MSPPrincipal_IDENTITY, Principal: raw}
	}
	peer := as("KaunasMSP", "peer", []byte("peer cert"))
	for _, c := range []struct {
		name string
		s    *signer
		p    *mb.MSPPrincipal
		want bool
	}{
		{"any identity is a member", as("KaunasMSP", "client", nil), role("KaunasMSP", mb.MSPRole_MEMBER), true},
		{"a member of another organisation is not", as("LeuvenMSP", "client", nil), role("KaunasMSP", mb.MSPRole_MEMBER), false},
		{"an organisation not in the channel", as("ZetaMSP", "admin", nil), role("ZetaMSP", mb.MSPRole_ADMIN), false},
		{"admin by OU", as("KaunasMSP", "admin", nil), role("KaunasMSP", mb.MSPRole_ADMIN), true},
		{"admin by the MSP's list", as("LeuvenMSP", "client", listed), role("KaunasMSP", mb.MSPRole_ADMIN), false},
		{"admin by the MSP's list, of that MSP", as("KaunasMSP", "client", append([]byte("  "), listed...)), role("KaunasMSP", mb.MSPRole_ADMIN), true},
		{"a client is not an admin", as("KaunasMSP", "client", nil), role("KaunasMSP", mb.MSPRole_ADMIN), false},
		{"client by OU", as("KaunasMSP", "client", nil), role("KaunasMSP", mb.MSPRole_CLIENT), true},
		{"peer by OU", peer, role("KaunasMSP", mb.MSPRole_PEER), true},
		{"a peer is not an orderer", peer, role("KaunasMSP", mb.MSPRole_ORDERER), false},
		{"orderer by OU", as("KaunasMSP", "orderer", nil), role("KaunasMSP", mb.MSPRole_ORDERER), true},
		{"without node OUs no OU gives a role", as("LeuvenMSP", "peer", nil), role("LeuvenMSP", mb.MSPRole_PEER), false},
		{"the identity named", peer, identity("KaunasMSP", []byte("peer cert")), true},
		{"another identity", peer, identity("KaunasMSP", []byte("other cert")), false},
		{"the same certificate under another MSP ID", peer, identity("LeuvenMSP", []byte("peer cert")), false},
		{"an anonymity principal counts for nothing", peer, &mb.MSPPrincipal{PrincipalClassification: mb.MSPPrincipal_ANONYMITY}, false},
	} {
		got, err := e.satisfies(c.s, c.p)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
	_, err := e.satisfies(peer, &mb.MSPPrincipal{PrincipalClassification: mb.MSPPrincipal_ROLE, Principal: []byte{0xff}})
	assert.Error(t, err, "a principal that does not decode")
	_, err = e.satisfies(peer, &mb.MSPPrincipal{PrincipalClassification: mb.MSPPrincipal_IDENTITY, Principal: []byte{0xff}})
	assert.Error(t, err)
}
