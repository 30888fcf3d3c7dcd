package bus

import "context"

// Handler handles one message.
//
// The contract: return nil when the message is handled; it is then
// acknowledged and not delivered again. Return an error to have it
// redelivered (on backends that redeliver) after a backoff, up to the
// subscription's MaxAttempts. Return an error wrapped with Permanent when
// no retry can help; the message then goes to the dead-letter subject, or
// is terminated and logged. A panic is recovered and treated as an
// ordinary error wrapping ErrPanic.
//
// ctx carries the values of the context given to Subscribe (or Router.Run)
// and is cancelled when the subscription is torn down before the handler
// finishes; a handler doing I/O should pass it on.
type Handler interface {
	Handle(ctx context.Context, m *Message) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) error

// Handle calls f(ctx, m).
func (f HandlerFunc) Handle(ctx context.Context, m *Message) error { return f(ctx, m) }

// Middleware wraps a Handler with behaviour before and after it: retries,
// timeouts, logging, tracing. The first middleware given is the outermost.
type Middleware func(Handler) Handler

// Chain wraps h with mws, the first outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
