package middleware

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/busway/busway/bus"
	"github.com/cenkalti/backoff/v5"
)

// RetryConfig configures Retry. The zero value makes one attempt and no
// retry.
//
// The delay before retry n (n = 1 for the first retry) is
// InitialInterval·Multiplier^(n-1), capped at MaxInterval, then randomised
// by ±RandomizationFactor. Zero intervals mean no delay, as in Watermill.
type RetryConfig struct {
	// MaxRetries is how many times a failed attempt is retried in process.
	// 0 means one attempt and no retry (as Watermill's Retry); 3 means up to
	// four attempts.
	MaxRetries int
	// InitialInterval is the delay before the first retry. 0 means no delay.
	InitialInterval time.Duration
	// MaxInterval caps the delay between two attempts (before
	// randomisation). 0 means no cap.
	MaxInterval time.Duration
	// Multiplier grows the delay after each retry. 0 means 2; a value below
	// 1 is raised to 1 (constant delay).
	Multiplier float64
	// RandomizationFactor spreads each delay uniformly over
	// [d·(1-f), d·(1+f)] so that consumers failing together do not retry in
	// lockstep. 0 means no jitter; values are clamped to [0, 1].
	RandomizationFactor float64
	// MaxElapsedTime bounds the whole sequence, measured from the start of
	// the first attempt: no retry is started whose delay would end after
	// it (backoff.Retry's rule). 0 means no bound besides MaxRetries and
	// the context.
	MaxElapsedTime time.Duration
	// OnRetry, when set, is called before each retry's delay with the
	// number of the attempt that failed (1 for the first attempt) and its
	// error. It runs on the handler's goroutine and must not block.
	OnRetry func(attempt int, err error)
}

// maxNoCap stands for "no cap" on MaxInterval while keeping the randomised
// delay (up to twice the interval) far from overflowing a Duration.
const maxNoCap = time.Duration(math.MaxInt64 / 4)

// Retry returns middleware that retries a failing handler in process, with
// exponential backoff, before the error reaches the bus.
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
// Delays come from github.com/cenkalti/backoff/v5's ExponentialBackOff: a
// well-kept, widely used implementation with randomised jitter and
// overflow-safe capped growth, whose max-elapsed-time rule Retry follows.
//
// Each attempt's context carries its number, read with RetryAttempt, which
// Logging records. See the package documentation for how Retry composes
// with the bus's own redelivery (attempts multiply) and where to place
// Timeout (inside Retry: a deadline per attempt).
func Retry(cfg RetryConfig) bus.Middleware {
	cfg = cfg.normalize()
	return func(next bus.Handler) bus.Handler {
		if cfg.MaxRetries == 0 {
			return next
		}
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			return cfg.run(ctx, next, m)
		})
	}
}

func (c RetryConfig) normalize() RetryConfig {
	c.MaxRetries = max(c.MaxRetries, 0)
	c.InitialInterval = max(c.InitialInterval, 0)
	if c.MaxInterval <= 0 || c.MaxInterval > maxNoCap {
		c.MaxInterval = maxNoCap
	}
	// ExponentialBackOff caps only the grown interval, not the first one.
	c.InitialInterval = min(c.InitialInterval, c.MaxInterval)
	switch {
	case c.Multiplier <= 0 || math.IsNaN(c.Multiplier):
		c.Multiplier = 2
	case c.Multiplier < 1:
		c.Multiplier = 1
	}
	if math.IsNaN(c.RandomizationFactor) {
		c.RandomizationFactor = 0
	}
	c.RandomizationFactor = min(max(c.RandomizationFactor, 0), 1)
	return c
}

// run is the retry loop. The backoff state and timer are created only after
// a first failure, so a handler that succeeds costs one context value.
func (c RetryConfig) run(ctx context.Context, next bus.Handler, m *bus.Message) error {
	var start time.Time
	if c.MaxElapsedTime > 0 {
		start = time.Now()
	}
	var (
		b     *backoff.ExponentialBackOff
		timer *time.Timer
	)
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
		if b == nil {
			b = &backoff.ExponentialBackOff{
				InitialInterval:     c.InitialInterval,
				RandomizationFactor: c.RandomizationFactor,
				Multiplier:          c.Multiplier,
				MaxInterval:         c.MaxInterval,
			}
			b.Reset()
		}
		delay := b.NextBackOff()
		if c.MaxElapsedTime > 0 && time.Since(start)+delay > c.MaxElapsedTime {
			return err
		}
		if c.OnRetry != nil {
			c.OnRetry(attempt, err)
		}
		if delay <= 0 {
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
