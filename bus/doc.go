// Package bus is Busway's portable API: an event bus whose every message is
// a CloudEvent, over a backend picked by URL.
//
//	b, err := bus.Open(ctx, "mem://")          // or nats://..., jetstream://...
//	defer b.Close(ctx)
//
//	r := bus.NewRouter(b)
//	r.Handle("orders.*.created", bus.JSON(func(ctx context.Context, m *bus.Message, o OrderCreated) error {
//		return nil // ack; an error redelivers; bus.Permanent(err) dead-letters
//	}), bus.Group("billing"), bus.DeadLetter("dlq.billing"))
//	go r.Run(ctx)
//
//	m, _ := bus.NewJSON("orders.eu.created", "com.example.order.created.v1", OrderCreated{...})
//	err = b.Publish(ctx, m)
//
// # Roles
//
// Bus bundles small role interfaces: Publisher, Subscriber and Requester.
// A service's constructor should ask for the one it uses, which also makes
// it easy to fake in a test.
//
// # Messages
//
// A Message is a CloudEvent (cloudevents.Event: id, source, type, subject,
// time, datacontenttype, dataschema, extensions, data) plus the routing
// subject. Publish fills id (a UUIDv7), specversion 1.0, source and time
// when they are empty. Over the wire the event travels in CloudEvents
// binary mode by default (attributes as ce- headers, data as body) or
// structured mode (WithStructured); receiving accepts both.
//
// # Handlers and errors
//
// A Handler returns nil to acknowledge. An ordinary error means "try
// again": the message is redelivered after a backoff on backends that
// redeliver, up to MaxAttempts deliveries. An error wrapped with Permanent
// means "never again": no retry. A message that fails for good (permanent,
// out of attempts, or not a valid CloudEvent) is published to the
// subscription's DeadLetter subject with its original bytes and the
// failure in Busway-Dead-Letter-* headers, then acknowledged; without a
// dead-letter subject it is terminated and logged. A message is never
// acknowledged before one of those happened. A panicking handler is
// recovered: the panic becomes an error wrapping ErrPanic.
//
// # Delivery semantics
//
// They are the backend's: at-least-once with redelivery on mem and
// JetStream, at-most-once on core NATS (where failures are final). See
// each backend's package documentation and the README's table.
//
// # Subjects
//
// Subjects follow NATS rules on every backend: "."-separated tokens; "*"
// (one token) and ">" (the rest) in subscription patterns only. Values
// from outside must not become subject tokens unchecked: use Subject,
// Template or EscapeToken, which refuse or escape ".", "*", ">",
// whitespace, control characters and a leading "$".
//
// # Shutdown
//
// Router.Run drains when its context ends, and Bus.Close drains every
// subscription: intake stops, handlers in flight finish within the
// deadline, each message is acked or nacked.
//
// A received Message's Event.Data, Header and Raw bytes may be shared with
// other subscribers of the same message and with its dead-letter copy:
// treat them as read-only.
//
// # Backends
//
// Backends register a URL scheme with Register; Open finds them. New
// opens a Bus over a driver.Conn directly.
//
// # As
//
// Bus.As reaches the backend's native types, for what the portable API
// does not cover. It takes a pointer to the native type and reports
// whether it was set; each backend documents what it supports (mem:
// **membus.Conn; Watermill adapter: *message.Publisher, *message.Subscriber
// and the concrete types behind them).
//
//	var native *membus.Conn
//	if b.As(&native) { ... }
package bus
