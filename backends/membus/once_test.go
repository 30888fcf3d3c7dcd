package membus

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A later Drain or Close returns the first call's result, as on every
// backend (driver.Once): here a hard stop that discarded a queued
// fan-out message, reported again rather than hidden behind a nil.
func TestSecondDrainAndCloseReturnTheFirstResult(t *testing.T) {
	c, err := Open(Options{})
	require.NoError(t, err)
	started := make(chan struct{}, 4)
	stuck := func(subject string) driver.Subscription {
		sub := subscribe(t, c, driver.SubscribeOptions{Subject: subject}, func(m *driver.Message) {
			started <- struct{}{}
			untilDrainEnds(m)
			_ = m.Acker.Ack(context.Background())
		})
		publish(t, c, subject, "in flight")
		publish(t, c, subject, "queued")
		recv(t, started)
		return sub
	}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	sub := stuck("o")
	first := sub.Drain(short())
	require.ErrorIs(t, first, context.DeadlineExceeded)
	require.ErrorIs(t, first, ErrDiscarded)
	assert.Equal(t, first, sub.Drain(t.Context()), "a second Drain returns the first's result")

	stuck("p")
	closeErr := c.Close(short())
	require.ErrorIs(t, closeErr, ErrDiscarded)
	assert.Equal(t, closeErr, c.Close(t.Context()), "a second Close returns the first's result")
}
