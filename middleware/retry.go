package middleware

import (
	"context"
	"fmt"
	"time"

	"github.com/busway/busway/bus"
)

// RetryConfig configures Retry. The zero value makes one attempt and no
// retry.
type RetryConfig struct {
	// MaxRetries is how many times a failed attempt is retried in process.
	// 0 means one attempt and no retry (as Watermill's Retry); 3 means up to
	// four attempts.
	MaxRetries int
	// Backoff is the delay policy, the same type the bus uses between
	// redeliveries (bus.RetryBackoff): the delay before retry n (n = 1 for
	// the first retry, after the first failed attempt) is Backoff.Delay(n).
	// bus.ExponentialBackoff is the usual choice; its RandomizationFactor
	// keeps consumers failing together from retrying in lockstep. Nil
	// means no delay, as in Watermill; so does a delay of 0 or less.
	Backoff bus.Backoff
	// MaxElapsedTime bounds the whole sequence, measured from the start of
	// the first attempt: no retry is started whose delay would end after
	// it (the rule of github.com/cenkalti/backoff/v5's Retry). 0 means no
	// bound besides MaxRetries and the context.
	MaxElapsedTime time.Duration
	// OnRetry, when set, is called before each retry's delay with the
	// number of the attempt that failed (1 for the first attempt) and its
	// error. It runs on the handler's goroutine and must not block.
	OnRetry func(attempt int, err error)
}

// Retry returns middleware that retries a failing handler in process,
// waiting cfg.Backoff's delay before each retry, before the error reaches
// the bus.
//
// It calls the handler again after a retryable error, up to
// cfg.MaxRetries times. It never retries an error for which
// bus.IsPermanent reports true, and stops early when the context is done
// or the next delay would pass cfg.MaxElapsedTime. It returns nil as soon
// as an attempt succeeds; otherwise the last attempt's error, unchanged
// so that the bus can classify it (a permanent error stays permanent). When
// the context ended the sequence, the returned error wraps both the last
// error and the context's cause.
//
// Each attempt's context carries its number, read with RetryAttempt, which
// Logging records. See the package documentation for how Retry composes
// with the bus's own redelivery (attempts multiply) and where to place
// Timeout (inside Retry: a deadline per attempt).
func Retry(cfg RetryConfig) bus.Middleware {
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	return func(next bus.Handler) bus.Handler {
		if cfg.MaxRetries == 0 {
			return next
		}
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			return cfg.run(ctx, next, m)
		})
	}
}

// run is the retry loop. The timer is created only after a first failure
// with a delay, so a handler that succeeds costs one context value.
func (c RetryConfig) run(ctx context.Context, next bus.Handler, m *bus.Message) error {
	var start time.Time
	if c.MaxElapsedTime > 0 {
		start = time.Now()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for attempt := 1; ; attempt++ {
		err := next.Handle(context.WithValue(ctx, retryAttemptKey{}, attempt), m)
		if err == nil || bus.IsPermanent(err) || attempt > c.MaxRetries {
			return err
		}
		if ctx.Err() != nil {
			return retryStopped(ctx, err, attempt)
		}
		var delay time.Duration
		if c.Backoff != nil {
			delay = max(c.Backoff.Delay(attempt), 0)
		}
		if c.MaxElapsedTime > 0 && time.Since(start)+delay > c.MaxElapsedTime {
			return err
		}
		if c.OnRetry != nil {
			c.OnRetry(attempt, err)
		}
		if delay == 0 {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return retryStopped(ctx, err, attempt)
		}
	}
}

// retryStopped wraps the last error with why retrying stopped. Both stay
// reachable with errors.Is and errors.As.
func retryStopped(ctx context.Context, last error, attempts int) error {
	return fmt.Errorf("%w (retry stopped at attempt %d: %w)", last, attempts, context.Cause(ctx))
}

type retryAttemptKey struct{}

// RetryAttempt returns the number of the in-process attempt running under
// Retry: 1 for the first call of the handler, 2 for the first retry, and so
// on. It returns 0 when ctx does not come from Retry (Retry with
// MaxRetries 0 adds nothing to the chain, so 0 there too). It is distinct from
// bus.Message.Attempt, which counts deliveries by the backend.
func RetryAttempt(ctx context.Context) int {
	n, _ := ctx.Value(retryAttemptKey{}).(int)
	return n
}
