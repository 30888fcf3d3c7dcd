package cqrs

import (
	"log/slog"

	"github.com/busway/busway/bus"
)

// Option configures a Service.
type Option func(*config)

type config struct {
	deadLetter    string
	maxAttempts   int
	setAttempts   bool
	backoff       bus.Backoff
	setBackoff    bool
	ignoreUnknown bool
	subOpts       []bus.SubscribeOption
	routerOpts    []bus.RouterOption
	logger        *slog.Logger
}

// DeadLetter sets the subject failed messages go to (default
// "<service>.dead"). It must be a valid subject; on JetStream a stream (or
// the connection's CoreSubjects) must capture it, or subscribing fails.
// An empty subject turns dead-lettering off: failed messages are then
// terminated and logged at Error.
func DeadLetter(subject string) Option { return func(c *config) { c.deadLetter = subject } }

// MaxAttempts sets how many attempts a message gets before a retryable
// failure is final (bus.MaxAttempts; default bus.DefaultMaxAttempts).
func MaxAttempts(n int) Option {
	return func(c *config) { c.maxAttempts, c.setAttempts = n, true }
}

// RetryBackoff sets the delay between attempts (bus.RetryBackoff).
func RetryBackoff(b bus.Backoff) Option {
	return func(c *config) { c.backoff, c.setBackoff = b, true }
}

// IgnoreUnknown makes the service ack event messages of a type it has no
// handler for (on a subject it subscribes to), instead of dead-lettering
// them (the default). They are counted (see Service.Unknown), logged at
// Debug each, and at Info the first time each type is seen: never silent.
func IgnoreUnknown() Option { return func(c *config) { c.ignoreUnknown = true } }

// SubscribeOptions passes options to every subscription of the service
// (e.g. bus.Concurrency, bus.Wrap). They come after the service's own
// (group, dead letter, attempts, backoff), so they can override them.
func SubscribeOptions(opts ...bus.SubscribeOption) Option {
	return func(c *config) { c.subOpts = append(c.subOpts, opts...) }
}

// RouterOptions passes options to the service's bus.Router (e.g.
// bus.DrainTimeout).
func RouterOptions(opts ...bus.RouterOption) Option {
	return func(c *config) { c.routerOpts = append(c.routerOpts, opts...) }
}

// Logger sets the logger for unknown-type notices (default slog.Default()).
func Logger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }
