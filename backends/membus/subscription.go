package membus

import (
	"context"
	"errors"
	"fmt"
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
	ctx      context.Context // given to handlers; cancelled on hard stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup // workers
	closing  chan struct{}  // closed when Drain starts
	done     chan struct{}  // closed when Drain has finished

	mu          sync.Mutex
	work        sync.Cond // workers wait here for deliveries or stop
	q           deque
	state       subState
	idleWorkers int
	inflight    int
	timers      map[*delivery]*time.Timer // delayed redeliveries
	room        chan struct{}             // closed when a slot frees
	idle        chan struct{}             // closed when a drain has no work left
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
		done:     make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
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

// checkIdle ends a drain's wait once nothing is queued, in flight or
// scheduled; s.mu must be held.
func (s *subscription) checkIdle() {
	if s.idle != nil && s.q.len() == 0 && s.inflight == 0 && len(s.timers) == 0 {
		close(s.idle)
		s.idle = nil
	}
}

func (s *subscription) worker() {
	s.mu.Lock()
	for {
		for s.q.len() == 0 && s.state != subStopped {
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
	}
}

// run calls the handler; an ackable message left unsettled is naked.
func (s *subscription) run(d *delivery) {
	s.h(s.ctx, &d.msg)
	if d.ackable() && d.settled.CompareAndSwap(false, true) {
		s.redeliver(newDelivery(d.env, d.attempt+1, nil), 0)
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
// what is queued, in flight or scheduled for redelivery, and returns when
// every worker has exited. When ctx ends first it stops hard: handler
// contexts are cancelled, queued and scheduled group messages go to another
// live member of the group, queued fan-out messages are discarded, and Drain
// returns an error wrapping ctx.Err() once in-flight handlers have returned.
// Calling Drain again waits for the first call to finish.
func (s *subscription) Drain(ctx context.Context) error {
	s.mu.Lock()
	if s.state != subOpen {
		s.mu.Unlock()
		select {
		case <-s.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("membus: drain of %v: %w", s, ctx.Err())
		}
	}
	s.state = subDraining
	close(s.closing)
	idle := make(chan struct{})
	s.idle = idle
	s.checkIdle()
	s.mu.Unlock()
	s.b.remove(s)

	var err error
	if waitIdle(ctx, idle) {
		s.stop(nil)
	} else {
		err = fmt.Errorf("membus: drain of %v: %w", s, ctx.Err())
		s.stop(s.handOff)
	}
	s.wg.Wait()
	s.cancel()
	s.conn.forget(s)
	close(s.done)
	return err
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

// stop makes the workers exit after their current message. With a handOff
// function (hard stop) it also cancels handler contexts and passes it every
// queued and scheduled delivery, oldest first.
func (s *subscription) stop(handOff func(*delivery)) {
	s.mu.Lock()
	s.state = subStopped
	s.idle = nil
	s.work.Broadcast()
	if handOff == nil {
		s.mu.Unlock()
		return
	}
	left := s.q.takeAll()
	for d, t := range s.timers {
		t.Stop() // if it already fired, fire finds nothing to do
		left = append(left, d)
	}
	s.timers = nil
	s.mu.Unlock()
	s.cancel()
	for i := len(left) - 1; i >= 0; i-- {
		handOff(left[i])
	}
}
