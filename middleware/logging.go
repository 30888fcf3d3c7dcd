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

// Logging returns middleware that logs each handled message with logger
// (slog.Default() when nil), through logger's context-aware methods with
// the handler's context.
//
// A success is logged at Debug, a retryable failure at Warn, a permanent
// one (bus.IsPermanent) at Error. Every record has these attributes:
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
// through unlogged: the bus recovers it outside the chain, treats it as a
// retryable error and logs it when the failure is final. The bus also
// logs, at Warn or Error, the messages it dead-letters or terminates; this
// middleware logs every handling, including the successful ones.
func Logging(logger *slog.Logger) bus.Middleware {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			start := time.Now()
			err := next.Handle(ctx, m)
			level, msg := slog.LevelDebug, logHandled
			if err != nil {
				level, msg = slog.LevelWarn, logFailed
				if bus.IsPermanent(err) {
					level = slog.LevelError
				}
			}
			if logger.Enabled(ctx, level) {
				logger.LogAttrs(ctx, level, msg, logAttrs(ctx, m, time.Since(start), err)...)
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
