package wmbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// ErrAlreadySettled is returned by an Acker method called on a message that
// was already settled the other way: Ack after Nak, or Nak after Ack.
// Watermill's Ack and Nack are idempotent, so settling twice the same way
// is not an error.
var ErrAlreadySettled = errors.New("wmbus: message already settled")

// subscription is one Conn.Subscribe: a Watermill output channel read by a
// fixed set of reader goroutines, each calling the handler for one message
// at a time.
type subscription struct {
	c     *Conn
	topic string
	wsub  message.Subscriber
	owned bool // wsub came from GroupSubscriber; closed when done
	h     driver.Handler
	tries *attempts // delivery counts by message UUID; nil when off

	cancelIn context.CancelFunc // cancels Watermill's Subscribe ctx: no more intake
	readers  atomic.Int32

	stop     chan struct{} // closed when Drain starts
	stopOnce sync.Once
	drain    driver.Once
	done     chan struct{} // closed when every reader has exited
	closeErr error         // set before done is closed
	endErr   error         // set before done is closed when Watermill ended it
}

// startSubscription subscribes wsub to opts.Subject and starts the readers.
func (c *Conn) startSubscription(ctx context.Context, wsub message.Subscriber, owned bool,
	opts driver.SubscribeOptions, h driver.Handler) (*subscription, error) {
	// Watermill ends the subscription when this ctx ends: it must outlive
	// the Subscribe call, and end only when Drain starts.
	inCtx, cancelIn := context.WithCancel(context.WithoutCancel(ctx))
	ch, err := wsub.Subscribe(inCtx, opts.Subject)
	if err != nil {
		cancelIn()
		return nil, err
	}
	s := &subscription{
		c: c, topic: opts.Subject, wsub: wsub, owned: owned, h: h,
		tries:    newAttempts(c.opts.AttemptMemory),
		cancelIn: cancelIn,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	n := max(1, opts.Concurrency)
	s.readers.Store(int32(n))
	for range n {
		go s.read(ch)
	}
	return s, nil
}

// stopping reports whether Drain has started.
func (s *subscription) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// read delivers messages from ch one at a time until Drain starts or ch is
// closed. The last reader to exit finishes the subscription.
func (s *subscription) read(ch <-chan *message.Message) {
	defer func() {
		if s.readers.Add(-1) == 0 {
			s.finish()
		}
	}()
	for !s.stopping() {
		select {
		case <-s.stop:
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			if s.stopping() {
				msg.Nack() // taken after Drain started: not ours to handle
				return
			}
			s.deliver(msg)
		}
	}
}

// deliver calls the handler for msg and makes sure msg ends up settled.
// It counts the deliveries of msg's UUID into Attempt, and forgets the
// count once msg is acked; a nacked message keeps it for its redelivery.
func (s *subscription) deliver(msg *message.Message) {
	dm := fromWatermill(s.topic, msg)
	dm.Attempt = s.tries.delivered(msg.UUID)
	dm.Acker = &acker{msg: msg, stop: s.stop}
	s.h(dm)
	select {
	case <-msg.Acked():
		s.tries.forget(msg.UUID)
	case <-msg.Nacked():
	default:
		s.c.log.Warn("wmbus: handler returned without settling the message; nacking it",
			"topic", s.topic, "uuid", msg.UUID)
		msg.Nack()
	}
}

// finish releases the subscription once its readers have exited. When
// Drain did not start it, Watermill closed the output channel on its own:
// the subscription ended, and Err says so.
func (s *subscription) finish() {
	if !s.stopping() {
		s.endErr = fmt.Errorf("wmbus: subscription to %q: Watermill closed its output channel; it receives no more messages: %w",
			s.topic, driver.ErrClosed)
		s.c.log.Warn("wmbus: Watermill closed the output channel of a live subscription; it receives no more messages",
			"topic", s.topic)
	}
	s.cancelIn()
	if s.owned {
		if err := s.wsub.Close(); err != nil {
			s.closeErr = fmt.Errorf("wmbus: close group subscriber of %q: %w", s.topic, err)
			s.c.log.Warn("wmbus: closing a group subscriber failed", "topic", s.topic, "error", err)
		}
	}
	s.c.subs.Remove(s)
	close(s.done)
}

// Done is closed when the subscription has ended: drained, or ended by
// Watermill closing its output channel (see Err). It implements
// driver.Ender.
func (s *subscription) Done() <-chan struct{} { return s.done }

// Err is nil while the subscription is live and after a Drain, and an
// error wrapping driver.ErrClosed when Watermill closed its output channel
// under it (the Watermill subscriber was closed, or failed).
func (s *subscription) Err() error {
	select {
	case <-s.done:
		return s.endErr
	default:
		return nil
	}
}

// Drain stops reading new messages (it cancels the context given to the
// Watermill subscriber's Subscribe), lets the handlers in flight finish,
// and returns when every reader has exited. When ctx ends first, Drain
// still returns only once the handlers in flight have returned (the bus
// cancels its handlers' context at that point), with an error wrapping
// ctx.Err(); their messages are settled when they return. A message taken
// from the channel after Drain started is nacked. A later Drain waits for
// the first, bounded by its own ctx, and returns the first's result
// (driver.Once): nil, the error of closing a group subscriber, or the
// first's ctx error.
func (s *subscription) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "wmbus: drain of "+s.topic, func(ctx context.Context) error {
		s.stopOnce.Do(func() {
			close(s.stop)
			s.cancelIn()
		})
		select {
		case <-s.done:
			return s.closeErr
		case <-ctx.Done():
			<-s.done
			return errors.Join(fmt.Errorf("wmbus: drain of %q: %w", s.topic, ctx.Err()), s.closeErr)
		}
	})
}

// acker settles one Watermill message. It implements driver.Acker and
// driver.DelayNaker.
type acker struct {
	msg  *message.Message
	stop <-chan struct{} // the subscription's; cuts a NakWithDelay short
}

// Ack calls the Watermill message's Ack.
func (a *acker) Ack(context.Context) error {
	if !a.msg.Ack() {
		return fmt.Errorf("%w: ack of message %s after nack", ErrAlreadySettled, a.msg.UUID)
	}
	return nil
}

// Nak calls the Watermill message's Nack: the Watermill subscriber
// redelivers it (at once on gochannel).
func (a *acker) Nak(context.Context) error {
	if !a.msg.Nack() {
		return fmt.Errorf("%w: nack of message %s after ack", ErrAlreadySettled, a.msg.UUID)
	}
	return nil
}

// NakWithDelay waits for delay, then nacks. Watermill has no delayed nack,
// so the wait holds one of the subscription's reader goroutines, as
// Watermill's own Retry middleware does; the subscription's next message
// waits too when Concurrency is 1. Drain and the end of ctx cut the wait
// short.
func (a *acker) NakWithDelay(ctx context.Context, delay time.Duration) error {
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-a.stop:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return a.Nak(ctx)
}

var (
	_ driver.Acker        = (*acker)(nil)
	_ driver.DelayNaker   = (*acker)(nil)
	_ driver.Subscription = (*subscription)(nil)
	_ driver.Ender        = (*subscription)(nil)
)
