package bustest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blocker is a handler whose first delivery blocks until released, and
// which counts deliveries per event ID.
type blocker struct {
	entered chan string   // receives the first delivery's event ID
	release chan struct{} // closed to let the first delivery finish
	mu      sync.Mutex
	counts  map[string]int
	ctxErr  error // the first delivery's context error when released
	first   atomic.Bool
	publish func(ctx context.Context) error // run by the first delivery after release
	pubErr  error
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan string, 1), release: make(chan struct{}), counts: map[string]int{}}
}

// Handle implements bus.Handler.
func (b *blocker) Handle(ctx context.Context, m *bus.Message) error {
	if b.first.CompareAndSwap(false, true) {
		b.entered <- m.Event.ID
		select {
		case <-b.release:
		case <-ctx.Done():
		}
		ctxErr := ctx.Err()
		var pubErr error
		if b.publish != nil {
			pubErr = b.publish(ctx)
		}
		b.mu.Lock()
		b.ctxErr, b.pubErr = ctxErr, pubErr
		b.mu.Unlock()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counts[m.Event.ID]++
	return nil
}

// result returns the first delivery's context error and publish error.
func (b *blocker) result() (ctxErr, pubErr error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ctxErr, b.pubErr
}

// snapshot returns a copy of the counts.
func (b *blocker) snapshot() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.counts))
	for k, v := range b.counts {
		out[k] = v
	}
	return out
}

// testDrainOnClose: Bus.Close while a handler is in flight waits for it,
// settles its message (acked, not redelivered) and loses nothing that was
// published before Close: every message is handled exactly once (by the
// closing Bus, or, on a backend that redelivers and has groups, by a group
// member that comes later). Without groups the subscription is plain, and
// nothing can take over from it: the closing Bus must handle every message
// (unless Features.DrainDeliversQueued is false: then only the one in
// flight must be handled, and none twice).
// One Bus publishes and subscribes, so that on a networked backend every
// message reached the subscription before Close began.
func testDrainOnClose(e *env) {
	t := e.t
	b := e.bus()
	subj, group := e.subject("jobs"), e.groupOpts("drain")
	const n = 20
	h := newBlocker()
	release := closer(t, h.release)
	_, err := b.Subscribe(t.Context(), subj, h, append(group, bus.Concurrency(1))...)
	require.NoError(t, err)
	want := e.publishN(t, b, subj, n)
	recv(t, e.timeout, h.entered, "the first message to reach the handler")
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		closed <- b.Close(ctx)
	}()
	notYet(t, closed, "Close returned while a handler was in flight")
	release()
	require.NoError(t, recv(t, e.timeout+time.Second, closed, "Close to return"), "Close after a clean drain")
	ctxErr, _ := h.result()
	assert.NoError(t, ctxErr, "the in-flight handler's context stays live during a drain within the deadline")
	counts := h.snapshot()
	if e.f.Redelivery && e.f.Groups {
		later := e.bus()
		c := newCollector()
		_, err := later.Subscribe(t.Context(), subj, c.handler(""), group...)
		require.NoError(t, err)
		ms, _ := e.settled(t, c, e.publish(t, later, sentinel(subj)).Event.ID, n-len(counts))
		for _, m := range ms {
			counts[m.Event.ID]++
		}
	}
	exact := e.f.DrainDeliversQueued || (e.f.Redelivery && e.f.Groups)
	handled := 0
	for i, id := range want {
		handled += counts[id]
		if exact {
			assert.Equal(t, 1, counts[id], "message %d handled %d times", i, counts[id])
		} else {
			assert.LessOrEqual(t, counts[id], 1, "message %d handled %d times", i, counts[id])
		}
	}
	assert.Positive(t, handled, "the in-flight message was handled")
}

// testHandlerPublishesDuringClose: a handler in flight when Bus.Close
// starts can still publish (a follow-up event, or a reply) on that Bus: the
// drain lets in-flight handlers finish their work.
func testHandlerPublishesDuringClose(e *env) {
	t := e.t
	b, watch := e.bus(), e.bus()
	subj, follow := e.subject("cmd"), e.subject("evt")
	rec := Recorder(t, watch, follow)
	h := newBlocker()
	h.publish = func(ctx context.Context) error { return b.Publish(ctx, numbered(follow, 1)) }
	release := closer(t, h.release)
	_, err := b.Subscribe(t.Context(), subj, h)
	require.NoError(t, err)
	e.publish(t, b, numbered(subj, 1))
	recv(t, e.timeout, h.entered, "the command to reach the handler")
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		closed <- b.Close(ctx)
	}()
	notYet(t, closed, "Close returned while a handler was in flight")
	release()
	require.NoError(t, recv(t, e.timeout+time.Second, closed, "Close to return"))
	_, pubErr := h.result()
	require.NoError(t, pubErr, "Publish from a handler in flight during Close")
	rec.Wait(1, e.timeout)
}

// testRouterDrain: Running is closed once the routes are subscribed; when
// Run's context ends, Run waits for the handler in flight (whose context
// stays live), acks its message and returns nil; a Router runs once. The
// route is a group where the backend has groups, so that a later member
// would get the message had it not been acked. When
// the drain timeout passes first, handlers see their context cancelled and
// Run returns the deadline error.
func testRouterDrain(e *env) {
	sub, pub := e.bus(), e.bus()
	e.t.Run("Clean", func(t *testing.T) {
		subj, group := e.subject("route"), e.groupOpts("route")
		r := bus.NewRouter(sub, bus.DrainTimeout(e.timeout))
		h := newBlocker()
		release := closer(t, h.release)
		r.Handle(subj, h, group...)
		cancel, runErr := e.startRouter(t, r)
		m := e.publish(t, pub, numbered(subj, 1))
		assert.Equal(t, m.Event.ID, recv(t, e.timeout, h.entered, "the message to reach the handler"))
		cancel()
		notYet(t, runErr, "Router.Run returned while a handler was in flight")
		release()
		require.NoError(t, recv(t, e.timeout+time.Second, runErr, "Run to return"), "Run after a clean drain")
		assert.Equal(t, map[string]int{m.Event.ID: 1}, h.snapshot(), "the handler finished before Run returned")
		ctxErr, _ := h.result()
		assert.NoError(t, ctxErr, "the in-flight handler's context stays live during the drain")
		assert.ErrorIs(t, r.Run(t.Context()), bus.ErrClosed, "a Router runs once")
		rec := Recorder(t, sub, subj, group...)
		ms, _ := e.settled(t, rec.col, e.publish(t, pub, sentinel(subj)).Event.ID, 0)
		assert.Empty(t, ms, "the message handled during the drain was acked, not redelivered")
	})
	e.t.Run("DeadlineCancelsHandlers", func(t *testing.T) {
		subj := e.subject("stuck")
		r := bus.NewRouter(sub, bus.DrainTimeout(negativeWait))
		h := newBlocker() // only the drain deadline ends it; cleanup releases it if not
		closer(t, h.release)
		r.Handle(subj, h)
		cancel, runErr := e.startRouter(t, r)
		e.publish(t, pub, numbered(subj, 1))
		recv(t, e.timeout, h.entered, "the message to reach the handler")
		cancel()
		err := recv(t, e.timeout, runErr, "Run to return after the drain timeout")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		ctxErr, _ := h.result()
		assert.ErrorIs(t, ctxErr, context.Canceled, "the handler's context is cancelled at the drain deadline")
	})
}

// startRouter runs r in a goroutine and waits until it is running. It
// returns the function that stops it and the channel of Run's result.
func (e *env) startRouter(t *testing.T, r *bus.Router) (context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	select {
	case <-r.Running():
	case err := <-runErr:
		t.Fatalf("Router.Run returned before running: %v", err)
	case <-time.After(e.timeout):
		t.Fatalf("Router.Running not closed after %v", e.timeout)
	}
	return cancel, runErr
}

// testClosedBus: after Close, Publish, Subscribe and Request fail with
// bus.ErrClosed, Close again returns nil, and other Buses on the broker
// keep working.
func testClosedBus(e *env) {
	t := e.t
	b, other := e.bus(), e.bus()
	subj := e.subject("closed")
	noop := bus.HandlerFunc(func(context.Context, *bus.Message) error { return nil })
	s, err := b.Subscribe(t.Context(), subj, noop)
	require.NoError(t, err)
	require.NoError(t, b.Close(t.Context()))
	require.NoError(t, b.Close(t.Context()), "Close is idempotent")
	assert.ErrorIs(t, b.Publish(t.Context(), numbered(subj, 1)), bus.ErrClosed)
	_, err = b.Subscribe(t.Context(), subj, noop)
	assert.ErrorIs(t, err, bus.ErrClosed)
	if e.f.RequestReply {
		_, err = b.Request(t.Context(), numbered(subj, 1))
		assert.ErrorIs(t, err, bus.ErrClosed)
	}
	assert.NoError(t, s.Drain(t.Context()), "Drain after Close returns the drain's result")
	rec := Recorder(t, other, subj)
	e.publish(t, other, numbered(subj, 2))
	rec.Wait(1, e.timeout)
}
