package ledger

import (
	"context"
	"errors"
	"time"
)

// retry runs once, and again up to retries times while again(err) says
// the failure may pass, waiting backoff, then twice as long, between runs.
func retry(ctx context.Context, retries int, backoff time.Duration, again func(error) bool, once func() ([]byte, error)) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		res, err := once()
		if err == nil || attempt >= retries || !again(err) {
			return res, err
		}
		t := time.NewTimer(backoff << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// retryable reports whether err is a transaction that lost a race with a
// concurrent one and wrote nothing: a read conflict at validation, or
// endorsers that read different versions.
func retryable(err error) bool {
	var ce *CommitError
	var ee *EndorseError
	return errors.As(err, &ce) && ce.Conflict() || errors.As(err, &ee) && ee.Mismatch
}

// retryableFor is retryable, and also a chaincode refusal by other
// organisations' peers only (EndorseError.RefusedElsewhere), for a client
// of organisation msp: the peer that lags gets the block a moment later.
// A refusal that persists is reported as it is once the retries are spent.
func retryableFor(msp string) func(error) bool {
	return func(err error) bool {
		var ee *EndorseError
		return retryable(err) || errors.As(err, &ee) && ee.RefusedElsewhere(msp)
	}
}
