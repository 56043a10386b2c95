package fakestub

import (
	"errors"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var alice = NewIdentity("MunicipalityMSP", "User1@municipality.mtrace.local", "client")

func TestReadsDoNotSeeOwnWrites(t *testing.T) {
	l := NewLedger()
	l.Put("a", []byte("old"))
	s := l.NewStub(alice, "Fn")

	require.NoError(t, s.PutState("a", []byte("new")))
	require.NoError(t, s.PutState("b", []byte("fresh")))
	got, err := s.GetState("a")
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
	got, err = s.GetState("b")
	require.NoError(t, err)
	assert.Nil(t, got)
	vals, err := s.GetMultipleStates("b", "a")
	require.NoError(t, err)
	assert.Equal(t, [][]byte{nil, []byte("old")}, vals)
	assert.Nil(t, l.State("b"), "nothing visible before Commit")

	require.NoError(t, s.Commit())
	assert.Equal(t, "new", string(l.State("a")))
	assert.Equal(t, "fresh", string(l.State("b")))
	assert.Equal(t, uint64(2), l.Height())
}

func TestGetMultipleStatesNoKeys(t *testing.T) {
	vals, err := NewLedger().NewStub(alice).GetMultipleStates()
	require.NoError(t, err)
	assert.Nil(t, vals)
}

func TestKeyAndValueValidation(t *testing.T) {
	s := NewLedger().NewStub(alice, "Fn")
	_, err := s.GetState("")
	assert.ErrorContains(t, err, "key must not be an empty string")
	_, err = s.GetMultipleStates("a", "")
	assert.ErrorContains(t, err, "key must not be an empty string")
	assert.ErrorContains(t, s.PutState("", []byte("x")), "key must not be an empty string")
	assert.ErrorContains(t, s.DelState(""), "key must not be an empty string")
	assert.ErrorContains(t, s.PutState("k", nil), `value of key "k" must not be empty`)
	assert.ErrorContains(t, s.PutState("k", []byte{}), "use DelState")
	assert.ErrorContains(t, s.SetStateValidationParameter("", []byte("p")), "key must not be an empty string")
	_, err = s.GetStateValidationParameter("")
	assert.ErrorContains(t, err, "key must not be an empty string")
	_, err = s.GetHistoryForKey("")
	assert.ErrorContains(t, err, "key must not be an empty string")
}

func TestDelStateAndHistory(t *testing.T) {
	l := NewLedger()
	l.Put("k", []byte("v1"))
	l.Advance(time.Minute)

	s := l.NewStub(alice, "Fn")
	require.NoError(t, s.PutState("k", []byte("v2")))
	require.NoError(t, s.Commit())
	l.Advance(time.Minute)

	d := l.NewStub(alice, "Fn")
	require.NoError(t, d.DelState("k"))
	require.NoError(t, d.Commit())
	assert.Nil(t, l.State("k"))
	assert.NotContains(t, l.Keys(), "k")

	it, err := l.NewStub(alice).GetHistoryForKey("k")
	require.NoError(t, err)
	var got []string
	var times []time.Time
	var txs []string
	for it.HasNext() {
		m, err := it.Next()
		require.NoError(t, err)
		if m.IsDelete {
			got = append(got, "<deleted>")
			assert.Nil(t, m.Value)
		} else {
			got = append(got, string(m.Value))
		}
		times = append(times, m.Timestamp.AsTime())
		txs = append(txs, m.TxId)
	}
	require.NoError(t, it.Close())
	assert.Equal(t, []string{"<deleted>", "v2", "v1"}, got, "newest first, as Fabric v2+")
	assert.Equal(t, []time.Time{DefaultTime.Add(2 * time.Minute), DefaultTime.Add(time.Minute), DefaultTime}, times)
	assert.Equal(t, []string{d.GetTxID(), s.GetTxID()}, txs[:2])
	_, err = it.Next()
	assert.ErrorContains(t, err, "closed")

	empty, err := l.NewStub(alice).GetHistoryForKey("never")
	require.NoError(t, err)
	assert.False(t, empty.HasNext())
	_, err = empty.Next()
	assert.ErrorContains(t, err, "no more results")
}

func TestArgsAndContext(t *testing.T) {
	l := NewLedger()
	s := l.NewStub(alice, "Transfer", "B1", "RecyclerMSP")
	fn, params := s.GetFunctionAndParameters()
	assert.Equal(t, "Transfer", fn)
	assert.Equal(t, []string{"B1", "RecyclerMSP"}, params)
	assert.Equal(t, []string{"Transfer", "B1", "RecyclerMSP"}, s.GetStringArgs())
	assert.Equal(t, [][]byte{[]byte("Transfer"), []byte("B1"), []byte("RecyclerMSP")}, s.GetArgs())
	slice, err := s.GetArgsSlice()
	require.NoError(t, err)
	assert.Equal(t, "TransferB1RecyclerMSP", string(slice))
	assert.Equal(t, "circular", s.GetChannelID())
	assert.Same(t, alice, s.Identity())

	fn, params = l.NewStub(alice).GetFunctionAndParameters()
	assert.Empty(t, fn)
	assert.Equal(t, []string{}, params)

	tr, err := s.GetTransient()
	require.NoError(t, err)
	assert.Empty(t, tr)
	b, err := s.GetBinding()
	require.NoError(t, err)
	assert.Empty(t, b)
	assert.Empty(t, s.GetDecorations())
	sp, err := s.GetSignedProposal()
	require.NoError(t, err)
	assert.Empty(t, sp.ProposalBytes)
}

func TestTxIDsAndTimeAreDeterministic(t *testing.T) {
	a, b := NewLedger(), NewLedger()
	for range 3 {
		assert.Equal(t, a.NewStub(alice).GetTxID(), b.NewStub(alice).GetTxID())
	}
	s1, s2 := a.NewStub(alice), a.NewStub(alice)
	assert.NotEqual(t, s1.GetTxID(), s2.GetTxID())
	assert.Len(t, s1.GetTxID(), 64)

	ts, err := s1.GetTxTimestamp()
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), ts.AsTime())

	at := time.Date(2027, 3, 1, 8, 30, 0, 0, time.UTC)
	a.SetTime(at)
	a.Advance(90 * time.Second)
	ts, err = a.NewStub(alice).GetTxTimestamp()
	require.NoError(t, err)
	assert.Equal(t, at.Add(90*time.Second), ts.AsTime())
	ts, err = s1.GetTxTimestamp()
	require.NoError(t, err)
	assert.Equal(t, DefaultTime, ts.AsTime(), "a started transaction keeps its timestamp")
}

func TestSetEventReplacesAndCommits(t *testing.T) {
	l := NewLedger()
	s := l.NewStub(alice, "Fn")
	assert.ErrorContains(t, s.SetEvent("", nil), "event name")
	require.NoError(t, s.SetEvent("First", []byte("1")))
	require.NoError(t, s.SetEvent("Second", []byte("2")))
	assert.Equal(t, "Second", s.Event().EventName)
	assert.Empty(t, l.Events(), "no event before Commit")
	require.NoError(t, s.Commit())

	ev := l.Events()
	require.Len(t, ev, 1)
	assert.Equal(t, "Second", ev[0].EventName)
	assert.Equal(t, "2", string(ev[0].Payload))
	assert.Equal(t, s.GetTxID(), ev[0].TxId)
	assert.Equal(t, "mtrace", ev[0].ChaincodeId)
}

func TestCommitOnlyOnce(t *testing.T) {
	l := NewLedger()
	s := l.NewStub(alice, "Fn")
	require.NoError(t, s.PutState("k", []byte("v")))
	require.NoError(t, s.Commit())
	assert.ErrorContains(t, s.Commit(), "already finished")
	assert.ErrorContains(t, s.PutState("k", []byte("w")), "already finished")
	assert.Equal(t, uint64(1), l.Height())
}

func TestWriteBatch(t *testing.T) {
	l := NewLedger()
	l.Put("gone", []byte("x"))
	s := l.NewStub(alice, "Fn")
	require.NoError(t, s.FinishWriteBatch(), "no batch: no effect")
	s.StartWriteBatch()
	s.StartWriteBatch() // a second start keeps the open batch
	require.NoError(t, s.PutState("a", []byte("1")))
	require.NoError(t, s.PutState("a", []byte("2")))
	require.NoError(t, s.DelState("gone"))
	require.NoError(t, s.SetStateValidationParameter("a", []byte("policy")))
	assert.ErrorContains(t, s.Commit(), "unfinished write batch")
	require.NoError(t, s.FinishWriteBatch())
	require.NoError(t, s.Commit())
	assert.Equal(t, "2", string(l.State("a")))
	assert.Equal(t, "policy", string(l.Policy("a")))
	assert.Nil(t, l.State("gone"))
}

func TestStateBasedEndorsementRoundTrip(t *testing.T) {
	l := NewLedger()
	ep, err := statebased.NewStateEP(nil)
	require.NoError(t, err)
	require.NoError(t, ep.AddOrgs(statebased.RoleTypePeer, "MunicipalityMSP", "RecyclerMSP"))
	policy, err := ep.Policy()
	require.NoError(t, err)

	s := l.NewStub(alice, "Fn")
	require.NoError(t, s.PutState("reg", []byte("{}")))
	require.NoError(t, s.SetStateValidationParameter("reg", policy))
	got, err := s.GetStateValidationParameter("reg")
	require.NoError(t, err)
	assert.Nil(t, got, "own policy write is not visible before commit")
	require.NoError(t, s.SetStateValidationParameter("ghost", policy))
	require.NoError(t, s.Commit())
	assert.Equal(t, policy, l.Policy("reg"))
	assert.Nil(t, l.Policy("ghost"), "policy on a missing key is dropped")
	assert.NotContains(t, l.Keys(), "ghost")

	r := l.NewStub(alice, "Fn")
	got, err = r.GetStateValidationParameter("reg")
	require.NoError(t, err)
	back, err := statebased.NewStateEP(got)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MunicipalityMSP", "RecyclerMSP"}, back.ListOrgs()) // ListOrgs walks a map
	got, err = r.GetStateValidationParameter("none")
	require.NoError(t, err)
	assert.Nil(t, got)

	// A value-only write keeps the policy; an empty policy removes it.
	w := l.NewStub(alice, "Fn")
	require.NoError(t, w.PutState("reg", []byte(`{"v":2}`)))
	require.NoError(t, w.Commit())
	assert.Equal(t, policy, l.Policy("reg"))
	c := l.NewStub(alice, "Fn")
	require.NoError(t, c.SetStateValidationParameter("reg", nil))
	require.NoError(t, c.Commit())
	assert.Nil(t, l.Policy("reg"))
	assert.Equal(t, `{"v":2}`, string(l.State("reg")))

	// Deleting the key deletes its policy with it.
	p := l.NewStub(alice, "Fn")
	require.NoError(t, p.SetStateValidationParameter("reg", policy))
	require.NoError(t, p.Commit())
	d := l.NewStub(alice, "Fn")
	require.NoError(t, d.DelState("reg"))
	require.NoError(t, d.Commit())
	l.Put("reg", []byte("again"))
	assert.Nil(t, l.Policy("reg"))
}

func TestMVCCReadConflict(t *testing.T) {
	l := NewLedger()
	l.Put("k", []byte("v0"))
	before := l.Snapshot()

	s := l.NewStub(alice, "Fn")
	_, err := s.GetState("k")
	require.NoError(t, err)
	require.NoError(t, s.PutState("out", []byte("x")))

	other := l.NewStub(alice, "Fn")
	require.NoError(t, other.PutState("k", []byte("v1")))
	require.NoError(t, other.Commit())

	err = s.Commit()
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrMVCCReadConflict))
	assert.ErrorContains(t, err, `read key "k"`)
	before["k"] = "v1"
	assert.Equal(t, before, l.Snapshot(), "failed commit writes nothing")
}

func TestMVCCReadOfMissingKeyConflicts(t *testing.T) {
	l := NewLedger()
	s := l.NewStub(alice, "Fn")
	ok, err := s.GetStateValidationParameter("new")
	require.NoError(t, err)
	assert.Nil(t, ok)
	require.NoError(t, s.PutState("new", []byte("mine")))
	l.Put("new", []byte("theirs"))
	assert.ErrorIs(t, s.Commit(), ErrMVCCReadConflict)
	assert.Equal(t, "theirs", string(l.State("new")))
}

func TestBlindWritesDoNotConflict(t *testing.T) {
	l := NewLedger()
	a, b := l.NewStub(alice, "Fn"), l.NewStub(alice, "Fn")
	require.NoError(t, a.PutState("k", []byte("a")))
	require.NoError(t, b.PutState("k", []byte("b")))
	require.NoError(t, a.Commit())
	require.NoError(t, b.Commit())
	assert.Equal(t, "b", string(l.State("k")))
}

func TestUnsupported(t *testing.T) {
	s := NewLedger().NewStub(alice, "Fn")
	check := func(err error) {
		t.Helper()
		assert.ErrorIs(t, err, ErrNotSupported)
	}
	r := s.InvokeChaincode("other", nil, "")
	assert.Equal(t, int32(500), r.Status)
	assert.Contains(t, r.Message, "InvokeChaincode")
	_, err := s.GetQueryResult("{}")
	check(err)
	_, _, err = s.GetQueryResultWithPagination("{}", 1, "")
	check(err)
	_, err = s.GetPrivateData("c", "k")
	check(err)
	_, err = s.GetMultiplePrivateData("c", "k")
	check(err)
	_, err = s.GetPrivateDataHash("c", "k")
	check(err)
	check(s.PutPrivateData("c", "k", []byte("v")))
	check(s.DelPrivateData("c", "k"))
	check(s.PurgePrivateData("c", "k"))
	check(s.SetPrivateDataValidationParameter("c", "k", nil))
	_, err = s.GetPrivateDataValidationParameter("c", "k")
	check(err)
	_, err = s.GetPrivateDataByRange("c", "", "")
	check(err)
	_, err = s.GetPrivateDataByPartialCompositeKey("c", "t", nil)
	check(err)
	_, err = s.GetPrivateDataQueryResult("c", "{}")
	check(err)
}
