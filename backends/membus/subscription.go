package membus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/busway/busway/bus/driver"
)

type subState int

const (
	subOpen     subState = iota // routed to
	subDraining                 // not routed to; workers finish the queue
	subStopped                  // workers exit
)

// Internal results of subscription.push.
var (
	errGone = errors.New("membus: subscription gone")
	errFull = errors.New("membus: queue full")
)

// subscription is one Subscribe: a bounded FIFO queue and a fixed set of
// worker goroutines that pop from it and call the handler.
type subscription struct {
	conn     *Conn
	b        *broker
	pattern  string
	group    string
	capacity int
	h        driver.Handler
	wg       sync.WaitGroup // workers
	closing  chan struct{}  // closed when Drain starts
	drain    driver.Once

	mu          sync.Mutex
	work        sync.Cond // workers wait here for deliveries or stop
	q           deque
	state       subState
	idleWorkers int
	inflight    int
	timers      map[*delivery]*time.Timer // delayed redeliveries
	room        chan struct{}             // closed when a slot frees
	idle        chan struct{}             // closed when a drain has no work left
	lost        discards                  // reported by Drain
	drainCtx    context.Context           // set when Drain starts
}

func newSubscription(c *Conn, opts driver.SubscribeOptions, h driver.Handler) *subscription {
	s := &subscription{
		conn:     c,
		b:        c.b,
		pattern:  opts.Subject,
		group:    opts.Group,
		capacity: c.opts.Buffer,
		h:        h,
		closing:  make(chan struct{}),
	}
	s.work.L = &s.mu
	return s
}

func (s *subscription) start(workers int) {
	for range workers {
		s.wg.Go(s.worker)
	}
}

func (s *subscription) String() string {
	if s.group == "" {
		return fmt.Sprintf("subscription %q", s.pattern)
	}
	return fmt.Sprintf("subscription %q (group %q)", s.pattern, s.group)
}

// wakeWorker wakes one idle worker; s.mu must be held.
func (s *subscription) wakeWorker() {
	if s.idleWorkers > 0 {
		s.work.Signal()
	}
}

// notifyRoom wakes publishers waiting for a free slot; s.mu must be held.
func (s *subscription) notifyRoom() {
	if s.room != nil {
		close(s.room)
		s.room = nil
	}
}

// checkIdle ends a drain's wait once nothing is queued or in flight
// (delayed redeliveries are not waited for); s.mu must be held.
func (s *subscription) checkIdle() {
	if s.idle != nil && s.q.len() == 0 && s.inflight == 0 {
		close(s.idle)
		s.idle = nil
	}
}

// worker runs queued messages until s stops. Once a drain's context has
// ended it starts none: the hard stop about to come takes the queue, so
// that queued messages keep their attempt even though handlers in flight
// (whose context package bus cancels then) may return before it.
func (s *subscription) worker() {
	s.mu.Lock()
	for {
		for (s.q.len() == 0 || s.cutShort()) && s.state != subStopped {
			s.idleWorkers++
			s.work.Wait()
			s.idleWorkers--
		}
		if s.state == subStopped {
			s.mu.Unlock()
			return
		}
		d := s.q.popFront()
		s.inflight++
		s.notifyRoom()
		s.mu.Unlock()

		s.run(d)

		s.mu.Lock()
		s.inflight--
		s.checkIdle()
		s.b.idle.poke()
	}
}

// cutShort reports whether s is draining and its drain's context has
// ended; s.mu must be held.
func (s *subscription) cutShort() bool {
	return s.state == subDraining && s.drainCtx.Err() != nil
}

// run calls the handler; an ackable message left unsettled is naked.
// What that nak discards is counted for Drain to report.
func (s *subscription) run(d *delivery) {
	d.msg.Header = d.env.hdr.header()
	s.h(&d.msg)
	if d.ackable() && d.settled.CompareAndSwap(false, true) {
		_ = s.redeliver(newDelivery(d.env, d.attempt+1, nil))
	}
}

// offer queues a newly published d at the back of s's queue. It returns
// errGone when s no longer takes new messages, and errFull when the queue
// is full, with (if wantRoom) a channel closed when a slot frees.
func (s *subscription) offer(d *delivery, wantRoom bool) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != subOpen {
		return nil, errGone
	}
	if s.q.len() >= s.capacity {
		if wantRoom && s.room == nil {
			s.room = make(chan struct{})
		}
		return s.room, errFull
	}
	d.sub = s
	s.q.pushBack(d)
	s.wakeWorker()
	return nil, nil
}

// push is offer waiting for room until ctx ends, s drains (errGone) or the
// publishing Conn closes.
func (s *subscription) push(ctx context.Context, d *delivery, pub *Conn) error {
	for {
		room, err := s.offer(d, true)
		if err != errFull {
			return err
		}
		select {
		case <-room:
		case <-s.closing:
		case <-ctx.Done():
			return fmt.Errorf("membus: publish to %q waiting for room in %v: %w", d.env.subject, s, ctx.Err())
		case <-pub.done:
			return fmt.Errorf("membus: publish to %q: %w", d.env.subject, driver.ErrClosed)
		}
	}
}

// Drain stops routing to the subscription at once, lets its workers finish
// what is queued or in flight, and returns when every worker has exited.
// It does not wait for delayed redeliveries: those of a group message go to
// another open member of the group with what remains of their delay, or to
// the group's orphans; those of a fan-out message are discarded, and Drain
// returns an error wrapping ErrDiscarded that counts them. When ctx ends
// first it stops hard: no queued message starts any more, queued group
// messages go to another open member or the group's orphans with their
// attempt unchanged, queued fan-out messages are discarded, and Drain
// returns, once in-flight handlers have returned, an error wrapping
// ctx.Err() (and ErrDiscarded when it discarded messages, with their
// count). Calling Drain again waits until the first call has returned,
// bounded by its own ctx, and returns the first's result (driver.Once).
func (s *subscription) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "membus: drain of "+s.String(), func(ctx context.Context) error {
		idle := s.beginDrain(ctx)
		s.b.remove(s)
		graceful := waitIdle(ctx, idle)
		s.stop()
		s.wg.Wait()
		s.conn.subs.Remove(s)
		s.b.idle.untrack(s)
		var cause error
		if !graceful {
			cause = ctx.Err()
		}
		return s.drainError(cause)
	})
}

// beginDrain moves s to draining and returns the channel closed when its
// drain has no work left.
func (s *subscription) beginDrain(ctx context.Context) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drainCtx = ctx
	s.state = subDraining
	close(s.closing)
	idle := make(chan struct{})
	s.idle = idle
	s.checkIdle()
	return idle
}

// drainError is what Drain returns, given the context error that cut it
// short (nil after a graceful drain).
func (s *subscription) drainError(cause error) error {
	s.mu.Lock()
	lost := s.lost
	s.mu.Unlock()
	switch {
	case lost.total() == 0 && cause == nil:
		return nil
	case lost.total() == 0:
		return fmt.Errorf("membus: drain of %v: %w", s, cause)
	}
	msg := fmt.Sprintf("membus: drain of %v: ", s)
	if cause != nil {
		msg += cause.Error() + "; "
	}
	return &discardedError{msg: msg + lost.String(), cause: cause}
}

// waitIdle reports whether idle closed before ctx ended; it prefers idle
// when both are ready.
func waitIdle(ctx context.Context, idle <-chan struct{}) bool {
	select {
	case <-idle:
		return true
	default:
	}
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop makes the workers exit after their current message and takes what
// s will not handle: its scheduled redeliveries and (after a hard stop, or
// a timer that fired since the drain went idle) its queue. Group messages
// are rehomed, oldest first; fan-out messages are discarded and counted.
func (s *subscription) stop() {
	s.mu.Lock()
	s.state = subStopped
	s.idle = nil
	s.work.Broadcast()
	queued := s.q.takeAll()
	delayed := make([]*delivery, 0, len(s.timers))
	for d, t := range s.timers {
		t.Stop() // if it already fired, fire finds nothing to do
		delayed = append(delayed, d)
	}
	s.timers = nil
	if s.group == "" {
		s.lost.queued += len(queued)
		s.lost.delayed += len(delayed)
	}
	s.mu.Unlock()
	if s.group != "" {
		slices.SortStableFunc(delayed, func(a, b *delivery) int { return a.due.Compare(b.due) })
		if n := s.b.rehome(s.group, append(queued, delayed...)); n > 0 {
			s.count(discards{orphans: n})
		}
	}
}
