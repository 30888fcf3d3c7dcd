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
// again": the message is attempted again after a backoff (RetryBackoff),
// up to MaxAttempts attempts. An error wrapped with Permanent means "never
// again". A message that fails for good (permanent, out of attempts, or
// not a valid CloudEvent: ErrMalformed) is published to the subscription's
// DeadLetter subject with its original bytes and the failure in
// Busway-Dead-Letter-* headers, then acknowledged; without a dead-letter
// subject it is terminated and logged. A message is never acknowledged
// before one of those happened. A panic is recovered as an error wrapping
// ErrPanic.
//
// Every delivered message ends: acked, dead-lettered, or terminated and
// logged. When the dead-letter publish fails, the bus looks at why: a
// refusal that a later attempt would meet again (the copy too large, a
// header or subject the backend refuses, ErrNotSupported) terminates the
// message and logs it at Error with the reason; anything else (a timeout,
// no answer from the stream, shutdown) hands it back for redelivery, and
// the backend's own delivery cap ends it if that never clears (JetStream:
// MaxDeliver just above MaxAttempts). A delivery the backend gave up on
// (JetStream: the max-deliveries advisory) runs no handler: it is
// dead-lettered with the reason, or logged at Error.
//
// # Dead-letter headers
//
// A dead letter keeps the original's headers and body, and adds these
// headers, a stable contract (names are exported constants; values are
// single strings):
//
//	Busway-Dead-Letter-Reason         the last error's text (one line, at most 1 KiB)
//	Busway-Dead-Letter-Subject        the subject the message arrived on
//	Busway-Dead-Letter-Attempts       deliveries attempted
//	Busway-Dead-Letter-Permanent      "true" for a Permanent failure, else "false"
//	Busway-Dead-Letter-Time           when it was dead-lettered (RFC 3339, UTC)
//	Busway-Dead-Letter-Group          the failing consumer group ("" without one)
//	Busway-Dead-Letter-Route          the failing subscription's pattern (Router route)
//	Busway-Dead-Letter-Kind           permanent, exhausted, malformed, panic, timeout,
//	                                  unknown-type (or an error's DeadLetterKind())
//	Busway-Dead-Letter-First-Failure  the first failed attempt (RFC 3339, UTC), best effort
//	Busway-Dead-Letter-Stream         the original's stream (JetStream only)
//	Busway-Dead-Letter-Sequence       the original's stream sequence (JetStream only)
//	Busway-Dead-Letter-Replays        replays before this failure ("0" for the first)
//
// First-Failure is exact when the first attempt failed for good, and when
// the process that dead-letters saw the earlier failures (at-most-once
// retries in process, and redeliveries that came back to the same process
// on mem and JetStream: it remembers up to 4096 events per subscription).
// When the earlier failures happened elsewhere (another instance of the
// group, before a restart) it is the dead-letter time, an upper bound. A
// replayed message keeps the First-Failure of its first dead letter.
//
// A message carrying ReplayGroupHeader (a replay, see package deadletter)
// is handled only by the subscription whose group and pattern match
// ReplayGroupHeader and ReplayRouteHeader; every other subscription that
// receives it acknowledges it without running its handler (logged at
// Debug). Its deduplication id includes the replay count, so JetStream
// stores it although the original is in its duplicate window.
//
// Each failure is logged once, by the bus, with subject, group, event id,
// attempt and error: at Warn when the message will be attempted again or
// was dead-lettered (with the dead-letter subject), at Error when it is
// terminated or lost. middleware.Logging logs at Debug only.
//
// # Retries and attempts
//
// The retry policy (MaxAttempts, RetryBackoff) holds on every backend;
// the bus picks the mode. Where the backend redelivers, a failed message
// is handed back with the backoff as the redelivery delay (NakWithDelay;
// where the backend cannot delay, the bus waits in process first). Where
// it does not (core NATS: no Acker), the bus calls the handler again on
// the same delivery goroutine, after the backoff, so the subscription's
// order is kept and other messages of that subscription wait meanwhile.
// In-process retries end with the process: at-most-once stays
// at-most-once.
//
// An attempt is a delivery as the backend counts it (Message.Attempt): on
// JetStream the server's delivery count, so a message handed back at
// shutdown or pulled into a process that died has used one (JetStream's
// MaxDeliver is set one above MaxAttempts to leave room for one such
// delivery); on mem each delivery that reached the bus, one handed back
// at shutdown included; on core NATS each in-process call of the handler.
// A message handed back at shutdown is never dead-lettered for that.
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
// JetStream, at-most-once on core NATS (with in-process retries, see
// above). See each backend's package documentation and the README's
// table.
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
// handed back. Every caller's deadline counts: a second Close or Drain
// while one runs returns by its own deadline and cancels the handlers
// then, as the first's would. At-most-once messages (core NATS) that a
// hard stop keeps from their handler are lost, and logged.
//
// A subscription can also end on its own, when its backend side
// disappears and cannot be recreated (a JetStream consumer deleted with
// the stream, a connection closed for good): its Done channel closes, Err
// says why, the bus logs it at Error, and a Router running it returns the
// error after draining its other routes.
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
