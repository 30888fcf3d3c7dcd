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

// abandonGrace bounds how long a callback of a stopping subscription waits
// for the backend's hard stop (which cancels the callback's context) before
// it naks its message anyway. Waiting avoids a nak that the backend would
// hand straight back to the same, still open, subscription.
const abandonGrace = 100 * time.Millisecond

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

	stop     chan struct{} // closed when the subscription starts stopping
	mu       sync.Mutex
	stopping bool           // guarded by mu; no new callback enters once set
	unwatch  func() bool    // guarded by mu; stops watching Subscribe's ctx
	inflight sync.WaitGroup // callbacks that may send on out

	once sync.Once
	done chan struct{} // closed when out is closed
	err  error         // set before done is closed
}

// newFaceSub returns an unregistered, unclaimed subscription to topic.
func newFaceSub(s *subscriber, topic string) *faceSub {
	return &faceSub{
		s: s, topic: topic,
		out:     make(chan *message.Message),
		claimed: make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
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

// enter registers a callback that may send on out; false once stopping.
func (f *faceSub) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return false
	}
	f.inflight.Add(1)
	return true
}

// handle is the backend callback: it waits until a Subscribe owns the
// subscription, sends the message on out, waits for Ack or Nack and settles
// the backend message the same way. When the subscription stops first, the
// message is naked.
func (f *faceSub) handle(dctx context.Context, dm *driver.Message) {
	if !f.enter() {
		f.abandon(dctx, dm)
		return
	}
	defer f.inflight.Done()
	select {
	case <-f.claimed:
	case <-f.stop:
		f.abandon(dctx, dm)
		return
	case <-dctx.Done():
		f.settle(dctx, dm, false)
		return
	}
	msg := decodeFace(dm)
	mctx, cancel := context.WithCancel(f.ctx)
	defer cancel() // a message's context ends when it is settled
	msg.SetContext(mctx)
	select {
	case f.out <- msg:
	case <-f.stop:
		f.abandon(dctx, dm)
		return
	case <-dctx.Done():
		f.settle(dctx, dm, false)
		return
	}
	select {
	case <-msg.Acked():
		f.settle(dctx, dm, true)
	case <-msg.Nacked():
		f.settle(dctx, dm, false)
	case <-f.stop:
		f.abandon(dctx, dm)
	case <-dctx.Done():
		f.settle(dctx, dm, false)
	}
}

// abandon naks a message of a stopping subscription, after the backend's
// hard stop or abandonGrace, whichever comes first.
func (f *faceSub) abandon(dctx context.Context, dm *driver.Message) {
	t := time.NewTimer(abandonGrace)
	select {
	case <-dctx.Done():
	case <-t.C:
	}
	t.Stop()
	f.settle(dctx, dm, false)
}

// settle acks or naks dm, with SubscriberConfig.NackDelay when the backend
// can delay. At-most-once deliveries (no Acker) need nothing.
func (f *faceSub) settle(dctx context.Context, dm *driver.Message, ok bool) {
	if dm.Acker == nil {
		return
	}
	ctx := context.WithoutCancel(dctx)
	var err error
	d, canDelay := dm.Acker.(driver.DelayNaker)
	switch {
	case ok:
		err = dm.Acker.Ack(ctx)
	case f.s.cfg.NackDelay > 0 && canDelay:
		err = d.NakWithDelay(ctx, f.s.cfg.NackDelay)
	default:
		err = dm.Acker.Nak(ctx)
	}
	if err != nil {
		f.s.log.Warn("wmbus: settling a message failed", "topic", f.topic, "ack", ok, "error", err)
	}
}

// close stops the subscription at once and closes out, exactly once; every
// call returns when out is closed. Messages not yet acked are naked.
func (f *faceSub) close() error {
	f.once.Do(func() {
		f.mu.Lock()
		f.stopping = true
		unwatch := f.unwatch
		f.mu.Unlock()
		close(f.stop)
		if unwatch != nil {
			unwatch()
		}
		// An ended context asks the backend for a hard stop: no queued
		// message is started, handler contexts are cancelled.
		hard, cancel := context.WithCancel(context.Background())
		cancel()
		if err := f.ds.Drain(hard); err != nil && !errors.Is(err, context.Canceled) {
			f.err = fmt.Errorf("wmbus: stop subscription to %q: %w", f.topic, err)
		}
		f.inflight.Wait()
		close(f.out)
		if f.cancel != nil {
			f.cancel()
		}
		f.s.forget(f)
		close(f.done)
	})
	<-f.done
	return f.err
}
