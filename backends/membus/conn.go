package membus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nuid"
)

// Conn is a connection to an in-process broker. It implements driver.Conn,
// driver.Requester and driver.Aser. Its methods are safe for concurrent
// use.
type Conn struct {
	b    *broker
	opts Options

	closed    atomic.Bool   // Publish, Subscribe, Request fail
	done      chan struct{} // closed with closed
	closeOnce sync.Once
	orphaned  int // orphans discarded with the broker; set by closeOnce

	close driver.Once
	subs  driver.Set[*subscription]

	inbox     string        // "_INBOX.<id>.", this Conn's reply prefix
	nextReply atomic.Uint64 // last token of the next reply subject
}

var (
	_ driver.Conn      = (*Conn)(nil)
	_ driver.Requester = (*Conn)(nil)
	_ driver.Aser      = (*Conn)(nil)

	_ driver.Acker      = (*delivery)(nil)
	_ driver.DelayNaker = (*delivery)(nil)
	_ driver.Terminator = (*delivery)(nil)
	_ driver.Progresser = (*delivery)(nil)
)

// Open returns a Conn on the broker that opts.Name selects: the shared
// broker of that name, created on first use and forgotten when its last
// Conn closes, or a private broker when the name is empty.
func Open(opts Options) (*Conn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Conn{
		b:     acquire(opts.Name),
		opts:  opts,
		done:  make(chan struct{}),
		inbox: inboxPrefix + nuid.Next() + ".",
	}, nil
}

// MaxPayload returns the limit on the NATS wire size of headers plus body.
func (c *Conn) MaxPayload() int { return c.opts.MaxPayload }

// PublishCopies implements driver.PublishCopier: Publish and Request copy
// the data and the header (names and values) before they send, as NATS
// serialises a message when it is published, and keep no reference to the
// message.
func (c *Conn) PublishCopies() bool { return true }

// As sets target, which must be a **Conn, to c and reports whether it did.
func (c *Conn) As(target any) bool {
	if p, ok := target.(**Conn); ok {
		*p = c
		return true
	}
	return false
}

// Subscribe starts delivering messages matching opts.Subject to h, from
// opts.Concurrency worker goroutines (0 means 1). A non-empty opts.Group
// makes the subscription compete with the other members of that group; it
// first gets, in order, the messages the broker kept for the group that
// match opts.Subject (see the package documentation).
func (c *Conn) Subscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) (driver.Subscription, error) {
	if err := c.checkSubscribe(ctx, opts, h); err != nil {
		return nil, err
	}
	s := newSubscription(c, opts, h)
	// Routed to under the set's lock, so that Close drains s only once it is.
	err := c.subs.Add(s, func() {
		s.start(max(opts.Concurrency, 1))
		c.b.idle.track(s)
		c.b.join(s)
	})
	if err != nil {
		return nil, fmt.Errorf("membus: subscribe to %q: %w", opts.Subject, err)
	}
	return s, nil
}

func (c *Conn) checkSubscribe(ctx context.Context, opts driver.SubscribeOptions, h driver.Handler) error {
	if c.closed.Load() {
		return fmt.Errorf("membus: subscribe to %q: %w", opts.Subject, driver.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("membus: subscribe to %q: %w", opts.Subject, err)
	}
	if err := subject.ValidatePattern(opts.Subject); err != nil {
		return fmt.Errorf("membus: subscribe: %w", err)
	}
	if opts.Group != "" {
		if err := subject.ValidateGroup(opts.Group); err != nil {
			return fmt.Errorf("membus: subscribe to %q: %w", opts.Subject, err)
		}
	}
	if opts.Concurrency < 0 {
		return fmt.Errorf("membus: subscribe to %q: negative Concurrency %d", opts.Subject, opts.Concurrency)
	}
	if h == nil {
		return fmt.Errorf("membus: subscribe to %q: nil handler", opts.Subject)
	}
	return nil
}

// Close drains the subscriptions still open, all at once, each bounded by
// ctx (see Drain), then closes c: Publish, Subscribe and Request fail with
// driver.ErrClosed, and publishers waiting for room return. When ctx ends
// first, c is closed at that moment and Close returns, with an error
// wrapping ctx.Err(), once every handler has returned. When c was the
// broker's last Conn, the messages the broker kept for groups with no
// member are discarded with it, and the error wraps ErrDiscarded. Closing
// again waits until the first Close has returned, bounded by its own ctx
// (an error wrapping ctx.Err() when that ends first), and returns the
// first's result, as on every backend (driver.Once).
func (c *Conn) Close(ctx context.Context) error {
	return c.close.Do(ctx, "membus: close", func(ctx context.Context) error {
		subs, _ := c.subs.Close()
		stop := context.AfterFunc(ctx, c.markClosed) // wake publishers blocked inside handlers
		err := driver.DrainAll(ctx, subs)
		stop()
		c.markClosed()
		if c.orphaned > 0 {
			err = errors.Join(err, &discardedError{msg: "membus: close: the broker is gone; " + orphansDropped(c.orphaned)})
		}
		return err
	})
}

func (c *Conn) markClosed() {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.done)
		c.orphaned = release(c.b)
	})
}

// Request publishes m with a new reply subject and returns the first
// message published to it. Reply subjects have nats.go's shape,
// "_INBOX.<id>.<n>": a prefix of two tokens per Conn and one token per
// request, so wildcard subscriptions see replies exactly when they would on
// NATS. It fails at once with driver.ErrNoResponders when no subscription
// took m, or when the reply is what NATS sends when nobody listens (no
// data and a "Status: 503" header, which nats.go reports as no
// responders); and with an error wrapping ctx.Err() (and driver.ErrTimeout
// on a deadline) when ctx ends first. Requests are delivered at most once:
// no Acker, no redelivery.
func (c *Conn) Request(ctx context.Context, m *driver.Message) (*driver.Message, error) {
	inbox := c.inbox + strconv.FormatUint(c.nextReply.Add(1), 36)
	ch := make(chan *driver.Message, 1)
	c.b.addInbox(inbox, ch)
	defer c.b.removeInbox(inbox)
	n, err := c.publish(ctx, m, inbox)
	switch {
	case err != nil:
		return nil, withTimeout(err)
	case n == 0:
		return nil, fmt.Errorf("membus: request to %q: %w", m.Subject, driver.ErrNoResponders)
	}
	select {
	case r := <-ch:
		if len(r.Data) == 0 && firstValue(r.Header, "Status") == "503" {
			return nil, fmt.Errorf("membus: request to %q: the reply is a no-responders status: %w", m.Subject, driver.ErrNoResponders)
		}
		return r, nil
	case <-ctx.Done():
		return nil, withTimeout(fmt.Errorf("membus: request to %q: %w", m.Subject, ctx.Err()))
	case <-c.done:
		return nil, fmt.Errorf("membus: request to %q: %w", m.Subject, driver.ErrClosed)
	}
}

// firstValue is h[k]'s first value, or "".
func firstValue(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// withTimeout makes an error caused by a passed deadline match
// driver.ErrTimeout as well.
func withTimeout(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", driver.ErrTimeout, err)
	}
	return err
}
