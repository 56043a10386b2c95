package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EndorseError is a transaction the peers would not endorse. When the
// chaincode itself refused it, Chaincode is true and Message is the
// chaincode's own error, such as `batch "X" already exists`.
type EndorseError struct {
	TxID      string
	Message   string
	Chaincode bool
	// Mismatch is set when the endorsing peers computed different results:
	// a block committed between their simulations changed what they read.
	// Like a read conflict, nothing was written, and running it again is
	// safe.
	Mismatch bool
	// Refusers are the organisations whose peers' chaincode refused, in
	// the order the gateway reported them.
	Refusers []string
}

// RefusedElsewhere reports whether the chaincode refused on other
// organisations' peers only, not on the peer of msp, the client's own.
// The gateway endorses on its own organisation's peer first and asks the
// others only once that succeeded, so such a refusal means the peers
// disagree about the state: usually another peer has not yet received the
// block that the client's last transaction committed in (the recipient's
// peer, a moment after an offer), sometimes a dishonest member.
func (e *EndorseError) RefusedElsewhere(msp string) bool {
	return e.Chaincode && len(e.Refusers) > 0 && !slices.Contains(e.Refusers, msp)
}

func (e *EndorseError) Error() string {
	if e.Chaincode {
		return "rejected by chaincode: " + e.Message
	}
	return "endorsement failed: " + e.Message
}

// CommitError is a transaction that was ordered but failed validation, so
// it wrote nothing. Code is the validation code's name.
type CommitError struct {
	TxID string
	Code string
}

func (e *CommitError) Error() string {
	return fmt.Sprintf("transaction %s failed validation: %s", e.TxID, e.Code)
}

// Conflict reports whether the transaction lost a read conflict with a
// concurrent one and may simply be run again.
func (e *CommitError) Conflict() bool {
	return e.Code == peer.TxValidationCode_MVCC_READ_CONFLICT.String() ||
		e.Code == peer.TxValidationCode_PHANTOM_READ_CONFLICT.String()
}

// UnavailableError is a peer that could not be reached or did not answer
// in time.
type UnavailableError struct {
	Endpoint string
	Cause    string
	// TxID is set when a transaction was sent to ordering but its commit
	// status is unknown: it may still commit.
	TxID string
}

func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("peer %s unreachable: %s", e.Endpoint, e.Cause)
	if e.TxID != "" {
		s += fmt.Sprintf(" (transaction %s was sent and may still commit)", e.TxID)
	}
	return s
}

// GatewayError is any other failure reported by the gateway, such as the
// orderers refusing a transaction.
type GatewayError struct {
	Op      string
	Message string
}

func (e *GatewayError) Error() string { return e.Op + " failed: " + e.Message }

// accessDenied is how a peer reports a creator that fails its channel's
// MSP validation (a revoked or expired certificate, or one from another
// CA), before any chaincode runs.
const accessDenied = "access denied: channel ["

// deniedHint says what such a refusal means in mtrace's terms.
const deniedHint = " (the channel does not accept this identity: its certificate is revoked, expired, or not issued by its organisation's CA; an admin's `mtrace identity list` shows which)"

// payloadMismatch is how the gateway reports endorsers whose simulations
// differ.
const payloadMismatch = "ProposalResponsePayloads do not match"

var ccResponse = regexp.MustCompile(`^chaincode response \d+, `)

// mapError turns a fabric-gateway or gRPC error into one of this
// package's errors. The raw error goes to debug when it is not nil.
func mapError(err error, endpoint string, debug io.Writer) error {
	if err == nil {
		return nil
	}
	if debug != nil {
		fmt.Fprintf(debug, "gateway error: %v\n", err)
	}
	var ce *client.CommitError
	if errors.As(err, &ce) {
		return &CommitError{TxID: ce.TransactionID, Code: ce.Code.String()}
	}
	var txID string
	var te *client.TransactionError
	if errors.As(err, &te) {
		txID = te.TransactionID
	}
	op := "evaluate"
	var (
		ee  *client.EndorseError
		se  *client.SubmitError
		cse *client.CommitStatusError
	)
	switch {
	case errors.As(err, &ee):
		op = "endorse"
	case errors.As(err, &se):
		op = "submit"
	case errors.As(err, &cse):
		op = "commit status"
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			return &UnavailableError{Endpoint: endpoint, Cause: "no answer before the timeout"}
		}
		return &GatewayError{Op: op, Message: err.Error()}
	}
	return fromStatus(st, op, txID, endpoint)
}

// fromStatus maps a gRPC status returned by the gateway for operation op.
func fromStatus(st *status.Status, op, txID, endpoint string) error {
	var details []*gateway.ErrorDetail
	for _, d := range st.Details() {
		if ed, ok := d.(*gateway.ErrorDetail); ok {
			details = append(details, ed)
		}
	}
	// The chaincode's own refusal is the most useful message there is.
	var refused *EndorseError
	for _, d := range details {
		if !ccResponse.MatchString(d.GetMessage()) {
			continue
		}
		if refused == nil {
			refused = &EndorseError{TxID: txID, Message: ccResponse.ReplaceAllString(d.GetMessage(), ""), Chaincode: true}
		}
		if !slices.Contains(refused.Refusers, d.GetMspId()) {
			refused.Refusers = append(refused.Refusers, d.GetMspId())
		}
	}
	if refused != nil {
		return refused
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		if op == "submit" && len(details) > 0 {
			break // the orderers, not our peer, failed
		}
		u := &UnavailableError{Endpoint: endpoint, Cause: shorten(st.Message())}
		if op == "commit status" {
			u.TxID = txID
		}
		return u
	case codes.Canceled:
		return context.Canceled
	}
	msg := st.Message()
	if len(details) > 0 {
		parts := make([]string, 0, len(details))
		for _, d := range details {
			parts = append(parts, fmt.Sprintf("%s (%s): %s", d.GetMspId(), d.GetAddress(), d.GetMessage()))
		}
		msg = strings.Join(parts, "; ")
	}
	if strings.Contains(msg, accessDenied) {
		msg += deniedHint
	}
	if op == "endorse" {
		// The gateway names the mismatch in the detail of the endorser
		// whose answer differed, under a general message.
		mismatch := strings.Contains(st.Message(), payloadMismatch) ||
			slices.ContainsFunc(details, func(d *gateway.ErrorDetail) bool { return strings.Contains(d.GetMessage(), payloadMismatch) })
		return &EndorseError{TxID: txID, Message: msg, Mismatch: st.Code() == codes.Aborted && mismatch}
	}
	return &GatewayError{Op: op, Message: msg}
}

// shorten reduces gRPC transport messages to their cause.
func shorten(msg string) string {
	for _, s := range []string{"connection refused", "no such host", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return s
		}
	}
	if i := strings.Index(msg, "x509: "); i >= 0 {
		return "TLS: " + strings.TrimRight(msg[i:], `"`)
	}
	if msg == "" {
		return "no answer"
	}
	return msg
}
