package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// After a drain deadline the bus hands messages back with Nak; they must
// reach the group's next member with their retry budget intact
// (regression: mem requeued them on the draining subscription, which naked
// them again and again, so Attempt climbed into the thousands).
func TestHardStopKeepsAttempts(t *testing.T) {
	b, err := bus.Open(context.Background(), "mem://"+t.Name(), quiet())
	require.NoError(t, err)
	defer b.Close(context.Background())
	entered := make(chan struct{}, 1)
	a, err := b.Subscribe(context.Background(), "j", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}), bus.Group("q"), bus.Concurrency(8))
	require.NoError(t, err)
	const n = 20
	for range n {
		require.NoError(t, b.Publish(context.Background(), bus.NewMessage("j", "job.v1", nil)))
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, a.Drain(ctx), context.DeadlineExceeded)

	var mu sync.Mutex
	attempts := map[int]int{}
	got := make(chan struct{}, n)
	next, err := b.Subscribe(context.Background(), "j", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		mu.Lock()
		attempts[m.Attempt()]++
		mu.Unlock()
		got <- struct{}{}
		return nil
	}), bus.Group("q"), bus.MaxAttempts(3))
	require.NoError(t, err)
	for range n {
		<-got
	}
	require.NoError(t, next.Drain(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	// Eight messages ran once and were handed back (attempt 2 is fair);
	// the rest never ran. Nothing should come back with attempt > 2.
	for a := range attempts {
		assert.LessOrEqual(t, a, 2, "attempt histogram %v", attempts)
	}
}
