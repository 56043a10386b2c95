package fakestub

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demo is a small contract run through the real contract-api dispatcher.
type demo struct{ contractapi.Contract }

func (demo) Put(ctx contractapi.TransactionContextInterface, key, value string) error {
	if err := ctx.GetStub().PutState(key, []byte(value)); err != nil {
		return err
	}
	return ctx.GetStub().SetEvent("Put", []byte(value))
}

func (demo) PutThenFail(ctx contractapi.TransactionContextInterface, key string) error {
	if err := ctx.GetStub().PutState(key, []byte("x")); err != nil {
		return err
	}
	return errors.New("refused after writing")
}

func (demo) Get(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	v, err := ctx.GetStub().GetState(key)
	return string(v), err
}

func (demo) Double(ctx contractapi.TransactionContextInterface, n int) (int, error) {
	return 2 * n, nil
}

// Who reports the caller as contract-api's ClientIdentity sees it.
func (demo) Who(ctx contractapi.TransactionContextInterface) (map[string]any, error) {
	ci := ctx.GetClientIdentity()
	msp, err := ci.GetMSPID()
	if err != nil {
		return nil, err
	}
	cert, err := ci.GetX509Certificate()
	if err != nil {
		return nil, err
	}
	return map[string]any{"msp": msp, "admin": slices.Contains(cert.Subject.OrganizationalUnit, "admin")}, nil
}

// Batched writes in a write batch it never finishes itself.
func (demo) Batched(ctx contractapi.TransactionContextInterface, keys []string) error {
	ctx.GetStub().StartWriteBatch()
	for _, k := range keys {
		if err := ctx.GetStub().PutState(k, []byte("b")); err != nil {
			return err
		}
	}
	return nil
}

// PageThenWrite runs a paginated query, then writes in a batch: the
// batch fails when the shim finishes it.
func (demo) PageThenWrite(ctx contractapi.TransactionContextInterface) error {
	stub := ctx.GetStub()
	stub.StartWriteBatch()
	if err := stub.PutState("late", []byte("x")); err != nil {
		return err
	}
	_, _, err := stub.GetStateByRangeWithPagination("", "", 1, "")
	return err
}

func newDemo(t *testing.T) *contractapi.ContractChaincode {
	t.Helper()
	cc, err := contractapi.NewChaincode(&demo{})
	require.NoError(t, err)
	return cc
}

func TestInvokeCommitsOnSuccess(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	r := l.Invoke(cc, alice, "Put", "k", "v")
	require.Equal(t, int32(shim.OK), r.Status, r.Message)
	assert.Equal(t, "v", string(l.State("k")))
	assert.Equal(t, uint64(1), l.Height())
	require.NotNil(t, r.Event)
	assert.Equal(t, "Put", r.Event.EventName)
	assert.Equal(t, r.TxID, r.Event.TxId)
	assert.Equal(t, []*peer.ChaincodeEvent{r.Event}, l.Events())

	q := l.Query(cc, alice, "Get", "k")
	require.Equal(t, int32(shim.OK), q.Status, q.Message)
	assert.Equal(t, "v", string(q.Payload))
	assert.NotEqual(t, r.TxID, q.TxID)
}

func TestInvokeFailureWritesNothing(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	before := l.Snapshot()
	r := l.Invoke(cc, alice, "PutThenFail", "k")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Equal(t, "refused after writing", r.Message)
	assert.Equal(t, before, l.Snapshot())
	assert.Zero(t, l.Height())
	assert.Empty(t, l.Events())

	// contract-api's schema validation rejects a bad argument.
	r = l.Invoke(cc, alice, "Double", "many")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Contains(t, r.Message, "error managing parameter param0")
	r = l.Invoke(cc, alice, "Double", "21")
	require.Equal(t, int32(shim.OK), r.Status, r.Message)
	assert.Equal(t, "42", string(r.Payload))

	r = l.Invoke(cc, alice, "NoSuchFunction")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Contains(t, r.Message, "NoSuchFunction")
}

func TestQueryNeverCommits(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	r := l.Query(cc, alice, "Put", "k", "v")
	require.Equal(t, int32(shim.OK), r.Status, r.Message)
	assert.Nil(t, l.State("k"))
	assert.Zero(t, l.Height())
	assert.Empty(t, l.Events())
}

func TestInvokeIdentity(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	admin := NewIdentity("AuditorMSP", "Admin@auditor.mtrace.local", "admin")
	for _, tc := range []struct {
		id    *Identity
		msp   string
		admin bool
	}{{alice, "MunicipalityMSP", false}, {admin, "AuditorMSP", true}} {
		r := l.Query(cc, tc.id, "Who")
		require.Equal(t, int32(shim.OK), r.Status, r.Message)
		var got struct {
			MSP   string `json:"msp"`
			Admin bool   `json:"admin"`
		}
		require.NoError(t, json.Unmarshal(r.Payload, &got))
		assert.Equal(t, tc.msp, got.MSP)
		assert.Equal(t, tc.admin, got.Admin)
	}
}

func TestInvokeFinishesWriteBatch(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	r := l.Invoke(cc, alice, "Batched", `["x","y"]`)
	require.Equal(t, int32(shim.OK), r.Status, r.Message)
	assert.Equal(t, []string{"x", "y"}, l.Keys())

	r = l.Invoke(cc, alice, "PageThenWrite")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Contains(t, r.Message, "failed send batch")
	assert.Nil(t, l.State("late"))
	assert.Equal(t, uint64(1), l.Height())
}

// conflicting commits a change to "k" between its read and its commit.
type conflicting struct{ l *Ledger }

func (c conflicting) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (c conflicting) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	if _, err := stub.GetState("k"); err != nil {
		return shim.Error(err.Error())
	}
	c.l.Put("k", []byte("meanwhile"))
	if err := stub.PutState("out", []byte("x")); err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success([]byte("done"))
}

func TestInvokeReportsCommitFailure(t *testing.T) {
	l := NewLedger()
	r := l.Invoke(conflicting{l}, alice, "Any")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Contains(t, r.Message, "MVCC_READ_CONFLICT")
	assert.Nil(t, r.Payload)
	assert.Nil(t, l.State("out"))
}

// nilResponse is a broken chaincode.
type nilResponse struct{}

func (nilResponse) Init(shim.ChaincodeStubInterface) *peer.Response   { return nil }
func (nilResponse) Invoke(shim.ChaincodeStubInterface) *peer.Response { return nil }

func TestInvokeNilResponse(t *testing.T) {
	r := NewLedger().Invoke(nilResponse{}, alice, "Any")
	assert.Equal(t, int32(shim.ERROR), r.Status)
	assert.Contains(t, r.Message, "nil response")
}

func TestPutDeletesWithNil(t *testing.T) {
	l := NewLedger()
	l.Put("k", []byte("v"))
	l.Put("k", nil)
	assert.Nil(t, l.State("k"))
	assert.Empty(t, l.Keys())
	assert.Equal(t, uint64(2), l.Height())
	assert.Empty(t, l.Snapshot())
}

func TestConcurrentInvokes(t *testing.T) {
	l, cc := NewLedger(), newDemo(t)
	const n = 8
	done := make(chan *Result, n)
	for i := range n {
		go func() { done <- l.Invoke(cc, alice, "Put", string(rune('a'+i)), "v") }()
	}
	ids := map[string]bool{}
	for range n {
		r := <-done
		require.Equal(t, int32(shim.OK), r.Status, r.Message)
		ids[r.TxID] = true
	}
	assert.Len(t, ids, n, "every transaction has its own TxID")
	assert.Equal(t, uint64(n), l.Height())
	assert.Len(t, l.Keys(), n)
	assert.Len(t, l.Events(), n)
}
