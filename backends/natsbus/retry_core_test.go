package natsbus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On core NATS (at-most-once: no redelivery) the retry policy still holds:
// a handler that fails once is called again in process, after the
// backoff, with Attempt 2, and succeeds; one that keeps failing is
// dead-lettered after MaxAttempts attempts.
func TestCoreRetriesInProcess(t *testing.T) {
	srv := startEmbedded(t)
	b := opener(srv, nil)(t)
	const backoff = 100 * time.Millisecond
	var mu sync.Mutex
	var attempts []int
	var failedAt time.Time
	ok := make(chan time.Time, 1)
	_, err := b.Subscribe(t.Context(), "core.retry", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, m.Attempt())
		if m.Attempt() == 1 {
			failedAt = time.Now()
			return errors.New("test: transient failure")
		}
		ok <- time.Now()
		return nil
	}), bus.RetryBackoff(bus.ConstantBackoff(backoff)))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("core.retry", "job.v1", nil)))
	select {
	case at := <-ok:
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []int{1, 2}, attempts)
		assert.GreaterOrEqual(t, at.Sub(failedAt), backoff, "the retry waited for the backoff")
	case <-time.After(10 * time.Second):
		t.Fatal("the failed message was not retried")
	}

	dead := make(chan *bus.Message, 1)
	_, err = b.Subscribe(t.Context(), "core.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	_, err = b.Subscribe(t.Context(), "core.fails", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		return errors.New("test: always fails")
	}), bus.MaxAttempts(3), bus.DeadLetter("core.dead"), bus.RetryBackoff(nil))
	require.NoError(t, err)
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("core.fails", "job.v1", nil)))
	select {
	case d := <-dead:
		assert.Equal(t, "3", d.Header.Get(bus.DeadLetterAttemptsHeader))
	case <-time.After(10 * time.Second):
		t.Fatal("no dead letter")
	}
}
