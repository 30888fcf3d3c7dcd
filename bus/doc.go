// Package bus is Busway's portable API: an event bus whose every message is
// a CloudEvent, over a backend picked by URL.
//
//	b, err := bus.Open(ctx, cfg.BusURL) // "mem://", "nats://...", "jetstream://...?stream=ORDERS"; "" = embedded NATS
//	defer b.Close(ctx)
//
//	m, _ := bus.NewJSON("orders.eu.placed", "com.example.order.placed.v1", OrderPlaced{...})
//	err = b.Publish(ctx, m)
//
//	r := bus.NewRouter(b)
//	r.Handle("orders.*.placed", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderPlaced) error {
//		return nil // ack; an error redelivers; bus.Permanent(err) dead-letters
//	}), bus.Group("billing"), bus.DeadLetter("dead.billing"))
//	err = r.Run(ctx) // until ctx ends, then drains
//
//	price, err := bus.RequestJSON[Price](ctx, b, "pricing.quote", "com.example.price.query.v1", q)
//
// # Types
//
// Bus is the open connection (a concrete type, like *sql.DB). Code that
// needs only a part asks for a role interface, which a test fakes:
// Publisher, Subscriber (its fake may return a zero *Subscription) or
// Requester. Message is one CloudEvent (Event) plus its routing Subject
// and transport Header. Handler handles one message; Middleware wraps a
// Handler; Router runs a set of handlers.
//
// # Handlers and errors
//
// A Handler returns nil to acknowledge. An ordinary error means "try
// again": the message is redelivered after a backoff (RetryBackoff), up to
// MaxAttempts deliveries. An error wrapped with Permanent means "never
// again". A message that fails for good (permanent, out of attempts, or
// not a valid CloudEvent: ErrMalformed) is published to the subscription's
// DeadLetter subject with its original bytes and the failure in
// Busway-Dead-Letter-* headers, then acknowledged; without a dead-letter
// subject it is terminated and logged. A message is never acknowledged
// before one of those happened. A panic is recovered as an error wrapping
// ErrPanic.
//
// Callers branch on the sentinel errors with errors.Is: ErrClosed,
// ErrNoResponders, ErrTimeout, ErrNotSupported, ErrInvalidSubject,
// ErrInvalidHeader, ErrPayloadTooLarge, ErrBufferFull, ErrUnknownScheme,
// ErrInvalidURL, ErrPanic, ErrMalformed; a failed request's responder
// error is a *RemoteError.
//
// # Delivery semantics
//
// They are the backend's: at-least-once with redelivery on mem and
// JetStream, at-most-once on core NATS. See each backend's package
// documentation and the README's table.
//
// # Messages
//
// Publish fills the CloudEvents attributes left empty: id (a UUIDv7),
// specversion 1.0, source and time. The event travels in CloudEvents
// binary mode by default (attributes as ce- headers, data as body) or
// structured mode (Structured); receiving accepts both. A received
// Message's Event.Data, Header and Raw bytes may be shared with other
// subscribers and with its dead-letter copy: treat them as read-only.
//
// # Subjects
//
// Subjects follow NATS rules on every backend: "."-separated tokens; "*"
// (one token) and ">" (the rest) in subscription patterns only. Package
// github.com/busway/busway/bus/subject validates, matches and builds them;
// values from outside must go through subject.Join, subject.Template or
// subject.Escape before they become part of a subject.
//
// # Shutdown
//
// Router.Run drains when its context ends, and Bus.Close drains every
// subscription: intake stops, handlers in flight finish within the
// deadline (then their context is cancelled), each message is acked or
// handed back.
//
// # Backends
//
// Backends register a URL scheme with Register (and at most one, the
// embedded NATS server, with RegisterDefault for an empty URL); Open finds
// them. New opens a Bus over a driver.Conn directly.
//
// # As
//
// Bus.As and Message.As reach the backend's native types, for what the
// portable API does not cover: they take a pointer to the native type and
// report whether it was set. Each backend documents what it supports (on
// JetStream, Message.As(&jm) with a jetstream.Msg gives the stream and
// consumer sequences). A backend's errors wrap its native errors, which
// errors.As and errors.Is reach.
package bus
