package contract

import (
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/model"
)

func TestNewChaincodeInfo(t *testing.T) {
	cc, err := NewChaincode()
	require.NoError(t, err)
	assert.Equal(t, Name, cc.DefaultContract)
	assert.Equal(t, "mtrace", cc.Info.Title)
	assert.Equal(t, Version, cc.Info.Version)
}

func TestBootstrapRegistry(t *testing.T) {
	w := newBare(t)
	w.queryFail(w.aud, "registry not bootstrapped", "GetRegistry")
	w.fail(w.mun, "registry not bootstrapped", "RegisterBatch", regReq("B1", kg(10)))
	w.fail(w.mun, `is not an admin identity (certificate OU "admin" required)`, "BootstrapRegistry", members)

	var reg model.Registry
	r := w.ok(w.adm, &reg, "BootstrapRegistry", members)
	require.Len(t, reg.Participants, 4)
	// Sorted by MSP ID, stamped with the transaction.
	assert.Equal(t, "AuditorMSP", reg.Participants[0].MSP)
	assert.Equal(t, "RecyclerMSP", reg.Participants[3].MSP)
	assert.Equal(t, r.TxID, reg.LastTx)
	assert.Equal(t, model.Actor{MSP: "MunicipalityMSP", Identity: "Admin@municipality.mtrace.local"}, reg.UpdatedBy)
	assert.Equal(t, at(0), reg.UpdatedAt)

	var got model.Registry
	w.query(w.out, &got, "GetRegistry")
	assert.Equal(t, reg, got)

	name, ev := w.lastEvent()
	assert.Equal(t, model.EvRegistryBootstrapped, name)
	assert.Equal(t, []string{}, ev.Batches)

	assertMajority(t, w.l.Policy(registryKey()), 3, "AuditorMSP", "MakerMSP", "MunicipalityMSP", "RecyclerMSP")

	w.fail(w.adm, "registry already bootstrapped", "BootstrapRegistry", members)
}

func TestBootstrapRegistryRejects(t *testing.T) {
	long := strings.Repeat("x", 257)
	cases := []struct {
		name string
		ps   []model.Participant
		want string
	}{
		{"empty", []model.Participant{}, "participants: must list 1 to 100 participants, got 0"},
		{"bad msp", []model.Participant{{MSP: "bad msp", Role: model.RoleCollector, Name: "x"}}, "participants[0].msp: must be an MSP ID"},
		{"bad role", []model.Participant{{MSP: "AMSP", Role: "boss", Name: "x"}}, "participants[0].role: must be one of collector, recycler, maker, auditor"},
		{"upper role", []model.Participant{{MSP: "AMSP", Role: "Collector", Name: "x"}}, "participants[0].role"},
		{"no name", []model.Participant{{MSP: "AMSP", Role: model.RoleMaker, Name: " "}}, "participants[0].name: is required"},
		{"long name", []model.Participant{{MSP: "AMSP", Role: model.RoleMaker, Name: long}}, "participants[0].name: must be at most 256 characters, got 257"},
		{"duplicate", []model.Participant{members[0], members[1], members[0]}, "participants[2].msp: MunicipalityMSP is already listed as participants[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newBare(t)
			w.fail(w.adm, c.want, "BootstrapRegistry", c.ps)
		})
	}
	t.Run("not json", func(t *testing.T) {
		w := newBare(t)
		w.fail(w.adm, "", "BootstrapRegistry", "not json")
	})
}

func TestSetParticipant(t *testing.T) {
	w := newWorld(t)
	newcomer := model.Participant{MSP: "BrewerMSP", Role: model.RoleMaker, Name: "Brewery"}
	w.fail(w.aud, "role auditor may not change the registry (collector, recycler or maker only)", "SetParticipant", newcomer)
	w.fail(w.out, "caller OutsiderMSP is not a registered participant", "SetParticipant", newcomer)
	w.fail(w.rec, "participant.role: must be one of", "SetParticipant", model.Participant{MSP: "BrewerMSP", Role: "brewer", Name: "Brewery"})

	var reg model.Registry
	w.ok(w.rec, &reg, "SetParticipant", newcomer)
	require.Len(t, reg.Participants, 5)
	p, ok := reg.Lookup("BrewerMSP")
	require.True(t, ok)
	assert.Equal(t, newcomer, p)
	name, _ := w.lastEvent()
	assert.Equal(t, model.EvParticipantSet, name)
	// Five members: three must endorse.
	assertMajority(t, w.l.Policy(registryKey()), 3, "AuditorMSP", "BrewerMSP", "MakerMSP", "MunicipalityMSP", "RecyclerMSP")

	// Update in place.
	newcomer.Name = "Brewery Ltd"
	w.ok(w.mak, &reg, "SetParticipant", newcomer)
	require.Len(t, reg.Participants, 5)
	p, _ = reg.Lookup("BrewerMSP")
	assert.Equal(t, "Brewery Ltd", p.Name)
}

// assertMajority decodes a registry policy: NOutOf(n) over the peers of orgs.
func assertMajority(t *testing.T, raw []byte, n int32, orgs ...string) {
	t.Helper()
	require.NotNil(t, raw)
	var env common.SignaturePolicyEnvelope
	require.NoError(t, proto.Unmarshal(raw, &env))
	nof := env.GetRule().GetNOutOf()
	require.NotNil(t, nof)
	assert.Equal(t, n, nof.GetN())
	require.Len(t, nof.GetRules(), len(orgs))
	require.Len(t, env.GetIdentities(), len(orgs))
	for i, id := range env.GetIdentities() {
		assert.Equal(t, msp.MSPPrincipal_ROLE, id.GetPrincipalClassification())
		var role msp.MSPRole
		require.NoError(t, proto.Unmarshal(id.GetPrincipal(), &role))
		assert.Equal(t, orgs[i], role.GetMspIdentifier())
		assert.Equal(t, msp.MSPRole_PEER, role.GetRole())
		assert.Equal(t, int32(i), nof.GetRules()[i].GetSignedBy())
	}
}

func TestMajorityPolicyEmpty(t *testing.T) {
	_, err := majorityPolicy(nil)
	require.Error(t, err)
	raw, err := majorityPolicy([]string{"A", "B", "A"})
	require.NoError(t, err)
	assertMajority(t, raw, 2, "A", "B")
}
