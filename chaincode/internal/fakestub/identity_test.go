package fakestub

import (
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestIdentityParsesWithCid(t *testing.T) {
	id := NewIdentity("RecyclerMSP", "Admin@recycler.mtrace.local", "admin")
	stub := NewLedger().NewStub(id, "Fn")

	ci, err := cid.New(stub)
	require.NoError(t, err)
	mspID, err := ci.GetMSPID()
	require.NoError(t, err)
	assert.Equal(t, "RecyclerMSP", mspID)

	ok, err := ci.HasOUValue("admin")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = ci.HasOUValue("client")
	require.NoError(t, err)
	assert.False(t, ok)

	cert, err := ci.GetX509Certificate()
	require.NoError(t, err)
	assert.Equal(t, "Admin@recycler.mtrace.local", cert.Subject.CommonName)
	assert.Equal(t, id.Cert.Raw, cert.Raw)

	cidID, err := cid.GetID(stub)
	require.NoError(t, err)
	assert.NotEmpty(t, cidID)
}

func TestIdentityFields(t *testing.T) {
	id := NewIdentity("MakerMSP", "User1@maker.mtrace.local", "client", "extra")
	assert.Equal(t, "MakerMSP", id.MSP)
	assert.Equal(t, "User1@maker.mtrace.local", id.CommonName)
	assert.Equal(t, []string{"client", "extra"}, id.OUs)
	assert.ElementsMatch(t, []string{"client", "extra"}, id.Cert.Subject.OrganizationalUnit) // DER sorts a SET OF

	var sid msp.SerializedIdentity
	require.NoError(t, proto.Unmarshal(id.Creator, &sid))
	assert.Equal(t, "MakerMSP", sid.Mspid)
	assert.Contains(t, string(sid.IdBytes), "BEGIN CERTIFICATE")

	creator, err := NewLedger().NewStub(id).GetCreator()
	require.NoError(t, err)
	assert.Equal(t, id.Creator, creator)
}

func TestStubWithoutIdentity(t *testing.T) {
	creator, err := NewLedger().NewStub(nil, "Fn").GetCreator()
	require.NoError(t, err)
	assert.Nil(t, creator)
}

func TestEnrolledAttributesParseWithCid(t *testing.T) {
	id := NewEnrolled("RecyclerMSP", "ayse", map[string]string{"mtrace.role": "viewer"}, "client")
	assert.Equal(t, "ayse", id.Cert.Subject.CommonName)
	ci, err := cid.New(NewLedger().NewStub(id, "Fn"))
	require.NoError(t, err)
	for name, want := range map[string]string{
		"mtrace.role": "viewer", "hf.EnrollmentID": "ayse", "hf.Type": "client", "hf.Affiliation": "",
	} {
		v, found, err := ci.GetAttributeValue(name)
		require.NoError(t, err)
		assert.True(t, found, name)
		assert.Equal(t, want, v, name)
	}
	_, found, err := ci.GetAttributeValue("hf.Registrar.Roles")
	require.NoError(t, err)
	assert.False(t, found)

	// Without the extension, cid finds no attributes at all.
	ci, err = cid.New(NewLedger().NewStub(NewIdentity("RecyclerMSP", "User1", "client"), "Fn"))
	require.NoError(t, err)
	_, found, err = ci.GetAttributeValue("mtrace.role")
	require.NoError(t, err)
	assert.False(t, found)
}

func TestMalformedExtensionFailsCid(t *testing.T) {
	id := NewWithExtension("RecyclerMSP", "mallory", []byte(`{"attrs":`), "client")
	_, err := cid.New(NewLedger().NewStub(id, "Fn"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attributes")
}
