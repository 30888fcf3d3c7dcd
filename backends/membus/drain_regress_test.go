package membus

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Block publish waiting for room in the only (full) member of a group
// fails with ErrClosed when that member drains, rather than returning nil
// for a message nobody got (regression: it returned nil).
func TestGroupBlockedPublishDrainedReturnsErrClosed(t *testing.T) {
	c := open(t, Options{Buffer: 1})
	gate := make(chan struct{})
	sub, started := gated(t, c, driver.SubscribeOptions{Subject: "g", Group: "q"}, gate)
	fill(t, c, "g", 1, started) // "0" in flight, "1" queued
	res := make(chan error, 1)
	go func() {
		res <- c.Publish(context.Background(), &driver.Message{Subject: "g", Data: []byte("2")})
	}()
	require.Eventually(t, waitingPublisher(sub), testTimeout, time.Millisecond)
	drained := make(chan error, 1)
	go func() { drained <- sub.Drain(context.Background()) }()
	err := recv(t, res)
	close(gate)
	require.NoError(t, recv(t, drained))
	assert.Equal(t, "1", recv(t, started))
	// "2" was never delivered and is not an orphan; Publish must not say nil.
	c.b.orphans.mu.Lock()
	n := 0
	if q := c.b.orphans.groups["q"]; q != nil {
		n = q.len()
	}
	c.b.orphans.mu.Unlock()
	assert.Zero(t, n)
	assert.Empty(t, started)
	require.ErrorIs(t, err, driver.ErrClosed, "Publish returned %v for a message nobody got", err)
}
