package topology

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/chaincode/model"
)

func defaultTopology(t *testing.T) *Topology {
	t.Helper()
	top, err := Load(filepath.Join("..", "consortium.yaml"))
	require.NoError(t, err)
	return top
}

func TestDefaultConsortium(t *testing.T) {
	top := defaultTopology(t)
	assert.Equal(t, "circular", top.Channel)
	require.Len(t, top.Organisations, 4)
	// The policy and registry are today's, so that a network made before
	// the consortium file keeps its chaincode definition's version.
	assert.Equal(t, "OutOf(2,'MunicipalityMSP.peer','RecyclerMSP.peer','MakerMSP.peer','AuditorMSP.peer')", top.Policy())
	assert.Equal(t, model.Participant{MSP: "MunicipalityMSP", Role: model.RoleCollector,
		Name: "Istanbul Metropolitan Municipality - waste services"}, top.Participants()[0])

	ns, err := top.Ports(27000)
	require.NoError(t, err)
	// Every member runs one orderer and one peer: no ordering organisation.
	want := map[string][3]int{
		"municipality-orderer": {27000, 27010, 27020}, "maker-orderer": {27002, 27012, 27022},
		"municipality": {27100, 27110, 27120}, "auditor": {27103, 27113, 27123},
	}
	require.Len(t, ns, 8)
	for _, n := range ns {
		if w, ok := want[n.Name]; ok {
			assert.Equal(t, w, [3]int{n.Port, n.Admin, n.Ops}, n.Name)
		}
	}
	ords := top.Orderers(27000)
	require.Len(t, ords, 4)
	assert.Equal(t, Node{Kind: "orderer", Name: "auditor-orderer", Org: "auditor", MSP: "AuditorMSP", Host: "orderer0.auditor.mtrace.local",
		Port: 27003, Admin: 27013, Ops: 27023}, ords[3], "the orderer is its organisation's, in its MSP")
	assert.Equal(t, []Person{{"ayse", model.PersonOperator}, {"mehmet", model.PersonOperator}, {"zeynep", model.PersonViewer}}, top.Organisations[0].People)
	cas := top.CAs(27000)
	require.Len(t, cas, 4, "one CA per member, none for ordering")
	assert.Equal(t, CA{Process: "ca-auditor", Org: "auditor", MSP: "AuditorMSP", Domain: "auditor.mtrace.local",
		Name: "ca-auditor", TLSName: "tlsca-auditor", Port: 27043, Ops: 27053}, cas[3])
	assert.Equal(t, "https://127.0.0.1:27043", cas[3].URL())
	assert.Equal(t, "peer0.maker.mtrace.local", top.Host("maker"))
	assert.Equal(t, "orderer0.maker.mtrace.local", top.Host("maker-orderer"))
	assert.Equal(t, "/c/peerOrganizations/maker.mtrace.local/orderers/orderer0.maker.mtrace.local/msp/signcerts/orderer0.maker.mtrace.local-cert.pem",
		top.OrdererCert("/c", "maker"))
}

// mutate loads the default file, changes it, and parses it again.
func mutate(t *testing.T, change func(*Topology)) error {
	t.Helper()
	top := defaultTopology(t)
	change(top)
	raw, err := yaml.Marshal(top)
	require.NoError(t, err)
	_, err = Parse(raw)
	return err
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Topology)
		want   string
	}{
		{"duplicate MSP ID", func(t *Topology) { t.Organisations[2].MSP = "RecyclerMSP" },
			"organisations[2].msp: duplicate MSP ID RecyclerMSP (also organisations[1].msp)"},
		{"unknown role", func(t *Topology) { t.Organisations[1].Role = "broker" },
			`organisations[1].role: must be one of`},
		{"no collector", func(t *Topology) { t.Organisations[0].Role = model.RoleAuditor },
			"no collector"},
		{"port clash", func(t *Topology) { t.Organisations[3].Slot = 1 },
			"organisations[3].slot: port clash: slot 1 is taken by organisations[1]"},
		{"slot out of range", func(t *Topology) { t.Organisations[3].Slot = Slots },
			"organisations[3].slot: must be 0 to 9"},
		{"duplicate node", func(t *Topology) { t.Organisations[3].Node = "maker" },
			"organisations[3].node: duplicate node name maker"},
		{"person with a bad name", func(t *Topology) { t.Organisations[1].People = []Person{{Name: "Deniz K", Role: model.PersonOperator}} },
			`organisations[1].people[0].name: must be a lower-case name`},
		{"person called admin", func(t *Topology) { t.Organisations[1].People = []Person{{Name: "admin", Role: model.PersonAdmin}} },
			`organisations[1].people[0].name: "admin" is reserved`},
		{"duplicate person", func(t *Topology) {
			t.Organisations[0].People = append(t.Organisations[0].People, Person{Name: "ayse", Role: model.PersonViewer})
		}, "organisations[0].people[3].name: duplicate person ayse in municipality"},
		{"unknown person role", func(t *Topology) { t.Organisations[0].People[1].Role = "boss" },
			`organisations[0].people[1].role: mehmet's role must be one of operator, viewer, admin, got "boss"`},
		{"reserved node", func(t *Topology) { t.Organisations[3].Node = "orderer9" },
			"is reserved"},
		{"bad node name", func(t *Topology) { t.Organisations[3].Node = "Kaunas City" },
			"organisations[3].node: must be a lower-case name"},
		{"two peers", func(t *Topology) { t.Organisations[3].Peers = 2 },
			"only one peer per organisation"},
		{"no organisations", func(t *Topology) { t.Organisations = nil },
			"at least one member organisation"},
		{"bad channel", func(t *Topology) { t.Channel = "Circular" },
			"channel: must be a Fabric channel name"},
		{"empty display name", func(t *Topology) { t.Organisations[0].Name = " " },
			"organisations[0].name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mutate(t, c.change)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// A consortium file of the Raft layout (an ordering organisation) is
// refused with the reason, not half-read.
func TestOrderersSectionIsRefused(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "consortium.yaml"))
	require.NoError(t, err)
	old := strings.Replace(string(raw), "domain: mtrace.local\n",
		"domain: mtrace.local\norderers:\n  name: OrdererOrg\n  msp: OrdererMSP\n  nodes: [orderer1, orderer2, orderer3]\n", 1)
	_, err = Parse([]byte(old))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "orderers: a separate ordering organisation is no longer supported")
}

func TestUnknownFieldIsAnError(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "consortium.yaml"))
	require.NoError(t, err)
	_, err = Parse([]byte(strings.Replace(string(raw), "    slot: 3", "    slot: 3\n    rol: maker", 1)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "field rol not found")
}

func TestPortsStayBelowTheEphemeralRange(t *testing.T) {
	top := defaultTopology(t)
	_, err := top.Ports(32700)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside 1-32767")
	_, err = top.Ports(MaxPort - Span + 1)
	assert.NoError(t, err, "the highest base whose whole span fits")
}

func TestWithAndWithout(t *testing.T) {
	top := defaultTopology(t)
	kaunas := Org{Node: "kaunas", MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services", Slot: -1}
	next, added, err := top.With(kaunas)
	require.NoError(t, err)
	assert.True(t, added)
	assert.Len(t, top.Organisations, 4, "the original is left alone")
	k, ok := next.Org("KaunasMSP")
	require.True(t, ok)
	assert.Equal(t, 4, k.Slot, "the first free slot")
	n, _ := next.Node(25500, "kaunas")
	assert.Equal(t, [3]int{25604, 25614, 25624}, [3]int{n.Port, n.Admin, n.Ops})
	o, _ := next.Node(25500, "kaunas-orderer")
	assert.Equal(t, [3]int{25504, 25514, 25524}, [3]int{o.Port, o.Admin, o.Ops}, "a newcomer's orderer takes its slot's ports")
	assert.Contains(t, next.Policy(), "'KaunasMSP.peer'")
	assert.True(t, strings.HasPrefix(next.Policy(), "OutOf(2,"))

	same, added, err := next.With(kaunas)
	require.NoError(t, err)
	assert.False(t, added, "the same entry again is no change")
	assert.Same(t, next, same)

	_, _, err = next.With(Org{Node: "kaunas2", MSP: "KaunasMSP", Role: model.RoleMaker, Name: "Kaunas makers", Slot: -1})
	assert.ErrorContains(t, err, "KaunasMSP is already in the consortium")
	_, _, err = next.With(Org{Node: "venlo", MSP: "VenloMSP", Role: "trader", Name: "Venlo", Slot: -1})
	assert.ErrorContains(t, err, "role")

	back, err := next.Without("kaunas")
	require.NoError(t, err)
	assert.Equal(t, top.Organisations, back.Organisations)
	_, err = top.Without("municipality")
	assert.ErrorContains(t, err, "no collector", "the only collector cannot leave")
	_, err = top.Without("VenloMSP")
	assert.ErrorContains(t, err, "no organisation VenloMSP")
}

func TestSaveRoundTrips(t *testing.T) {
	top := defaultTopology(t)
	path := filepath.Join(t.TempDir(), "consortium.yaml")
	require.NoError(t, top.Save(path))
	again, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, top, again)
}

func TestProfilesNameEveryOrganisation(t *testing.T) {
	top := defaultTopology(t)
	next, _, err := top.With(Org{Node: "kaunas", MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services", Slot: -1})
	require.NoError(t, err)

	raw, err := next.Profiles(25500, "/net/crypto", "/net", "mtrace", "ab12")
	require.NoError(t, err)
	var prof struct {
		DefaultProfile string                    `yaml:"defaultProfile"`
		Profiles       map[string]map[string]any `yaml:"profiles"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &prof), string(raw))
	assert.Equal(t, "municipality", prof.DefaultProfile)
	assert.Len(t, prof.Profiles, 14, "User1, Admin and the people of five organisations")
	k := prof.Profiles["kaunas-admin"]
	assert.Equal(t, "ab12", k["genesis"], "every profile pins the genesis block's hash")
	assert.Equal(t, "127.0.0.1:25604", k["endpoint"])
	assert.Equal(t, "KaunasMSP", k["mspId"])
	assert.Equal(t, "/net/crypto/peerOrganizations/kaunas.mtrace.local/users/Admin@kaunas.mtrace.local/msp/signcerts/Admin@kaunas.mtrace.local-cert.pem", k["cert"])
	assert.Equal(t, map[string]any{"url": "https://127.0.0.1:25544", "name": "ca-kaunas",
		"tlsRootCert": "/net/crypto/peerOrganizations/kaunas.mtrace.local/ca/ca.kaunas.mtrace.local-cert.pem"}, k["ca"])
	assert.Equal(t, map[string]any{"endpoint": "127.0.0.1:25504", "serverName": "orderer0.kaunas.mtrace.local",
		"tlsRootCert": "/net/crypto/peerOrganizations/kaunas.mtrace.local/tlsca/tlsca.kaunas.mtrace.local-cert.pem",
		"tlsCert":     "/net/crypto/peerOrganizations/kaunas.mtrace.local/users/Admin@kaunas.mtrace.local/tls/client.crt",
		"tlsKey":      "/net/crypto/peerOrganizations/kaunas.mtrace.local/users/Admin@kaunas.mtrace.local/tls/client.key"}, k["orderer"])
	ayse := prof.Profiles["municipality-ayse"]
	assert.Equal(t, "/net/crypto/peerOrganizations/municipality.mtrace.local/users/ayse@municipality.mtrace.local/msp/signcerts/ayse@municipality.mtrace.local-cert.pem", ayse["cert"])
	assert.Equal(t, "/net/crypto/peerOrganizations/municipality.mtrace.local/users/ayse@municipality.mtrace.local/tls/client.crt",
		ayse["orderer"].(map[string]any)["tlsCert"], "each profile presents its own user's TLS client certificate to the orderers")
	assert.Equal(t, "MunicipalityMSP", ayse["mspId"])
	assert.Equal(t, "127.0.0.1:25500", ayse["orderer"].(map[string]any)["endpoint"], "a member's profiles name its own orderer")
}

func TestConsensus(t *testing.T) {
	top := defaultTopology(t)
	assert.False(t, top.Raft())
	top.Consensus = ConsensusRaft
	require.NoError(t, top.Validate())
	assert.True(t, top.Raft())
	top.Consensus = "kafka"
	assert.EqualError(t, top.Validate(), `consensus: must be bft or raft, got "kafka"`)
	top.Consensus = ""
	assert.Equal(t, ConsensusBFT, top.ConsensusType(), "no consensus named is BFT")
}

func TestKeepAddedKeepsEnrolledPeopleOfMembers(t *testing.T) {
	top := defaultTopology(t)
	fresh, err := top.Profiles(25000, "/net/crypto", "/net", "mtrace", "")
	require.NoError(t, err)
	old := string(fresh) + `  recycler-selin:
    endpoint: 127.0.0.1:25101
    mspId: RecyclerMSP
    cert: /net/selin/cert.pem
    ca:
      name: ca-recycler
  kaunas:
    endpoint: 127.0.0.1:25104
    mspId: KaunasMSP
`
	out, err := top.KeepAdded(fresh, []byte(old))
	require.NoError(t, err)
	var prof struct {
		DefaultProfile string                    `yaml:"defaultProfile"`
		Profiles       map[string]map[string]any `yaml:"profiles"`
	}
	require.NoError(t, yaml.Unmarshal(out, &prof), string(out))
	assert.Len(t, prof.Profiles, 13, "the 12 of the topology and selin's; not the one of KaunasMSP, which is no member")
	assert.Equal(t, "/net/selin/cert.pem", prof.Profiles["recycler-selin"]["cert"])
	assert.Equal(t, map[string]any{"name": "ca-recycler"}, prof.Profiles["recycler-selin"]["ca"])
	assert.Equal(t, "municipality", prof.DefaultProfile)

	again, err := top.KeepAdded(fresh, out)
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again), "keeping is idempotent")
	_, err = top.KeepAdded(fresh, []byte("profiles: [unclosed"))
	assert.Error(t, err)
}
