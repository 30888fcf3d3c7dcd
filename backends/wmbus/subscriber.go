package wmbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/busway/busway/bus/driver"
)

// SubscriberConfig configures a Watermill subscriber made by NewSubscriber.
type SubscriberConfig struct {
	// Group, when not empty, makes every subscription a member of this
	// competing-consumer group (driver.SubscribeOptions.Group): each message
	// goes to one member. Empty means fan-out.
	Group string
	// Concurrency is how many messages of one subscription can be out on
	// its channel unacknowledged at once; less than 1 means 1. With 1, the
	// next message comes only after the previous one was acked or nacked,
	// and per-publisher order holds on backends that keep it (mem, NATS).
	Concurrency int
	// NackDelay, when positive, delays the redelivery of a nacked message:
	// with the backend's delayed nak where it has one (mem, JetStream:
	// driver.DelayNaker), else by waiting in process before the nak, which
	// holds the backend's delivery goroutine (cut short when the
	// subscription stops). Zero redelivers at once. At-most-once backends
	// (core NATS) do not redeliver at all.
	NackDelay time.Duration
	// Logger receives settlement failures the Watermill API cannot return.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// subscriber is the Watermill face of a driver.Conn for subscribing.
type subscriber struct {
	conn driver.Conn
	cfg  SubscriberConfig
	log  *slog.Logger
	done chan struct{} // closed when Close has finished

	mu      sync.Mutex
	closed  bool
	subs    map[*faceSub]struct{} // every live subscription, claimed or not
	pending map[string]*faceSub   // started by SubscribeInitialize, not yet claimed
}

// NewSubscriber returns a Watermill subscriber that subscribes through conn,
// so Watermill code can consume from a Busway backend. The returned value
// also implements message.SubscribeInitializer.
//
// Subscribe(ctx, topic) subscribes to the subject topic (wildcards work
// where the backend has them) and returns a channel of messages: headers
// as metadata (the first value of a multi-valued header), the UUID from
// UUIDHeader, else from the ce-id header, else a new one, and a copy of the
// body as payload. Each message must be acked or nacked; Ack acks the
// backend message and Nack naks it, so the backend redelivers it where it
// redelivers at all (mem, JetStream; not core NATS). A message's context
// carries the values of Subscribe's ctx and ends when the message is
// settled, when ctx ends or when the subscriber closes.
//
// When Subscribe's ctx ends, that subscription stops and its channel is
// closed. Close stops every subscription at once: messages not yet acked
// are naked (redelivered to another member of the group, or, for fan-out
// on a backend without persistence, dropped as an unsubscribe does), and
// every channel is closed exactly once before Close returns. Close does
// not close conn, which stays the caller's; close the subscriber first, as
// a Conn closed under it drains its subscriptions, which then wait (until
// the Conn's Close context ends) for a consumer that no longer reads.
func NewSubscriber(conn driver.Conn, cfg SubscriberConfig) message.Subscriber {
	cfg.Concurrency = max(1, cfg.Concurrency)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &subscriber{
		conn: conn, cfg: cfg, log: log,
		done:    make(chan struct{}),
		subs:    map[*faceSub]struct{}{},
		pending: map[string]*faceSub{},
	}
}

var (
	_ message.Subscriber           = (*subscriber)(nil)
	_ message.SubscribeInitializer = (*subscriber)(nil)
)

// errSubscriberClosed is the error of Subscribe after Close.
func errSubscriberClosed(topic string) error {
	return fmt.Errorf("wmbus: subscribe to %q: %w", topic, driver.ErrClosed)
}

// Subscribe subscribes to topic; see NewSubscriber. When SubscribeInitialize
// started a subscription to topic that no Subscribe took yet, Subscribe
// takes it, with the messages that arrived in between.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errSubscriberClosed(topic)
	}
	if f := s.pending[topic]; f != nil {
		delete(s.pending, topic)
		f.claim(ctx)
		s.mu.Unlock()
		return f.out, nil
	}
	s.mu.Unlock()

	f, err := s.start(ctx, topic)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSubscriberClosed(topic) // Close stops f
	}
	f.claim(ctx)
	return f.out, nil
}

// SubscribeInitialize starts a subscription to topic now and keeps what it
// receives for the next Subscribe to topic on this subscriber. On backends
// without persistence (mem, core NATS) a message published before anyone
// subscribed is lost; SubscribeInitialize is how to subscribe before
// publishing and consume later. Until Subscribe takes the subscription, its
// messages wait in the backend (on mem, in the subscription's bounded
// queue, whose full policy then applies to publishers). Calling it again
// for a topic already initialized does nothing.
func (s *subscriber) SubscribeInitialize(topic string) error {
	s.mu.Lock()
	_, ok := s.pending[topic]
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return errSubscriberClosed(topic)
	case ok:
		return nil
	}
	f, err := s.start(context.Background(), topic)
	if err != nil {
		return err
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return errSubscriberClosed(topic) // Close stops f
	case s.pending[topic] == nil:
		s.pending[topic] = f
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return f.close() // another call initialized topic meanwhile
}

// start subscribes to topic on the backend and registers the subscription.
func (s *subscriber) start(ctx context.Context, topic string) (*faceSub, error) {
	f := newFaceSub(s, topic)
	ds, err := s.conn.Subscribe(ctx, driver.SubscribeOptions{
		Subject: topic, Group: s.cfg.Group, Concurrency: s.cfg.Concurrency,
	}, f.handle)
	if err != nil {
		return nil, fmt.Errorf("wmbus: subscribe to %q: %w", topic, err)
	}
	f.ds = ds
	s.mu.Lock()
	if s.closed { // Close took its snapshot already
		s.mu.Unlock()
		return nil, errors.Join(errSubscriberClosed(topic), f.close())
	}
	s.subs[f] = struct{}{}
	s.mu.Unlock()
	return f, nil
}

// forget removes a stopped subscription.
func (s *subscriber) forget(f *faceSub) {
	s.mu.Lock()
	delete(s.subs, f)
	if s.pending[f.topic] == f {
		delete(s.pending, f.topic)
	}
	s.mu.Unlock()
}

// Close stops every subscription and closes their channels; see
// NewSubscriber. It returns when they are closed, also when called again
// or concurrently, and does not close the driver.Conn.
func (s *subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	subs := make([]*faceSub, 0, len(s.subs))
	for f := range s.subs {
		subs = append(subs, f)
	}
	s.mu.Unlock()

	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for i, f := range subs {
		wg.Go(func() { errs[i] = f.close() })
	}
	wg.Wait()
	close(s.done)
	return errors.Join(errs...)
}
