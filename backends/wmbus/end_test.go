package wmbus_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/wmbus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
)

// A second Drain while the first waits for a handler is bounded by its own
// ctx; once the first returned, a later Drain gets the first's result.
func TestSecondDrainBoundedAndGetsTheFirstResult(t *testing.T) {
	c := newConn(t, newGoChannel(t))
	started, gate := make(chan struct{}, 1), make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	sub, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "d.x"}, func(m *driver.Message) {
		started <- struct{}{}
		<-gate
		_ = m.Acker.Ack(context.Background())
	})
	require.NoError(t, err)
	require.NoError(t, c.Publish(t.Context(), &driver.Message{Subject: "d.x"}))
	recv(t, started, "the handler to start")

	expired, cancel := context.WithTimeout(t.Context(), 0)
	defer cancel()
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- sub.Drain(expired) }()
	}
	// Whichever call came first waits for the handler; the other returns
	// at once, bounded by its (expired) ctx.
	assert.ErrorIs(t, recv(t, results, "a Drain bounded by its expired ctx"), context.DeadlineExceeded)
	select {
	case err := <-results:
		t.Fatalf("both Drains returned (%v) while a handler ran", err)
	default:
	}
	release()
	firstErr := recv(t, results, "the first Drain")
	require.ErrorIs(t, firstErr, context.DeadlineExceeded)
	assert.Equal(t, firstErr, sub.Drain(context.Background()), "a later Drain returns the first's result")
}

// A Watermill subscriber that closes its channel under a live subscription
// ends it: Done closes and Err says why, so the bus (and a Router) learn
// that nothing more will arrive.
func TestWatermillClosingItsChannelEndsTheSubscription(t *testing.T) {
	gc := gochannel.NewGoChannel(gochannel.Config{}, nil)
	c, err := wmbus.NewConn(gc, gc, wmbus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	sub, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "e.x"}, func(m *driver.Message) {
		_ = m.Acker.Ack(context.Background())
	})
	require.NoError(t, err)
	e, ok := sub.(driver.Ender)
	require.True(t, ok, "a wmbus subscription implements driver.Ender")
	require.NoError(t, gc.Close()) // closes every output channel
	recv(t, e.Done(), "the subscription to end")
	assert.ErrorIs(t, e.Err(), driver.ErrClosed)
	assert.ErrorContains(t, e.Err(), "e.x")
	assert.NoError(t, sub.Drain(t.Context()), "Drain after the end: nothing left to drain")

	drained, err := c.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "e.y"}, func(*driver.Message) {})
	if err == nil { // gochannel may refuse to subscribe once closed
		require.NoError(t, drained.Drain(t.Context()))
		assert.NoError(t, drained.(driver.Ender).Err(), "nil after a Drain")
	}
}

// Options a Conn cannot honour are errors at Subscribe, never ignored: a
// dead-letter subject without a publisher to send it with, and an attempt
// limit with attempt counting turned off.
func TestSubscribeRefusesWhatItCannotHonour(t *testing.T) {
	gc := newGoChannel(t)
	h := func(*driver.Message) {}
	subOnly, err := wmbus.NewConn(nil, gc, wmbus.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, subOnly.Close(context.Background())) })
	_, err = subOnly.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "a.b", DeadLetter: "a.dead"}, h)
	assert.ErrorIs(t, err, driver.ErrNotSupported)
	assert.ErrorContains(t, err, "a.dead")

	noCount, err := wmbus.NewConn(gc, gc, wmbus.Options{AttemptMemory: -1})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, noCount.Close(context.Background())) })
	_, err = noCount.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "a.b", MaxAttempts: 5}, h)
	assert.ErrorIs(t, err, driver.ErrNotSupported)
	s, err := noCount.Subscribe(t.Context(), driver.SubscribeOptions{Subject: "a.b"}, h)
	require.NoError(t, err, "no limit: nothing to count")
	require.NoError(t, s.Drain(t.Context()))

	// Through the bus the default MaxAttempts applies.
	b := bus.New(noCount)
	_, err = b.Subscribe(t.Context(), "a.b", bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }))
	assert.True(t, errors.Is(err, bus.ErrNotSupported), "the bus's default MaxAttempts is refused: %v", err)
}
