package membus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// idleWatch tracks a broker's live subscriptions so that WaitIdle can tell
// when none has work left.
type idleWatch struct {
	mu      sync.Mutex
	subs    map[*subscription]struct{} // subscribed and not yet drained
	changed chan struct{}              // closed (and replaced) by poke
	waiters atomic.Int32               // WaitIdle calls in progress
}

func (w *idleWatch) track(s *subscription) {
	w.mu.Lock()
	if w.subs == nil {
		w.subs = make(map[*subscription]struct{})
	}
	w.subs[s] = struct{}{}
	w.mu.Unlock()
}

func (w *idleWatch) untrack(s *subscription) {
	w.mu.Lock()
	delete(w.subs, s)
	w.mu.Unlock()
	w.poke()
}

// poke wakes WaitIdle callers to check again; it costs one atomic load
// when nobody waits. A subscription calls it with its mutex held, after a
// change that may have made it idle, so that a waiter that checked it
// before the change sees the poke.
func (w *idleWatch) poke() {
	if w.waiters.Load() == 0 {
		return
	}
	w.mu.Lock()
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
	w.mu.Unlock()
}

// watch returns the channel the next poke closes.
func (w *idleWatch) watch() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	return w.changed
}

// busy returns how many tracked subscriptions have work left.
func (w *idleWatch) busy() int {
	w.mu.Lock()
	subs := make([]*subscription, 0, len(w.subs))
	for s := range w.subs {
		subs = append(subs, s)
	}
	w.mu.Unlock()
	n := 0
	for _, s := range subs {
		s.mu.Lock()
		if s.q.len() > 0 || s.inflight > 0 || len(s.timers) > 0 {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// WaitIdle returns once no subscription on c's broker (on any of its
// Conns) has work left: no message queued, none in a handler, no delayed
// redelivery pending. Publish queues a message before it returns, and a
// message a handler publishes is queued before the handler returns, so
// after "publish, then WaitIdle" every consequence of the publish has been
// handled, retries and dead letters included. It is meant for tests (the
// cqrs test harness reaches it through bus.Bus.As); orphaned group
// messages, which no subscription can take, do not count as work. It
// returns an error wrapping ctx.Err() when ctx ends first, saying how many
// subscriptions were still busy.
func (c *Conn) WaitIdle(ctx context.Context) error {
	w := &c.b.idle
	w.waiters.Add(1)
	defer w.waiters.Add(-1)
	for {
		changed := w.watch()
		n := w.busy()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("membus: wait for idle: %d subscription(s) still busy: %w", n, ctx.Err())
		}
	}
}
