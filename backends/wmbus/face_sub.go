package wmbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// faceSub is one subscription of a subscriber from NewSubscriber: a backend
// subscription whose callback hands each message to a Watermill channel and
// waits for the consumer's Ack or Nack.
type faceSub struct {
	s     *subscriber
	topic string
	out   chan *message.Message
	ds    driver.Subscription // set before the subscription is registered

	// claimed is closed when a Subscribe call owns out; ctx and cancel are
	// set before, under s.mu.
	claimed chan struct{}
	ctx     context.Context    // parent of message contexts
	cancel  context.CancelFunc // ends ctx

	stop    chan struct{} // closed when the subscription starts stopping
	mu      sync.Mutex
	unwatch func() bool // guarded by mu; stops watching Subscribe's ctx
	gate    driver.Gate // callbacks that may send on out
	closing driver.Once // runs close once; closed out is its end
}

// newFaceSub returns an unregistered, unclaimed subscription to topic.
func newFaceSub(s *subscriber, topic string) *faceSub {
	return &faceSub{
		s: s, topic: topic,
		out:     make(chan *message.Message),
		claimed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
}

// claim hands the subscription to a Subscribe call with context ctx; s.mu
// must be held. The subscription stops when ctx ends.
func (f *faceSub) claim(ctx context.Context) {
	f.ctx, f.cancel = context.WithCancel(ctx)
	unwatch := context.AfterFunc(ctx, func() { _ = f.close() })
	f.mu.Lock()
	f.unwatch = unwatch
	f.mu.Unlock()
	close(f.claimed)
}

// handle is the backend callback: it passes the message to the consumer
// and settles the backend message as the consumer did. A message the
// consumer did not ack before the subscription stopped is naked.
func (f *faceSub) handle(dm *driver.Message) {
	if !f.gate.Enter() {
		f.settle(dm, false)
		return
	}
	defer f.gate.Leave()
	f.settle(dm, f.pass(dm))
}

// pass waits until a Subscribe owns the subscription, sends the message on
// out and waits for Ack or Nack. It reports whether the consumer acked;
// false also when the subscription stopped first.
func (f *faceSub) pass(dm *driver.Message) bool {
	select {
	case <-f.stop: // stopping: no new message goes out
		return false
	default:
	}
	select {
	case <-f.claimed:
	case <-f.stop:
		return false
	}
	msg := decodeFace(dm)
	mctx, cancel := context.WithCancel(f.ctx)
	defer cancel() // a message's context ends when it is settled
	msg.SetContext(mctx)
	select {
	case f.out <- msg:
	case <-f.stop:
		return false
	}
	select {
	case <-msg.Acked():
		return true
	case <-msg.Nacked():
		return false
	case <-f.stop:
		// An Ack that came before the stop wins: select picks at random
		// among ready cases, and an acked message must not be handed back.
		select {
		case <-msg.Acked():
			return true
		default:
			return false
		}
	}
}

// settle acks or naks dm, after SubscriberConfig.NackDelay: a delayed nak
// where the backend can delay, else a wait in process (cut short when the
// subscription stops) before the nak. At-most-once deliveries (no Acker)
// need nothing.
func (f *faceSub) settle(dm *driver.Message, ok bool) {
	if dm.Acker == nil {
		return
	}
	ctx := context.Background()
	delay := f.s.cfg.NackDelay
	var err error
	d, canDelay := dm.Acker.(driver.DelayNaker)
	switch {
	case ok:
		err = dm.Acker.Ack(ctx)
	case delay > 0 && canDelay:
		err = d.NakWithDelay(ctx, delay)
	default:
		if delay > 0 {
			f.wait(delay)
		}
		err = dm.Acker.Nak(ctx)
	}
	if err != nil {
		f.s.log.Warn("wmbus: settling a message failed", "topic", f.topic, "ack", ok, "error", err)
	}
}

// wait waits d, or until the subscription stops.
func (f *faceSub) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-f.stop:
	}
}

// close stops the subscription at once and closes out, exactly once; every
// call returns when out is closed, with the first call's result. Messages
// not yet acked are naked.
func (f *faceSub) close() error {
	return f.closing.Do(context.Background(), "stop of Watermill subscription", func(context.Context) error {
		close(f.stop)
		f.mu.Lock()
		unwatch := f.unwatch
		f.mu.Unlock()
		if unwatch != nil {
			unwatch()
		}
		// An ended context asks the backend for a hard stop: no queued
		// message is started.
		hard, cancel := context.WithCancel(context.Background())
		cancel()
		var err error
		if derr := f.ds.Drain(hard); derr != nil && !errors.Is(derr, context.Canceled) {
			err = fmt.Errorf("wmbus: stop subscription to %q: %w", f.topic, derr)
		}
		f.gate.CloseAndWait()
		close(f.out)
		if f.cancel != nil {
			f.cancel()
		}
		f.s.forget(f)
		return err
	})
}
