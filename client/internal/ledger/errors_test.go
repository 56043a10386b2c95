package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const ep = "127.0.0.1:27100"

func withDetails(t *testing.T, code codes.Code, msg string, details ...string) *status.Status {
	t.Helper()
	st := status.New(code, msg)
	for i, d := range details {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{Address: fmt.Sprintf("peer%d:7051", i), MspId: "RecyclerMSP", Message: d})
		require.NoError(t, err)
	}
	return st
}

func TestChaincodeRejection(t *testing.T) {
	st := withDetails(t, codes.Aborted, "failed to endorse transaction, see attached details for more info",
		`chaincode response 500, batch "X" already exists`)
	err := fromStatus(st, "endorse", "tx1", ep)
	var ee *EndorseError
	require.ErrorAs(t, err, &ee)
	assert.True(t, ee.Chaincode)
	assert.Equal(t, `rejected by chaincode: batch "X" already exists`, err.Error())

	// Evaluate reports the chaincode's refusal the same way.
	st = withDetails(t, codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, role recycler may not register batches (collector only)",
		"chaincode response 500, role recycler may not register batches (collector only)")
	assert.Equal(t, "rejected by chaincode: role recycler may not register batches (collector only)",
		fromStatus(st, "evaluate", "", ep).Error())
}

func TestEndorsementFailureNotChaincode(t *testing.T) {
	st := withDetails(t, codes.Aborted, "failed to collect enough transaction endorsements",
		"ProposalResponsePayloads do not match")
	err := fromStatus(st, "endorse", "tx1", ep)
	assert.Equal(t, "endorsement failed: RecyclerMSP (peer0:7051): ProposalResponsePayloads do not match", err.Error())
	// Fabric's gateway names the mismatch only in the detail of the
	// endorser whose answer differed (internal/pkg/gateway/endorse.go).
	assert.True(t, err.(*EndorseError).Mismatch, "the endorsers disagreed")
	st = withDetails(t, codes.Aborted, "failed to collect enough transaction endorsements", "chaincode registration failed")
	assert.False(t, fromStatus(st, "endorse", "tx1", ep).(*EndorseError).Mismatch, "another endorsement failure")
}

func TestUnavailable(t *testing.T) {
	st := status.New(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:27100: connect: connection refused"`)
	assert.Equal(t, "peer 127.0.0.1:27100 unreachable: connection refused", fromStatus(st, "evaluate", "", ep).Error())

	st = status.New(codes.DeadlineExceeded, "context deadline exceeded")
	err := fromStatus(st, "commit status", "tx9", ep)
	assert.Equal(t, "peer 127.0.0.1:27100 unreachable: context deadline exceeded (transaction tx9 was sent and may still commit)", err.Error())

	st = status.New(codes.Unavailable, "authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	assert.Equal(t, "peer 127.0.0.1:27100 unreachable: TLS: x509: certificate signed by unknown authority", fromStatus(st, "evaluate", "", ep).Error())

	st = withDetails(t, codes.Unavailable, "no orderers could successfully process transaction", "orderer down")
	assert.Equal(t, "submit failed: RecyclerMSP (peer0:7051): orderer down", fromStatus(st, "submit", "", ep).Error())
}

func TestMapErrorGatewayTypes(t *testing.T) {
	var buf bytes.Buffer
	err := mapError(&client.CommitError{TransactionID: "abc", Code: peer.TxValidationCode_MVCC_READ_CONFLICT}, ep, &buf)
	assert.Equal(t, "transaction abc failed validation: MVCC_READ_CONFLICT", err.Error())
	assert.True(t, err.(*CommitError).Conflict())
	assert.Contains(t, buf.String(), "gateway error:", "--debug shows the raw error")

	err = mapError(&client.CommitError{TransactionID: "abc", Code: peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE}, ep, nil)
	assert.Equal(t, "transaction abc failed validation: ENDORSEMENT_POLICY_FAILURE", err.Error())
	assert.False(t, err.(*CommitError).Conflict())

	// A plain gRPC status error, as Evaluate returns it.
	err = mapError(withDetails(t, codes.Unknown, "x", `chaincode response 500, batch "Q" not found`).Err(), ep, nil)
	assert.Equal(t, `rejected by chaincode: batch "Q" not found`, err.Error())

	assert.ErrorIs(t, mapError(fmt.Errorf("wrapped: %w", context.Canceled), ep, nil), context.Canceled)
	assert.Equal(t, "peer 127.0.0.1:27100 unreachable: no answer before the timeout",
		mapError(fmt.Errorf("x: %w", context.DeadlineExceeded), ep, nil).Error())
	assert.Equal(t, "evaluate failed: boom", mapError(errors.New("boom"), ep, nil).Error())
	assert.NoError(t, mapError(nil, ep, nil))
}

func TestRetryOnlyOnConflicts(t *testing.T) {
	ctx := context.Background()
	conflict := &CommitError{TxID: "t", Code: "MVCC_READ_CONFLICT"}
	phantom := &CommitError{TxID: "t", Code: "PHANTOM_READ_CONFLICT"}

	n := 0
	res, err := retry(ctx, 3, time.Millisecond, retryable, func() ([]byte, error) {
		n++
		if n < 3 {
			if n == 1 {
				return nil, conflict
			}
			return nil, phantom
		}
		return []byte("ok"), nil
	})
	require.NoError(t, err)
	assert.Equal(t, "ok", string(res))
	assert.Equal(t, 3, n)

	n = 0
	_, err = retry(ctx, 3, time.Millisecond, retryable, func() ([]byte, error) { n++; return nil, conflict })
	assert.Equal(t, conflict, err)
	assert.Equal(t, 4, n, "one try and three retries")

	for _, e := range []error{&CommitError{TxID: "t", Code: "ENDORSEMENT_POLICY_FAILURE"}, &EndorseError{Message: "no"}} {
		n = 0
		_, err = retry(ctx, 3, time.Millisecond, retryable, func() ([]byte, error) { n++; return nil, e })
		assert.Equal(t, e, err)
		assert.Equal(t, 1, n, "%v is not retried", e)
	}

	// Endorsers that simulated against different versions wrote nothing
	// either: retried like a conflict.
	mismatch := fromStatus(withDetails(t, codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info",
		"ProposalResponsePayloads do not match"), "endorse", "t", "127.0.0.1:1")
	require.IsType(t, &EndorseError{}, mismatch)
	assert.True(t, mismatch.(*EndorseError).Mismatch)
	n = 0
	_, err = retry(ctx, 3, time.Millisecond, retryable, func() ([]byte, error) { n++; return nil, mismatch })
	assert.Equal(t, 4, n, "a payload mismatch is retried")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	n = 0
	_, err = retry(cctx, 3, time.Hour, retryable, func() ([]byte, error) { n++; return nil, conflict })
	assert.Equal(t, conflict, err)
	assert.Equal(t, 1, n, "a cancelled context stops retrying")
}

func TestRefusedIdentity(t *testing.T) {
	denied := "error validating proposal: access denied: channel [circular] creator org [RecyclerMSP]"
	want := "RecyclerMSP (peer0:7051): " + denied + " (the channel does not accept this identity: its certificate is revoked, expired, or not issued by its organisation's CA; an admin's `mtrace identity list` shows which)"
	st := withDetails(t, codes.FailedPrecondition, "evaluate call to endorser returned error: "+denied, denied)
	assert.Equal(t, "evaluate failed: "+want, fromStatus(st, "evaluate", "", ep).Error())
	st = withDetails(t, codes.Aborted, "failed to endorse transaction, see attached details for more info", denied)
	err := fromStatus(st, "endorse", "tx1", ep)
	var ee *EndorseError
	require.ErrorAs(t, err, &ee)
	assert.False(t, ee.Chaincode)
	assert.Equal(t, "endorsement failed: "+want, err.Error())
}

// The gateway endorses on its own organisation's peer first. A chaincode
// refusal by other organisations' peers only is retried for a client of
// the gateway's organisation; a refusal by its own peer is not.
func TestRetryRefusalsByOtherPeersOnly(t *testing.T) {
	refusal := func(msps ...string) error {
		st := status.New(codes.Aborted, "failed to collect enough transaction endorsements, see attached details for more info")
		for i, m := range msps {
			var err error
			st, err = st.WithDetails(&gateway.ErrorDetail{Address: fmt.Sprintf("peer%d:7051", i), MspId: m,
				Message: `chaincode response 500, batch "B" has no pending transfer`})
			require.NoError(t, err)
		}
		return fromStatus(st, "endorse", "t", ep)
	}
	again := retryableFor("RecyclerMSP")
	elsewhere := refusal("MakerMSP", "MakerMSP")
	var ee *EndorseError
	require.ErrorAs(t, elsewhere, &ee)
	assert.Equal(t, []string{"MakerMSP"}, ee.Refusers)
	assert.Equal(t, `rejected by chaincode: batch "B" has no pending transfer`, elsewhere.Error())
	assert.True(t, again(elsewhere))
	assert.False(t, again(refusal("RecyclerMSP")), "our own peer's refusal stands")
	assert.False(t, again(refusal("MakerMSP", "RecyclerMSP")), "a refusal our own peer shares stands")
	assert.False(t, again(&EndorseError{Message: "no endorsers", Refusers: nil}), "not a chaincode refusal")
	assert.True(t, again(&CommitError{Code: "MVCC_READ_CONFLICT"}), "conflicts are still retried")

	// The lagging peer catches up after two tries.
	n := 0
	res, err := retry(context.Background(), DefaultRetries, time.Millisecond, again, func() ([]byte, error) {
		if n++; n < 3 {
			return nil, elsewhere
		}
		return []byte("ok"), nil
	})
	require.NoError(t, err)
	assert.Equal(t, "ok", string(res))
	assert.Equal(t, 3, n)

	// A refusal that persists is reported once the retries are spent.
	n = 0
	_, err = retry(context.Background(), DefaultRetries, time.Millisecond, again, func() ([]byte, error) { n++; return nil, elsewhere })
	assert.Equal(t, elsewhere, err)
	assert.Equal(t, 1+DefaultRetries, n)
}
