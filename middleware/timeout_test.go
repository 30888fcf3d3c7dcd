package middleware_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitForDeadline is a handler that works until its context ends.
func waitForDeadline(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestTimeoutFires(t *testing.T) {
	var cause error
	h := &counter{fn: func(ctx context.Context, _ int) error {
		<-ctx.Done()
		cause = context.Cause(ctx)
		return ctx.Err()
	}}
	err := middleware.Timeout(10*time.Millisecond)(h).Handle(context.Background(), event("e1"))

	require.ErrorIs(t, err, middleware.ErrHandlerTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, bus.IsPermanent(err), "a timeout is retryable")
	assert.EqualError(t, err, "busway: handler timed out after 10ms: context deadline exceeded")
	assert.ErrorIs(t, cause, middleware.ErrHandlerTimeout, "the handler can tell why its context ended")
}

func TestTimeoutKeepsOtherResults(t *testing.T) {
	boom := errors.New("boom")
	h := &counter{fn: func(_ context.Context, call int) error {
		if call == 1 {
			return boom
		}
		return nil
	}}
	handler := middleware.Timeout(time.Hour)(h)
	assert.Equal(t, boom, handler.Handle(context.Background(), event("e1")))
	assert.NoError(t, handler.Handle(context.Background(), event("e1")))
}

func TestTimeoutKeepsPermanentErrorsPermanent(t *testing.T) {
	h := &counter{fn: func(ctx context.Context, _ int) error {
		<-ctx.Done()
		return bus.Permanent(ctx.Err())
	}}
	err := middleware.Timeout(time.Millisecond)(h).Handle(context.Background(), event("e1"))
	assert.ErrorIs(t, err, middleware.ErrHandlerTimeout)
	assert.True(t, bus.IsPermanent(err))
}

func TestTimeoutDoesNotClaimParentDeadline(t *testing.T) {
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := middleware.Timeout(time.Hour)(&counter{fn: waitForDeadline}).Handle(parent, event("e1"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, middleware.ErrHandlerTimeout, "the parent's deadline passed, not Timeout's")
}

func TestTimeoutNestedNamesTheDeadlineThatFired(t *testing.T) {
	h := middleware.Timeout(time.Hour)(&counter{fn: waitForDeadline})
	err := middleware.Timeout(5*time.Millisecond)(h).Handle(context.Background(), event("e1"))
	assert.EqualError(t, err, "busway: handler timed out after 5ms: context deadline exceeded")
}

func TestTimeoutZeroAddsNothing(t *testing.T) {
	h := &counter{fn: func(ctx context.Context, _ int) error {
		_, ok := ctx.Deadline()
		assert.False(t, ok)
		return nil
	}}
	require.NoError(t, middleware.Timeout(0)(h).Handle(context.Background(), event("e1")))
	assert.Equal(t, 1, h.calls())
}

// Timeout inside Retry: each attempt gets a fresh deadline.
func TestTimeoutInsideRetryIsPerAttempt(t *testing.T) {
	var deadlines []time.Time
	h := &counter{fn: func(ctx context.Context, call int) error {
		require.NoError(t, ctx.Err(), "attempt %d starts with time left", call)
		d, ok := ctx.Deadline()
		require.True(t, ok)
		deadlines = append(deadlines, d)
		if call < 3 {
			return waitForDeadline(ctx, call)
		}
		return nil
	}}
	handler := bus.Chain(h,
		middleware.Retry(middleware.RetryConfig{MaxRetries: 2}),
		middleware.Timeout(5*time.Millisecond))
	require.NoError(t, handler.Handle(context.Background(), event("e1")))
	require.Len(t, deadlines, 3)
	assert.True(t, deadlines[1].After(deadlines[0]) && deadlines[2].After(deadlines[1]), "a new deadline per attempt")
}

// Through the bus: a timed-out handler's message is redelivered, then
// succeeds.
func TestTimeoutOnBusIsRetryable(t *testing.T) {
	b := newBus(t)
	results := make(chan result, 4)
	h := &counter{fn: func(ctx context.Context, call int) error {
		if call == 1 {
			return waitForDeadline(ctx, call)
		}
		return nil
	}}
	_, err := b.Subscribe(context.Background(), "orders.>", h, noBackoff,
		bus.Wrap(observe(results), middleware.Timeout(5*time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("orders.created", "t.v1", nil)))

	first := recv(t, results)
	assert.ErrorIs(t, first.err, middleware.ErrHandlerTimeout)
	second := recv(t, results)
	assert.NoError(t, second.err)
	assert.Equal(t, 2, second.attempt)
}
