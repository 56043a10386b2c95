package contract

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
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
	w.fail(w.mun, `is not an admin identity of MunicipalityMSP: BootstrapRegistry needs mtrace.role "admin" and certificate OU "admin" (it has mtrace.role "operator", OU client)`, "BootstrapRegistry", members)

	var reg model.Registry
	r := w.ok(w.adm, &reg, "BootstrapRegistry", members)
	require.Len(t, reg.Participants, 4)
	// Sorted by MSP ID, stamped with the transaction.
	assert.Equal(t, "AuditorMSP", reg.Participants[0].MSP)
	assert.Equal(t, "RecyclerMSP", reg.Participants[3].MSP)
	assert.Equal(t, r.TxID, reg.LastTx)
	assert.Equal(t, model.Actor{MSP: "MunicipalityMSP", Identity: "Admin@municipality.mtrace.local",
		EnrollmentID: "Admin@municipality.mtrace.local", Role: model.PersonAdmin}, reg.UpdatedBy)
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

// admins of the four member organisations, and a second non-admin user.
func (w *world) admins() (mun, rec, mak, aud *fakestub.Identity) {
	return w.adm,
		person("RecyclerMSP", "Admin@recycler.mtrace.local", model.PersonAdmin),
		person("MakerMSP", "Admin@maker.mtrace.local", model.PersonAdmin),
		person("AuditorMSP", "Admin@auditor.mtrace.local", model.PersonAdmin)
}

func (w *world) registry() model.Registry {
	w.tb.Helper()
	var reg model.Registry
	w.query(w.out, &reg, "GetRegistry")
	return reg
}

func TestRegistryChangeNeedsMajorityOfAdmins(t *testing.T) {
	w := newWorld(t)
	munA, recA, makA, audA := w.admins()
	change := model.ChangeRequest{Action: model.ActionSet, MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services"}

	// Only admin identities of members propose.
	w.fail(w.mak, `caller User1@maker.mtrace.local (MakerMSP) is not an admin identity of MakerMSP: ProposeChange needs mtrace.role "admin" and certificate OU "admin"`, "ProposeChange", change)
	w.fail(person("OutsiderMSP", "Admin@outsider.example", model.PersonAdmin), "caller OutsiderMSP is not a registered participant", "ProposeChange", change)
	before := w.registry()

	var p model.Proposal
	r := w.ok(makA, &p, "ProposeChange", change)
	assert.Equal(t, r.TxID[:model.ProposalIDLength], p.ID)
	assert.Equal(t, model.Change{Action: model.ActionSet, Participant: model.Participant{MSP: "KaunasMSP", Role: model.RoleCollector, Name: "Kaunas waste services"}}, p.Change)
	assert.Equal(t, actor(makA), p.ProposedBy)
	assert.Equal(t, at(7*24*time.Hour), p.ExpiresAt)
	assert.Empty(t, p.Approvals, "proposing is not approving")
	name, _ := w.lastEvent()
	assert.Equal(t, model.EvChangeProposed, name)

	reg := w.registry()
	assert.Equal(t, before.Participants, reg.Participants, "a proposal changes no entry")
	require.Len(t, reg.Proposals, 1)

	// Non-admins, outsiders and repeat approvals are refused.
	w.fail(w.rec, "is not an admin identity of RecyclerMSP: ApproveChange needs", "ApproveChange", p.ID)
	w.fail(w.adm, `no open registry proposal "nope"`, "ApproveChange", "nope")
	var got model.Vote
	w.ok(makA, &got, "ApproveChange", p.ID)
	require.Len(t, got.Proposal.Approvals, 1)
	assert.Equal(t, "MakerMSP", got.Proposal.Approvals[0].By.MSP)
	assert.Equal(t, model.Vote{Proposal: got.Proposal, Votes: 1, Needed: 3}, got)
	w.fail(makA, "MakerMSP has already approved proposal "+p.ID, "ApproveChange", p.ID)
	w.fail(person("MakerMSP", "Admin2@maker.mtrace.local", model.PersonAdmin), "MakerMSP has already approved", "ApproveChange", p.ID)

	// Two of four is not a majority.
	w.ok(audA, &got, "ApproveChange", p.ID)
	assert.False(t, got.Applied)
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvChangeApproved, name)
	_, ok := func() (model.Participant, bool) { r := w.registry(); return r.Lookup("KaunasMSP") }()
	assert.False(t, ok, "two approvals of four members do not apply the change")

	// The third applies it; the proposal is closed.
	w.ok(recA, &got, "ApproveChange", p.ID)
	assert.True(t, got.Applied)
	assert.Equal(t, 3, got.Votes)
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvRegistryChanged, name)
	reg = w.registry()
	k, ok := reg.Lookup("KaunasMSP")
	require.True(t, ok)
	assert.Equal(t, model.RoleCollector, k.Role)
	assert.Empty(t, reg.Proposals)
	assertMajority(t, w.l.Policy(registryKey()), 3, "AuditorMSP", "KaunasMSP", "MakerMSP", "MunicipalityMSP", "RecyclerMSP")
	w.fail(munA, "no open registry proposal", "ApproveChange", p.ID)
}

func TestRegistryRemoveWithdrawExpire(t *testing.T) {
	w := newWorld(t)
	munA, recA, makA, audA := w.admins()

	// Removal of a member.
	var p model.Proposal
	w.ok(audA, &p, "ProposeChange", model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP", TTLHours: 48})
	assert.Equal(t, at(48*time.Hour), p.ExpiresAt)
	for _, a := range []*fakestub.Identity{audA, munA, recA} {
		w.ok(a, nil, "ApproveChange", p.ID)
	}
	reg := w.registry()
	_, ok := reg.Lookup("MakerMSP")
	assert.False(t, ok, "the maker is removed")
	w.fail(makA, "caller MakerMSP is not a registered participant", "ProposeChange", model.ChangeRequest{Action: model.ActionRemove, MSP: "AuditorMSP"})

	// Withdrawal: only the proposer's organisation.
	w.ok(recA, &p, "ProposeChange", model.ChangeRequest{Action: model.ActionSet, MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Renamed audit"})
	w.fail(munA, "proposal "+p.ID+" was made by RecyclerMSP; only RecyclerMSP may withdraw it", "WithdrawChange", p.ID)
	w.ok(recA, nil, "WithdrawChange", p.ID)
	name, _ := w.lastEvent()
	assert.Equal(t, model.EvChangeWithdrawn, name)
	assert.Empty(t, w.registry().Proposals)
	w.fail(recA, "no open registry proposal", "ApproveChange", p.ID)

	// Expiry: an approval after the deadline is refused; the next registry
	// write drops the proposal.
	w.ok(munA, &p, "ProposeChange", model.ChangeRequest{Action: model.ActionSet, MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Renamed audit", TTLHours: 1})
	w.l.Advance(2 * time.Hour)
	w.fail(recA, "registry proposal "+p.ID+" expired at "+p.ExpiresAt, "ApproveChange", p.ID)
	var q model.Proposal
	w.ok(munA, &q, "ProposeChange", model.ChangeRequest{Action: model.ActionRemove, MSP: "AuditorMSP"})
	reg = w.registry()
	require.Len(t, reg.Proposals, 1, "the expired proposal was dropped")
	assert.Equal(t, q.ID, reg.Proposals[0].ID)
}

func TestRegistryProposalRejects(t *testing.T) {
	w := newWorld(t)
	_, recA, _, _ := w.admins()
	cases := []struct {
		req  model.ChangeRequest
		want string
	}{
		{model.ChangeRequest{Action: "promote", MSP: "MakerMSP"}, `action: must be set or remove, got "promote"`},
		{model.ChangeRequest{Action: model.ActionSet, MSP: "bad msp!", Role: model.RoleMaker, Name: "x"}, "msp: must be an MSP ID"},
		{model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: "king", Name: "x"}, "role: must be one of"},
		{model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: model.RoleMaker}, "name: is required"},
		{model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP", Role: model.RoleMaker}, "a removal takes no role or name"},
		{model.ChangeRequest{Action: model.ActionRemove, MSP: "NobodyMSP"}, "proposal cannot apply: NobodyMSP is not a registered participant"},
		{model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: model.RoleMaker, Name: "x", TTLHours: 721}, "ttlHours: must be from 1 to 720 hours, got 721"},
		{model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: model.RoleMaker, Name: "x", TTLHours: -1}, "ttlHours: must be from 1 to 720 hours"},
	}
	for _, c := range cases {
		w.fail(recA, c.want, "ProposeChange", c.req)
	}
	assert.Empty(t, w.registry().Proposals)

	// The open proposals are capped per organisation.
	for i := 0; i < model.MaxOpenPerOrg; i++ {
		w.ok(recA, nil, "ProposeChange", model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: model.RoleMaker, Name: fmt.Sprintf("Maker %d", i)})
	}
	w.fail(recA, "RecyclerMSP has 4 registry proposals open already (at most 4 per organisation)", "ProposeChange", model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP"})
}

// TestRegistryCannotBeFrozen: one organisation filling its slots leaves
// every other member free to propose, a majority closes any proposal,
// and the squatter's slots come back only as its proposals close.
func TestRegistryCannotBeFrozen(t *testing.T) {
	w := newWorld(t)
	munA, recA, makA, audA := w.admins()
	squat := func(i int) model.ChangeRequest {
		return model.ChangeRequest{Action: model.ActionSet, MSP: "MakerMSP", Role: model.RoleMaker, Name: fmt.Sprintf("Squat %d", i), TTLHours: 720}
	}
	var squatted []model.Proposal
	for i := range model.MaxOpenPerOrg {
		var p model.Proposal
		w.ok(makA, &p, "ProposeChange", squat(i))
		squatted = append(squatted, p)
	}
	w.fail(makA, "MakerMSP has 4 registry proposals open already", "ProposeChange", squat(99))

	// Every other member can still propose: its own slots are free.
	var removal model.Proposal
	w.ok(munA, &removal, "ProposeChange", model.ChangeRequest{Action: model.ActionRemove, MSP: "MakerMSP"})
	require.Len(t, w.registry().Proposals, model.MaxOpenPerOrg+1)

	// A majority (3 of 4) rejects one of the squatter's proposals.
	target := squatted[0].ID
	w.fail(w.mun, "is not an admin identity of MunicipalityMSP: RejectChange needs", "RejectChange", target)
	w.fail(munA, `no open registry proposal "nope"`, "RejectChange", "nope")
	w.fail(munA, "id: ", "RejectChange", "")
	w.fail(person("OutsiderMSP", "Admin@outsider.example", model.PersonAdmin), "caller OutsiderMSP is not a registered participant", "RejectChange", target)
	var v model.Vote
	w.ok(munA, &v, "RejectChange", target)
	assert.Equal(t, 1, v.Votes)
	assert.Equal(t, 3, v.Needed)
	assert.False(t, v.Dropped)
	require.Len(t, v.Proposal.Rejections, 1)
	assert.Equal(t, actor(munA), v.Proposal.Rejections[0].By)
	name, _ := w.lastEvent()
	assert.Equal(t, model.EvChangeRejected, name)
	w.fail(munA, "MunicipalityMSP has already rejected proposal "+target, "RejectChange", target)
	w.fail(munA, "MunicipalityMSP has rejected proposal "+target+"; an organisation votes once", "ApproveChange", target)

	// An organisation that approved cannot reject as well.
	w.ok(recA, nil, "ApproveChange", squatted[1].ID)
	w.fail(recA, "RecyclerMSP has approved proposal "+squatted[1].ID+"; an organisation votes once", "RejectChange", squatted[1].ID)

	// The squatter's own rejection counts like any member's; the third
	// rejection of four members drops it.
	w.ok(audA, &v, "RejectChange", target)
	assert.False(t, v.Dropped)
	w.ok(recA, &v, "RejectChange", target)
	assert.True(t, v.Dropped)
	assert.Equal(t, 3, v.Votes)
	name, _ = w.lastEvent()
	assert.Equal(t, model.EvChangeDropped, name)
	reg := w.registry()
	_, open := reg.Proposal(target)
	assert.False(t, open, "a majority closed the proposal")
	p, _ := reg.Lookup("MakerMSP")
	assert.Equal(t, "Makerspace Hervanta", p.Name, "a dropped proposal changes nothing")
	w.fail(makA, "no open registry proposal", "ApproveChange", target)

	// The slot is free again for the squatter, and only one.
	w.ok(makA, nil, "ProposeChange", squat(4))
	w.fail(makA, "MakerMSP has 4 registry proposals open already", "ProposeChange", squat(5))

	// Expired proposals free their organisation's slots.
	w.l.Advance(721 * time.Hour)
	w.fail(munA, "registry proposal "+removal.ID+" expired at", "RejectChange", removal.ID)
	w.ok(makA, nil, "ProposeChange", squat(6))
	reg = w.registry()
	assert.Len(t, reg.Proposals, 1, "every expired proposal was dropped by the write")
}

func TestSetParticipantIsGone(t *testing.T) {
	w := newWorld(t)
	_, _, makA, _ := w.admins()
	w.fail(makA, "SetParticipant", "SetParticipant", model.Participant{MSP: "MakerMSP", Role: model.RoleCollector, Name: "self-promoted"})
	p, _ := func() (model.Participant, bool) { r := w.registry(); return r.Lookup("MakerMSP") }()
	assert.Equal(t, model.RoleMaker, p.Role)
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
