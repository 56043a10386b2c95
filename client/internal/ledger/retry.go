package ledger

import (
	"context"
	"errors"
	"time"
)

// retry runs once, and again up to retries times while it fails with a
// read conflict, at commit or between endorsers, waiting backoff, then
// twice as long, between runs.
func retry(ctx context.Context, retries int, backoff time.Duration, once func() ([]byte, error)) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		res, err := once()
		if err == nil || attempt >= retries || !retryable(err) {
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
