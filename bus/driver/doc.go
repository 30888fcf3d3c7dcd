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
//   - Aser on a Conn or Acker: escape hatch to the backend's native types.
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
// A backend must not start a goroutine per message.
//
// Errors a backend returns should wrap the sentinel errors of this package
// (ErrClosed, ErrNoResponders, ...) so that callers of package bus can branch
// on them with errors.Is; package bus re-exports the same values.
package driver
