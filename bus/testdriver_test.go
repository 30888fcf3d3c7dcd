package bus_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/internal/syncbuf"
	"github.com/stretchr/testify/require"
)

// testConn wraps a membus connection to give the bus what mem cannot: a
// subscription that dies on its own (testSub implements driver.Ender),
// at-most-once deliveries (no Acker), Ackers without DelayNaker,
// publishes that fail, and the dispatch callback itself.
type testConn struct {
	driver.Conn
	atMostOnce bool                          // deliver without an Acker
	noDelay    bool                          // hide the Acker's DelayNaker
	failPub    func(m *driver.Message) error // when set, a non-nil result fails Publish
	broker     string                        // mem broker name; "" for a private one

	mu   sync.Mutex
	subs []*testSub
}

// openTest opens a Bus over a testConn on a private mem broker; its logs
// go to the returned buffer.
func openTest(t *testing.T, c *testConn) (*bus.Bus, *syncbuf.Buffer) {
	t.Helper()
	mem, err := membus.Open(membus.Options{Name: c.broker})
	require.NoError(t, err)
	c.Conn = mem
	logs := &syncbuf.Buffer{}
	b := bus.New(c, bus.Logger(slog.New(slog.NewTextHandler(logs, nil))))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return b, logs
}

func (c *testConn) Publish(ctx context.Context, m *driver.Message) error {
	if c.failPub != nil {
		if err := c.failPub(m); err != nil {
			return err
		}
	}
	return c.Conn.Publish(ctx, m)
}

func (c *testConn) Subscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	inner := h
	switch {
	case c.atMostOnce:
		inner = func(m *driver.Message) {
			acker := m.Acker
			m.Acker = nil
			h(m)
			if acker != nil {
				_ = acker.Ack(context.Background()) // mem would redeliver it
			}
		}
	case c.noDelay:
		inner = func(m *driver.Message) {
			if m.Acker != nil {
				m.Acker = plainAcker{m.Acker}
			}
			h(m)
		}
	}
	ds, err := c.Conn.Subscribe(ctx, opts, inner)
	if err != nil {
		return nil, err
	}
	s := &testSub{Subscription: ds, opts: opts, h: h, done: make(chan struct{})}
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	return s, nil
}

// sub returns the i-th subscription made through c.
func (c *testConn) sub(t *testing.T, i int) *testSub {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Greater(t, len(c.subs), i, "subscriptions made")
	return c.subs[i]
}

// plainAcker is an Acker without DelayNaker, Terminator or Progresser.
type plainAcker struct{ a driver.Acker }

func (p plainAcker) Ack(ctx context.Context) error { return p.a.Ack(ctx) }
func (p plainAcker) Nak(ctx context.Context) error { return p.a.Nak(ctx) }

// testSub is a driver subscription the test can kill: it ends on its own
// with an error, as a JetStream subscription whose consumer was deleted.
type testSub struct {
	driver.Subscription
	opts   driver.SubscribeOptions
	h      driver.Handler // the bus's dispatch
	drains atomic.Int32

	mu   sync.Mutex
	err  error
	once sync.Once
	done chan struct{}
}

var _ driver.Ender = (*testSub)(nil)

func (s *testSub) Done() <-chan struct{} { return s.done }

func (s *testSub) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// kill ends the subscription on its own with err.
func (s *testSub) kill(err error) {
	_ = s.Subscription.Drain(context.Background())
	s.once.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	})
}

func (s *testSub) Drain(ctx context.Context) error {
	s.drains.Add(1)
	err := s.Subscription.Drain(ctx)
	s.once.Do(func() { close(s.done) })
	return err
}

// recv receives from ch or fails t after 5 seconds.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("waited 5s for %s", what)
		panic("unreachable")
	}
}

// closedWithin reports whether ch is closed (or delivers) within 5 seconds.
func closedWithin[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// countLines counts the log lines containing every one of parts.
func countLines(logs string, parts ...string) int {
	n := 0
	for line := range strings.Lines(logs) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}
