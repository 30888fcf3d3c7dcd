package membus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus/driver"
)

// ErrAlreadySettled is returned by an Acker method called on a message that
// was already acked, naked or terminated, or whose handler already
// returned (which settles an unsettled message as a Nak).
var ErrAlreadySettled = errors.New("membus: message already settled")

// envelope is one published message, copied once at publish and shared
// read-only by every delivery of it.
type envelope struct {
	subject string
	reply   string
	data    []byte
	hdr     headerCopy
	first   delivery // storage for the first delivery, allocated with e
}

// withBody is an envelope allocated together with room for a small body.
// The body comes last so that the garbage collector, which scans an object
// only up to its last pointer, does not scan it.
type withBody[B any] struct {
	env  envelope
	body B
}

// newEnvelope returns an envelope whose data is a copy of data, and extra
// more bytes (for the header copy) after it. For up to 1 KiB of both,
// envelope and bytes are one allocation, at most twice their size. A
// receiver that keeps Data keeps the envelope with it.
func newEnvelope(data []byte, extra int) (*envelope, []byte) {
	n := len(data)
	e, buf := allocEnvelope(n + extra)
	switch {
	case data == nil: // stays nil, as published
	case n == 0:
		e.data = []byte{}
	default:
		copy(buf, data)
		e.data = buf[:n:n] // capped: an append by a receiver cannot reach the header bytes
	}
	return e, buf[n:]
}

// allocEnvelope returns an envelope and size bytes, in one allocation
// for up to 1 KiB.
func allocEnvelope(size int) (*envelope, []byte) {
	switch {
	case size == 0:
		return new(envelope), nil
	case size <= 64:
		w := new(withBody[[64]byte])
		return &w.env, w.body[:size:size]
	case size <= 128:
		w := new(withBody[[128]byte])
		return &w.env, w.body[:size:size]
	case size <= 256:
		w := new(withBody[[256]byte])
		return &w.env, w.body[:size:size]
	case size <= 512:
		w := new(withBody[[512]byte])
		return &w.env, w.body[:size:size]
	case size <= 1024:
		w := new(withBody[[1024]byte])
		return &w.env, w.body[:size:size]
	}
	return new(envelope), make([]byte, size)
}

// message returns a fresh driver.Message for one delivery of e, with its
// own header map when withHeader (a queued delivery builds it when it is
// handled, on the subscriber's goroutine; see subscription.run).
func (e *envelope) message(attempt int, withHeader bool) driver.Message {
	m := driver.Message{
		Subject: e.subject,
		Data:    e.data,
		Reply:   e.reply,
		Attempt: attempt,
	}
	if withHeader {
		m.Header = e.hdr.header()
	}
	return m
}

// delivery is one delivery attempt of an envelope to one subscription. It is
// also the message's Acker.
type delivery struct {
	msg     driver.Message
	env     *envelope
	attempt int
	sub     *subscription // set when queued; guarded by sub.mu until then
	due     time.Time     // when a delayed redelivery is due
	settled atomic.Bool
}

// newDelivery returns a delivery of env, in d when d is not nil.
func newDelivery(env *envelope, attempt int, d *delivery) *delivery {
	if d == nil {
		d = new(delivery)
	}
	d.msg, d.env, d.attempt = env.message(attempt, false), env, attempt
	if env.reply == "" {
		d.msg.Acker = d
	}
	return d
}

// ackable reports whether d is at-least-once (it has an Acker).
func (d *delivery) ackable() bool { return d.env.reply == "" }

func (d *delivery) settle() error {
	if !d.settled.CompareAndSwap(false, true) {
		return fmt.Errorf("%w (subject %q, attempt %d)", ErrAlreadySettled, d.env.subject, d.attempt)
	}
	return nil
}

// Ack reports the message handled; it is not delivered again.
func (d *delivery) Ack(context.Context) error { return d.settle() }

// Term stops redelivery of the message for good. The reason is not kept.
func (d *delivery) Term(context.Context, string) error { return d.settle() }

// Nak asks for redelivery as soon as possible, ahead of queued messages.
func (d *delivery) Nak(ctx context.Context) error { return d.NakWithDelay(ctx, 0) }

// NakWithDelay asks for redelivery once delay has passed. When the
// message's subscription has stopped and no open member of its group can
// take it, a group message is kept for the group's next member (an error
// wrapping ErrDiscarded if that pushed older messages out of the group's
// full orphan queue), and a fan-out message is discarded with an error
// wrapping driver.ErrClosed.
func (d *delivery) NakWithDelay(_ context.Context, delay time.Duration) error {
	if err := d.settle(); err != nil {
		return err
	}
	next := newDelivery(d.env, d.attempt+1, nil)
	if delay > 0 {
		next.due = time.Now().Add(delay)
	}
	return d.sub.redeliver(next)
}

// InProgress does nothing on an unsettled message: membus has no ack
// deadline.
func (d *delivery) InProgress(context.Context) error {
	if d.settled.Load() {
		return fmt.Errorf("%w (subject %q, attempt %d)", ErrAlreadySettled, d.env.subject, d.attempt)
	}
	return nil
}

// remaining is how long d must still wait before it is delivered.
func (d *delivery) remaining() time.Duration {
	if d.due.IsZero() {
		return 0
	}
	return time.Until(d.due)
}

// redeliver places next, a new attempt of a message s received, once
// next.due has passed: a group message goes to an open member of the group
// (round-robin), else back to s while s drains, else to the group's
// orphans; a fan-out message goes back to s while s is open or draining,
// and is otherwise discarded, counted, with an error wrapping
// driver.ErrClosed.
func (s *subscription) redeliver(next *delivery) error {
	if s.group != "" && len(s.b.toLive(s.group, []*delivery{next})) == 0 {
		return nil
	}
	if s.accept(next, true) {
		return nil
	}
	if s.group == "" {
		s.count(discards{naked: 1})
		return fmt.Errorf("membus: redelivery of %q: %v has stopped; message discarded: %w",
			next.env.subject, s, driver.ErrClosed)
	}
	if n := s.b.rehome(s.group, []*delivery{next}); n > 0 {
		s.count(discards{orphans: n})
		return &discardedError{msg: fmt.Sprintf("membus: redelivery of %q: kept for group %q; %s",
			next.env.subject, s.group, orphansDropped(n))}
	}
	return nil
}

// count adds n to what s reports discarded when its Drain returns.
func (s *subscription) count(n discards) {
	s.mu.Lock()
	s.lost.queued += n.queued
	s.lost.delayed += n.delayed
	s.lost.naked += n.naked
	s.lost.orphans += n.orphans
	s.mu.Unlock()
}

// accept queues d at the front of s's queue, or schedules it for d.due.
// A draining s takes it only when draining is true; a stopped s never does.
func (s *subscription) accept(d *delivery, draining bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == subStopped || (s.state == subDraining && (!draining || s.drainCtx.Err() != nil)) {
		return false
	}
	d.sub = s
	if delay := d.remaining(); delay > 0 {
		s.schedule(d, delay)
		return true
	}
	s.q.pushFront(d)
	s.wakeWorker()
	return true
}

// adopt queues orphans ds (oldest first) at the back of the queue of s,
// which is not routed to yet, so that they come before anything published
// to s. A delay they still had is not kept.
func (s *subscription) adopt(ds []*delivery) {
	if len(ds) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		d.sub, d.due = s, time.Time{}
		s.q.pushBack(d)
	}
	s.work.Broadcast()
}

// schedule moves d into the queue after delay; s.mu must be held.
func (s *subscription) schedule(d *delivery, delay time.Duration) {
	if s.timers == nil {
		s.timers = make(map[*delivery]*time.Timer)
	}
	s.timers[d] = time.AfterFunc(delay, func() { s.fire(d) })
}

// fire moves a delayed redelivery whose time has come into the queue,
// unless a stop took it over first.
func (s *subscription) fire(d *delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.timers[d]; !ok {
		return
	}
	delete(s.timers, d)
	s.q.pushFront(d)
	s.wakeWorker()
}
