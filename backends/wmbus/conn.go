package wmbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// Options configures a Conn made by NewConn.
type Options struct {
	// GroupSubscriber makes a Watermill subscriber that is a member of the
	// named consumer group. Watermill fixes a subscriber's consumer group
	// when the subscriber is constructed (Kafka's ConsumerGroup, AMQP's
	// queue name, SQL's consumer group...), so a Conn needs a factory to
	// honour SubscribeOptions.Group. The Conn calls it once per group
	// subscription and owns the result: it closes it when the subscription
	// is drained. Without it, a subscription with a Group fails with
	// driver.ErrNotSupported.
	GroupSubscriber func(group string) (message.Subscriber, error)
	// Logger receives what the Conn cannot return as an error: a message
	// its handler left unsettled, a Watermill channel closed under a live
	// subscription, a group subscriber that failed to close. Nil means
	// slog.Default().
	Logger *slog.Logger
	// CloseUnderlying makes Conn.Close close the publisher and the
	// subscriber given to NewConn. By default they are the caller's: the
	// Conn never closes them, and the caller closes them after the Conn.
	// Subscribers made by GroupSubscriber are always the Conn's.
	CloseUnderlying bool
	// AttemptMemory bounds how many messages each subscription keeps a
	// delivery count for. Watermill reports no delivery count, so a
	// subscription counts the deliveries of each message UUID itself and
	// sets driver.Message.Attempt (1 for the first delivery), forgetting
	// a message once it is acked. When more messages than AttemptMemory
	// are awaiting redelivery, the one delivered least recently is
	// forgotten first, and its next delivery counts as the first again.
	// Zero means 10000; a negative value turns counting off: Attempt is
	// then 0, and a subscription with an attempt limit
	// (SubscribeOptions.MaxAttempts; bus.MaxAttempts, 5 by default) fails
	// with driver.ErrNotSupported. Counts are per process and
	// best-effort: see the package documentation.
	AttemptMemory int
}

// Conn is a driver.Conn over a Watermill publisher and subscriber. Make one
// with NewConn and open a bus over it with bus.New. Its methods are safe for
// concurrent use.
type Conn struct {
	pub  message.Publisher
	sub  message.Subscriber
	opts Options
	log  *slog.Logger

	subs      driver.Set[*subscription] // live subscriptions; closed by Close
	closeOnce driver.Once
}

var (
	_ driver.Conn = (*Conn)(nil)
	_ driver.Aser = (*Conn)(nil)
)

// NewConn returns a Conn that publishes through pub and subscribes through
// sub. Either may be nil for a publish-only or subscribe-only Conn (a
// subscribe-only Conn may still subscribe to groups through
// Options.GroupSubscriber), but not both. See the package documentation for
// how messages map and what delivery guarantees hold.
func NewConn(pub message.Publisher, sub message.Subscriber, opts Options) (*Conn, error) {
	if pub == nil && sub == nil && opts.GroupSubscriber == nil {
		return nil, errors.New("wmbus: NewConn needs a Watermill publisher, subscriber or group subscriber factory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Conn{pub: pub, sub: sub, opts: opts, log: log}, nil
}

// Publish hands m to the Watermill publisher on topic m.Subject, with m's
// headers as metadata and m.Data as payload, and returns when the Watermill
// publisher's Publish returns (what that promises is the publisher's: Kafka
// and SQL publishers return once the broker or database took the message,
// gochannel returns at once). The message's context is ctx. Publish fails
// with driver.ErrInvalidHeader for a header with several values, with
// driver.ErrNotSupported for a request (m.Reply set) or when the Conn has
// no publisher, and with driver.ErrClosed after Close.
func (c *Conn) Publish(ctx context.Context, m *driver.Message) error {
	switch {
	case c.subs.Closed():
		return fmt.Errorf("wmbus: publish to %q: %w", m.Subject, driver.ErrClosed)
	case c.pub == nil:
		return fmt.Errorf("wmbus: publish to %q: %w: the Conn has no Watermill publisher", m.Subject, driver.ErrNotSupported)
	case m.Reply != "":
		return fmt.Errorf("wmbus: publish to %q: %w: request/reply over Watermill", m.Subject, driver.ErrNotSupported)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wmbus: publish to %q: %w", m.Subject, err)
	}
	msg, err := toWatermill(m)
	if err != nil {
		return fmt.Errorf("wmbus: publish to %q: %w", m.Subject, err)
	}
	msg.SetContext(ctx)
	if err := c.pub.Publish(m.Subject, msg); err != nil {
		return fmt.Errorf("wmbus: publish to %q: %w", m.Subject, err)
	}
	return nil
}

// Subscribe subscribes to the Watermill topic opts.Subject and starts
// opts.Concurrency goroutines that read the subscriber's channel and call h
// for each message. A subscription with a Group goes through a subscriber
// made by Options.GroupSubscriber. Topics are matched exactly, as Watermill
// does: a pattern with a "*" or ">" token fails with driver.ErrNotSupported.
//
// Subscribe returns when the Watermill subscriber's Subscribe returns. Most
// implementations (gochannel without Persistent, Kafka, AMQP, SQL) are
// subscribed by then; for the others a message published right after
// Subscribe returns may be missed.
func (c *Conn) Subscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	if c.subs.Closed() {
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", opts.Subject, driver.ErrClosed)
	}
	if err := c.checkOptions(opts); err != nil {
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", opts.Subject, err)
	}
	wsub, owned, err := c.subscriberFor(opts.Group)
	if err != nil {
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", opts.Subject, err)
	}
	s, err := c.startSubscription(ctx, wsub, owned, opts, h)
	if err != nil {
		if owned {
			err = errors.Join(err, wsub.Close())
		}
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", opts.Subject, err)
	}
	if err := c.subs.Add(s, nil); err != nil { // Close began meanwhile: undo
		_ = s.Drain(ctx)
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", opts.Subject, err)
	}
	return s, nil
}

// checkOptions refuses what the Conn cannot honour (a Group without a
// factory is refused by subscriberFor).
func (c *Conn) checkOptions(opts driver.SubscribeOptions) error {
	switch {
	case hasWildcard(opts.Subject):
		return fmt.Errorf("%w: wildcards (Watermill topics match exactly)", driver.ErrNotSupported)
	case opts.DeadLetter != "" && c.pub == nil:
		return fmt.Errorf("%w: dead-letter subject %q: the Conn has no Watermill publisher to send it with",
			driver.ErrNotSupported, opts.DeadLetter)
	case opts.MaxAttempts > 0 && c.opts.AttemptMemory < 0:
		return fmt.Errorf("%w: MaxAttempts %d: attempt counting is off (Options.AttemptMemory < 0); use no limit",
			driver.ErrNotSupported, opts.MaxAttempts)
	}
	return nil
}

// subscriberFor returns the Watermill subscriber for a group ("" for
// fan-out) and whether the Conn owns it.
func (c *Conn) subscriberFor(group string) (message.Subscriber, bool, error) {
	if group == "" {
		if c.sub == nil {
			return nil, false, fmt.Errorf("%w: the Conn has no Watermill subscriber", driver.ErrNotSupported)
		}
		return c.sub, false, nil
	}
	if c.opts.GroupSubscriber == nil {
		return nil, false, fmt.Errorf("%w: consumer group %q: Watermill fixes groups when a subscriber is made; set Options.GroupSubscriber",
			driver.ErrNotSupported, group)
	}
	s, err := c.opts.GroupSubscriber(group)
	if err != nil {
		return nil, false, fmt.Errorf("consumer group %q: %w", group, err)
	}
	if s == nil {
		return nil, false, fmt.Errorf("consumer group %q: GroupSubscriber returned a nil subscriber", group)
	}
	return s, true, nil
}

// Close drains every subscription still open, bounded by ctx, and, with
// Options.CloseUnderlying, closes the Watermill publisher and subscriber.
// Once Close has begun, Publish and Subscribe fail with driver.ErrClosed.
// A later Close waits for the first (bounded by its own ctx) and returns
// the first's result.
func (c *Conn) Close(ctx context.Context) error {
	return c.closeOnce.Do(ctx, "close of the Watermill Conn", func(ctx context.Context) error {
		subs, _ := c.subs.Close()
		err := driver.DrainAll(ctx, subs)
		if c.opts.CloseUnderlying {
			pubErr, subErr := c.closeUnderlying()
			err = errors.Join(err, pubErr, subErr)
		}
		return err
	})
}

// closeUnderlying closes the publisher and the subscriber, once when they
// are the same value (as a gochannel.GoChannel is).
func (c *Conn) closeUnderlying() (pubErr, subErr error) {
	if c.pub != nil {
		if err := c.pub.Close(); err != nil {
			pubErr = fmt.Errorf("wmbus: close Watermill publisher: %w", err)
		}
	}
	if c.sub != nil && !sameValue(c.pub, c.sub) {
		if err := c.sub.Close(); err != nil {
			subErr = fmt.Errorf("wmbus: close Watermill subscriber: %w", err)
		}
	}
	return pubErr, subErr
}

// sameValue reports whether a and b hold the same comparable value.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// As supports *message.Publisher and *message.Subscriber (the values given
// to NewConn), and a pointer to any type one of them has or implements, for
// example **gochannel.GoChannel. It reports false when the Conn has no such
// value.
func (c *Conn) As(target any) bool {
	switch p := target.(type) {
	case *message.Publisher:
		*p = c.pub
		return c.pub != nil
	case *message.Subscriber:
		*p = c.sub
		return c.sub != nil
	}
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	for _, x := range []any{c.pub, c.sub} {
		if x != nil && reflect.TypeOf(x).AssignableTo(v.Elem().Type()) {
			v.Elem().Set(reflect.ValueOf(x))
			return true
		}
	}
	return false
}

// hasWildcard reports whether pattern has a "*" or ">" token.
func hasWildcard(pattern string) bool {
	for tok := range strings.SplitSeq(pattern, ".") {
		if tok == "*" || tok == ">" {
			return true
		}
	}
	return false
}
