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

func TestDedupSkipsDuplicate(t *testing.T) {
	h := &counter{}
	handler := middleware.Dedup(middleware.DedupConfig{})(h)
	ctx := context.Background()

	require.NoError(t, handler.Handle(ctx, event("e1")))
	require.NoError(t, handler.Handle(ctx, event("e1")), "a duplicate is acked")
	assert.Equal(t, 1, h.calls())

	other := event("e1")
	other.Event.Source = "/elsewhere"
	require.NoError(t, handler.Handle(ctx, other))
	assert.Equal(t, 2, h.calls(), "same id from another source is another event")
}

func TestDedupRemembersOnlySuccess(t *testing.T) {
	h := &counter{fn: func(_ context.Context, call int) error {
		if call == 1 {
			return errTransient
		}
		return nil
	}}
	handler := middleware.Dedup(middleware.DedupConfig{})(h)
	assert.ErrorIs(t, handler.Handle(context.Background(), event("e1")), errTransient)
	assert.NoError(t, handler.Handle(context.Background(), event("e1")))
	assert.NoError(t, handler.Handle(context.Background(), event("e1")))
	assert.Equal(t, 2, h.calls(), "handled again after the failure, then remembered")
}

func TestDedupEvictsOldestBySize(t *testing.T) {
	h := &counter{}
	handler := middleware.Dedup(middleware.DedupConfig{MaxEntries: 2})(h)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, handler.Handle(ctx, event(id)))
	}
	require.Equal(t, 3, h.calls())

	require.NoError(t, handler.Handle(ctx, event("b")))
	require.NoError(t, handler.Handle(ctx, event("c")))
	assert.Equal(t, 3, h.calls(), "b and c are remembered")
	require.NoError(t, handler.Handle(ctx, event("a")))
	assert.Equal(t, 4, h.calls(), "a, the oldest, was evicted")
}

func TestDedupExpiresAfterTTL(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := &counter{}
	handler, size := middleware.NewTestDedup(middleware.DedupConfig{TTL: time.Minute, MaxEntries: 10}, h, clock, nil)
	ctx := context.Background()

	require.NoError(t, handler.Handle(ctx, event("e1")))
	now = now.Add(59 * time.Second)
	require.NoError(t, handler.Handle(ctx, event("e1")))
	assert.Equal(t, 1, h.calls(), "within the TTL")

	now = now.Add(time.Second)
	require.NoError(t, handler.Handle(ctx, event("e1")))
	assert.Equal(t, 2, h.calls(), "after the TTL the event is handled again")

	now = now.Add(2 * time.Minute)
	require.NoError(t, handler.Handle(ctx, event("e2")))
	assert.Equal(t, 1, size(), "expired entries are dropped as new ones arrive")
}

func TestDedupDuplicateInFlightWaits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		firstErr  error
		wantCalls int
	}{
		{"first succeeds: duplicate acked", nil, 1},
		{"first fails: duplicate handled", errTransient, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release, started := make(chan struct{}), make(chan struct{})
			h := &counter{fn: func(_ context.Context, call int) error {
				if call == 1 {
					close(started)
					<-release
					return tc.firstErr
				}
				return nil
			}}
			waiting := make(chan struct{}, 2)
			handler, _ := middleware.NewTestDedup(middleware.DedupConfig{TTL: time.Minute, MaxEntries: 10}, h,
				time.Now, func() { waiting <- struct{}{} })

			f := make(chan error, 1)
			go func() { f <- handler.Handle(context.Background(), event("e1")) }()
			recv(t, started) // the first holds the event
			s := make(chan error, 1)
			go func() { s <- handler.Handle(context.Background(), event("e1")) }()
			recv(t, waiting) // the second waits for it
			assert.Equal(t, 1, h.calls())

			close(release)
			assert.Equal(t, tc.firstErr, recv(t, f))
			assert.NoError(t, recv(t, s))
			assert.Equal(t, tc.wantCalls, h.calls())
		})
	}
}

func TestDedupWaitEndsWithContext(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	h := &counter{fn: func(_ context.Context, call int) error {
		close(started)
		<-release
		return nil
	}}
	waiting := make(chan struct{}, 1)
	handler, _ := middleware.NewTestDedup(middleware.DedupConfig{TTL: time.Minute, MaxEntries: 10}, h,
		time.Now, func() { waiting <- struct{}{} })

	f := make(chan error, 1)
	go func() { f <- handler.Handle(context.Background(), event("e1")) }()
	recv(t, started)
	ctx, cancel := context.WithCancel(context.Background())
	s := make(chan error, 1)
	go func() { s <- handler.Handle(ctx, event("e1")) }()
	recv(t, waiting)
	cancel()
	err := recv(t, s)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, bus.IsPermanent(err), "the message will be redelivered")
	close(release)
	assert.NoError(t, recv(t, f))
}

func TestDedupPanicReleasesEvent(t *testing.T) {
	h := &counter{fn: func(_ context.Context, call int) error {
		if call == 1 {
			panic("boom")
		}
		return nil
	}}
	handler := middleware.Dedup(middleware.DedupConfig{})(h)
	assert.PanicsWithValue(t, "boom", func() { _ = handler.Handle(context.Background(), event("e1")) })
	assert.NoError(t, handler.Handle(context.Background(), event("e1")), "no deadlock after a panic")
	assert.Equal(t, 2, h.calls(), "a panic is not a success")
}

func TestDedupPassesEmptyID(t *testing.T) {
	h := &counter{}
	handler := middleware.Dedup(middleware.DedupConfig{})(h)
	require.NoError(t, handler.Handle(context.Background(), event("")))
	require.NoError(t, handler.Handle(context.Background(), event("")))
	assert.Equal(t, 2, h.calls())
}

// On membus: the handler succeeds, but a later step (here an outer
// middleware, in production a lost ack) fails, so the bus redelivers. Dedup
// acks the redelivery without running the handler again.
func TestDedupSkipsRedeliveryOnBus(t *testing.T) {
	b := newBus(t)
	results := make(chan result, 4)
	failAfterFirst := func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			err := next.Handle(ctx, m)
			if err == nil && m.Attempt() == 1 {
				return errors.New("ack lost")
			}
			return err
		})
	}
	h := &counter{}
	_, err := b.Subscribe(context.Background(), "orders.>", h, noBackoff,
		bus.Wrap(observe(results), failAfterFirst, middleware.Dedup(middleware.DedupConfig{})))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), event("e1")))

	assert.EqualError(t, recv(t, results).err, "ack lost")
	r := recv(t, results)
	assert.NoError(t, r.err)
	assert.Equal(t, 2, r.attempt, "redelivered")
	assert.Equal(t, 1, h.calls(), "handled once")
}

// On membus: the same event published twice (a publisher retry) is handled
// once.
func TestDedupSkipsRepublishedEventOnBus(t *testing.T) {
	b := newBus(t)
	results := make(chan result, 4)
	h := &counter{}
	_, err := b.Subscribe(context.Background(), "orders.>", h,
		bus.Wrap(observe(results), middleware.Dedup(middleware.DedupConfig{})))
	require.NoError(t, err)
	m := event("e1")
	require.NoError(t, b.Publish(context.Background(), m))
	require.NoError(t, b.Publish(context.Background(), m))

	assert.NoError(t, recv(t, results).err)
	assert.NoError(t, recv(t, results).err)
	assert.Equal(t, 1, h.calls())
}

// Each route gets its own memory: fan-out to two subscriptions through one
// Dedup value handles the event in both.
func TestDedupMemoryIsPerHandler(t *testing.T) {
	dedup := middleware.Dedup(middleware.DedupConfig{})
	h1, h2 := &counter{}, &counter{}
	d1, d2 := dedup(h1), dedup(h2)
	require.NoError(t, d1.Handle(context.Background(), event("e1")))
	require.NoError(t, d2.Handle(context.Background(), event("e1")))
	assert.Equal(t, 1, h1.calls())
	assert.Equal(t, 1, h2.calls())
}
