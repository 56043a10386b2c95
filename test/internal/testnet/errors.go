package testnet

import (
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/status"
)

// Message is what a gateway error says, on one line: the gRPC status
// message, then each peer's own message, prefixed with its MSP ID (an
// endorsement refused by the chaincode says why only there).
func Message(err error) string {
	if err == nil {
		return ""
	}
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	parts := []string{st.Message()}
	for _, d := range st.Details() {
		if ed, ok := d.(*gateway.ErrorDetail); ok {
			parts = append(parts, ed.GetMspId()+": "+ed.GetMessage())
		}
	}
	return strings.Join(parts, "; ")
}

// OneLine squeezes s onto one line of at most n bytes, for test logs.
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
