package ledger

import (
	"context"
	"errors"
	"time"
)

// retry runs once, and again up to retries times while it fails with a
// read conflict, waiting backoff, then twice as long, between runs.
func retry(ctx context.Context, retries int, backoff time.Duration, once func() ([]byte, error)) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		res, err := once()
		var ce *CommitError
		if err == nil || attempt >= retries || !errors.As(err, &ce) || !ce.Conflict() {
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
