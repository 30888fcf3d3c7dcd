package middleware_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newBus returns a bus over a private in-memory broker, closed when the test
// ends. Redelivery is immediate so tests never wait on a backoff.
func newBus(t *testing.T) *bus.Bus {
	t.Helper()
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	b := bus.New(conn, bus.Source("/test"), bus.Logger(slog.New(slog.DiscardHandler)))
	t.Cleanup(func() { require.NoError(t, b.Close(context.Background())) })
	return b
}

// noBackoff makes the bus redeliver at once.
var noBackoff = bus.RetryBackoff(nil)

// result is what observe reports for each delivery.
type result struct {
	attempt int
	err     error
}

// observe is an outermost test middleware that reports each delivery's
// attempt and the chain's result once the chain returned.
func observe(ch chan<- result) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			err := next.Handle(ctx, m)
			ch <- result{attempt: m.Attempt(), err: err}
			return err
		})
	}
}

// recv returns the next value from ch. The deadline is a watchdog against a
// hung test, not a timing assertion.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a value")
	}
	panic("unreachable")
}

// collect subscribes to pattern and sends every message it gets to the
// returned channel.
func collect(t *testing.T, b *bus.Bus, pattern string) <-chan *bus.Message {
	t.Helper()
	ch := make(chan *bus.Message, 16)
	_, err := b.Subscribe(context.Background(), pattern, bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		ch <- m
		return nil
	}))
	require.NoError(t, err)
	return ch
}

// event returns a message as a handler would receive it, with id and source
// set.
func event(id string) *bus.Message {
	m := bus.NewMessage("orders.created", "com.example.order.created.v1", []byte(`{"secret":"payload"}`))
	m.Event.ID = id
	m.Event.Source = "/test"
	return m
}

// counter is a handler that counts its calls and returns what fn returns.
// It is safe for concurrent use.
type counter struct {
	n  atomic.Int32
	fn func(ctx context.Context, call int) error
}

func (c *counter) Handle(ctx context.Context, _ *bus.Message) error {
	n := int(c.n.Add(1))
	if c.fn == nil {
		return nil
	}
	return c.fn(ctx, n)
}

func (c *counter) calls() int { return int(c.n.Load()) }
