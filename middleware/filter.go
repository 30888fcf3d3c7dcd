package middleware

import (
	"context"
	"fmt"

	"github.com/busway/busway/bus"
)

// Filter returns middleware that calls the handler only for messages for
// which keep returns true. Other messages are acknowledged without being
// handled: they are not redelivered and not dead-lettered. Use it for
// selections a subject pattern cannot express (an event type, an
// extension value); prefer a narrower pattern when one can, since the
// backend then does not deliver the message at all.
func Filter(keep func(*bus.Message) bool) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			if !keep(m) {
				return nil
			}
			return next.Handle(ctx, m)
		})
	}
}

// Validate returns middleware that checks each message with validate
// before calling the handler. A message that fails is not handled; the
// error, marked bus.Permanent, names the event and wraps validate's error,
// so the message goes to the dead-letter subject without retry. Put
// Validate outside Retry (it would not be retried anyway, but the check
// then runs once).
func Validate(validate func(*bus.Message) error) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			if err := validate(m); err != nil {
				return bus.Permanent(fmt.Errorf("busway: event %s (type %s) failed validation: %w",
					m.Event.ID, m.Event.Type, err))
			}
			return next.Handle(ctx, m)
		})
	}
}
