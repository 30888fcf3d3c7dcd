package bus

import (
	"context"
	"sync"

	"github.com/busway/busway/bus/driver"
)

// Done returns a channel closed when the subscription has ended: drained,
// or ended on its own by its backend (see Err). On the zero Subscription
// it is closed by Drain.
func (s *Subscription) Done() <-chan struct{} { return s.end.channel() }

// Err returns nil while the subscription is live and after a drain, and
// the cause when its backend ended it on its own (for example a JetStream
// consumer deleted and not recreated, or a connection closed for good).
// Such a subscription receives nothing more; the bus logs the cause at
// Error once and forgets the subscription, and a Router running it
// returns the cause.
func (s *Subscription) Err() error { return s.end.error() }

// watch follows a driver subscription that can end on its own
// (driver.Ender) until it ends or is drained.
func (s *Subscription) watch() {
	e, ok := s.ds.(driver.Ender)
	if !ok {
		return
	}
	drained := s.drain.Done()
	go func() {
		select {
		case <-e.Done():
		case <-drained:
			return
		}
		if err := e.Err(); err != nil {
			s.died(err)
		}
	}()
}

// died records that the backend ended the subscription with err.
func (s *Subscription) died(err error) {
	if !s.end.finish(err) {
		return
	}
	s.b.subs.Remove(s)
	_ = s.b.ended.Add(s, nil) // not ready until drained
	s.b.logger().Error("busway: subscription ended on its own; it receives no more messages",
		"pattern", s.pattern, "group", s.cfg.group, "error", err)
}

// ending is a subscription's end: a channel closed once, and why.
type ending struct {
	mu    sync.Mutex
	done  chan struct{} // made on first use: the zero value works
	ended bool
	err   error
}

func (e *ending) channel() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch()
}

// ch returns the channel, making it if needed; e.mu must be held.
func (e *ending) ch() chan struct{} {
	if e.done == nil {
		e.done = make(chan struct{})
	}
	return e.done
}

func (e *ending) error() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// finish ends e with err, and reports whether it was the first to.
func (e *ending) finish(err error) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ended {
		return false
	}
	e.ended, e.err = true, err
	close(e.ch())
	return true
}

// cutter lets any Drain or Close caller's context end the drain under way,
// or one not started yet, early: whoever started a shutdown, each caller's
// deadline bounds it.
type cutter struct {
	mu     sync.Mutex
	cause  error                   // the first cut, for a drain not started yet
	cancel context.CancelCauseFunc // the drain under way, if any
}

// cut ends the drain under way (or the next one, at once) with cause.
func (c *cutter) cut(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause == nil {
		c.cause = cause
	}
	if c.cancel != nil {
		c.cancel(cause)
	}
}

// start returns the context for a drain run with ctx: it also ends when
// cut is called.
func (c *cutter) start(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	dctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel = cancel
	if c.cause != nil {
		cancel(c.cause)
	}
	return dctx, cancel
}

// whenDone runs f when ctx ends, like context.AfterFunc; the returned func
// (deferred by the caller) stops that, but runs f itself when ctx has
// ended and f had not started. ctx's Done channel closes before its
// AfterFuncs are started, so a caller woken by Done could otherwise stop
// f before it ever ran: a second Drain or Close returning at its
// deadline without cutting the drain under way.
func whenDone(ctx context.Context, f func()) (stop func()) {
	stopF := context.AfterFunc(ctx, f)
	return func() {
		if stopF() && ctx.Err() != nil {
			f()
		}
	}
}
