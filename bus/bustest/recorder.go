package bustest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus"
)

// Recording holds the messages a Recorder received, in arrival order. Its
// methods are safe for concurrent use.
type Recording struct {
	t       testing.TB
	pattern string
	col     *collector
}

// Recorder subscribes to pattern through s and records every message that
// arrives; its handler always succeeds. opts are passed to Subscribe (a
// group, for example). The subscription is drained when the test ends.
// Recorder fails the test at once when it cannot subscribe.
//
// A message published after Recorder returns reaches the recording on every
// backend (the driver.Conn Subscribe contract).
func Recorder(t testing.TB, s bus.Subscriber, pattern string, opts ...bus.SubscribeOption) *Recording {
	t.Helper()
	r := &Recording{t: t, pattern: pattern, col: newCollector()}
	sub, err := s.Subscribe(t.Context(), pattern, r.col.handler(""), opts...)
	if err != nil {
		t.Fatalf("bustest: Recorder: subscribe to %q: %v", pattern, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		if err := sub.Drain(ctx); err != nil {
			t.Errorf("bustest: Recorder: drain subscription to %q: %v", pattern, err)
		}
	})
	return r
}

// Wait blocks until at least n messages were recorded and returns the first
// n. When timeout passes first, it fails the test (t.Fatalf), naming the
// pattern and what arrived; call it from the test's goroutine.
func (r *Recording) Wait(n int, timeout time.Duration) []*bus.Message {
	r.t.Helper()
	got, _, ok := r.col.waitUntil(timeout, func(ms []*bus.Message, _ []string) bool { return len(ms) >= n })
	if !ok {
		r.t.Fatalf("bustest: waited %v for %d messages on %q, got %d: %s", timeout, n, r.pattern, len(got), describe(got))
	}
	return got[:n]
}

// Messages returns a copy of the messages recorded so far, in arrival
// order.
func (r *Recording) Messages() []*bus.Message {
	ms, _ := r.col.snapshot()
	return ms
}

// collector records messages from one or more handlers, each tagged with
// the name of the handler ("from"), and lets a test wait for a condition on
// them without sleeping.
type collector struct {
	mu      sync.Mutex
	msgs    []*bus.Message
	from    []string
	changed chan struct{} // closed and replaced on every add
}

func newCollector() *collector { return &collector{changed: make(chan struct{})} }

// handler returns a Handler that records each message as coming from from,
// then succeeds.
func (c *collector) handler(from string) bus.Handler {
	return bus.HandlerFunc(func(_ context.Context, m *bus.Message) error {
		c.add(from, m)
		return nil
	})
}

func (c *collector) add(from string, m *bus.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	c.from = append(c.from, from)
	close(c.changed)
	c.changed = make(chan struct{})
}

// snapshot returns copies of what was recorded so far.
func (c *collector) snapshot() ([]*bus.Message, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*bus.Message(nil), c.msgs...), append([]string(nil), c.from...)
}

// waitUntil blocks until cond holds on what was recorded, or timeout passes;
// it returns a snapshot and whether cond held.
func (c *collector) waitUntil(timeout time.Duration, cond func([]*bus.Message, []string) bool) ([]*bus.Message, []string, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ms, from := append([]*bus.Message(nil), c.msgs...), append([]string(nil), c.from...)
		changed := c.changed
		c.mu.Unlock()
		if cond(ms, from) {
			return ms, from, true
		}
		select {
		case <-changed:
		case <-timer.C:
			return ms, from, false
		}
	}
}
