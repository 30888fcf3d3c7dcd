package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/busway/busway/bus"
)

// ErrHandlerTimeout is wrapped by the error Timeout returns when the
// handler gave up because Timeout's deadline passed. The error is
// retryable; the message is redelivered (or retried by an outer Retry).
var ErrHandlerTimeout = errors.New("busway: handler timed out")

// Timeout returns middleware that runs the handler with a context that
// ends d after the handler starts (context.WithTimeout). A timeout of zero
// or less adds nothing.
//
// The deadline is cooperative: the handler must pass the context on (or
// watch ctx.Done) for it to have an effect. Timeout never abandons a
// running handler, so the message is not settled while the handler still
// works on it.
//
// When the handler returns an error wrapping context.DeadlineExceeded and
// it was this deadline that passed (not an earlier one of the parent
// context), the error is wrapped with ErrHandlerTimeout, naming d:
// errors.Is(err, ErrHandlerTimeout) and errors.Is(err,
// context.DeadlineExceeded) both hold. context.Cause of the handler's
// context is then an error wrapping ErrHandlerTimeout too. Other results
// pass through unchanged, including nil from a handler that finished
// after the deadline.
//
// Put Timeout inside Retry to give each attempt its own deadline.
func Timeout(d time.Duration) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		if d <= 0 {
			return next
		}
		// One cause per wrapped handler: nested Timeouts tell their
		// deadlines apart by identity.
		cause := fmt.Errorf("%w after %v", ErrHandlerTimeout, d)
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			tctx, cancel := context.WithTimeoutCause(ctx, d, cause)
			defer cancel()
			err := next.Handle(tctx, m)
			if err == nil || errors.Is(err, ErrHandlerTimeout) {
				return err
			}
			if errors.Is(err, context.DeadlineExceeded) && context.Cause(tctx) == cause {
				return fmt.Errorf("%w: %w", cause, err)
			}
			return err
		})
	}
}
