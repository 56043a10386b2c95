package fakestub

import (
	"errors"
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// ErrNotSupported is wrapped by every method the fake does not model.
var ErrNotSupported = errors.New("not supported by fakestub")

func unsupported(what string) error { return fmt.Errorf("%s: %w", what, ErrNotSupported) }

// InvokeChaincode is not supported: mtrace calls no other chaincode.
func (s *Stub) InvokeChaincode(name string, args [][]byte, channel string) *peer.Response {
	return shim.Error(unsupported("InvokeChaincode").Error())
}

// GetQueryResult is not supported: rich queries need CouchDB.
func (s *Stub) GetQueryResult(query string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("GetQueryResult (rich queries need CouchDB)")
}

// GetQueryResultWithPagination is not supported: rich queries need CouchDB.
func (s *Stub) GetQueryResultWithPagination(query string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return nil, nil, unsupported("GetQueryResultWithPagination (rich queries need CouchDB)")
}

// GetPrivateData is not supported.
func (s *Stub) GetPrivateData(collection, key string) ([]byte, error) {
	return nil, unsupported("private data")
}

// GetMultiplePrivateData is not supported.
func (s *Stub) GetMultiplePrivateData(collection string, keys ...string) ([][]byte, error) {
	return nil, unsupported("private data")
}

// GetPrivateDataHash is not supported.
func (s *Stub) GetPrivateDataHash(collection, key string) ([]byte, error) {
	return nil, unsupported("private data")
}

// PutPrivateData is not supported.
func (s *Stub) PutPrivateData(collection, key string, value []byte) error {
	return unsupported("private data")
}

// DelPrivateData is not supported.
func (s *Stub) DelPrivateData(collection, key string) error { return unsupported("private data") }

// PurgePrivateData is not supported.
func (s *Stub) PurgePrivateData(collection, key string) error { return unsupported("private data") }

// SetPrivateDataValidationParameter is not supported.
func (s *Stub) SetPrivateDataValidationParameter(collection, key string, ep []byte) error {
	return unsupported("private data")
}

// GetPrivateDataValidationParameter is not supported.
func (s *Stub) GetPrivateDataValidationParameter(collection, key string) ([]byte, error) {
	return nil, unsupported("private data")
}

// GetPrivateDataByRange is not supported.
func (s *Stub) GetPrivateDataByRange(collection, startKey, endKey string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data")
}

// GetPrivateDataByPartialCompositeKey is not supported.
func (s *Stub) GetPrivateDataByPartialCompositeKey(collection, objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data")
}

// GetPrivateDataQueryResult is not supported.
func (s *Stub) GetPrivateDataQueryResult(collection, query string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data")
}
