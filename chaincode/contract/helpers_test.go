package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// world is a bootstrapped ledger with one identity per organisation. Every
// call goes through the real contract-api dispatch (argument parsing and
// schema validation of arguments and results).
type world struct {
	tb  testing.TB
	l   *fakestub.Ledger
	cc  *contractapi.ContractChaincode
	adm *fakestub.Identity // MunicipalityMSP admin
	mun *fakestub.Identity // collector
	rec *fakestub.Identity // recycler
	mak *fakestub.Identity // maker
	aud *fakestub.Identity // auditor
	out *fakestub.Identity // OutsiderMSP, not registered
}

var members = []model.Participant{
	{MSP: "MunicipalityMSP", Role: model.RoleCollector, Name: "City of Tampere collection"},
	{MSP: "RecyclerMSP", Role: model.RoleRecycler, Name: "Pirkanmaa Recycling"},
	{MSP: "MakerMSP", Role: model.RoleMaker, Name: "Makerspace Hervanta"},
	{MSP: "AuditorMSP", Role: model.RoleAuditor, Name: "Nordic Material Audit"},
}

// newBare returns a world whose registry is not bootstrapped.
func newBare(tb testing.TB) *world {
	tb.Helper()
	cc, err := NewChaincode()
	require.NoError(tb, err)
	return &world{
		tb:  tb,
		l:   fakestub.NewLedger(),
		cc:  cc,
		adm: person("MunicipalityMSP", "Admin@municipality.mtrace.local", model.PersonAdmin),
		mun: person("MunicipalityMSP", "User1@municipality.mtrace.local", model.PersonOperator),
		rec: person("RecyclerMSP", "User1@recycler.mtrace.local", model.PersonOperator),
		mak: person("MakerMSP", "User1@maker.mtrace.local", model.PersonOperator),
		aud: person("AuditorMSP", "User1@auditor.mtrace.local", model.PersonOperator),
		out: person("OutsiderMSP", "User1@outsider.example", model.PersonOperator),
	}
}

// person is an identity enrolled at its organisation's CA with the given
// mtrace.role: Fabric type admin (certificate OU "admin") for admins,
// client for everyone else.
func person(mspID, enrollmentID string, role model.PersonRole) *fakestub.Identity {
	ou := "client"
	if role == model.PersonAdmin {
		ou = "admin"
	}
	return fakestub.NewEnrolled(mspID, enrollmentID, map[string]string{model.RoleAttribute: string(role)}, ou)
}

// newWorld returns a world with the four member organisations registered.
func newWorld(tb testing.TB) *world {
	tb.Helper()
	w := newBare(tb)
	w.ok(w.adm, nil, "BootstrapRegistry", members)
	return w
}

// args encodes call arguments the way a client sends them: strings as
// they are, integers in decimal, everything else as JSON.
func args(tb testing.TB, in []any) []string {
	out := make([]string, len(in))
	for i, a := range in {
		switch v := a.(type) {
		case string:
			out[i] = v
		case int:
			out[i] = strconv.Itoa(v)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		case model.Grams:
			out[i] = strconv.FormatInt(int64(v), 10)
		default:
			raw, err := json.Marshal(v)
			require.NoError(tb, err)
			out[i] = string(raw)
		}
	}
	return out
}

func (w *world) invoke(id *fakestub.Identity, fn string, a ...any) *fakestub.Result {
	return w.l.Invoke(w.cc, id, fn, args(w.tb, a)...)
}

// ok submits fn and requires success; the result is decoded into out
// unless out is nil.
func (w *world) ok(id *fakestub.Identity, out any, fn string, a ...any) *fakestub.Result {
	w.tb.Helper()
	r := w.invoke(id, fn, a...)
	require.Equalf(w.tb, int32(shim.OK), r.Status, "%s failed: %s", fn, r.Message)
	if out != nil {
		require.NoError(w.tb, json.Unmarshal(r.Payload, out), "payload of %s: %s", fn, r.Payload)
	}
	return r
}

// okBatch submits fn, a transaction that changes one batch, and requires
// success with an empty answer; it then reads the batch back into out.
// The batch is the first argument: an id, or a RegisterRequest.
func (w *world) okBatch(id *fakestub.Identity, out *model.Batch, fn string, a ...any) *fakestub.Result {
	w.tb.Helper()
	r := w.ok(id, nil, fn, a...)
	require.Empty(w.tb, r.Payload, "%s answers nothing", fn)
	batchID, ok := a[0].(string)
	if req, isReq := a[0].(model.RegisterRequest); isReq {
		batchID, ok = req.ID, true
	}
	require.True(w.tb, ok, "okBatch: the first argument of %s names no batch", fn)
	*out = *w.batch(batchID)
	return r
}

// query evaluates fn without committing and requires success.
func (w *world) query(id *fakestub.Identity, out any, fn string, a ...any) {
	w.tb.Helper()
	r := w.l.Query(w.cc, id, fn, args(w.tb, a)...)
	require.Equalf(w.tb, int32(shim.OK), r.Status, "%s failed: %s", fn, r.Message)
	if out != nil {
		require.NoError(w.tb, json.Unmarshal(r.Payload, out), "payload of %s: %s", fn, r.Payload)
	}
}

// fail submits fn, requires it to fail with a message containing want,
// and requires that nothing was committed.
func (w *world) fail(id *fakestub.Identity, want string, fn string, a ...any) {
	w.tb.Helper()
	before, height, events := w.l.Snapshot(), w.l.Height(), len(w.l.Events())
	r := w.invoke(id, fn, a...)
	require.NotEqualf(w.tb, int32(shim.OK), r.Status, "%s succeeded, want error %q", fn, want)
	require.Contains(w.tb, r.Message, want)
	require.Equal(w.tb, before, w.l.Snapshot(), "%s changed the state", fn)
	require.Equal(w.tb, height, w.l.Height())
	require.Len(w.tb, w.l.Events(), events)
}

// queryFail evaluates fn and requires it to fail with want in the message.
func (w *world) queryFail(id *fakestub.Identity, want string, fn string, a ...any) {
	w.tb.Helper()
	r := w.l.Query(w.cc, id, fn, args(w.tb, a)...)
	require.NotEqualf(w.tb, int32(shim.OK), r.Status, "%s succeeded, want error %q", fn, want)
	require.Contains(w.tb, r.Message, want)
}

func (w *world) batch(id string) *model.Batch {
	w.tb.Helper()
	var b model.Batch
	w.query(w.aud, &b, "ReadBatch", id)
	return &b
}

// register has the municipality register mass grams of PET as id.
func (w *world) register(id string, mass model.Grams) *model.Batch {
	w.tb.Helper()
	var b model.Batch
	w.okBatch(w.mun, &b, "RegisterBatch", regReq(id, mass))
	return &b
}

func regReq(id string, mass model.Grams) model.RegisterRequest {
	return model.RegisterRequest{
		ID: id, Material: model.PET, WasteCode: "15 01 02", Mass: mass,
		Location: "Hervanta eco-point 4", CollectedAt: "2026-11-20T08:30:00+02:00",
	}
}

// move offers id from one identity to another's organisation and accepts
// received grams (0 = all).
func (w *world) move(id string, from, to *fakestub.Identity, received int64) *model.Batch {
	w.tb.Helper()
	w.ok(from, nil, "OfferTransfer", id, to.MSP)
	var b model.Batch
	w.okBatch(to, &b, "AcceptTransfer", id, received)
	return &b
}

// assertGuarded checks the key-level endorsement policy of batch id: it
// must need every organisation of required and, in all, at least
// minEndorsers distinct member organisations.
func (w *world) assertGuarded(id string, required ...string) {
	w.tb.Helper()
	key, err := batchKey(id)
	require.NoError(w.tb, err)
	w.assertGuardedKey(key, required...)
}

// assertGuardedKey is assertGuarded for any key. It evaluates the policy
// against sets of signing organisations, as a validating peer would.
func (w *world) assertGuardedKey(key string, required ...string) {
	w.tb.Helper()
	pol := w.l.Policy(key)
	require.NotNil(w.tb, pol, "key %q has no key-level policy", key)
	all := make([]string, len(members))
	for i, m := range members {
		all[i] = m.MSP
	}
	require.True(w.tb, policyHolds(w.tb, pol, all...), "every member together must satisfy the policy of %q", key)
	for _, r := range required {
		without := slices.DeleteFunc(slices.Clone(all), func(o string) bool { return o == r })
		require.False(w.tb, policyHolds(w.tb, pol, without...), "the policy of %q must need %s", key, r)
	}
	if len(required) < minEndorsers {
		require.False(w.tb, policyHolds(w.tb, pol, required...), "the policy of %q must need a witness beyond %v", key, required)
		for _, o := range all {
			if slices.Contains(required, o) {
				continue
			}
			require.True(w.tb, policyHolds(w.tb, pol, append(slices.Clone(required), o)...), "%v with witness %s must satisfy the policy of %q", required, o, key)
		}
	} else {
		require.True(w.tb, policyHolds(w.tb, pol, required...), "%v must satisfy the policy of %q", required, key)
	}
}

// policyHolds evaluates a signature policy envelope for peers of the
// given organisations, one signature each.
func policyHolds(tb testing.TB, raw []byte, orgs ...string) bool {
	tb.Helper()
	var env common.SignaturePolicyEnvelope
	require.NoError(tb, proto.Unmarshal(raw, &env))
	signer := make([]string, len(env.GetIdentities()))
	for i, id := range env.GetIdentities() {
		require.Equal(tb, msp.MSPPrincipal_ROLE, id.GetPrincipalClassification())
		var role msp.MSPRole
		require.NoError(tb, proto.Unmarshal(id.GetPrincipal(), &role))
		require.Equal(tb, msp.MSPRole_PEER, role.GetRole())
		signer[i] = role.GetMspIdentifier()
	}
	var eval func(*common.SignaturePolicy) bool
	eval = func(p *common.SignaturePolicy) bool {
		if nof := p.GetNOutOf(); nof != nil {
			n := 0
			for _, r := range nof.GetRules() {
				if eval(r) {
					n++
				}
			}
			return n >= int(nof.GetN())
		}
		return slices.Contains(orgs, signer[p.GetSignedBy()])
	}
	return eval(env.GetRule())
}

// lastEvent decodes the most recent committed chaincode event.
func (w *world) lastEvent() (string, model.ChaincodeEvent) {
	w.tb.Helper()
	evs := w.l.Events()
	require.NotEmpty(w.tb, evs)
	e := evs[len(evs)-1]
	var ce model.ChaincodeEvent
	require.NoError(w.tb, json.Unmarshal(e.Payload, &ce))
	return e.EventName, ce
}

func (w *world) indexed(index, value, id string) bool {
	k, err := shim.CreateCompositeKey(index, []string{value, id})
	require.NoError(w.tb, err)
	return w.l.State(k) != nil
}

func kg(n int64) model.Grams { return model.Grams(n) * model.Kilogram }

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

var txTime = fakestub.DefaultTime

func at(d time.Duration) string { return model.FormatTime(txTime.Add(d)) }

// actor is how the contract records id: organisation, common name, and
// the person's enrolment ID and role from the certificate's attributes.
func actor(id *fakestub.Identity) model.Actor {
	return model.Actor{MSP: id.MSP, Identity: id.CommonName,
		EnrollmentID: id.Attrs["hf.EnrollmentID"], Role: model.PersonRole(id.Attrs[model.RoleAttribute])}
}

func encode(tb testing.TB, b *model.Batch) ([]byte, string) {
	raw, err := json.Marshal(b)
	require.NoError(tb, err)
	key, err := batchKey(b.ID)
	require.NoError(tb, err)
	return raw, key
}
