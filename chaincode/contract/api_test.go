package contract

import (
	"reflect"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
)

// TestContractExposesExactlyTheAPI holds the contract against package api,
// the one list of transactions that clients call: the same names, each
// with the same argument types and the same result type. A transaction
// added, dropped or changed on one side only fails here.
func TestContractExposesExactlyTheAPI(t *testing.T) {
	ctxType := reflect.TypeFor[contractapi.TransactionContextInterface]()
	errType := reflect.TypeFor[error]()
	ct := reflect.TypeFor[*Contract]()
	var exposed []string
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType {
			continue
		}
		exposed = append(exposed, m.Name)
		tx, ok := api.Lookup(m.Name)
		if !assert.True(t, ok, "contract transaction %s is not in package api", m.Name) {
			continue
		}
		params := make([]reflect.Type, 0, m.Type.NumIn()-2)
		for j := 2; j < m.Type.NumIn(); j++ {
			params = append(params, m.Type.In(j))
		}
		want := make([]reflect.Type, len(tx.Params))
		for j, p := range tx.Params {
			want[j] = p.Type
		}
		assert.Equal(t, want, params, "%s: argument types", m.Name)
		require.Equal(t, errType, m.Type.Out(m.Type.NumOut()-1), "%s returns an error last", m.Name)
		var result reflect.Type
		if m.Type.NumOut() == 2 {
			result = m.Type.Out(0)
		}
		assert.Equal(t, tx.Result, result, "%s: result type", m.Name)
	}
	var listed []string
	for _, tx := range api.Transactions {
		listed = append(listed, tx.Name)
	}
	slices.Sort(exposed)
	slices.Sort(listed)
	assert.Equal(t, listed, exposed, "the contract's transactions and package api's list")
}

// TestReadsNeedNoWriteRole checks that the role hook treats exactly the
// reads of package api as open to viewers.
func TestReadsNeedNoWriteRole(t *testing.T) {
	for _, tx := range api.Transactions {
		assert.Equal(t, !tx.Write, isRead(tx.Name), tx.Name)
	}
	assert.False(t, isRead("NoSuchFunction"))
}
