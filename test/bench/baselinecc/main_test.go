package main

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// stub records PutState; any other stub call panics (nil interface).
type stub struct {
	shim.ChaincodeStubInterface
	state map[string][]byte
	err   error
}

func (s *stub) PutState(key string, value []byte) error {
	if s.err != nil {
		return s.err
	}
	s.state[key] = value
	return nil
}

func ctx(s *stub) contractapi.TransactionContextInterface {
	c := new(contractapi.TransactionContext)
	c.SetStub(s)
	return c
}

func TestPut(t *testing.T) {
	s := &stub{state: map[string][]byte{}}
	if err := (Baseline{}).Put(ctx(s), "bench1-bl-7", `{"bench":true}`); err != nil {
		t.Fatal(err)
	}
	if got := string(s.state["baseline~bench1-bl-7"]); got != `{"bench":true}` || len(s.state) != 1 {
		t.Fatalf("state %q", s.state)
	}
	if err := (Baseline{}).Put(ctx(s), "bad key", "v"); err == nil || len(s.state) != 1 {
		t.Fatalf("a key with a space: err %v, state %q", err, s.state)
	}
	s.err = errors.New("disk full")
	if err := (Baseline{}).Put(ctx(s), "k", "v"); !errors.Is(err, s.err) {
		t.Fatalf("a failed write: %v", err)
	}
}

// TestOnlyPut: the chaincode builds, and Put is its one transaction.
func TestOnlyPut(t *testing.T) {
	if _, err := newChaincode(); err != nil {
		t.Fatal(err)
	}
	ctxType := reflect.TypeOf((*contractapi.TransactionContextInterface)(nil)).Elem()
	var fns []string
	bt := reflect.TypeOf(&Baseline{})
	for i := range bt.NumMethod() {
		m := bt.Method(i)
		if m.Type.NumIn() >= 2 && m.Type.In(1) == ctxType {
			fns = append(fns, m.Name)
		}
	}
	if len(fns) != 1 || fns[0] != "Put" {
		t.Fatalf("transactions %v, want [Put]", fns)
	}
}
