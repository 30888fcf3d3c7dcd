// Package middleware provides handler middleware for Busway: in-process
// retry, per-attempt timeout, correlation, structured logging, consumer-side
// deduplication, filtering and validation. Each is a bus.Middleware, a
// func(bus.Handler) bus.Handler, or a constructor returning one:
//
//	r := bus.NewRouter(b)
//	r.Use(
//		middleware.Correlation(),
//		middleware.Logging(logger),
//	)
//	r.Handle("orders.*.created", h,
//		bus.Group("billing"),
//		bus.DeadLetter("dlq.billing"),
//		bus.Wrap(
//			middleware.Validate(checkOrder),
//			middleware.Dedup(middleware.DedupConfig{TTL: 10 * time.Minute}),
//			middleware.Retry(middleware.RetryConfig{
//				MaxRetries: 2,
//				Backoff:    bus.ExponentialBackoff{InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.2},
//			}),
//			middleware.Timeout(5*time.Second),
//		))
//
// # Ordering
//
// The first middleware given is the outermost: it sees the message first
// and the handler's result last (bus.Chain, Router.Use and bus.Wrap all
// follow this rule; router-wide middleware wraps per-route middleware).
// Choose the order on purpose:
//
//   - Timeout inside Retry gives each attempt its own deadline; Timeout
//     outside Retry bounds all attempts together.
//   - Logging outside Retry logs one Debug line per delivery with the final
//     result; inside Retry it logs every in-process attempt.
//   - Correlation outside Logging lets the log line carry the
//     correlation id from the context (Logging also reads it from the
//     message itself).
//   - Validate and Filter outermost (or at least outside Retry): a message
//     that will never pass is not retried, and is rejected before any work.
//   - Dedup outside Retry: a message is remembered once its whole retry
//     sequence succeeded.
//
// # What the bus already does
//
// Every handler chain runs inside the bus's own dispatch and settle step.
// The bus, not this package:
//
//   - recovers panics: a panicking handler (or middleware) never crashes the
//     process; the panic becomes an error wrapping bus.ErrPanic and is
//     treated as retryable. There is deliberately no Recover middleware.
//   - classifies errors: nil acknowledges; an error wrapped with
//     bus.Permanent (or wrapping bus.ErrMalformed) is final; any other error
//     is retryable.
//   - retries a retryable failure after a delay (bus.RetryBackoff; the
//     same bus.Backoff type that Retry takes), up to the subscription's
//     bus.MaxAttempts attempts: by redelivery on backends that redeliver
//     (mem, JetStream), in process on at-most-once deliveries (core NATS).
//   - dead-letters a message that failed for good (bus.DeadLetter), keeping
//     its original bytes; this replaces a "poison queue" middleware.
//   - logs each failure once, at Warn or Error, with what happens to the
//     message next; Logging logs at Debug only, so nothing is logged twice.
//
// So Retry is not needed for reliability on any backend. It is for fast
// transient retries (a lock, a brief network blip) inside one delivery,
// before the message is given back to the backend or the bus. Its
// attempts multiply with the bus's: MaxAttempts deliveries of
// MaxRetries+1 attempts each. Retry returns the last error unchanged so the
// bus still classifies it; it never retries a permanent error. On
// JetStream keep a retry sequence (MaxElapsedTime, with Timeout) shorter
// than the consumer's AckWait, or the server redelivers the message to
// another consumer while it is still being retried here.
//
// # Errors from this package
//
// Validate returns permanent errors (the message goes straight to the
// dead-letter subject). Timeout's error wraps ErrHandlerTimeout and is
// retryable. Filter and Dedup return nil for what they skip: the message
// is acknowledged without calling the handler.
//
// # CloudEvents extensions
//
// Correlation and Correlate use two CloudEvents extension attributes,
// named per the CloudEvents naming rules (lowercase letters and digits):
// "correlationid" (CorrelationIDExtension), shared by every event of one
// business flow, and "causationid" (CausationIDExtension), the id of the
// event whose handling produced this one. On NATS they travel as the
// ce-correlationid and ce-causationid headers in binary mode.
package middleware
