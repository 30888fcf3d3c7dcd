package membus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitIdleWaitsForRedeliveriesAndFollowUps: after publishing, WaitIdle
// returns only once every message, its delayed redelivery and the follow-up
// message its handler published are handled (a WaitIdle that returned
// early would see fewer handled).
func TestWaitIdleWaitsForRedeliveriesAndFollowUps(t *testing.T) {
	c := open(t, Options{})
	var handled, followUps atomic.Int32
	subscribe(t, c, driver.SubscribeOptions{Subject: "work", Group: "g"}, func(m *driver.Message) {
		if m.Attempt == 1 {
			assert.NoError(t, m.Acker.(driver.DelayNaker).NakWithDelay(t.Context(), 5*time.Millisecond))
			return
		}
		publish(t, c, "done", string(m.Data))
		handled.Add(1)
		assert.NoError(t, m.Acker.Ack(t.Context()))
	})
	subscribe(t, c, driver.SubscribeOptions{Subject: "done"}, func(m *driver.Message) {
		followUps.Add(1)
		assert.NoError(t, m.Acker.Ack(t.Context()))
	})
	const n = 20
	for i := range n {
		publish(t, c, "work", fmt.Sprint(i))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.WaitIdle(ctx))
	assert.Equal(t, int32(n), handled.Load())
	assert.Equal(t, int32(n), followUps.Load())
}

// TestWaitIdleContext: a handler that does not return keeps the bus busy,
// and WaitIdle says so when its context ends.
func TestWaitIdleContext(t *testing.T) {
	c := open(t, Options{})
	release := make(chan struct{})
	started := make(chan struct{})
	subscribe(t, c, driver.SubscribeOptions{Subject: "slow"}, func(m *driver.Message) {
		close(started)
		<-release
		assert.NoError(t, m.Acker.Ack(t.Context()))
	})
	publish(t, c, "slow", "x")
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.WaitIdle(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "1 subscription(s) still busy")
	close(release)
	require.NoError(t, c.WaitIdle(t.Context()))
}

// TestWaitIdleNothingSubscribed returns at once.
func TestWaitIdleNothingSubscribed(t *testing.T) {
	c := open(t, Options{})
	publish(t, c, "nobody", "x")
	require.NoError(t, c.WaitIdle(t.Context()))
}
