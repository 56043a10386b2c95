package member

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/network/topology"
)

func TestLocalIsAnOrganisationOfTheSingleMachineNetwork(t *testing.T) {
	top, err := topology.Load(filepath.Join("..", "consortium.yaml"))
	require.NoError(t, err)
	h, err := Local(top, 24000, "/net", "recycler")
	require.NoError(t, err)
	assert.Equal(t, Settings{MSPID: "RecyclerMSP", Node: "recycler", Role: "recycler", Name: "Marmara Polymer Recycling",
		Domain: "recycler.mtrace.local", Host: "127.0.0.1",
		Ports: Ports{Peer: 24101, Orderer: 24001, OrdererAdmin: 24011, PeerOps: 24121, OrdererOps: 24021,
			CA: 24041, CAOps: 24051, Chaincode: 24111}}, h.Settings, "the ports of the organisation's slot (network/README.md)")
	// Its MSP folders are the single-machine layout's, which network/pki
	// enrols and the nodes and profiles read.
	assert.Equal(t, "/net/crypto/peerOrganizations/recycler.mtrace.local", h.Crypto())
	assert.Equal(t, top.MSPDir("/net/crypto", "recycler"), h.MSPDir())
	assert.Equal(t, top.OrdererDir("/net/crypto", "recycler"), h.OrdererDir())
	assert.Equal(t, filepath.Dir(top.UserMSPDir("/net/crypto", "recycler", "Admin")), h.AdminDir())
	assert.Equal(t, top.CACert("/net/crypto", "recycler"), h.Org().CACert())
	assert.Equal(t, top.TLSCA("/net/crypto", "recycler"), h.Org().TLSCACert())

	_, err = Local(top, 24000, "/net", "kaunas")
	assert.EqualError(t, err, "no organisation kaunas in the consortium file")

	// A member's own folder keeps its crypto/ beside its settings.
	assert.Equal(t, "/org/crypto", (&Home{Dir: "/org"}).Crypto())
}
