package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errTransient = errors.New("transient")

func TestRetryStopsAtMaxRetries(t *testing.T) {
	h := &counter{fn: func(_ context.Context, call int) error {
		return fmt.Errorf("attempt %d: %w", call, errTransient)
	}}
	var retried []int
	cfg := middleware.RetryConfig{
		MaxRetries: 3,
		OnRetry:    func(attempt int, err error) { retried = append(retried, attempt) },
	}
	err := middleware.Retry(cfg)(h).Handle(context.Background(), event("e1"))

	assert.Equal(t, 4, h.calls(), "one attempt plus MaxRetries retries")
	assert.Equal(t, []int{1, 2, 3}, retried)
	require.ErrorIs(t, err, errTransient)
	assert.EqualError(t, err, "attempt 4: transient", "the last error, unchanged")
	assert.False(t, bus.IsPermanent(err))
}

func TestRetryZeroMaxRetriesMeansOneAttempt(t *testing.T) {
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	err := middleware.Retry(middleware.RetryConfig{})(h).Handle(context.Background(), event("e1"))
	assert.ErrorIs(t, err, errTransient)
	assert.Equal(t, 1, h.calls())
}

func TestRetrySucceedsAfterTransientFailures(t *testing.T) {
	var attempts []int
	h := &counter{fn: func(ctx context.Context, call int) error {
		attempts = append(attempts, middleware.RetryAttempt(ctx))
		if call < 3 {
			return errTransient
		}
		return nil
	}}
	cfg := middleware.RetryConfig{MaxRetries: 5,
		Backoff: bus.ExponentialBackoff{InitialInterval: time.Millisecond, RandomizationFactor: 0.5}}
	err := middleware.Retry(cfg)(h).Handle(context.Background(), event("e1"))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3}, attempts, "RetryAttempt numbers each attempt")
	assert.Zero(t, middleware.RetryAttempt(context.Background()))
}

func TestRetryNeverRetriesPermanent(t *testing.T) {
	h := &counter{fn: func(context.Context, int) error { return bus.Permanent(errTransient) }}
	err := middleware.Retry(middleware.RetryConfig{MaxRetries: 3})(h).Handle(context.Background(), event("e1"))
	assert.Equal(t, 1, h.calls())
	assert.True(t, bus.IsPermanent(err), "still permanent for the bus")
	assert.ErrorIs(t, err, errTransient)
}

func TestRetryNeverRetriesMalformed(t *testing.T) {
	h := &counter{fn: func(context.Context, int) error { return fmt.Errorf("decode: %w", bus.ErrMalformed) }}
	err := middleware.Retry(middleware.RetryConfig{MaxRetries: 3})(h).Handle(context.Background(), event("e1"))
	assert.Equal(t, 1, h.calls())
	assert.ErrorIs(t, err, bus.ErrMalformed)
}

func TestRetryStopsWhenContextEndsDuringDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	cfg := middleware.RetryConfig{
		MaxRetries: 3,
		Backoff:    bus.ConstantBackoff(time.Hour), // the cancellation must cut this delay short
		OnRetry:    func(int, error) { cancel() },
	}
	done := make(chan error, 1)
	go func() { done <- middleware.Retry(cfg)(h).Handle(ctx, event("e1")) }()
	err := recv(t, done)

	assert.Equal(t, 1, h.calls())
	assert.ErrorIs(t, err, errTransient, "the last error is kept")
	assert.ErrorIs(t, err, context.Canceled, "and why retrying stopped")
	assert.Contains(t, err.Error(), "retry stopped at attempt 1: context canceled")
}

func TestRetryStopsWhenContextEndsDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	shutdown := errors.New("shutting down")
	h := &counter{fn: func(context.Context, int) error {
		cancel(shutdown)
		return errTransient
	}}
	err := middleware.Retry(middleware.RetryConfig{MaxRetries: 3})(h).Handle(ctx, event("e1"))
	assert.Equal(t, 1, h.calls())
	assert.ErrorIs(t, err, errTransient)
	assert.ErrorIs(t, err, shutdown, "the context's cause is reported")
}

func TestRetryMaxElapsedTime(t *testing.T) {
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	cfg := middleware.RetryConfig{MaxRetries: 3, Backoff: bus.ConstantBackoff(time.Hour), MaxElapsedTime: time.Minute}
	err := middleware.Retry(cfg)(h).Handle(context.Background(), event("e1"))
	assert.Equal(t, 1, h.calls(), "no retry whose delay would end past MaxElapsedTime")
	assert.Equal(t, errTransient, err, "the last error, unwrapped")
}

func TestRetryDelaysAreCapped(t *testing.T) {
	// With MaxInterval below InitialInterval every delay is MaxInterval:
	// a 1h initial interval would hang the test if the cap were ignored.
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	cfg := middleware.RetryConfig{MaxRetries: 2,
		Backoff: bus.ExponentialBackoff{InitialInterval: time.Hour, MaxInterval: time.Millisecond}}
	done := make(chan error, 1)
	go func() { done <- middleware.Retry(cfg)(h).Handle(context.Background(), event("e1")) }()
	assert.ErrorIs(t, recv(t, done), errTransient)
	assert.Equal(t, 3, h.calls())
}

// TestRetryAsksBackoffForEachRetry: the delay before retry n is
// Backoff.Delay(n), asked once per retry, before OnRetry; a delay of 0 or
// less means no wait.
func TestRetryAsksBackoffForEachRetry(t *testing.T) {
	h := &counter{fn: func(context.Context, int) error { return errTransient }}
	var events []string
	cfg := middleware.RetryConfig{
		MaxRetries: 3,
		Backoff: bus.BackoffFunc(func(n int) time.Duration {
			events = append(events, fmt.Sprintf("delay %d", n))
			return -time.Duration(n) // no wait, and no panic on a negative delay
		}),
		OnRetry: func(attempt int, err error) { events = append(events, fmt.Sprintf("retry after %d", attempt)) },
	}
	err := middleware.Retry(cfg)(h).Handle(context.Background(), event("e1"))
	assert.ErrorIs(t, err, errTransient)
	assert.Equal(t, 4, h.calls())
	assert.Equal(t, []string{
		"delay 1", "retry after 1",
		"delay 2", "retry after 2",
		"delay 3", "retry after 3",
	}, events)
}

// TestRetryWaitsTheBackoffDelay: Retry waits the delay Backoff gives
// before each retry, measured from the failure to the next attempt.
func TestRetryWaitsTheBackoffDelay(t *testing.T) {
	const d = 20 * time.Millisecond
	var failed time.Time
	var gaps []time.Duration
	h := &counter{fn: func(_ context.Context, call int) error {
		if call > 1 {
			gaps = append(gaps, time.Since(failed))
		}
		failed = time.Now()
		return errTransient
	}}
	cfg := middleware.RetryConfig{MaxRetries: 2, Backoff: bus.ConstantBackoff(d)}
	err := middleware.Retry(cfg)(h).Handle(context.Background(), event("e1"))
	assert.ErrorIs(t, err, errTransient)
	require.Len(t, gaps, 2)
	for i, g := range gaps {
		assert.GreaterOrEqual(t, g, d, "retry %d came before its delay", i+1)
	}
}

// On a subscription without redelivery (MaxAttempts 1, as on core NATS),
// Retry is what gets the message through.
func TestRetryOnBusWithoutRedelivery(t *testing.T) {
	b := newBus(t)
	results := make(chan result, 8)
	h := &counter{fn: func(_ context.Context, call int) error {
		if call < 3 {
			return errTransient
		}
		return nil
	}}
	_, err := b.Subscribe(context.Background(), "orders.>", h, bus.MaxAttempts(1),
		bus.Wrap(observe(results), middleware.Retry(middleware.RetryConfig{MaxRetries: 2})))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("orders.created", "t.v1", nil)))

	r := recv(t, results)
	assert.NoError(t, r.err)
	assert.Equal(t, 1, r.attempt, "one delivery")
	assert.Equal(t, 3, h.calls(), "three in-process attempts")
}

// In-process attempts multiply with the bus's deliveries, and the last
// error reaches the dead-letter subject unchanged.
func TestRetryComposesWithBusRedelivery(t *testing.T) {
	b := newBus(t)
	dlq := collect(t, b, "dlq.orders")
	h := &counter{fn: func(_ context.Context, call int) error {
		return fmt.Errorf("call %d: %w", call, errTransient)
	}}
	_, err := b.Subscribe(context.Background(), "orders.>", h,
		bus.MaxAttempts(2), noBackoff, bus.DeadLetter("dlq.orders"),
		bus.Wrap(middleware.Retry(middleware.RetryConfig{MaxRetries: 1})))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("orders.created", "t.v1", nil)))

	dead := recv(t, dlq)
	assert.Equal(t, 4, h.calls(), "2 deliveries x 2 attempts")
	assert.Equal(t, "2", dead.Header.Get(bus.DeadLetterAttemptsHeader))
	assert.Equal(t, "false", dead.Header.Get(bus.DeadLetterPermanentHeader))
	assert.Equal(t, "call 4: transient", dead.Header.Get(bus.DeadLetterReasonHeader))
}
