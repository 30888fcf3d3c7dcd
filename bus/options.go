package bus

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/busway/busway/cloudevents"
)

// Option configures a Bus at Open or New.
type Option func(*config)

type config struct {
	source string
	mode   cloudevents.Mode
	logger *slog.Logger
	hooks  []func(context.Context, *Message)
}

func defaultConfig() config {
	return config{
		source: "/busway/" + filepath.Base(os.Args[0]),
		logger: slog.Default(),
	}
}

// WithSource sets the CloudEvents source given to published events that
// have none. The default is "/busway/<program name>".
func WithSource(source string) Option { return func(c *config) { c.source = source } }

// WithStructured makes Publish write structured-mode CloudEvents (one JSON
// document, Content-Type application/cloudevents+json) instead of the
// default binary mode (ce- headers, data as body). Receiving accepts both
// modes either way. The URL parameter format=structured does the same.
func WithStructured() Option { return func(c *config) { c.mode = cloudevents.Structured } }

// WithLogger sets the logger for what the bus cannot return as an error:
// messages dead-lettered or terminated, failed acknowledgements. The
// default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPublishHook adds a function called on every outgoing message (Publish,
// Request, Respond) before it is encoded, with the caller's context: the
// place to stamp correlation ids or tracing extensions from ctx, e.g.
// bus.WithPublishHook(middleware.Correlate). Hooks run in the order given.
func WithPublishHook(hook func(ctx context.Context, m *Message)) Option {
	return func(c *config) { c.hooks = append(c.hooks, hook) }
}

// SubscribeOption configures one subscription (Bus.Subscribe) or one route
// (Router.Handle).
type SubscribeOption func(*subConfig)

type subConfig struct {
	group       string
	concurrency int
	middleware  []Middleware
	deadLetter  string
	maxAttempts int
	backoff     func(attempt int) time.Duration
}

// DefaultMaxAttempts is how many times a message is delivered before it is
// treated as failed for good, when the subscription does not say.
const DefaultMaxAttempts = 5

func defaultSubConfig() subConfig {
	return subConfig{
		concurrency: 1,
		maxAttempts: DefaultMaxAttempts,
		backoff:     ExponentialBackoff{Initial: 100 * time.Millisecond, Max: time.Minute, Jitter: 0.2}.Delay,
	}
}

// Group makes the subscription a member of a competing-consumer group:
// each message goes to one member of the group. On NATS this is a queue
// group; on JetStream a durable consumer named after the group.
func Group(name string) SubscribeOption { return func(c *subConfig) { c.group = name } }

// Concurrency sets how many messages the subscription handles at once
// (default 1, which keeps per-publisher order).
func Concurrency(n int) SubscribeOption {
	return func(c *subConfig) { c.concurrency = max(1, n) }
}

// Use adds middleware around this subscription's handler, inside any
// router-wide middleware.
func Use(mws ...Middleware) SubscribeOption {
	return func(c *subConfig) { c.middleware = append(c.middleware, mws...) }
}

// DeadLetter sets the subject failed messages are published to: those that
// failed permanently, ran out of attempts, or could not be decoded. They
// keep their original headers and body byte for byte; the failure is
// described in added headers (see DeadLetterReasonHeader and friends).
// Without it such messages are terminated and logged at Error.
func DeadLetter(subject string) SubscribeOption {
	return func(c *subConfig) { c.deadLetter = subject }
}

// MaxAttempts sets how many deliveries a message gets before a retryable
// failure counts as final (default DefaultMaxAttempts). Zero or less means
// no limit. It applies where the backend redelivers (mem, JetStream).
func MaxAttempts(n int) SubscribeOption { return func(c *subConfig) { c.maxAttempts = n } }

// Backoff sets the delay before redelivery after a failed attempt; attempt
// is the attempt that failed (1 for the first delivery).
func Backoff(delay func(attempt int) time.Duration) SubscribeOption {
	return func(c *subConfig) { c.backoff = delay }
}

// maxBackoff caps an ExponentialBackoff without Max, so the delay cannot
// overflow time.Duration.
const maxBackoff = 24 * time.Hour

// ExponentialBackoff is a redelivery delay policy: Initial after the first
// failure, multiplied by Multiplier (default 2) after each further one, at
// most Max (24 hours when Max is not set), randomised by ±Jitter (a fraction, 0 to 1).
type ExponentialBackoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64
}

// Delay returns the delay after the given failed attempt.
func (b ExponentialBackoff) Delay(attempt int) time.Duration {
	mult := b.Multiplier
	if mult <= 0 {
		mult = 2
	}
	limit := float64(b.Max)
	if b.Max <= 0 {
		limit = float64(maxBackoff)
	}
	d := float64(b.Initial)
	for i := 1; i < attempt && d < limit; i++ {
		d *= mult
	}
	d = min(d, limit)
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}
