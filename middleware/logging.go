package middleware

import (
	"context"
	"log/slog"
	"time"

	"github.com/busway/busway/bus"
)

// Log messages written by Logging.
const (
	logHandled = "busway: message handled"
	logFailed  = "busway: handler failed"
)

// Logging returns middleware that logs each handling of a message with
// logger (slog.Default() when nil), at Debug, through logger's
// context-aware methods with the handler's context: a trace of what the
// handlers did and how long they took.
//
// It logs successes and failures alike at Debug, because the bus logs
// every failure itself, once, with what happens to the message next
// (redelivered, retried in process, dead-lettered: Warn; terminated or
// lost: Error), the subject, group, event id, attempt and error. Logging
// at Warn here as well would log each failure twice.
//
// Every record has these attributes:
//
//	subject         routing subject
//	type            CloudEvents type
//	source          CloudEvents source
//	event_id        CloudEvents id
//	attempt         delivery attempt (bus.Message.Attempt)
//	duration        time spent in the handler
//
// and, when present, correlation_id (the message's "correlationid"
// extension, else the context's CorrelationID) and retry_attempt (under
// Retry, see RetryAttempt). A failure adds error and permanent. The payload
// is never logged.
//
// Records that the logger would discard are not built. A panic passes
// through unlogged: the bus recovers it outside the chain and logs it,
// with its stack, as a failure.
func Logging(logger *slog.Logger) bus.Middleware {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			start := time.Now()
			err := next.Handle(ctx, m)
			msg := logHandled
			if err != nil {
				msg = logFailed
			}
			if logger.Enabled(ctx, slog.LevelDebug) {
				logger.LogAttrs(ctx, slog.LevelDebug, msg, logAttrs(ctx, m, time.Since(start), err)...)
			}
			return err
		})
	}
}

func logAttrs(ctx context.Context, m *bus.Message, d time.Duration, err error) []slog.Attr {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("subject", m.Subject),
		slog.String("type", m.Event.Type),
		slog.String("source", m.Event.Source),
		slog.String("event_id", m.Event.ID),
		slog.Int("attempt", m.Attempt()),
		slog.Duration("duration", d),
	)
	cid := m.Event.Extensions[CorrelationIDExtension]
	if cid == "" {
		cid = CorrelationID(ctx)
	}
	if cid != "" {
		attrs = append(attrs, slog.String("correlation_id", cid))
	}
	if n := RetryAttempt(ctx); n > 0 {
		attrs = append(attrs, slog.Int("retry_attempt", n))
	}
	if err != nil {
		attrs = append(attrs, slog.Any("error", err), slog.Bool("permanent", bus.IsPermanent(err)))
	}
	return attrs
}
