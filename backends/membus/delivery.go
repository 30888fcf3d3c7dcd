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
	header  map[string][]string
	data    []byte
	first   delivery // storage for the first delivery, allocated with e
}

// message returns a fresh driver.Message for one delivery of e.
func (e *envelope) message(attempt int) driver.Message {
	return driver.Message{
		Subject: e.subject,
		Header:  e.header,
		Data:    e.data,
		Reply:   e.reply,
		Attempt: attempt,
	}
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
	d.msg, d.env, d.attempt = env.message(attempt), env, attempt
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

// NakWithDelay asks for redelivery once delay has passed.
func (d *delivery) NakWithDelay(_ context.Context, delay time.Duration) error {
	if err := d.settle(); err != nil {
		return err
	}
	d.sub.redeliver(newDelivery(d.env, d.attempt+1, nil), delay)
	return nil
}

// InProgress does nothing on an unsettled message: membus has no ack
// deadline.
func (d *delivery) InProgress(context.Context) error {
	if d.settled.Load() {
		return fmt.Errorf("%w (subject %q, attempt %d)", ErrAlreadySettled, d.env.subject, d.attempt)
	}
	return nil
}

// redeliver places next, a new attempt of a message s received, after
// delay: a group message goes to a live member of the group (round-robin),
// or back to s while s drains; a fan-out message goes back to s. When s has
// stopped and no member can take it, the message is discarded: its
// subscriber asked to stop.
func (s *subscription) redeliver(next *delivery, delay time.Duration) {
	if s.group != "" && s.toLiveMember(next, delay) {
		return
	}
	s.accept(next, delay, true)
}

// toLiveMember hands d to an open member of s's group, round-robin.
func (s *subscription) toLiveMember(d *delivery, delay time.Duration) bool {
	return s.b.toLiveMember(d.env.subject, s.group, func(m *subscription) bool {
		return m.accept(d, delay, false)
	})
}

// accept queues d at the front of s's queue, or schedules it after delay.
// A draining s takes it only when draining is true; a stopped s never does.
func (s *subscription) accept(d *delivery, delay time.Duration, draining bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == subStopped || (s.state == subDraining && !draining) {
		return false
	}
	d.sub = s
	if delay <= 0 {
		s.q.pushFront(d)
		s.wakeWorker()
		return true
	}
	d.due = time.Now().Add(delay)
	if s.timers == nil {
		s.timers = make(map[*delivery]*time.Timer)
	}
	s.timers[d] = time.AfterFunc(delay, func() { s.fire(d) })
	return true
}

// fire moves a delayed redelivery whose time has come into the queue,
// unless a hard stop took it over first.
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

// handOff gives a group message that s will never start to another live
// member of the group, with its attempt unchanged and what remains of its
// delay. Fan-out messages of s are discarded.
func (s *subscription) handOff(d *delivery) {
	if s.group == "" {
		return
	}
	var delay time.Duration
	if !d.due.IsZero() {
		delay = time.Until(d.due)
	}
	s.toLiveMember(d, delay)
}
