package kvdedup_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/backends/natsbus/kvdedup"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T) string {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return "jetstream://" + srv.Addr() + "?stream=KVD&subjects=orders.>"
}

func open(t *testing.T, url string) *bus.Bus {
	b, err := bus.Open(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

func store(t *testing.T, b *bus.Bus, cfg kvdedup.Config) *kvdedup.Store {
	s, err := kvdedup.Open(t.Context(), b, "billing", cfg)
	require.NoError(t, err)
	return s
}

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestKVDedupRedeliveryAfterCrashRunsOnce: instance A handles an event
// but dies before acking it (hard stop: the message is handed back);
// instance B of the same group gets the redelivery and skips it. A third
// process (new bus, same server) still finds the event handled.
func TestKVDedupRedeliveryAfterCrashRunsOnce(t *testing.T) {
	url := start(t)
	var calls atomic.Int32
	handler := bus.HandlerFunc(func(context.Context, *bus.Message) error { calls.Add(1); return nil })

	a := open(t, url)
	handledA := make(chan struct{}, 1)
	crash := func(next bus.Handler) bus.Handler { // handled, then dies before the ack
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			if err := next.Handle(ctx, m); err != nil {
				return err
			}
			handledA <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		})
	}
	_, err := a.Subscribe(t.Context(), "orders.>", handler, bus.Group("billing"),
		bus.Wrap(crash, middleware.DedupWith(store(t, a, kvdedup.Config{}))))
	require.NoError(t, err)
	m := bus.NewMessage("orders.eu.placed", "com.example.order.placed.v1", []byte(`{}`))
	require.NoError(t, a.Publish(t.Context(), m))
	recv(t, handledA, "instance A's handling")

	b := open(t, url)
	seenB := make(chan string, 4)
	record := func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			err := next.Handle(ctx, m)
			seenB <- m.Event.ID
			return err
		})
	}
	_, err = b.Subscribe(t.Context(), "orders.>", handler, bus.Group("billing"),
		bus.Wrap(record, middleware.DedupWith(store(t, b, kvdedup.Config{}))))
	require.NoError(t, err)
	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	_ = a.Close(stopped) // the crash: A's handler is cancelled, the message handed back

	assert.Equal(t, m.Event.ID, recv(t, seenB, "the redelivery on instance B"))
	assert.Equal(t, int32(1), calls.Load(), "the handler ran once")

	c := open(t, url) // a restarted process
	again := middleware.DedupWith(store(t, c, kvdedup.Config{}))(handler)
	redelivered := &bus.Message{Subject: m.Subject, Event: m.Event}
	require.NoError(t, again.Handle(t.Context(), redelivered))
	assert.Equal(t, int32(1), calls.Load(), "the key survived the restart")
}

// TestKVDedupConcurrentCopies: a second copy waits while the first is in
// progress; it is skipped when the first succeeds, handled when the first
// failed, and takes over a lease that expired.
func TestKVDedupConcurrentCopies(t *testing.T) {
	b := open(t, start(t))
	ctx := t.Context()
	s1, s2 := store(t, b, kvdedup.Config{}), store(t, b, kvdedup.Config{Lease: 100 * time.Millisecond})

	type res struct {
		handled bool
		err     error
	}
	begin := func(s *kvdedup.Store, key string) <-chan res {
		c := make(chan res, 1)
		go func() { h, err := s.Begin(ctx, key); c <- res{h, err} }()
		return c
	}

	handled, err := s1.Begin(ctx, "k1")
	require.NoError(t, err)
	require.False(t, handled)
	second := begin(store(t, b, kvdedup.Config{}), "k1")
	require.NoError(t, s1.Done(ctx, "k1"))
	r := recv(t, second, "the waiting copy")
	require.NoError(t, r.err)
	assert.True(t, r.handled, "skipped: the first succeeded")

	_, err = s1.Begin(ctx, "k2")
	require.NoError(t, err)
	other := store(t, b, kvdedup.Config{})
	second = begin(other, "k2")
	require.NoError(t, s1.Abort(ctx, "k2"))
	r = recv(t, second, "the waiting copy")
	require.NoError(t, r.err)
	assert.False(t, r.handled, "claimed: the first failed")
	require.NoError(t, other.Done(ctx, "k2"))

	_, err = s1.Begin(ctx, "k3") // s1 "dies" holding k3
	require.NoError(t, err)
	r = recv(t, begin(s2, "k3"), "the take-over")
	require.NoError(t, r.err)
	assert.False(t, r.handled, "s2 took over the expired lease")
	require.NoError(t, s1.Abort(ctx, "k3"), "a late abort does not delete s2's lease")
	require.NoError(t, s2.Done(ctx, "k3"))
	handled, err = s1.Begin(ctx, "k3")
	require.NoError(t, err)
	assert.True(t, handled)
}

// TestKVDedupReplayIsNotADuplicate: a replayed dead letter is a new
// attempt, not a copy of the handled original.
func TestKVDedupReplayIsNotADuplicate(t *testing.T) {
	b := open(t, start(t))
	var calls atomic.Int32
	h := middleware.DedupWith(store(t, b, kvdedup.Config{}))(bus.HandlerFunc(func(context.Context, *bus.Message) error {
		calls.Add(1)
		return nil
	}))
	m := bus.NewMessage("orders.eu.placed", "t", nil)
	m.Event.ID, m.Event.Source = "e1", "/src"
	require.NoError(t, h.Handle(t.Context(), m))
	require.NoError(t, h.Handle(t.Context(), m))
	m.Header.Set(bus.ReplayCountHeader, "1")
	require.NoError(t, h.Handle(t.Context(), m))
	assert.Equal(t, int32(2), calls.Load())
}
