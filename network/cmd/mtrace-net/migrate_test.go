package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/network/topology"
)

// previousConsortium is a consortium file as the previous release wrote
// it: an ordering organisation beside the members.
const previousConsortium = `# The consortium as this network runs it (written by mtrace-net).
channel: circular
domain: mtrace.local
orderers:
  name: OrdererOrg
  msp: OrdererMSP
  nodes:
    - orderer1
    - orderer2
    - orderer3
    - orderer4
organisations:
  - node: municipality
    msp: MunicipalityMSP
    role: collector
    name: Istanbul Metropolitan Municipality - waste services
    slot: 0
  - node: recycler
    msp: RecyclerMSP
    role: recycler
    name: Marmara Polymer Recycling
    slot: 1
  - node: maker
    msp: MakerMSP
    role: maker
    name: Kadikoy Makerspace
    slot: 2
  - node: auditor
    msp: AuditorMSP
    role: auditor
    name: Circular Materials Certification
    slot: 3
`

func TestNextTopology(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, "consortium.yaml"), []byte(previousConsortium), 0o644))
	// This release refuses the previous release's file.
	_, err := topology.Load(filepath.Join(home, "consortium.yaml"))
	require.Error(t, err)

	o := &migrateOpts{env: &env{home: home, base: 25000}, tlsCert: "x", tlsCA: "x"}
	var out bytes.Buffer
	require.NoError(t, o.nextTopology(&out))
	assert.Contains(t, out.String(), "wrote "+filepath.Join(home, "migrate-bft", "consortium.yaml"))
	next, err := topology.Load(filepath.Join(home, "migrate-bft", "consortium.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "circular", next.Channel)
	require.Len(t, next.Organisations, 4)
	ords := next.Orderers(25000)
	require.Len(t, ords, 4)
	for i, n := range ords {
		assert.Equal(t, 25000+i, n.Port, "the member in slot %d runs its orderer where OrdererOrg's node %d ran", i, i+1)
	}

	// Run again: the file is kept.
	out.Reset()
	require.NoError(t, o.nextTopology(&out))
	assert.Contains(t, out.String(), "exists already")

	// A broken file written before is reported, not overwritten.
	require.NoError(t, os.WriteFile(filepath.Join(home, "migrate-bft", "consortium.yaml"), []byte("channel: [\n"), 0o644))
	require.Error(t, o.nextTopology(&out))
}

func TestRaftOrg(t *testing.T) {
	org := raftOrg("/h", 25000, "orderer4")
	assert.Equal(t, "https://127.0.0.1:25030", org.CA.URL(), "ca-orderer listens on base+30")
	assert.Equal(t, "/h/crypto/ordererOrganizations/orderer.mtrace.local", org.Dir)
	assert.Equal(t, "Admin@orderer.mtrace.local", org.Admin().ID)
	assert.Equal(t, "/h/crypto/ordererOrganizations/orderer.mtrace.local/orderers/orderer4.orderer.mtrace.local", org.Holders[0].Dir)
	assert.True(t, strings.HasPrefix(org.Holders[0].ID, "orderer4."))
}
