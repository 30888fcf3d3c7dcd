package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/cloudevents"
)

// Publisher publishes messages. A service that only emits events asks for a
// Publisher in its constructor rather than a whole *Bus, and a test gives
// it a fake.
type Publisher interface {
	// Publish sends m to m.Subject. It fills the CloudEvents attributes m
	// leaves empty (ID, SpecVersion, Source, Time) in place, so the caller
	// can read the ID afterwards. It fails with ErrInvalidSubject (NATS
	// subject rules, at most subject.MaxSubjectLen bytes),
	// ErrInvalidHeader (a header name NATS refuses or reserves, see
	// IsReservedHeader), ErrPayloadTooLarge, ErrClosed, or a cloudevents
	// validation error naming the attribute.
	Publish(ctx context.Context, m *Message) error
}

// Subscriber starts subscriptions. Router asks for one; a test can give it
// a fake that returns a zero Subscription.
type Subscriber interface {
	// Subscribe delivers messages whose subject matches pattern to h until
	// the subscription is drained or the bus closed. ctx bounds the
	// subscribe call itself; its values (not its cancellation) reach the
	// handlers.
	Subscribe(ctx context.Context, pattern string, h Handler, opts ...SubscribeOption) (*Subscription, error)
}

// Requester sends requests and waits for the reply.
type Requester interface {
	// Request publishes m as a request and returns the first reply. It
	// fails with ErrNoResponders when nobody listens, with an error
	// wrapping ErrTimeout (and the context's error) when ctx ends first,
	// with *RemoteError when the responder's handler failed, and with
	// ErrNotSupported on backends without request/reply.
	Request(ctx context.Context, m *Message) (*Message, error)
}

// Bus is an open connection to a backend: it publishes, subscribes and
// sends requests. Obtain one with Open (by URL) or New (from a
// driver.Conn). Its methods are safe for concurrent use. It is a concrete
// type, as *sql.DB is: code that needs only a part of it asks for
// Publisher, Subscriber or Requester.
type Bus struct {
	conn  driver.Conn
	cfg   config
	dedup bool // conn deduplicates by driver.Message.ID
	reuse bool // conn copies what Publish is given (driver.PublishCopier)

	obs     Observer // nil without observers (see Observe)
	backend string   // backendName(conn), for observers

	// closing: Close has begun; no new subscriptions. Publishing still
	// works while subscriptions drain, so handlers finishing can publish.
	closing atomic.Bool
	// closed: the driver connection is closed; everything fails.
	closed atomic.Bool
	close  driver.Once
	subs   driver.Set[*Subscription]
	ended  driver.Set[*Subscription] // ended on their own, not drained yet (see Ready)
}

var (
	_ Publisher  = (*Bus)(nil)
	_ Subscriber = (*Bus)(nil)
	_ Requester  = (*Bus)(nil)
)

// New returns a Bus over conn, for backends opened without the URL
// registry. The Bus owns conn: Close closes it.
func New(conn driver.Conn, opts ...Option) *Bus {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	b := &Bus{conn: conn, cfg: cfg, dedup: usesIDs(conn), reuse: copiesOnPublish(conn), obs: cfg.observer(), backend: backendName(conn)}
	b.wireConnEvents()
	return b
}

func (b *Bus) isClosed() bool { return b.closed.Load() }

// Publish implements Publisher.
func (b *Bus) Publish(ctx context.Context, m *Message) error {
	if b.obs != nil {
		return b.publishObserved(ctx, m)
	}
	return b.publish(ctx, m)
}

func (b *Bus) publish(ctx context.Context, m *Message) error {
	dm, e, err := b.encodeOne(ctx, m)
	defer e.release()
	if err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	return b.conn.Publish(ctx, dm)
}

// PublishBatch publishes ms in order and returns when the backend has
// taken every one: on core NATS after a flush round trip, on JetStream
// when every store acknowledgement has arrived (publishes overlap, so a
// batch costs about one round trip, not one per message). Each message is
// checked (and its defaults filled) before any is sent: an invalid one
// fails the batch with nothing published. A backend error returns the
// errors joined; messages that did not fail were published.
func (b *Bus) PublishBatch(ctx context.Context, ms ...*Message) (err error) {
	dms := make([]*driver.Message, len(ms))
	if b.obs != nil {
		info := PublishInfo{Batch: len(ms), Backend: b.backend}
		ends := make([]func(error), len(ms)+1)
		defer func() { endBatch(ends, err) }()
		for i, m := range ms {
			_, ends[i] = b.obs.ObservePublish(ctx, info, m)
		}
		ends[len(ms)] = observeBatch(b.obs, ctx, info, ms)
	}
	for i, m := range ms {
		dm, err := b.encode(ctx, m)
		if err != nil {
			return fmt.Errorf("busway: batch message %d: %w", i, err)
		}
		dms[i] = dm
	}
	if b.isClosed() {
		return ErrClosed
	}
	if bp, ok := b.conn.(driver.BatchPublisher); ok {
		return bp.PublishBatch(ctx, dms)
	}
	var errs []error
	for i, dm := range dms {
		if err := b.conn.Publish(ctx, dm); err != nil {
			errs = append(errs, fmt.Errorf("busway: batch message %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// decode turns a delivered driver message into a Message. Header gets the
// transport headers that are neither event attributes nor reserved (see
// IsReservedHeader). On error the returned Message still carries the raw
// delivery.
func (b *Bus) decode(dm *driver.Message) (*Message, error) {
	m := &Message{Subject: dm.Subject, attempt: max(dm.Attempt, 1), raw: dm, bus: b}
	others, err := cloudevents.DecodeSplit(&m.Event, dm.Header, dm.Data)
	if err != nil {
		m.Event = cloudevents.Event{} // what was read is for diagnostics only
		return m, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !others {
		return m, nil
	}
	for k, v := range dm.Header {
		if !cloudevents.IsEventHeader(k) && !IsReservedHeader(k) {
			if m.Header == nil {
				m.Header = make(Header, len(dm.Header))
			}
			m.Header[k] = v
		}
	}
	return m, nil
}

// Request implements Requester.
func (b *Bus) Request(ctx context.Context, m *Message) (*Message, error) {
	if b.obs != nil {
		ctx, end := b.obs.ObserveRequest(ctx, m)
		reply, err := b.request(ctx, m)
		if end != nil {
			end(reply, err)
		}
		return reply, err
	}
	return b.request(ctx, m)
}

func (b *Bus) request(ctx context.Context, m *Message) (*Message, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	r, ok := b.conn.(driver.Requester)
	if !ok {
		return nil, fmt.Errorf("%w: request/reply", ErrNotSupported)
	}
	dm, e, err := b.encodeOne(ctx, m)
	defer e.release()
	if err != nil {
		return nil, err
	}
	resp, err := r.Request(ctx, dm)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w: request to %q: %w", ErrTimeout, m.Subject, err)
		}
		return nil, err
	}
	if reason := Header(resp.Header).Get(ErrorHeader); reason != "" {
		return nil, &RemoteError{Subject: m.Subject, Reason: reason}
	}
	reply, err := b.decode(resp)
	if err != nil {
		return nil, fmt.Errorf("busway: reply to %q: %w", m.Subject, err)
	}
	reply.raw, reply.bus = nil, nil // a reply is not itself a delivery to settle
	return reply, nil
}

// As sets target, a pointer to a backend-native type, and reports whether
// it could: each backend documents the types it supports (mem: **membus.Conn;
// NATS: **nats.Conn, and on JetStream also *jetstream.JetStream;
// Watermill: *message.Publisher and *message.Subscriber).
//
// Errors need no such method: a backend's errors wrap its native error
// (for example *jetstream.APIError or nats.ErrMaxPayload), which
// errors.As and errors.Is reach.
func (b *Bus) As(target any) bool {
	if a, ok := b.conn.(driver.Aser); ok {
		return a.As(target)
	}
	return false
}

// Close drains every subscription (no new intake, in-flight handlers
// finish and their messages are settled), bounded by ctx, then closes the
// backend connection. A connection the user passed to the backend stays
// open. A second Close waits for the first (bounded by its own ctx) and
// returns the first's result; when its ctx ends first it returns ctx's
// error at once and cuts the drains under way short (handlers cancelled,
// messages handed back), as the first's own deadline would. Afterwards
// every method returns ErrClosed.
func (b *Bus) Close(ctx context.Context) error {
	b.closing.Store(true)
	defer whenDone(ctx, func() { b.cutDrains(context.Cause(ctx)) })()
	return b.close.Do(ctx, "close", func(ctx context.Context) error {
		subs, _ := b.subs.Close()
		drainErr := driver.DrainAll(ctx, subs)
		b.closed.Store(true)
		return errors.Join(drainErr, b.conn.Close(ctx))
	})
}

// cutDrains cuts short the drain of every subscription still open.
func (b *Bus) cutDrains(cause error) {
	subs, _ := b.subs.Close()
	for _, s := range subs {
		s.cuts.cut(cause)
	}
}

func (b *Bus) logger() *slog.Logger { return b.cfg.logger }
