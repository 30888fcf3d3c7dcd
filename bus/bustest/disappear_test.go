package bustest_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/bustest"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformanceWithDisappearingSubscriptions runs the suite on mem
// behind a wrapper whose subscriptions can lose their backend side, as a
// JetStream consumer deleted by an operator: a group subscription is
// recreated, a plain one ends with an error (driver.Ender). It checks the
// SubscriptionDisappears contract itself, which no in-process backend
// exercises otherwise.
func TestConformanceWithDisappearingSubscriptions(t *testing.T) {
	bustest.Run(t, func(t *testing.T) *bus.Bus {
		mem, err := membus.Open(membus.Options{Name: "bustest-disappear/" + t.Name()})
		require.NoError(t, err)
		b := bus.New(&fragileConn{Conn: mem}, bus.Logger(slog.New(slog.DiscardHandler)))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, b.Close(ctx))
		})
		return b
	}, bustest.Features{
		Redelivery: true, RequestReply: true, Groups: true, Wildcards: true,
		MultiValueHeaders: true, MaxPayload: membus.DefaultMaxPayload, Ordering: true,
		DrainDeliversQueued: true,
		DeleteSubscription: func(t *testing.T, b *bus.Bus, pattern, group string) {
			var c *fragileConn
			require.True(t, b.As(&c))
			require.NoError(t, c.remove(pattern, group), "remove %q (group %q)", pattern, group)
		},
	})
}

// errRemoved is why a plain fragile subscription ended.
var errRemoved = errors.New("bustest: backend side of the subscription removed")

// fragileConn is a mem connection whose subscriptions' backend side can be
// removed.
type fragileConn struct {
	driver.Conn
	mu   sync.Mutex
	subs []*fragileSub
}

func (c *fragileConn) As(target any) bool {
	if p, ok := target.(**fragileConn); ok {
		*p = c
		return true
	}
	return c.Conn.(driver.Aser).As(target)
}

func (c *fragileConn) Request(ctx context.Context, m *driver.Message) (*driver.Message, error) {
	return c.Conn.(driver.Requester).Request(ctx, m)
}

func (c *fragileConn) Subscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	inner, err := c.Conn.Subscribe(ctx, opts, h)
	if err != nil {
		return nil, err
	}
	s := &fragileSub{c: c, opts: opts, h: h, inner: inner, done: make(chan struct{})}
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	return s, nil
}

// remove removes the backend side of the live subscriptions on pattern in
// group: a group one is recreated with the same options, a plain one ends.
func (c *fragileConn) remove(pattern, group string) error {
	c.mu.Lock()
	var found []*fragileSub
	for _, s := range c.subs {
		if s.opts.Subject == pattern && s.opts.Group == group {
			found = append(found, s)
		}
	}
	c.mu.Unlock()
	if len(found) == 0 {
		return errors.New("no such subscription")
	}
	for _, s := range found {
		if err := s.remove(); err != nil {
			return err
		}
	}
	return nil
}

// fragileSub is a subscription whose backend side (inner) can be removed.
type fragileSub struct {
	c    *fragileConn
	opts driver.SubscribeOptions
	h    driver.Handler

	mu    sync.Mutex
	inner driver.Subscription
	ended bool
	err   error
	done  chan struct{}
	drain driver.Once
}

func (s *fragileSub) remove() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil
	}
	if err := s.inner.Drain(context.Background()); err != nil {
		return err
	}
	if s.opts.Group == "" {
		s.ended, s.err = true, errRemoved
		close(s.done)
		return nil
	}
	inner, err := s.c.Conn.Subscribe(context.Background(), s.opts, s.h) // recreated
	if err != nil {
		return err
	}
	s.inner = inner
	return nil
}

func (s *fragileSub) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "fragile drain", func(ctx context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		err := s.inner.Drain(ctx)
		if !s.ended {
			s.ended = true
			close(s.done)
		}
		return err
	})
}

func (s *fragileSub) Done() <-chan struct{} { return s.done }

func (s *fragileSub) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
