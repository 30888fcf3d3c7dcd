package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quiet() bus.Option { return bus.Logger(slog.New(slog.NewTextHandler(io.Discard, nil))) }

// openPair opens two buses on one named mem broker.
func openPair(t *testing.T, query string) (*bus.Bus, *bus.Bus) {
	t.Helper()
	url := "mem://" + t.Name() + query
	a, err := bus.Open(context.Background(), url, quiet())
	require.NoError(t, err)
	b, err := bus.Open(context.Background(), url, quiet())
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(context.Background()); b.Close(context.Background()) })
	return a, b
}

// When the drain deadline passes, the handler's cancellation is not a
// failure: nothing in flight or queued is dead-lettered.
func TestDrainDeadlineDoesNotDeadLetter(t *testing.T) {
	worker, watcher := openPair(t, "")
	dead := make(chan *bus.Message, 10)
	_, err := watcher.Subscribe(context.Background(), "work.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	entered := make(chan struct{}, 10)
	_, err = worker.Subscribe(context.Background(), "work.jobs", bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
		entered <- struct{}{}
		<-ctx.Done() // a handler that only stops when told to
		return ctx.Err()
	}), bus.Group("workers"), bus.MaxAttempts(1), bus.DeadLetter("work.dead"))
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, watcher.Publish(context.Background(), bus.NewMessage("work.jobs", "job.v1", nil)))
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = worker.Close(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A dead letter, had there been one, was published before Close
	// returned, so it would arrive before this sentinel.
	require.NoError(t, watcher.Publish(context.Background(), bus.NewMessage("work.dead", "sentinel.v1", nil)))
	assert.Equal(t, "sentinel.v1", (<-dead).Event.Type, "nothing was dead-lettered at shutdown")
	assert.Len(t, entered, 0, "no queued message was run with a cancelled context")
}

// A dead-letter publish that fails hands the message back: it is
// redelivered and dead-lettered later, never acked in between.
func TestDeadLetterFailureHandsBack(t *testing.T) {
	worker, watcher := openPair(t, "?full=error&buffer=1")
	block := make(chan struct{})
	dead := make(chan *bus.Message, 100)
	_, err := watcher.Subscribe(context.Background(), "w.dead", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		<-block
		dead <- m
		return nil
	}))
	require.NoError(t, err)
	// Fill the dead-letter subscriber: one message in its handler, one queued.
	require.NoError(t, watcher.Publish(context.Background(), bus.NewMessage("w.dead", "filler.v1", nil)))
	require.Eventually(t, func() bool {
		return watcher.Publish(context.Background(), bus.NewMessage("w.dead", "filler.v1", nil)) == nil
	}, 5*time.Second, time.Millisecond)

	var attempts atomic.Int64
	_, err = worker.Subscribe(context.Background(), "w.jobs", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		if attempts.Add(1) == 2 {
			close(block) // make room once a dead-letter publish has failed
		}
		return bus.Permanent(errors.New("bad job"))
	}), bus.DeadLetter("w.dead"), bus.RetryBackoff(nil))
	require.NoError(t, err)
	job := bus.NewMessage("w.jobs", "job.v1", []byte("payload"))
	require.NoError(t, watcher.Publish(context.Background(), job))

	var got *bus.Message
	for m := range dead {
		if m.Event.Type == "job.v1" {
			got = m
			break
		}
	}
	assert.Equal(t, job.Event.ID, got.Event.ID)
	assert.Equal(t, "payload", string(got.Event.Data), "original bytes")
	n := attempts.Load()
	assert.GreaterOrEqual(t, n, int64(2), "the failed dead-letter publish handed the message back")
	assert.Equal(t, fmt.Sprint(n), got.Header.Get(bus.DeadLetterAttemptsHeader), "dead-lettered on the last attempt")

	require.NoError(t, watcher.Publish(context.Background(), bus.NewMessage("w.dead", "sentinel.v1", nil)))
	assert.Equal(t, "sentinel.v1", (<-dead).Event.Type, "acked after the dead-letter publish: no second copy")
	assert.Equal(t, n, attempts.Load(), "no delivery after the successful dead-letter publish")
}

// A requester never sees the responder's stack trace.
func TestPanicReplyHasNoStack(t *testing.T) {
	b := openMem(t)
	_, err := b.Subscribe(context.Background(), "svc.boom", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		panic("kaboom")
	}))
	require.NoError(t, err)
	_, err = b.Request(context.Background(), bus.NewMessage("svc.boom", "req.v1", nil))
	var remote *bus.RemoteError
	require.ErrorAs(t, err, &remote)
	assert.Contains(t, remote.Reason, "kaboom")
	assert.NotContains(t, remote.Reason, "goroutine")
	assert.NotContains(t, remote.Reason, ".go:")
}

// A second Close waits for the first instead of returning early.
func TestSecondCloseWaits(t *testing.T) {
	b, err := bus.Open(context.Background(), "mem://", quiet())
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	_, err = b.Subscribe(context.Background(), "slow.job", bus.HandlerFunc(func(context.Context, *bus.Message) error {
		close(entered)
		<-release
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("slow.job", "job.v1", nil)))
	<-entered
	first := make(chan error, 1)
	go func() { first <- b.Close(context.Background()) }()
	require.Eventually(t, func() bool {
		_, err := b.Subscribe(context.Background(), "x.y", bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil }))
		return errors.Is(err, bus.ErrClosed)
	}, 5*time.Second, time.Millisecond, "Close has begun: no new subscriptions")
	assert.NoError(t, b.Publish(context.Background(), bus.NewMessage("x.y", "t.v1", nil)),
		"publishing still works while handlers drain")

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, b.Close(short), context.DeadlineExceeded, "a second Close waits for the first")
	close(release)
	require.NoError(t, <-first)
	assert.NoError(t, b.Close(context.Background()), "after the first finished, Close returns its result")
	assert.ErrorIs(t, b.Publish(context.Background(), bus.NewMessage("x.y", "t.v1", nil)), bus.ErrClosed)
}
