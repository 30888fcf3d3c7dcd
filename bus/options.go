package bus

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/busway/busway/cloudevents"
)

// Options are named for what they set, without a With prefix, and each
// option type belongs to one call: Option to Open and New, SubscribeOption
// to Subscribe and Router.Handle, RouterOption to NewRouter.

// Option configures a Bus at Open or New.
type Option func(*config)

type config struct {
	source string
	mode   cloudevents.Mode
	logger *slog.Logger
	hooks  []func(context.Context, *Message)

	observers []Observer
	onConn    func(ConnectionEvent)
}

func defaultConfig() config {
	return config{
		source: "/busway/" + filepath.Base(os.Args[0]),
		logger: slog.Default(),
	}
}

// Source sets the CloudEvents source given to published events that have
// none. The default is "/busway/<program name>". The URL parameter
// source= does the same.
func Source(source string) Option { return func(c *config) { c.source = source } }

// Structured makes Publish write structured-mode CloudEvents (one JSON
// document, Content-Type application/cloudevents+json) instead of the
// default binary mode (ce- headers, data as body). Receiving accepts both
// modes either way. The URL parameter format=structured does the same.
func Structured() Option { return func(c *config) { c.mode = cloudevents.Structured } }

// Logger sets the logger for what the bus cannot return as an error:
// messages dead-lettered or terminated, failed acknowledgements, a
// subscription that ended on its own. The default is slog.Default().
func Logger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// PublishHook adds a function called on every outgoing message (Publish,
// PublishBatch, Request, Respond) before it is encoded, with the caller's
// context: the place to stamp correlation ids or tracing extensions from
// ctx, e.g. bus.PublishHook(middleware.Correlate). Hooks run in the order
// given.
func PublishHook(hook func(ctx context.Context, m *Message)) Option {
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
	backoff     Backoff
}

// DefaultMaxAttempts is how many times a message is delivered before it is
// treated as failed for good, when the subscription does not say.
const DefaultMaxAttempts = 5

// defaultBackoff is the redelivery delay when the subscription does not
// set one: 100ms after the first failure, doubling up to a minute, ±20%.
var defaultBackoff Backoff = ExponentialBackoff{
	InitialInterval: 100 * time.Millisecond, MaxInterval: time.Minute,
	Multiplier: 2, RandomizationFactor: 0.2,
}

func defaultSubConfig() subConfig {
	return subConfig{concurrency: 1, maxAttempts: DefaultMaxAttempts, backoff: defaultBackoff}
}

// Group makes the subscription a member of a competing-consumer group:
// each message goes to one member of the group. On NATS this is a queue
// group; on JetStream a durable consumer named after the group. The name
// follows subject.ValidateGroup (at most subject.MaxGroupLen bytes, no
// whitespace or control characters); Subscribe refuses another with
// ErrInvalidSubject.
func Group(name string) SubscribeOption { return func(c *subConfig) { c.group = name } }

// Concurrency sets how many messages the subscription handles at once
// (default 1, which keeps per-publisher order).
func Concurrency(n int) SubscribeOption {
	return func(c *subConfig) { c.concurrency = max(1, n) }
}

// Wrap wraps this subscription's handler in middleware, inside any
// router-wide middleware (Router.Use); the first given is the outermost.
func Wrap(mws ...Middleware) SubscribeOption {
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

// MaxAttempts sets how many attempts a message gets before a retryable
// failure counts as final (default DefaultMaxAttempts); zero or less means
// no limit. It holds on every backend: where the backend redelivers (mem,
// JetStream, Watermill) attempts are deliveries, counted by the backend
// (see Message.Attempt); where it does not (core NATS: at-most-once) the
// bus calls the handler again in process after the backoff. A backend
// that cannot count attempts refuses a limit at Subscribe with
// ErrNotSupported; JetStream refuses a server-side max_deliver below it.
func MaxAttempts(n int) SubscribeOption { return func(c *subConfig) { c.maxAttempts = n } }

// RetryBackoff sets the delay before the next attempt after a failed one
// (default: 100ms after the first failure, doubling up to a minute,
// ±20%); nil means no delay. The backend delays the redelivery where it
// can (mem, JetStream); elsewhere the bus waits in process before handing
// the message back (Watermill) or before calling the handler again
// (at-most-once deliveries, core NATS). In-process waits and retries end
// with the process: at-most-once stays at-most-once, and a hard stop
// during such a wait loses the message (logged).
func RetryBackoff(b Backoff) SubscribeOption { return func(c *subConfig) { c.backoff = b } }
