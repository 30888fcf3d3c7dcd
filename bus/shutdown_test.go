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

// A second Close waits for the first instead of returning early; its
// deadline bounds the shutdown (the handler's context is cancelled) and
// the first Close reports that it was cut short.
func TestSecondCloseWaits(t *testing.T) {
	b, err := bus.Open(context.Background(), "mem://", quiet())
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	cancelled := make(chan struct{})
	_, err = b.Subscribe(context.Background(), "slow.job", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		close(entered)
		<-ctx.Done()
		close(cancelled)
		<-release // a handler slow to stop
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("slow.job", "job.v1", nil)))
	recv(t, entered, "the job to reach the handler")
	first := make(chan error, 1)
	go func() { first <- b.Close(context.Background()) }()
	require.Eventually(t, func() bool {
		_, err := b.Subscribe(context.Background(), "x.y", bus.HandlerFunc(noop))
		return errors.Is(err, bus.ErrClosed)
	}, 5*time.Second, time.Millisecond, "Close has begun: no new subscriptions")
	assert.NoError(t, b.Publish(context.Background(), bus.NewMessage("x.y", "t.v1", nil)),
		"publishing still works while handlers drain")

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, b.Close(short), context.DeadlineExceeded, "a second Close waits for the first, bounded by its ctx")
	recv(t, cancelled, "the handler's context to be cancelled at the second Close's deadline")
	select {
	case err := <-first:
		t.Fatalf("the first Close returned (%v) while the handler still ran", err)
	default:
	}
	close(release)
	firstErr := recv(t, first, "the first Close")
	assert.ErrorIs(t, firstErr, context.DeadlineExceeded, "the first Close reports the cut")
	assert.Equal(t, firstErr, b.Close(context.Background()), "after the first finished, Close returns its result")
	assert.ErrorIs(t, b.Publish(context.Background(), bus.NewMessage("x.y", "t.v1", nil)), bus.ErrClosed)
}

// Close returns by its own deadline even while another Close is draining,
// and that deadline cancels the handlers, whose messages are handed back
// (a later member of the group gets them).
func TestCloseDeadlineCutsAnotherClose(t *testing.T) {
	c := &testConn{broker: t.Name()}
	worker, _ := openTest(t, c)
	other, _ := openTest(t, &testConn{broker: t.Name()})
	entered := make(chan struct{}, 1)
	handlerCtx := make(chan error, 1)
	_, err := worker.Subscribe(context.Background(), "slow.job", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		entered <- struct{}{}
		<-ctx.Done() // only a cancellation ends it
		handlerCtx <- ctx.Err()
		return ctx.Err()
	}), bus.Group("workers"))
	require.NoError(t, err)
	job := bus.NewMessage("slow.job", "job.v1", nil)
	require.NoError(t, other.Publish(context.Background(), job))
	recv(t, entered, "the job to reach the handler")

	first := make(chan error, 1)
	go func() { first <- worker.Close(context.Background()) }()
	require.Eventually(t, func() bool { return c.sub(t, 0).drains.Load() == 1 },
		5*time.Second, time.Millisecond, "the first Close is draining")

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() { second <- worker.Close(ctx) }()
	assert.ErrorIs(t, recv(t, second, "the second Close to return by its deadline"), context.DeadlineExceeded)
	assert.ErrorIs(t, recv(t, handlerCtx, "the handler's context to be cancelled"), context.Canceled)
	firstErr := recv(t, first, "the first Close to return once the handler did")
	assert.ErrorIs(t, firstErr, context.DeadlineExceeded, "the first Close reports that it was cut short")

	got := make(chan *bus.Message, 1)
	_, err = other.Subscribe(context.Background(), "slow.job", bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	}), bus.Group("workers"))
	require.NoError(t, err)
	assert.Equal(t, job.Event.ID, recv(t, got, "the handed-back job").Event.ID)
}

// A second Drain of one subscription is bounded by its own deadline, which
// cancels the handlers of the drain under way.
func TestDrainDeadlineCutsAnotherDrain(t *testing.T) {
	c := &testConn{}
	b, _ := openTest(t, c)
	entered := make(chan struct{}, 1)
	s, err := b.Subscribe(context.Background(), "slow.job", bus.HandlerFunc(func(ctx context.Context, _ *bus.Message) error {
		entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}))
	require.NoError(t, err)
	require.NoError(t, b.Publish(context.Background(), bus.NewMessage("slow.job", "job.v1", nil)))
	recv(t, entered, "the job to reach the handler")
	first := make(chan error, 1)
	go func() { first <- s.Drain(context.Background()) }()
	require.Eventually(t, func() bool { return c.sub(t, 0).drains.Load() == 1 },
		5*time.Second, time.Millisecond, "the first Drain is under way")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Drain(ctx), context.DeadlineExceeded)
	firstErr := recv(t, first, "the first Drain to return")
	assert.ErrorIs(t, firstErr, context.DeadlineExceeded)
	assert.Equal(t, firstErr, s.Drain(context.Background()), "later calls get the first's result")
}
