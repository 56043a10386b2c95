package contract

import (
	"encoding/json"
	"fmt"
)

// encoded returns v as the JSON text a transaction answers with.
//
// Trace, VerifyProvenance and Process return their answer already encoded
// instead of as a typed value. For a typed value, contract-api encodes it
// and then checks it against the JSON schema of its Go type, and for a
// graph of a thousand batches that check costs about as much as reading
// the graph from the ledger (see the benchmarks). The chaincode builds
// these values itself from the model, so the check can only pass; the
// text is byte for byte what the typed return produced.
func encoded(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	return string(b), nil
}
