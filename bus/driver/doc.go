// Package driver defines what a Busway backend implements.
//
// A backend is small: it moves (subject, header, body) messages, delivers
// them to a callback, and reports acknowledgement capabilities. Everything
// portable (the CloudEvents envelope, handler dispatch, middleware, error
// classification, dead-lettering, graceful shutdown) lives in package bus,
// above this layer.
//
// # Required and optional
//
// Every backend implements Conn. Optional capabilities are separate
// interfaces that the bus finds by type assertion, in the style of
// database/sql/driver:
//
//   - Requester on a Conn: native request/reply.
//   - BatchPublisher on a Conn: a batch faster than one Publish after another.
//   - Deduplicator on a Conn: drops a second message with the same Message.ID.
//   - PublishCopier on a Conn: Publish keeps nothing of the message, so the
//     bus reuses its storage.
//   - Aser on a Conn: escape hatch to the backend's native types (a
//     delivered message's native form goes in Message.Native).
//   - DelayNaker on an Acker: redelivery after a delay.
//   - Terminator on an Acker: stop redelivery for good.
//   - Progresser on an Acker: tell the server the handler is still working.
//
// # Delivery
//
// Delivery into the bus is a callback, not a channel: the backend calls the
// Handler given to Subscribe once per message, from at most
// SubscribeOptions.Concurrency goroutines at a time, and the bus settles the
// message (Ack, Nak, Term) through Message.Acker before the callback returns.
// A backend must not start a goroutine per message. The bus owns the
// handlers' context, so the callback takes none.
//
// # Helpers
//
// What every backend needs is here once: Set (a connection's live
// subscriptions, closed once, for Close to drain), Once (Drain and Close
// run once; a later caller waits for the first, bounded by its own
// context, and gets its result), Gate (counts running callbacks and lets
// none start after a drain), DrainAll, and DedupID. A new backend
// implements Conn, Subscription and Acker, and runs the conformance suite
// in package bustest.
//
// Errors a backend returns should wrap the sentinel errors of this package
// (ErrClosed, ErrNoResponders, ...) so that callers of package bus can branch
// on them with errors.Is; package bus re-exports the same values.
package driver
