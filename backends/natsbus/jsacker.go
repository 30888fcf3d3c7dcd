package natsbus

import (
	"context"
	"sync"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/nats-io/nats.go/jetstream"
)

// delivery is one delivered message: the driver message and its acker in
// one allocation.
type delivery struct {
	dm  driver.Message
	msg jetstream.Msg
	sub *jsSub
	seq uint64 // stream sequence
	// mu orders the heartbeat's InProgress against settlement, so that no
	// InProgress follows the ack or nak (which would reset the server's
	// redelivery timer of a NakWithDelay).
	mu      sync.Mutex
	settled bool
}

// Origin implements driver.Originer.
func (d *delivery) Origin() (string, uint64) { return d.sub.owner.stream.name, d.seq }

// settle sends an ack, nak or term once; later ones are ignored, as the
// server would ignore them.
func (d *delivery) settle(send func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	d.settled = true
	return send()
}

// Ack implements driver.Acker.
func (d *delivery) Ack(context.Context) error {
	d.sub.owner.track.settled(d.seq)
	return d.settle(d.msg.Ack)
}

// Nak implements driver.Acker: redelivery at once, or, once the
// subscription is stopping (the bus hands back what it did not handle),
// after a random delay below min(AckWait, 5s), so that a hard stop does
// not send every buffered message back at the same moment.
func (d *delivery) Nak(context.Context) error {
	if d.sub.stopping.Load() {
		delay := d.sub.spread()
		return d.settle(func() error { return d.msg.NakWithDelay(delay) })
	}
	return d.settle(d.msg.Nak)
}

// NakWithDelay implements driver.DelayNaker.
func (d *delivery) NakWithDelay(_ context.Context, delay time.Duration) error {
	return d.settle(func() error { return d.msg.NakWithDelay(delay) })
}

// Term implements driver.Terminator: no more deliveries, with the reason
// recorded in the server's advisory. Servers before 2.10.4 ignore a Term
// with a reason (the message would come back every AckWait): they get a
// plain Term.
func (d *delivery) Term(_ context.Context, reason string) error {
	d.sub.owner.track.settled(d.seq)
	if !d.sub.conn.serverAtLeast(2, 10, 4) {
		return d.settle(d.msg.Term)
	}
	return d.settle(func() error { return d.msg.TermWithReason(reason) })
}

// InProgress implements driver.Progresser; after settlement it does
// nothing.
func (d *delivery) InProgress(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	return d.msg.InProgress()
}

// ending is a subscription's end, for driver.Ender.
type ending struct {
	once sync.Once
	done chan struct{}
	err  error
}

// init makes the Done channel; call it before the subscription is shared.
func (e *ending) init() { e.done = make(chan struct{}) }

// finish ends the subscription with err (nil after a Drain); it reports
// whether this call did.
func (e *ending) finish(err error) (first bool) {
	e.once.Do(func() {
		e.err, first = err, true
		close(e.done)
	})
	return first
}

// Done implements driver.Ender: closed when the subscription ended,
// drained or on its own.
func (e *ending) Done() <-chan struct{} { return e.done }

// Err implements driver.Ender: why the subscription ended on its own; nil
// while it runs and after a Drain.
func (e *ending) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}
