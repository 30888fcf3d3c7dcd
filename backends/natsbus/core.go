package natsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Publish implements driver.Conn. On core NATS it returns once the message
// is in the connection's outgoing buffer (at-most-once: a message nobody
// subscribes to, or that is in the buffer when the process dies, is gone).
// While disconnected it is kept in the reconnect buffer and sent after the
// reconnect. On JetStream, for subjects the stream captures, it returns
// when the server has stored the message.
func (c *Conn) Publish(ctx context.Context, m *driver.Message) error {
	if err := checkLength(m.Subject); err != nil {
		return err
	}
	if c.js != nil {
		st, err := c.routes.streamFor(ctx, m.Subject)
		if err != nil {
			return err
		}
		if st != nil {
			return c.jsPublish(ctx, st, m)
		}
	}
	return c.corePublish(m)
}

func (c *Conn) corePublish(m *driver.Message) error {
	if c.isClosed() {
		return driver.ErrClosed
	}
	err := c.nc.PublishMsg(&nats.Msg{Subject: m.Subject, Header: nats.Header(m.Header), Data: m.Data})
	return c.mapErr(err, m)
}

// PublishBatch publishes every message and returns when all of them are
// through: on core NATS when the server has received them (a flush round
// trip), on JetStream when every store acknowledgement has arrived. The
// first error is returned (joined with any others); on JetStream the
// messages without an error were stored.
func (c *Conn) PublishBatch(ctx context.Context, ms []*driver.Message) error {
	if c.js != nil {
		return c.jsPublishBatch(ctx, ms)
	}
	var errs []error
	for _, m := range ms {
		errs = append(errs, c.corePublish(m))
	}
	return errors.Join(append(errs, c.flush(ctx))...)
}

// checkLength refuses a subject over subject.MaxSubjectLen before it
// reaches nats.go, whose Publish would return nil and then lose the
// connection (the server closes it when a control line exceeds
// max_control_line). Package bus validates subjects fully; this guards
// callers of the driver that do not.
func checkLength(s string) error {
	if len(s) > subject.MaxSubjectLen {
		return fmt.Errorf("natsbus: %w", subject.Validate(s))
	}
	return nil
}

// mapErr turns nats.go errors into the bus's sentinels, keeping the
// original in the chain.
func (c *Conn) mapErr(err error, m *driver.Message) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %d bytes of headers and data on %q exceed the server's max_payload of %d bytes: %w",
			driver.ErrPayloadTooLarge, len(m.Data)+headerSize(m.Header), m.Subject, c.nc.MaxPayload(), err)
	case errors.Is(err, nats.ErrBadSubject):
		return fmt.Errorf("%w: %q: %w", driver.ErrInvalidSubject, m.Subject, err)
	case errors.Is(err, nats.ErrBadQueueName):
		return fmt.Errorf("%w: group name: %w", driver.ErrInvalidSubject, err)
	case errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", driver.ErrClosed, err)
	case errors.Is(err, nats.ErrBadHeaderMsg):
		return fmt.Errorf("%w: %w", driver.ErrInvalidHeader, err)
	case errors.Is(err, nats.ErrReconnectBufExceeded):
		return fmt.Errorf("%w: disconnected, and the reconnect buffer (reconnect_buffer) is full: %w", driver.ErrBufferFull, err)
	}
	return err
}

// headerSize approximates the encoded size of h (NATS/1.0 line, "k: v\r\n"
// per value, final CRLF), for error messages.
func headerSize(h map[string][]string) int {
	if len(h) == 0 {
		return 0
	}
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// Request implements driver.Requester with NATS's native request/reply:
// the reply comes to the requester's own inbox. Without a deadline on ctx
// the request times out after 30 seconds.
func (c *Conn) Request(ctx context.Context, m *driver.Message) (*driver.Message, error) {
	if c.isClosed() {
		return nil, driver.ErrClosed
	}
	if err := checkLength(m.Subject); err != nil {
		return nil, err
	}
	if c.js != nil {
		if st := c.routes.lookup(m.Subject); st != nil {
			return nil, fmt.Errorf("%w: request to %q, a subject stream %q captures (JetStream would answer it with a store acknowledgement); use a request subject outside every stream",
				driver.ErrNotSupported, m.Subject, st.name)
		}
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultRequestTimeout)
	defer cancel()
	resp, err := c.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: m.Subject, Header: nats.Header(m.Header), Data: m.Data})
	switch {
	case err == nil:
		return &driver.Message{Subject: resp.Subject, Header: resp.Header, Data: resp.Data}, nil
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("%w on %q", driver.ErrNoResponders, m.Subject)
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return nil, fmt.Errorf("%w: request to %q: %w", driver.ErrTimeout, m.Subject, err)
	}
	return nil, c.mapErr(err, m)
}

// Subscribe implements driver.Conn. Core NATS subscriptions are
// at-most-once: a message is delivered once, with Attempt 1 and no Acker.
// Concurrency N is N subscriptions in one queue group (the group, or a
// private one for a plain subscription), so each message still reaches the
// subscription once. A pattern or group that breaks
// subject.ValidatePattern or subject.ValidateGroup is refused with
// driver.ErrInvalidSubject. On JetStream, subjects inside the stream are
// consumed from the stream (see the package documentation).
func (c *Conn) Subscribe(ctx context.Context, o driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	if c.closing.Load() {
		return nil, driver.ErrClosed
	}
	if err := checkSubscribe(o); err != nil {
		return nil, err
	}
	if c.js != nil {
		if o.DeadLetter != "" {
			if _, err := c.routes.streamFor(ctx, o.DeadLetter); err != nil {
				return nil, fmt.Errorf("natsbus: dead-letter subject of %q (a dead letter outside every stream is lost when nobody listens; declare it core to accept that): %w", o.Subject, err)
			}
		}
		st, err := c.routes.classify(ctx, o.Subject)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return c.jsSubscribe(ctx, st, o, h)
		}
	}
	return c.coreSubscribe(o, h)
}

// checkSubscribe applies the subject and group rules every backend
// shares, so that a bad pattern or group is ErrInvalidSubject here as on
// mem, and never reaches the server.
func checkSubscribe(o driver.SubscribeOptions) error {
	if err := subject.ValidatePattern(o.Subject); err != nil {
		return fmt.Errorf("natsbus: subscribe: %w", err)
	}
	if o.Group != "" {
		if err := subject.ValidateGroup(o.Group); err != nil {
			return fmt.Errorf("natsbus: subscribe to %q: %w", o.Subject, err)
		}
	}
	return nil
}

// coreSubscribe subscribes in a queue group: the subscription's group, or
// a private one ("_busway_<nuid>") for a plain subscription, also at
// Concurrency 1. The server sends a request's no-responders notice to the
// first plain (non-queue) subscription of the requesting connection that
// matches the reply subject; as no bus subscription is plain, that is
// always nats.go's own reply subscription, and a wildcard subscription
// ("_INBOX.>", "*.*.*") on the same connection cannot swallow the notice
// and leave the request waiting for its deadline.
func (c *Conn) coreSubscribe(o driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	n := max(o.Concurrency, 1)
	queue := o.Group
	if queue == "" {
		queue = "_busway_" + nuid.Next()
	}
	s := &coreSub{conn: c}
	s.ending.init()
	cb := func(msg *nats.Msg) {
		if !s.gate.Enter() {
			return // after a hard stop: dropped (at-most-once)
		}
		defer s.gate.Leave()
		h(&driver.Message{Subject: msg.Subject, Header: msg.Header, Data: msg.Data, Reply: msg.Reply, Attempt: 1, Native: msg})
	}
	for range n {
		ns, err := c.nc.QueueSubscribe(o.Subject, queue, cb)
		if err != nil {
			s.unsubscribe()
			return nil, c.mapErr(err, &driver.Message{Subject: o.Subject})
		}
		// Without pending limits a slow handler would make nats.go drop
		// messages at 500k/64 MiB; the defaults stay, and a drop is
		// reported through the error handler (logged) as ErrSlowConsumer.
		s.subs = append(s.subs, ns)
	}
	// Subscribe returns once the server has the interest, so a publish
	// from another connection after this reaches us.
	if err := c.nc.Flush(); err != nil {
		s.unsubscribe()
		return nil, c.mapErr(err, &driver.Message{Subject: o.Subject})
	}
	if err := c.addSub(s); err != nil {
		s.unsubscribe()
		return nil, err
	}
	return s, nil
}

// coreSub is a core NATS subscription (one nats.Subscription per unit of
// concurrency). It ends on its own when the connection closes for good
// (driver.Ender).
type coreSub struct {
	conn  *Conn
	subs  []*nats.Subscription
	gate  driver.Gate // callbacks running
	drain driver.Once
	ending
}

// Drain stops intake, lets nats.go deliver what it already received, and
// waits for the callbacks. When ctx ends first, the rest is dropped
// (at-most-once), the callbacks still running are waited for (the bus
// has cancelled their handlers' context), and ctx's error returned. A
// second Drain waits for the first, bounded by its own ctx.
func (s *coreSub) Drain(ctx context.Context) error {
	return s.drain.Do(ctx, "drain of "+s.subs[0].Subject, s.doDrain)
}

func (s *coreSub) doDrain(ctx context.Context) error {
	defer s.finish(nil)
	defer s.conn.removeSub(s)
	closed := make([]<-chan nats.SubStatus, len(s.subs))
	for i, ns := range s.subs {
		closed[i] = ns.StatusChanged(nats.SubscriptionClosed)
		if err := ns.Drain(); err != nil {
			_ = ns.Unsubscribe()
		}
	}
	for i, ns := range s.subs {
		if !ns.IsValid() {
			continue
		}
		select {
		case <-closed[i]:
		case <-ctx.Done():
			s.unsubscribe()
			s.gate.CloseAndWait()
			return fmt.Errorf("natsbus: drain %q: %w", ns.Subject, ctx.Err())
		}
	}
	s.gate.CloseAndWait()
	return nil
}

// endWith ends the subscription on its own: the connection closed for
// good. Its nats.go subscriptions are gone with the connection.
func (s *coreSub) endWith(err error) {
	if !s.finish(err) {
		return
	}
	s.conn.log.Error("natsbus: subscription ended", "subject", s.subs[0].Subject, "error", err)
	s.unsubscribe()
	go func() {
		s.gate.CloseAndWait()
		s.conn.removeSub(s)
	}()
}

func (s *coreSub) unsubscribe() {
	for _, ns := range s.subs {
		_ = ns.Unsubscribe()
	}
}
